/**
 * The HQ Grafana dashboard (provisioning/grafana/edgevox-hq-dashboard.json) against the collector's
 * real schema: every panel's SQL, with Grafana's macros expanded as Grafana does, runs on a
 * PostgreSQL database the collector migrated and filled, and the figures agree with what was sent.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { postSigned } from '../../../appliance/sync/uploader.js';
import { Collector } from '../../../collector/collector.js';
import { HOUR_MS, keyFileJson, seededRandom, simulatedPayload, simulatedSites } from '../../../tools/collector/simulatedSites.js';
import { REPO_ROOT, scratchDir } from '../../helpers/paths.js';
import { havePostgres, usePostgres } from '../../helpers/postgres.js';

interface Panel {
  title: string;
  datasource: { type: string; uid: string };
  targets: { rawSql: string; format: string }[];
}
const dashboard = JSON.parse(readFileSync(join(REPO_ROOT, 'provisioning/grafana/edgevox-hq-dashboard.json'), 'utf8')) as {
  panels: Panel[];
  templating: { list: { name: string; query: string; type: string }[] };
};

const T0 = Date.UTC(2026, 10, 20, 8);
const sites = simulatedSites(3, 'hq');

/** Grafana's expansion of the macros and variables the dashboard uses. */
function expand(sql: string, fromMs: number, toMs: number, selected: string[]): string {
  const iso = (ms: number) => `'${new Date(ms).toISOString()}'`;
  return sql
    .replace(/\$__timeFilter\(([a-z_]+)\)/g, (_, col: string) => `${col} BETWEEN ${iso(fromMs)} AND ${iso(toMs)}`)
    .replaceAll('${site:sqlstring}', selected.map((s) => `'${s}'`).join(','));
}

describe('the HQ dashboard as a file', () => {
  it('reads every panel from the templated PostgreSQL data source, filtered by the site variable', () => {
    expect(dashboard.panels.length).toBeGreaterThan(5);
    for (const p of dashboard.panels) {
      expect(p.datasource, p.title).toEqual({ type: 'grafana-postgresql-datasource', uid: '${datasource}' });
      for (const t of p.targets) expect(t.rawSql, p.title).toContain('${site:sqlstring}');
    }
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'site']);
  });
});

describe.skipIf(!havePostgres())('the HQ dashboard on the collector database', () => {
  const postgres = usePostgres();

  it('runs every panel query on the migrated schema, and the calls panel sums what the sites sent', async () => {
    const url = await postgres.database();
    const keyFile = join(scratchDir('hq-keys'), 'sites.json');
    writeFileSync(keyFile, keyFileJson(sites));
    const collector = await Collector.start({
      host: '127.0.0.1',
      port: 0,
      dataDir: scratchDir('hq'),
      keyFile,
      postgres: { connectionString: url },
    });
    let sent = 0;
    try {
      for (const [i, site] of sites.entries())
        for (let w = 0; w < 4; w++) {
          const payload = simulatedPayload(site.id, T0 + w * HOUR_MS, seededRandom(10 * i + w));
          sent += payload.calls.total ?? 0;
          const body = Buffer.from(JSON.stringify(payload));
          const r = await postSigned({
            url: `${collector.url}/api/v1/aggregates`,
            body,
            idempotencyKey: `${site.id}:${payload.window.startMs}`,
            site: site.id,
            signature: site.signer.sign(body),
            timeoutMs: 10_000,
          });
          expect(r.status).toBe(201);
        }
    } finally {
      await collector.close();
    }
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const variable = dashboard.templating.list.find((v) => v.name === 'site')!;
      const listed = (await client.query<{ site: string }>(variable.query)).rows.map((r) => r.site);
      expect(listed).toEqual(sites.map((s) => s.id));
      for (const p of dashboard.panels)
        for (const t of p.targets) {
          const result = await client.query(expand(t.rawSql, T0, T0 + 4 * HOUR_MS, listed));
          if (p.title !== 'Silent sites') expect(result.rows.length, p.title).toBeGreaterThan(0);
        }
      const calls = dashboard.panels.find((p) => p.title.startsWith('Calls (range'))!;
      const total = await client.query<{ calls: string }>(expand(calls.targets[0]!.rawSql, T0, T0 + 4 * HOUR_MS, listed));
      expect(Number(total.rows[0]!.calls)).toBe(sent);
      const one = await client.query<{ calls: string | null }>(expand(calls.targets[0]!.rawSql, T0, T0 + 4 * HOUR_MS, [sites[0]!.id]));
      expect(Number(one.rows[0]!.calls)).toBeLessThan(sent);
      // the all-site view for ad-hoc SQL agrees
      const view = await client.query<{ calls: string; sites: string }>(
        `SELECT sum(total) AS calls, max(sites) AS sites FROM hq_window_totals WHERE metric = 'calls.total'`,
      );
      expect(view.rows[0]).toEqual({ calls: String(sent), sites: String(sites.length) });
    } finally {
      await client.end();
    }
  });
});
