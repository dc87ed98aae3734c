/**
 * Site-local calendar of an interval series: which local day, weekday and time-of-day slot each
 * interval falls in, and the special days (holidays, campaigns) keyed by local day.
 */

export const DAY_MS = 86_400_000;

/** Where the intervals of a series sit in site-local days. */
export interface SeriesCalendar {
  /** Intervals per local day (intervalMs must divide a day). */
  perDay: number;
  /** Local day number (days since 1970-01-01 local) of interval 0. */
  firstDay: number;
  /** Slot of interval 0 within its local day. */
  firstSlot: number;
}

export function seriesCalendar(startMs: number, intervalMs: number, tzOffsetMinutes = 0): SeriesCalendar {
  if (!(intervalMs > 0) || DAY_MS % intervalMs !== 0) throw new RangeError('forecast: intervalMs must divide a day');
  const local = startMs + tzOffsetMinutes * 60_000;
  const firstDay = Math.floor(local / DAY_MS);
  const firstSlot = Math.floor((local - firstDay * DAY_MS) / intervalMs);
  return { perDay: DAY_MS / intervalMs, firstDay, firstSlot };
}

/** Weekday of a local day number, 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday). */
export function weekday(day: number): number {
  return (((day + 3) % 7) + 7) % 7;
}

/** YYYY-MM-DD of a local day number. */
export function isoDate(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** Special-day factors by local day number. */
export function specialDayFactors(days: { date: string; factor: number }[] | undefined): Map<number, number> {
  const out = new Map<number, number>();
  for (const s of days ?? []) {
    const ms = Date.parse(`${s.date}T00:00:00Z`);
    if (Number.isFinite(ms) && s.factor >= 0) out.set(Math.round(ms / DAY_MS), s.factor);
  }
  return out;
}
