/**
 * The interval history in the store: per skill group and interval, how many calls were offered,
 * answered and abandoned, and the handle time of the handled ones. Counts and milliseconds only (no
 * call, caller or agent ids), so the rows are not personal data and outlive the call records
 * (privacy.retention.intervalHistoryHours).
 */
import type { Database, Statement } from 'better-sqlite3';
import type { Writer } from '../store/repos/writer.js';

/** The group id of the all-groups row (each call counted once). */
export const ALL_GROUPS = '';

export interface HistoryCounts {
  readonly offered: number;
  readonly answered: number;
  readonly abandoned: number;
  /** Answered calls whose wrap-up ended. */
  readonly handled: number;
  /** Talk + hold + wrap-up of the handled calls. */
  readonly handleMs: number;
}

export interface HistoryRow extends HistoryCounts {
  readonly start: number;
  readonly intervalMs: number;
  readonly groupId: string;
}

interface Row {
  interval_start: number;
  interval_ms: number;
  group_id: string;
  offered: number;
  answered: number;
  abandoned: number;
  handled: number;
  handle_ms: number;
}

export class IntervalHistoryRepo {
  private readonly upsertStmt: Statement;
  private readonly rangeStmt: Statement<[string, number, number, number], Row>;
  private readonly allStmt: Statement<[number, number, number], Row>;

  constructor(
    private readonly db: Database,
    private readonly write: Writer,
  ) {
    this.upsertStmt = db.prepare(
      `INSERT INTO interval_history (interval_start, interval_ms, group_id, offered, answered, abandoned, handled, handle_ms, updated_at)
       VALUES (@start, @intervalMs, @groupId, @offered, @answered, @abandoned, @handled, @handleMs, @at)
       ON CONFLICT (group_id, interval_ms, interval_start) DO UPDATE SET
         offered = excluded.offered, answered = excluded.answered, abandoned = excluded.abandoned,
         handled = excluded.handled, handle_ms = excluded.handle_ms, updated_at = excluded.updated_at`,
    );
    this.rangeStmt = db.prepare(
      `SELECT * FROM interval_history WHERE group_id = ? AND interval_ms = ? AND interval_start >= ? AND interval_start < ? ORDER BY interval_start`,
    );
    this.allStmt = db.prepare(
      `SELECT * FROM interval_history WHERE interval_ms = ? AND interval_start >= ? AND interval_start < ? ORDER BY interval_start, group_id`,
    );
  }

  /** Insert or replace rows (one transaction). */
  save(rows: readonly HistoryRow[], at: number): void {
    if (rows.length === 0) return;
    this.write('forecast.history', () =>
      this.db.transaction(() => {
        for (const r of rows) {
          this.upsertStmt.run({
            start: r.start,
            intervalMs: r.intervalMs,
            groupId: r.groupId,
            offered: r.offered,
            answered: r.answered,
            abandoned: r.abandoned,
            handled: r.handled,
            handleMs: Math.round(r.handleMs),
            at,
          });
        }
      })(),
    );
  }

  /** One group's rows (ALL_GROUPS: the all-groups rows) of this interval length starting in [from, to), oldest first. */
  range(groupId: string, intervalMs: number, from: number, to: number): HistoryRow[] {
    return this.rangeStmt.all(groupId, intervalMs, from, to).map(toRow);
  }

  /** Every group's rows of this interval length starting in [from, to). */
  all(intervalMs: number, from: number, to: number): HistoryRow[] {
    return this.allStmt.all(intervalMs, from, to).map(toRow);
  }

  /** Interval lengths stored, most rows first. */
  intervalLengths(): number[] {
    return (
      this.db.prepare(`SELECT interval_ms, COUNT(*) AS n FROM interval_history GROUP BY interval_ms ORDER BY n DESC`).all() as {
        interval_ms: number;
      }[]
    ).map((r) => r.interval_ms);
  }

  /** Group ids with rows (the all-groups id left out), sorted. */
  groupIds(): string[] {
    return (
      this.db.prepare(`SELECT DISTINCT group_id FROM interval_history WHERE group_id != '' ORDER BY group_id`).all() as {
        group_id: string;
      }[]
    ).map((r) => r.group_id);
  }

  /** Start of the oldest row, or null when there is none. */
  oldestStart(): number | null {
    return (this.db.prepare(`SELECT MIN(interval_start) AS t FROM interval_history`).get() as { t: number | null }).t;
  }

  /** Delete rows of intervals that started before `before` (retention). */
  prune(before: number): number {
    return this.write(
      'forecast.history.prune',
      () => this.db.prepare(`DELETE FROM interval_history WHERE interval_start < ?`).run(before).changes,
    );
  }
}

function toRow(r: Row): HistoryRow {
  return {
    start: r.interval_start,
    intervalMs: r.interval_ms,
    groupId: r.group_id,
    offered: r.offered,
    answered: r.answered,
    abandoned: r.abandoned,
    handled: r.handled,
    handleMs: r.handle_ms,
  };
}

/** Add rows into intervals `toMs` long (a multiple of the rows' length): counts and handle times summed. */
export function coarsen(rows: readonly HistoryRow[], toMs: number): HistoryRow[] {
  const out = new Map<string, HistoryRow>();
  for (const r of rows) {
    const start = Math.floor(r.start / toMs) * toMs;
    const key = `${r.groupId}\u0000${start}`;
    const prev = out.get(key);
    out.set(
      key,
      prev === undefined
        ? { ...r, start, intervalMs: toMs }
        : {
            ...prev,
            offered: prev.offered + r.offered,
            answered: prev.answered + r.answered,
            abandoned: prev.abandoned + r.abandoned,
            handled: prev.handled + r.handled,
            handleMs: prev.handleMs + r.handleMs,
          },
    );
  }
  return [...out.values()].sort((a, b) => a.start - b.start || a.groupId.localeCompare(b.groupId));
}
