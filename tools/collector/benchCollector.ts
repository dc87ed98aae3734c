/**
 * `make bench-collector`: N simulated sites (default 1,000) upload their signed hourly windows to a
 * real collector process at once, first on PostgreSQL (a throwaway server with fsync on), then on
 * the SQLite file, in the same run. Each site uploads its windows in order, as its outbox does;
 * some re-send a window after an answer "lost" (a duplicate) and some send one window twice at
 * once (a race). Afterwards every (site, window) must be stored exactly once: counted in the store,
 * and the all-site totals from the query API must equal the sum of what the sites sent.
 * Prints upload latency (p50/p95/p99), stored rows per second, and the counts.
 *
 *   node dist/tools/collector/benchCollector.js [--sites 1000] [--windows 4] [--pg-pool 20] [--only postgres|sqlite]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { postSigned } from '../../appliance/sync/uploader.js';
import { HOUR_MS, keyFileJson, seededRandom, simulatedPayload, simulatedSites, type SimulatedSite } from './simulatedSites.js';
import { startTempPostgres } from './tempPostgres.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CLI = join(REPO, 'bin', 'edgevox.js');
const READ_TOKEN = 'bench-collector-read-token-0123456789';
const RESEND_SHARE = 0.1;
const RACE_SHARE = 0.05;

interface Upload {
  site: SimulatedSite;
  windowStartMs: number;
  body: Buffer;
  signature: string;
  callsTotal: number;
}

interface RunResult {
  store: string;
  uploads: number;
  latenciesMs: number[];
  wallMs: number;
  statuses: Map<number, number>;
  retries: number;
  storedRows: number;
  distinctWindows: number;
  expectedWindows: number;
  totalsMatch: boolean;
  /** CPU ms used during the uploads: the collector process, the database server (PostgreSQL only), this load generator. */
  cpuMs: { collector: number; database: number | null; loadGenerator: number };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sites: { type: 'string', default: '1000' },
      windows: { type: 'string', default: '4' },
      'pg-pool': { type: 'string', default: '20' },
      only: { type: 'string' },
    },
  });
  const siteCount = Number(values.sites);
  const windowCount = Number(values.windows);
  const sites = simulatedSites(siteCount);
  // the last `windowCount` whole hours before a fixed "now": a site catching up after a short outage
  const lastWindow = Date.UTC(2026, 10, 20, 15);
  const random = seededRandom(26);
  const plan: Upload[][] = sites.map((site) =>
    Array.from({ length: windowCount }, (_, w) => {
      const windowStartMs = lastWindow - (windowCount - 1 - w) * HOUR_MS;
      const payload = simulatedPayload(site.id, windowStartMs, random);
      const body = Buffer.from(JSON.stringify(payload));
      return { site, windowStartMs, body, signature: site.signer.sign(body), callsTotal: payload.calls.total ?? 0 };
    }),
  );
  const resend = new Set(sites.filter(() => random() < RESEND_SHARE).map((s) => s.id));
  const race = new Set(sites.filter(() => random() < RACE_SHARE).map((s) => s.id));
  const expected = { windows: siteCount * windowCount, calls: plan.flat().reduce((a, u) => a + u.callsTotal, 0) };
  const scratch = mkdtempSync(join(tmpdir(), 'evx-bench-collector-'));
  const keyFile = join(scratch, 'sites.json');
  const tokenFile = join(scratch, 'read-token');
  writeFileSync(keyFile, keyFileJson(sites));
  writeFileSync(tokenFile, READ_TOKEN + '\n');
  const bodyBytes = plan.flat().reduce((a, u) => a + u.body.length, 0) / expected.windows;
  console.log(
    `bench-collector: ${siteCount} sites x ${windowCount} hourly windows = ${expected.windows} windows ` +
      `(${sites.filter((s) => s.signer.scheme === 'ed25519').length} Ed25519-signed, the rest HMAC), ~${Math.round(bodyBytes)} bytes each; ` +
      `${resend.size} sites re-send a window, ${race.size} send one twice at once`,
  );
  const results: RunResult[] = [];
  try {
    if (values.only !== 'sqlite') {
      const server = await startTempPostgres({ durable: true, maxConnections: 200 });
      try {
        const url = await server.createDatabase('edgevox_collector');
        results.push(
          await runOnce(
            'postgresql',
            ['--postgres', url, '--pg-pool', values['pg-pool']],
            plan,
            resend,
            race,
            expected,
            keyFile,
            tokenFile,
            scratch,
            async () => {
              const client = new pg.Client({ connectionString: url });
              await client.connect();
              const r = await client.query<{ n: string; d: string }>(
                'SELECT count(*) AS n, count(DISTINCT (site, window_start)) AS d FROM aggregate_windows',
              );
              await client.end();
              return { rows: Number(r.rows[0]!.n), distinct: Number(r.rows[0]!.d) };
            },
            server.pid(),
          ),
        );
      } finally {
        await server.stop();
      }
    }
    if (values.only !== 'postgres') {
      const dataDir = join(scratch, 'sqlite');
      results.push(
        await runOnce(
          'sqlite',
          ['--data-dir', dataDir],
          plan,
          resend,
          race,
          expected,
          keyFile,
          tokenFile,
          scratch,
          () => {
            const db = new Database(join(dataDir, 'collector.sqlite'), { readonly: true });
            const r = db.prepare("SELECT count(*) AS n, count(DISTINCT site || ':' || window_start) AS d FROM received").get() as {
              n: number;
              d: number;
            };
            db.close();
            return Promise.resolve({ rows: r.n, distinct: r.d });
          },
          null,
        ),
      );
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  report(results);
  if (results.some((r) => r.storedRows !== r.expectedWindows || r.distinctWindows !== r.expectedWindows || !r.totalsMatch))
    process.exitCode = 1;
}

async function runOnce(
  store: string,
  args: string[],
  plan: Upload[][],
  resend: Set<string>,
  race: Set<string>,
  expected: { windows: number; calls: number },
  keyFile: string,
  tokenFile: string,
  scratch: string,
  count: () => Promise<{ rows: number; distinct: number }>,
  databasePid: number | null,
): Promise<RunResult> {
  const { child, url } = await startCollector([...args, '--key-file', keyFile, '--read-token-file', tokenFile], scratch);
  const latenciesMs: number[] = [];
  const statuses = new Map<number, number>();
  let retries = 0;
  const send = async (u: Upload): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      const t = performance.now();
      let status = 0;
      try {
        status = (
          await postSigned({
            url: `${url}/api/v1/aggregates`,
            body: u.body,
            idempotencyKey: `${u.site.id}:${u.windowStartMs}`,
            site: u.site.id,
            signature: u.signature,
            timeoutMs: 60_000,
          })
        ).status;
      } catch {
        status = 0; // connection refused or reset: the outbox retries
      }
      latenciesMs.push(performance.now() - t);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status === 201 || status === 200 || status === 409 || attempt >= 5) return;
      retries++;
      await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
    }
  };
  const cpuBefore = {
    collector: processCpuMs(child.pid!),
    database: databasePid === null ? 0 : treeCpuMs(databasePid),
    own: process.cpuUsage(),
  };
  const t0 = performance.now();
  try {
    await Promise.all(
      plan.map(async (uploads) => {
        const site = uploads[0]!.site.id;
        for (const [i, u] of uploads.entries()) {
          if (i === 0 && race.has(site)) await Promise.all([send(u), send(u)]);
          else await send(u);
          if (i === uploads.length - 1 && resend.has(site)) await send(u);
        }
      }),
    );
    const wallMs = performance.now() - t0;
    const own = process.cpuUsage(cpuBefore.own);
    const cpuMs = {
      collector: processCpuMs(child.pid!) - cpuBefore.collector,
      database: databasePid === null ? null : treeCpuMs(databasePid) - cpuBefore.database,
      loadGenerator: (own.user + own.system) / 1000,
    };
    const { rows, distinct } = await count();
    const totals = (await (
      await fetch(`${url}/api/v1/totals?metric=calls.total&from=0&to=${Date.UTC(2100, 0)}`, {
        headers: { authorization: `Bearer ${READ_TOKEN}` },
      })
    ).json()) as { rows: { total: number | null }[] };
    const summed = totals.rows.reduce((a, r) => a + (r.total ?? 0), 0);
    return {
      store,
      uploads: latenciesMs.length,
      latenciesMs,
      wallMs,
      statuses,
      retries,
      storedRows: rows,
      distinctWindows: distinct,
      expectedWindows: expected.windows,
      totalsMatch: summed === expected.calls,
      cpuMs,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

/** User + system CPU of a process and its waited-for children, in ms (Linux /proc; clock ticks of 10 ms). */
function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // after "pid (comm) ": state is field 0; utime, stime, cutime, cstime are fields 11..14
    return [11, 12, 13, 14].reduce((a, i) => a + Number(fields[i]), 0) * 10;
  } catch {
    return 0; // the process ended between the listing and the read
  }
}

/** CPU of a process and of its live children (PostgreSQL: the postmaster and its backends). */
function treeCpuMs(pid: number): number {
  let ms = processCpuMs(pid);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      if (ppid === pid) ms += processCpuMs(Number(entry));
    } catch {
      // gone
    }
  }
  return ms;
}

function startCollector(args: string[], cwd: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CLI, 'collector', '--port', '0', ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  return new Promise((resolveStart, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /collector listening on (\S+)/.exec(err);
      if (m?.[1]) resolveStart({ child, url: m[1] });
    });
    child.once('exit', (code) => reject(new Error(`collector exited ${code}: ${err}`)));
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function cpu(r: RunResult): string {
  const per = (ms: number | null) => (ms === null ? '-' : (ms / r.uploads).toFixed(2));
  return `${per(r.cpuMs.collector)} / ${per(r.cpuMs.database)} / ${per(r.cpuMs.loadGenerator)}`;
}

function report(results: RunResult[]): void {
  console.log('');
  console.log(
    '| store | uploads | p50 ms | p95 ms | p99 ms | max ms | wall s | stored rows/s | CPU ms per upload: collector / database / load generator | statuses | retries | stored / distinct / expected | totals = sent |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const sorted = [...r.latenciesMs].sort((a, b) => a - b);
    const statuses = [...r.statuses.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([s, n]) => `${s === 0 ? 'net' : s}:${n}`)
      .join(' ');
    console.log(
      `| ${r.store} | ${r.uploads} | ${percentile(sorted, 50).toFixed(1)} | ${percentile(sorted, 95).toFixed(1)} | ${percentile(sorted, 99).toFixed(1)} | ` +
        `${(sorted.at(-1) ?? NaN).toFixed(1)} | ${(r.wallMs / 1000).toFixed(2)} | ${Math.round(r.storedRows / (r.wallMs / 1000))} | ${cpu(r)} | ${statuses} | ${r.retries} | ` +
        `${r.storedRows} / ${r.distinctWindows} / ${r.expectedWindows} | ${r.totalsMatch ? 'yes' : 'NO'} |`,
    );
  }
  const ok = results.every((r) => r.storedRows === r.expectedWindows && r.distinctWindows === r.expectedWindows && r.totalsMatch);
  console.log(`\neach window stored exactly once: ${ok ? 'yes' : 'NO'}`);
  console.log(
    `All on one machine (${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)} now): the load generator, the collector (one Node process) and ` +
      'PostgreSQL share its cores, so rows/s and latency are a floor; CPU ms per upload does not depend on what else runs.',
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
