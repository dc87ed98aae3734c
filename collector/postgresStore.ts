/**
 * The collector's store on PostgreSQL: a window and its metric rows go in with one statement
 * (`INSERT ... ON CONFLICT DO NOTHING` on the (site, window_start) unique constraint), so two
 * uploads of the same window racing each other store it once; the loser learns whether the stored
 * bytes are the same (duplicate) or not (conflict).
 */
import pg from 'pg';
import { evxError } from '../appliance/errors.js';
import { migrate } from './postgresMigrations.js';
import type { AggregateStore, PutOutcome, ReceivedPayload, StoredWindow, TotalsQuery, TotalsRow } from './store.js';

export interface PostgresStoreOptions {
  /** libpq-style connection string, e.g. postgres://edgevox_collector@/edgevox_collector?host=/run/postgresql */
  connectionString: string;
  /** Connections in the pool (default 10). */
  poolSize?: number | undefined;
}

const MS = `'epoch'::timestamptz + $2::bigint * interval '1 millisecond'`;
const EPOCH_MS = (column: string) => `(extract(epoch FROM ${column}) * 1000)::bigint`;

const PUT = `
  WITH ins AS (
    INSERT INTO aggregate_windows (site, window_start, duration_ms, idempotency_key, sha256, received_at, body)
    VALUES ($1, ${MS}, $3, $4, $5, 'epoch'::timestamptz + $6::bigint * interval '1 millisecond', $7)
    ON CONFLICT ON CONSTRAINT aggregate_windows_site_window DO NOTHING
    RETURNING id, site, window_start
  ), metrics AS (
    INSERT INTO window_metrics (window_id, site, window_start, metric, value)
    SELECT ins.id, ins.site, ins.window_start, m.metric, m.value
      FROM ins, unnest($8::text[], $9::bigint[]) AS m (metric, value)
  )
  SELECT count(*)::int AS inserted FROM ins`;

export class PostgresStore implements AggregateStore {
  readonly kind = 'postgres';
  private closed = false;

  private constructor(private readonly pool: pg.Pool) {}

  /** Connects, applies pending migrations, and refuses a database with a newer schema. */
  static async open(o: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = new pg.Pool({ connectionString: o.connectionString, max: o.poolSize ?? 10 });
    // an idle client losing its server (PostgreSQL restarted) must not end the collector
    pool.on('error', () => undefined);
    try {
      await migrate(pool);
    } catch (err) {
      await pool.end();
      throw err;
    }
    return new PostgresStore(pool);
  }

  async put(w: StoredWindow): Promise<PutOutcome> {
    const values = [
      w.site,
      w.windowStartMs,
      w.durationMs,
      w.idempotencyKey,
      w.sha256,
      w.receivedAtMs,
      w.body,
      w.metrics.map((m) => m.metric),
      w.metrics.map((m) => m.value),
    ];
    const inserted = await this.query<{ inserted: number }>(PUT, values, 'evx-collector-put');
    if (inserted[0]?.inserted === 1) return 'accepted';
    const existing = await this.query<{ sha256: string }>(
      `SELECT sha256 FROM aggregate_windows WHERE site = $1 AND window_start = ${MS}`,
      [w.site, w.windowStartMs],
      'evx-collector-stored-sha',
    );
    return existing[0]?.sha256 === w.sha256 ? 'duplicate' : 'conflict';
  }

  async received(site: string | undefined, limit: number): Promise<ReceivedPayload[]> {
    const rows = await this.query<{
      idempotency_key: string;
      site: string;
      start_ms: string;
      sha256: string;
      received_ms: string;
      body: string;
    }>(
      `SELECT idempotency_key, site, ${EPOCH_MS('window_start')} AS start_ms, sha256, ${EPOCH_MS('received_at')} AS received_ms, body
         FROM aggregate_windows WHERE ($1::text IS NULL OR site = $1) ORDER BY window_start DESC, site LIMIT $2`,
      [site ?? null, limit],
    );
    return rows.map((r) => ({
      idempotencyKey: r.idempotency_key,
      site: r.site,
      windowStart: Number(r.start_ms),
      sha256: r.sha256,
      receivedAt: Number(r.received_ms),
      body: r.body,
    }));
  }

  async totals(q: TotalsQuery): Promise<TotalsRow[]> {
    const group = q.bySite ? 'window_start, site' : 'window_start';
    const rows = await this.query<{ start_ms: string; site?: string; total: string | null; sites: string; suppressed: string }>(
      `SELECT ${EPOCH_MS('window_start')} AS start_ms${q.bySite ? ', site' : ''}, sum(value) AS total,
              count(value) AS sites, count(*) FILTER (WHERE value IS NULL) AS suppressed
         FROM window_metrics
        WHERE metric = $1 AND window_start >= ${MS} AND window_start < 'epoch'::timestamptz + $3::bigint * interval '1 millisecond'
          AND ($4::text IS NULL OR site = $4)
        GROUP BY ${group} ORDER BY ${group} LIMIT $5`,
      [q.metric, q.fromMs, q.toMs, q.site ?? null, q.limit],
    );
    return rows.map((r) => ({
      windowStart: Number(r.start_ms),
      ...(r.site !== undefined ? { site: r.site } : {}),
      total: r.total === null ? null : Number(r.total),
      sites: Number(r.sites),
      suppressed: Number(r.suppressed),
    }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  /** `name`: a statement every upload runs, parsed and planned once per connection. */
  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[], name?: string): Promise<R[]> {
    try {
      return (await this.pool.query<R>(name === undefined ? { text, values } : { name, text, values })).rows;
    } catch (err) {
      // the site keeps the window in its outbox and retries on 503
      throw evxError('EVX_ERR_STORE_WRITE', 'the collector database did not answer', { cause: err });
    }
  }
}
