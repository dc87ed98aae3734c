/**
 * HQ's Prometheus configuration (provisioning/prometheus/central/prometheus.yml): it passes
 * `promtool check config`, and a real Prometheus running it (intervals shortened, inventory in a
 * temp folder) against stand-in boxes labels every series by the site HQ's inventory names:
 * a box scraped directly, a branch Prometheus federated (whose own "site" label is overridden),
 * and an inventory entry without a site that is not scraped at all.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { haveTool } from '../../e2e/sip/harness.js';
import { REPO_ROOT, scratchDir } from '../../helpers/paths.js';

const CENTRAL = join(REPO_ROOT, 'provisioning/prometheus/central/prometheus.yml');

interface PromConfig {
  global: Record<string, unknown>;
  rule_files: string[];
  scrape_configs: {
    job_name: string;
    scrape_interval?: string;
    scrape_timeout?: string;
    file_sd_configs: { files: string[]; refresh_interval?: string }[];
  }[];
}

function serve(path: string, text: () => string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if ((req.url ?? '').split('?')[0] !== path) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(text());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
const portOf = (s: http.Server) => (s.address() as net.AddressInfo).port;

async function freePort(): Promise<number> {
  const s = await new Promise<net.Server>((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('HQ Prometheus configuration', () => {
  it('passes promtool check config', () => {
    expect(execFileSync('promtool', ['check', 'config', CENTRAL], { encoding: 'utf8' })).toMatch(
      /SUCCESS: .*is valid prometheus config file syntax/,
    );
  });
});

describe.skipIf(!haveTool('prometheus'))('HQ Prometheus against stand-in sites', () => {
  const servers: http.Server[] = [];
  let prometheus: ChildProcess | undefined;
  let api = '';
  let log = '';

  beforeAll(async () => {
    // a box answering /metrics, one that sends a site label of its own, a branch Prometheus' /federate, a box left out of the inventory's sites
    const box = await serve('/metrics', () => 'edgevox_up 1\nedgevox_calls_active{source="sip"} 3\n');
    const claimer = await serve('/metrics', () => 'edgevox_up{site="branch-other"} 1\n');
    const federate = await serve('/federate', () => `edgevox_up{instance="box-9",job="edgevox",site="branch-other"} 1 ${Date.now()}\n`);
    const nameless = await serve('/metrics', () => 'edgevox_up 1\n');
    servers.push(box, claimer, federate, nameless);
    const dir = scratchDir('hq-prom');
    const inventory = join(dir, 'sites');
    execFileSync('mkdir', ['-p', inventory]);
    writeFileSync(
      join(inventory, 'branches.yml'),
      toYaml([
        { targets: [`127.0.0.1:${portOf(box)}`], labels: { site: 'branch-017', box: 'box-1' } },
        { targets: [`127.0.0.1:${portOf(claimer)}`], labels: { site: 'branch-018', box: 'box-1' } },
        { targets: [`127.0.0.1:${portOf(federate)}`], labels: { site: 'branch-042', mode: 'federate' } },
        { targets: [`127.0.0.1:${portOf(nameless)}`], labels: { box: 'box-x' } },
      ]),
    );
    const config = parseYaml(readFileSync(CENTRAL, 'utf8')) as PromConfig;
    config.global['scrape_interval'] = '1s';
    config.global['scrape_timeout'] = '1s';
    config.rule_files = [join(REPO_ROOT, 'provisioning/prometheus/edgevox-rules.yml')];
    for (const job of config.scrape_configs) {
      job.scrape_interval = '1s';
      job.scrape_timeout = '1s';
      for (const sd of job.file_sd_configs) sd.files = [join(inventory, '*.yml')];
    }
    const configFile = join(dir, 'prometheus.yml');
    writeFileSync(configFile, toYaml(config));
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      'prometheus',
      [`--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    prometheus.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  }, 30_000);

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      prometheus.kill('SIGTERM');
      await new Promise((r) => prometheus!.once('exit', r));
    }
    for (const s of servers) s.close();
  });

  async function series(query: string, want: number): Promise<Record<string, string>[]> {
    for (let i = 0; i < 120; i++) {
      try {
        const r = (await (await fetch(`${api}/api/v1/query?query=${encodeURIComponent(query)}`)).json()) as {
          data: { result: { metric: Record<string, string> }[] };
        };
        if (r.data.result.length >= want) return r.data.result.map((x) => x.metric);
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`no ${want} series for ${query}; prometheus log:\n${log.slice(-2000)}`);
  }

  it('labels every series by the site of the inventory, never by what the site sends', async () => {
    const up = await series('edgevox_up', 3);
    const bySite = Object.fromEntries(up.map((m) => [m['site'], m]));
    expect(Object.keys(bySite).sort()).toEqual(['branch-017', 'branch-018', 'branch-042']);
    expect(bySite['branch-017']).toMatchObject({ job: 'edgevox', instance: 'branch-017/box-1', box: 'box-1' });
    expect(bySite['branch-018']).toMatchObject({ instance: 'branch-018/box-1', exported_site: 'branch-other' });
    expect(bySite['branch-042']).toMatchObject({ job: 'edgevox', instance: 'branch-042/box-9' });
    expect(up.some((m) => m['mode'] !== undefined || m['hq_site'] !== undefined)).toBe(false);
    // the entry without a site is no target at all
    const targets = await series('up', 3);
    expect(targets).toHaveLength(3);
  }, 60_000);
});
