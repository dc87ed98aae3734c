/**
 * Rolls the ACD's interval figures (acd/kpiService.ts keeps the last 24 h) into the long-lived
 * interval history: every closed interval of the last day, per skill group and for all groups, is
 * written when its figures changed since the last roll-up (handle times of an interval still grow
 * while its calls' wrap-ups end). Run at least once a day, nothing is lost; the box runs it every minute.
 */
import type { IntervalKpis, QueueKpis } from '../acd/kpiTypes.js';
import { ALL_GROUPS, type HistoryRow, type IntervalHistoryRepo } from './historyRepo.js';

const DAY_MS = 86_400_000;

/** Where the figures come from (the KPI service). */
export interface IntervalSource {
  readonly intervalMs: number;
  intervals(from: number, to: number): IntervalKpis[];
  now(): number;
}

export class HistoryRollup {
  /** Values last written per `group\0start`, so unchanged intervals are not written again. */
  private readonly written = new Map<string, string>();
  /**
   * The interval this roll-up started in. The engine reports every interval of its last day, also
   * those before the box (or this version) ran: an empty one of those is unknown, not quiet, and is
   * left out (the forecast reads a missing interval as unknown).
   */
  private readonly since: number;

  constructor(
    private readonly repo: IntervalHistoryRepo,
    private readonly source: IntervalSource,
  ) {
    const now = source.now();
    this.since = Math.floor(now / source.intervalMs) * source.intervalMs;
    for (const r of repo.all(source.intervalMs, now - 2 * DAY_MS, now + 1)) this.written.set(keyOf(r.groupId, r.start), valuesOf(r));
  }

  /** Write the closed intervals of the last day whose figures changed; returns the rows written. */
  rollUp(): number {
    const now = this.source.now();
    const intervalMs = this.source.intervalMs;
    const rows: HistoryRow[] = [];
    for (const i of this.source.intervals(now - DAY_MS, now)) {
      if (i.end > now) continue;
      if (i.start < this.since && i.overall.offered === 0 && i.overall.handled === 0) continue;
      const scopes: [string, QueueKpis][] = [[ALL_GROUPS, i.overall], ...Object.entries(i.groups)];
      for (const [groupId, k] of scopes) {
        const row: HistoryRow = {
          start: i.start,
          intervalMs,
          groupId,
          offered: k.offered,
          answered: k.answered,
          abandoned: k.abandoned,
          handled: k.handled,
          handleMs: Math.round((k.talkS + k.holdS + k.wrapUpS) * 1000),
        };
        const key = keyOf(groupId, i.start);
        const values = valuesOf(row);
        if (this.written.get(key) === values) continue;
        rows.push(row);
      }
    }
    this.repo.save(rows, now);
    for (const r of rows) this.written.set(keyOf(r.groupId, r.start), valuesOf(r));
    for (const key of this.written.keys()) {
      const start = Number(key.slice(key.indexOf('\u0000') + 1));
      if (start < now - 2 * DAY_MS) this.written.delete(key);
    }
    return rows.length;
  }
}

const keyOf = (groupId: string, start: number) => `${groupId}\u0000${start}`;
const valuesOf = (r: HistoryRow) => `${r.offered},${r.answered},${r.abandoned},${r.handled},${r.handleMs}`;
