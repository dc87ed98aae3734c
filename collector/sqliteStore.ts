/**
 * The collector's store in one SQLite file (`<dataDir>/collector.sqlite`): nothing to run beside
 * the collector, for development and a small estate; `make bench-collector` measures it beside
 * PostgreSQL. The `received` table is the one earlier collectors wrote, so an existing file keeps working.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { AggregateStore, PutOutcome, ReceivedPayload, StoredWindow, TotalsQuery, TotalsRow } from './store.js';

export class SqliteStore implements AggregateStore {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly insertWindow: Database.Statement;
  private readonly insertMetric: Database.Statement;
  private readonly storedSha: Database.Statement;
  private closed = false;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.db = new Database(join(dataDir, 'collector.sqlite'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS received (
      idempotency_key TEXT PRIMARY KEY, site TEXT NOT NULL, window_start INTEGER NOT NULL,
      sha256 TEXT NOT NULL, received_at INTEGER NOT NULL, body TEXT NOT NULL)`);
    this.db.exec(`CREATE TABLE IF NOT EXISTS window_metrics (
      site TEXT NOT NULL, window_start INTEGER NOT NULL, metric TEXT NOT NULL, value INTEGER,
      PRIMARY KEY (metric, window_start, site)) WITHOUT ROWID`);
    this.insertWindow = this.db.prepare(
      `INSERT OR IGNORE INTO received (idempotency_key, site, window_start, sha256, received_at, body) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.insertMetric = this.db.prepare(`INSERT OR IGNORE INTO window_metrics (site, window_start, metric, value) VALUES (?, ?, ?, ?)`);
    this.storedSha = this.db.prepare(`SELECT sha256 FROM received WHERE idempotency_key = ?`);
  }

  put(w: StoredWindow): Promise<PutOutcome> {
    const stored = this.db.transaction(() => {
      const changes = this.insertWindow.run(w.idempotencyKey, w.site, w.windowStartMs, w.sha256, w.receivedAtMs, w.body).changes;
      if (changes === 1) for (const m of w.metrics) this.insertMetric.run(w.site, w.windowStartMs, m.metric, m.value);
      return changes === 1;
    })();
    if (stored) return Promise.resolve('accepted');
    const existing = this.storedSha.get(w.idempotencyKey) as { sha256: string } | undefined;
    return Promise.resolve(existing?.sha256 === w.sha256 ? 'duplicate' : 'conflict');
  }

  received(site: string | undefined, limit: number): Promise<ReceivedPayload[]> {
    const rows = this.db
      .prepare(`SELECT * FROM received WHERE (? IS NULL OR site = ?) ORDER BY window_start DESC, site LIMIT ?`)
      .all(site ?? null, site ?? null, limit) as {
      idempotency_key: string;
      site: string;
      window_start: number;
      sha256: string;
      received_at: number;
      body: string;
    }[];
    return Promise.resolve(
      rows.map((r) => ({
        idempotencyKey: r.idempotency_key,
        site: r.site,
        windowStart: r.window_start,
        sha256: r.sha256,
        receivedAt: r.received_at,
        body: r.body,
      })),
    );
  }

  totals(q: TotalsQuery): Promise<TotalsRow[]> {
    const group = q.bySite ? 'window_start, site' : 'window_start';
    const rows = this.db
      .prepare(
        `SELECT window_start${q.bySite ? ', site' : ''}, sum(value) AS total, count(value) AS sites,
                sum(value IS NULL) AS suppressed
           FROM window_metrics WHERE metric = ? AND window_start >= ? AND window_start < ? AND (? IS NULL OR site = ?)
          GROUP BY ${group} ORDER BY ${group} LIMIT ?`,
      )
      .all(q.metric, q.fromMs, q.toMs, q.site ?? null, q.site ?? null, q.limit) as {
      window_start: number;
      site?: string;
      total: number | null;
      sites: number;
      suppressed: number;
    }[];
    return Promise.resolve(
      rows.map((r) => ({
        windowStart: r.window_start,
        ...(r.site !== undefined ? { site: r.site } : {}),
        total: r.total,
        sites: r.sites,
        suppressed: r.suppressed,
      })),
    );
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.db.close();
    }
    return Promise.resolve();
  }
}
