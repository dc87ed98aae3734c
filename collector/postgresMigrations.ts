/**
 * The collector's PostgreSQL schema, as numbered migrations applied at start in one transaction
 * (all pending ones, or none), serialised across collectors by an advisory lock. A database whose
 * schema is newer than this build knows is refused rather than written to.
 */
import type pg from 'pg';
import { evxError, isEdgeVoxError } from '../appliance/errors.js';

export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'windows and their metrics',
    sql: `
      CREATE TABLE aggregate_windows (
        id bigserial PRIMARY KEY,
        site text NOT NULL,
        window_start timestamptz NOT NULL,
        duration_ms integer NOT NULL CHECK (duration_ms > 0),
        idempotency_key text NOT NULL,
        sha256 text NOT NULL,
        received_at timestamptz NOT NULL,
        body text NOT NULL,
        CONSTRAINT aggregate_windows_site_window UNIQUE (site, window_start)
      );
      CREATE INDEX aggregate_windows_window_start ON aggregate_windows (window_start);
      CREATE TABLE window_metrics (
        window_id bigint NOT NULL REFERENCES aggregate_windows (id) ON DELETE CASCADE,
        site text NOT NULL,
        window_start timestamptz NOT NULL,
        metric text NOT NULL,
        value bigint,
        -- serves every dashboard and API query (a metric, a time range, then sites): no second index
        PRIMARY KEY (metric, window_start, site)
      );`,
  },
  {
    version: 2,
    name: 'all-site totals view for dashboards',
    sql: `
      CREATE VIEW hq_window_totals AS
        SELECT metric, window_start, sum(value) AS total, count(value) AS sites,
               count(*) FILTER (WHERE value IS NULL) AS suppressed
          FROM window_metrics GROUP BY metric, window_start;`,
  },
];

const LOCK_KEY = 'edgevox-collector-schema';

/** Applies the pending migrations; returns the schema version the database is at afterwards. */
export async function migrate(pool: pg.Pool, migrations: readonly PgMigration[] = PG_MIGRATIONS): Promise<number> {
  const latest = migrations.reduce((v, m) => Math.max(v, m.version), 0);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS collector_schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM collector_schema_migrations');
    const current = rows[0]?.v ?? 0;
    if (current > latest) {
      await client.query('ROLLBACK');
      throw evxError('EVX_ERR_STORE_NEWER_SCHEMA', `the collector database is at schema ${current}; this collector knows up to ${latest}`, {
        details: { current, latest },
      });
    }
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (m.version <= current) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO collector_schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
    }
    await client.query('COMMIT');
    return Math.max(current, latest);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (isEdgeVoxError(err, 'EVX_ERR_STORE_NEWER_SCHEMA')) throw err;
    throw evxError('EVX_ERR_STORE_MIGRATION', `collector schema migration failed: ${(err as Error).message}`, { cause: err });
  } finally {
    client.release();
  }
}
