/**
 * The sync outbox and its audit log, in SQLite, so nothing is lost across restarts and long outages.
 * A window is built and enqueued in one transaction with its `sync_windows` marker, so a window is
 * enqueued exactly once. The outbox is bounded: beyond `maxWindows` the oldest entries are dropped
 * (and the drop is audited), never the newest.
 */
import { createHash } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import type { Writer } from '../store/repos/writer.js';

export interface OutboxItem {
  id: number;
  idempotencyKey: string;
  windowStart: number;
  body: string;
  createdAt: number;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
}

export type AuditOutcome = 'accepted' | 'duplicate' | 'rejected' | 'failed' | 'dropped' | 'withheld';

export interface SyncAuditEntry {
  id: number;
  at: number;
  idempotencyKey: string;
  endpoint: string;
  outcome: AuditOutcome;
  httpStatus: number | null;
  bytes: number;
  sha256: string;
  body: string;
}

interface OutboxRow {
  id: number;
  idempotency_key: string;
  window_start: number;
  body: string;
  created_at: number;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
}

export class SyncOutbox {
  private readonly lastWindowStmt: Statement<[], { w: number | null }>;
  /** Prepared on first use: the columns of migration 18 (a store opened at an older schema can still build this). */
  private markWindowStmt: Statement | undefined;
  private readonly insertItem: Statement;
  private readonly dueStmt: Statement<[number, number], OutboxRow>;
  private readonly removeStmt: Statement;
  private readonly retryStmt: Statement;
  private readonly countStmt: Statement<[], { n: number }>;
  private readonly oldestStmt: Statement<[number], OutboxRow>;
  private readonly auditStmt: Statement;
  private readonly auditList: Statement<
    [number, number],
    {
      id: number;
      at: number;
      idempotency_key: string;
      endpoint: string;
      outcome: AuditOutcome;
      http_status: number | null;
      bytes: number;
      sha256: string;
      body: string;
    }
  >;

  constructor(
    private readonly db: Database,
    private readonly write: Writer,
    private readonly maxWindows: number,
  ) {
    this.lastWindowStmt = db.prepare(`SELECT MAX(window_start) AS w FROM sync_windows`);
    this.insertItem = db.prepare(
      `INSERT OR IGNORE INTO sync_outbox (idempotency_key, window_start, body, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?)`,
    );
    this.dueStmt = db.prepare(`SELECT * FROM sync_outbox WHERE next_attempt_at <= ? ORDER BY window_start, id LIMIT ?`);
    this.removeStmt = db.prepare(`DELETE FROM sync_outbox WHERE id = ?`);
    this.retryStmt = db.prepare(`UPDATE sync_outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?`);
    this.countStmt = db.prepare(`SELECT COUNT(*) AS n FROM sync_outbox`);
    this.oldestStmt = db.prepare(`SELECT * FROM sync_outbox ORDER BY window_start, id LIMIT ?`);
    this.auditStmt = db.prepare(
      `INSERT INTO sync_audit (at, idempotency_key, endpoint, outcome, http_status, bytes, sha256, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.auditList = db.prepare(`SELECT * FROM sync_audit WHERE id < ? ORDER BY id DESC LIMIT ?`);
  }

  /** Start of the last window already enqueued, or null before the first. */
  lastWindowStart(): number | null {
    return this.lastWindowStmt.get()?.w ?? null;
  }

  /**
   * Enqueue a built window once (marker + item in one transaction). `enqueued` is false if it
   * already was; `dropped` is how many of the oldest windows made room for it (audited `dropped`).
   */
  /** The privacy budget spent by the windows enqueued from `fromWindowStart` on (withheld ones spent nothing). */
  epsilonSpentSince(fromWindowStart: number): number {
    return (
      this.db
        .prepare(`SELECT COALESCE(SUM(epsilon_spent), 0) AS e FROM sync_windows WHERE window_start >= ? AND withheld = 0`)
        .get(fromWindowStart) as {
        e: number;
      }
    ).e;
  }

  /**
   * Mark a window withheld for want of privacy budget: never built again, nothing sent, audited
   * `withheld` (with no body). False if the window was already marked.
   */
  withhold(idempotencyKey: string, windowStart: number, needs: number, at: number, endpoint: string): boolean {
    return this.write('sync.withhold', () =>
      this.db.transaction(() => {
        const marked = this.db
          .prepare(`INSERT OR IGNORE INTO sync_windows (window_start, closed_at, epsilon_spent, withheld) VALUES (?, ?, 0, 1)`)
          .run(windowStart, at).changes;
        if (marked === 0) return false;
        this.auditRow(at, idempotencyKey, endpoint, 'withheld', null, JSON.stringify({ withheld: 'privacy budget', epsilonNeeded: needs }));
        return true;
      })(),
    );
  }

  enqueue(
    idempotencyKey: string,
    windowStart: number,
    body: string,
    at: number,
    endpoint: string,
    epsilonSpent = 0,
  ): { enqueued: boolean; dropped: number } {
    return this.write('sync.enqueue', () =>
      this.db.transaction(() => {
        this.markWindowStmt ??= this.db.prepare(
          `INSERT OR IGNORE INTO sync_windows (window_start, closed_at, epsilon_spent) VALUES (?, ?, ?)`,
        );
        if (this.markWindowStmt.run(windowStart, at, epsilonSpent).changes === 0) return { enqueued: false, dropped: 0 };
        this.insertItem.run(idempotencyKey, windowStart, body, at, at);
        const over = this.countStmt.get()!.n - this.maxWindows;
        if (over <= 0) return { enqueued: true, dropped: 0 };
        for (const old of this.oldestStmt.all(over)) {
          this.removeStmt.run(old.id);
          this.auditRow(at, old.idempotency_key, endpoint, 'dropped', null, old.body);
        }
        return { enqueued: true, dropped: over };
      })(),
    );
  }

  due(now: number, limit = 50): OutboxItem[] {
    return this.dueStmt.all(now, limit).map((r) => ({
      id: r.id,
      idempotencyKey: r.idempotency_key,
      windowStart: r.window_start,
      body: r.body,
      createdAt: r.created_at,
      attempts: r.attempts,
      nextAttemptAt: r.next_attempt_at,
      lastError: r.last_error,
    }));
  }

  get size(): number {
    return this.countStmt.get()!.n;
  }

  /** The item left the box for good (accepted, duplicate or permanently rejected): remove and audit. */
  settle(item: OutboxItem, outcome: AuditOutcome, httpStatus: number | null, endpoint: string, at: number): void {
    this.write('sync.settle', () =>
      this.db.transaction(() => {
        this.removeStmt.run(item.id);
        this.auditRow(at, item.idempotencyKey, endpoint, outcome, httpStatus, item.body);
      })(),
    );
  }

  /** A failed attempt: audit it and schedule the next one. */
  retryLater(item: OutboxItem, nextAttemptAt: number, error: string, httpStatus: number | null, endpoint: string, at: number): void {
    this.write('sync.retry', () =>
      this.db.transaction(() => {
        this.retryStmt.run(nextAttemptAt, error, item.id);
        this.auditRow(
          at,
          item.idempotencyKey,
          endpoint,
          httpStatus !== null && httpStatus >= 400 && httpStatus < 500 ? 'rejected' : 'failed',
          httpStatus,
          item.body,
        );
      })(),
    );
  }

  audit(limit: number, beforeId = Number.MAX_SAFE_INTEGER): SyncAuditEntry[] {
    return this.auditList.all(beforeId, limit).map((r) => ({
      id: r.id,
      at: r.at,
      idempotencyKey: r.idempotency_key,
      endpoint: r.endpoint,
      outcome: r.outcome,
      httpStatus: r.http_status,
      bytes: r.bytes,
      sha256: r.sha256,
      body: r.body,
    }));
  }

  private auditRow(at: number, key: string, endpoint: string, outcome: AuditOutcome, status: number | null, body: string): void {
    this.auditStmt.run(at, key, endpoint, outcome, status, Buffer.byteLength(body), createHash('sha256').update(body).digest('hex'), body);
  }
}
