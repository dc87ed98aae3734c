/**
 * The collector on a real PostgreSQL server (started by the test: initdb in a temp folder):
 * a signed upload is stored once, concurrent uploads of one (site, window) store one row,
 * tampered payloads are refused, migrations are idempotent, refuse a newer schema and roll back
 * as a whole, and the HQ query API is denied without the read token and sums what was stored.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { postSigned } from '../../../appliance/sync/uploader.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { Collector, type CollectorOptions } from '../../../collector/collector.js';
import { migrate, PG_MIGRATIONS } from '../../../collector/postgresMigrations.js';
import { PostgresStore } from '../../../collector/postgresStore.js';
import { HOUR_MS, keyFileJson, seededRandom, simulatedPayload, simulatedSites } from '../../../tools/collector/simulatedSites.js';
import { scratchDir } from '../../helpers/paths.js';
import { pathSpellings, rawRequest } from '../../helpers/rawHttp.js';
import { havePostgres, usePostgres } from '../../helpers/postgres.js';

const T0 = Date.UTC(2026, 10, 20, 0);
const READ_TOKEN = 'hq-read-token-0123456789';
const sites = simulatedSites(4, 'branch');
const keyFile = (() => {
  const path = join(scratchDir('collector-keys'), 'sites.json');
  writeFileSync(path, keyFileJson(sites));
  return path;
})();

async function startCollector(url: string, extra: Partial<CollectorOptions> = {}): Promise<Collector> {
  return Collector.start({
    host: '127.0.0.1',
    port: 0,
    dataDir: scratchDir('collector-unused'),
    keyFile,
    postgres: { connectionString: url },
    ...extra,
  });
}

function upload(collector: Collector, siteIndex: number, body: Buffer, signedBody = body, key?: string) {
  const site = sites[siteIndex]!;
  const windowStart = (JSON.parse(body.toString()) as { window: { startMs: number } }).window.startMs;
  return postSigned({
    url: `${collector.url}/api/v1/aggregates`,
    body,
    idempotencyKey: key ?? `${site.id}:${windowStart}`,
    site: site.id,
    signature: site.signer.sign(signedBody),
    timeoutMs: 10_000,
  });
}

const payloadBody = (siteIndex: number, windowStartMs: number, seed = 1) =>
  Buffer.from(JSON.stringify(simulatedPayload(sites[siteIndex]!.id, windowStartMs, seededRandom(seed))));

async function count(url: string, sql: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Number((await client.query<{ n: string }>(sql)).rows[0]!.n);
  } finally {
    await client.end();
  }
}

describe.skipIf(!havePostgres())('collector on PostgreSQL', () => {
  const postgres = usePostgres();

  it('stores a signed upload once; a repeat is a duplicate and a changed body under the same key is a conflict', async () => {
    const url = await postgres.database();
    const collector = await startCollector(url, { readToken: READ_TOKEN });
    try {
      const body = payloadBody(0, T0);
      expect((await upload(collector, 0, body)).status).toBe(201);
      const again = await upload(collector, 0, body);
      expect(again.status).toBe(200);
      expect(JSON.parse(again.body)).toMatchObject({ status: 'duplicate' });
      expect((await upload(collector, 0, payloadBody(0, T0, 2))).status).toBe(409);
      expect(await count(url, 'SELECT count(*) AS n FROM aggregate_windows')).toBe(1);
      expect(await count(url, 'SELECT count(*) AS n FROM window_metrics')).toBeGreaterThan(10);
      const got = await fetch(`${collector.url}/api/v1/aggregates`, { headers: { authorization: `Bearer ${READ_TOKEN}` } });
      const payloads = ((await got.json()) as { payloads: { body: unknown; windowStart: number }[] }).payloads;
      expect(payloads).toHaveLength(1);
      expect(payloads[0]!.windowStart).toBe(T0);
      expect(JSON.stringify(payloads[0]!.body)).toBe(body.toString());
      expect(collector.counters).toMatchObject({ accepted: 1, duplicates: 1, conflicts: 1 });
    } finally {
      await collector.close();
    }
  });

  it('concurrent uploads of the same (site, window) store one row, through two collectors on one database', async () => {
    const url = await postgres.database();
    const [a, b] = await Promise.all([startCollector(url), startCollector(url)]);
    try {
      const body = payloadBody(1, T0);
      const other = payloadBody(1, T0, 7);
      const results = await Promise.all([
        ...Array.from({ length: 24 }, (_, i) => upload(i % 2 === 0 ? a : b, 1, body)),
        ...Array.from({ length: 6 }, (_, i) => upload(i % 2 === 0 ? a : b, 1, other)),
      ]);
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      // whichever body won, every upload of the other one is a conflict and of the same one a duplicate
      const winner = results.findIndex((r) => r.status === 201) < 24 ? 'body' : 'other';
      expect(statuses.filter((s) => s === 409)).toHaveLength(winner === 'body' ? 6 : 24);
      expect(statuses.filter((s) => s === 200)).toHaveLength(winner === 'body' ? 23 : 5);
      expect(await count(url, 'SELECT count(*) AS n FROM aggregate_windows')).toBe(1);
      const metrics = await count(url, 'SELECT count(*) AS n FROM window_metrics');
      const perWindow = await count(url, 'SELECT count(DISTINCT metric) AS n FROM window_metrics');
      expect(metrics).toBe(perWindow);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('refuses tampered, unsigned and wrongly keyed payloads and stores none of them', async () => {
    const url = await postgres.database();
    const collector = await startCollector(url);
    try {
      const body = payloadBody(2, T0);
      const tampered = Buffer.from(body.toString().replace(/"total":\d+/, '"total":99999'));
      expect(tampered.equals(body)).toBe(false);
      expect((await upload(collector, 2, tampered, body)).status).toBe(401);
      const unsigned = await postSigned({
        url: `${collector.url}/api/v1/aggregates`,
        body,
        idempotencyKey: `${sites[2]!.id}:${T0}`,
        site: sites[2]!.id,
        signature: '',
        timeoutMs: 5000,
      });
      expect(unsigned.status).toBe(401);
      // signed by another site's key, claiming to be site 2
      const forged = await postSigned({
        url: `${collector.url}/api/v1/aggregates`,
        body,
        idempotencyKey: `${sites[2]!.id}:${T0}`,
        site: sites[2]!.id,
        signature: sites[0]!.signer.sign(body),
        timeoutMs: 5000,
      });
      expect(forged.status).toBe(401);
      expect((await upload(collector, 2, body, body, `${sites[2]!.id}:0`)).status).toBe(400);
      expect(await count(url, 'SELECT count(*) AS n FROM aggregate_windows')).toBe(0);
      expect(await count(url, 'SELECT count(*) AS n FROM window_metrics')).toBe(0);
      expect(collector.counters.badSignature).toBe(3);
    } finally {
      await collector.close();
    }
  });

  it('migrations: applied once however often and however concurrently the collector starts; a newer schema is refused', async () => {
    const url = await postgres.database();
    const stores = await Promise.all([1, 2, 3].map(() => PostgresStore.open({ connectionString: url })));
    await Promise.all(stores.map((s) => s.close()));
    await PostgresStore.open({ connectionString: url }).then((s) => s.close());
    const latest = Math.max(...PG_MIGRATIONS.map((m) => m.version));
    expect(await count(url, 'SELECT count(*) AS n FROM collector_schema_migrations')).toBe(PG_MIGRATIONS.length);
    expect(await count(url, 'SELECT max(version) AS n FROM collector_schema_migrations')).toBe(latest);

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('INSERT INTO collector_schema_migrations (version, name) VALUES ($1, $2)', [latest + 1, 'from the future']);
    await client.end();
    const refused = await PostgresStore.open({ connectionString: url }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(isEdgeVoxError(refused, 'EVX_ERR_STORE_NEWER_SCHEMA')).toBe(true);
  });

  it('migrations: a failing migration leaves the database as it was (all pending ones or none)', async () => {
    const url = await postgres.database();
    const pool = new pg.Pool({ connectionString: url });
    try {
      const broken = [
        ...PG_MIGRATIONS,
        { version: 90, name: 'fine', sql: 'CREATE TABLE t90 (x int)' },
        { version: 91, name: 'broken', sql: 'CREATE TABLE nonsense (' },
      ];
      const failed = await migrate(pool, broken).then(
        () => null,
        (err: unknown) => err,
      );
      expect(isEdgeVoxError(failed, 'EVX_ERR_STORE_MIGRATION')).toBe(true);
      const tables = await pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM information_schema.tables WHERE table_name IN ('aggregate_windows', 't90', 'collector_schema_migrations')`,
      );
      expect(Number(tables.rows[0]!.n)).toBe(0);
      expect(await migrate(pool)).toBe(Math.max(...PG_MIGRATIONS.map((m) => m.version)));
    } finally {
      await pool.end();
    }
  });

  it('query API: denied without a read token or with a wrong one; sums per window and per site', async () => {
    const url = await postgres.database();
    const closed = await startCollector(url);
    const open = await startCollector(url, { readToken: READ_TOKEN });
    try {
      const windows = [T0, T0 + HOUR_MS, T0 + 2 * HOUR_MS];
      const expected = new Map<number, number>();
      for (const w of windows)
        for (let s = 0; s < sites.length; s++) {
          const body = payloadBody(s, w, 100 * s + w / HOUR_MS);
          const total = (JSON.parse(body.toString()) as { calls: { total: number | null } }).calls.total;
          expected.set(w, (expected.get(w) ?? 0) + (total ?? 0));
          expect((await upload(open, s, body)).status).toBe(201);
        }
      const q = `/api/v1/totals?metric=calls.total&from=${T0}&to=${new Date(T0 + 3 * HOUR_MS).toISOString()}`;
      expect((await fetch(`${closed.url}${q}`, { headers: { authorization: `Bearer ${READ_TOKEN}` } })).status).toBe(403);
      expect((await fetch(`${closed.url}/api/v1/aggregates`)).status).toBe(403);
      expect((await fetch(`${open.url}${q}`)).status).toBe(401);
      expect((await fetch(`${open.url}${q}`, { headers: { authorization: `Bearer ${READ_TOKEN}x` } })).status).toBe(401);
      expect((await fetch(`${open.url}/api/v1/aggregates`, { headers: { authorization: 'Bearer ' } })).status).toBe(401);
      // no spelling of the path gets past the token
      for (const path of pathSpellings('/api/v1/totals')) {
        const r = await rawRequest(open.url, 'GET', `${path}?metric=calls.total&from=0`);
        expect([400, 401, 404], path).toContain(r.status);
      }

      const auth = { headers: { authorization: `Bearer ${READ_TOKEN}` } };
      const all = (await (await fetch(`${open.url}${q}`, auth)).json()) as {
        rows: { windowStart: number; total: number; sites: number }[];
      };
      expect(all.rows.map((r) => [r.windowStart, r.total])).toEqual(windows.map((w) => [w, expected.get(w)]));
      const bySite = (await (await fetch(`${open.url}${q}&by=site`, auth)).json()) as { rows: { site: string }[] };
      expect(bySite.rows).toHaveLength(windows.length * sites.length);
      const one = (await (await fetch(`${open.url}${q}&site=${sites[3]!.id}`, auth)).json()) as { rows: unknown[] };
      expect(one.rows).toHaveLength(windows.length);
      expect((await fetch(`${open.url}/api/v1/totals?metric=DROP%20TABLE`, auth)).status).toBe(400);
    } finally {
      await Promise.all([closed.close(), open.close()]);
    }
  });
});
