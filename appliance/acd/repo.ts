/**
 * The contact-centre interval figures in the store: one row per interval with the KPI engine's raw
 * sums (counts and milliseconds per group and overall), so a restart continues the day's figures
 * and ratios stay exact (sums add up; service levels and averages would not).
 */
import type { Database } from 'better-sqlite3';
import type { IntervalTotals } from './kpis.js';
import { parseJson, type Writer } from '../store/repos/writer.js';

export class AcdRepo {
  constructor(
    private readonly db: Database,
    private readonly write: Writer,
  ) {}

  /** Saved intervals of this length starting at or after `since`, oldest first. */
  load(intervalMs: number, since: number): IntervalTotals[] {
    const rows = this.db
      .prepare(
        `SELECT interval_start, totals_json FROM acd_intervals WHERE interval_ms = ? AND interval_start >= ? ORDER BY interval_start`,
      )
      .all(intervalMs, since) as { interval_start: number; totals_json: string }[];
    return rows.map((r) => {
      const t = parseJson<Partial<IntervalTotals>>(r.totals_json, {});
      const agents = typeof t.agents === 'object' && t.agents !== null ? { agents: t.agents } : {};
      return { start: r.interval_start, end: r.interval_start + intervalMs, groups: t.groups ?? {}, overall: t.overall ?? {}, ...agents };
    });
  }

  /** Insert or replace intervals (one transaction). */
  save(intervalMs: number, rows: readonly { readonly start: number; readonly json: string }[], at: number): void {
    if (rows.length === 0) return;
    this.write('acd.intervals', () => {
      const stmt = this.db.prepare(
        `INSERT INTO acd_intervals (interval_start, interval_ms, totals_json, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (interval_start, interval_ms) DO UPDATE SET totals_json = excluded.totals_json, updated_at = excluded.updated_at`,
      );
      this.db.transaction(() => {
        for (const r of rows) stmt.run(r.start, intervalMs, r.json, at);
      })();
    });
  }

  /** Delete intervals that started before `before` (any length). */
  prune(before: number): number {
    return this.write(
      'acd.intervals.prune',
      () => this.db.prepare(`DELETE FROM acd_intervals WHERE interval_start < ?`).run(before).changes,
    );
  }
}
