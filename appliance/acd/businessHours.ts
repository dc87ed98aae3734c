/**
 * Opening hours of a skill group on the site's clock: open or closed at an instant, and when it
 * opens next. Pure (no clock of its own); the wall time of an instant comes from Intl in the site's
 * IANA time zone, so daylight-saving changes are the zone database's business, not ours: on the
 * night clocks go forward an interval starting in the skipped hour opens when the hour exists, and
 * on the night they go back the repeated hour is open (or closed) twice, as the wall clock says.
 *
 * Rules: a holiday (the site's calendar date) replaces that weekday's hours: closed all day, or open
 * only in its own intervals (a partial day). Intervals are [from, to) in whole minutes; "24:00" is
 * the end of the day. No hours at all means always open.
 */
import type { BusinessHours, OpeningInterval, Weekday } from '../routing/types.js';

/** The site's wall clock at an instant. */
export interface LocalTime {
  /** Calendar date, YYYY-MM-DD. */
  readonly date: string;
  readonly weekday: Weekday;
  /** Minutes since local midnight (0..1439). */
  readonly minuteOfDay: number;
}

export type OpenState =
  | { readonly open: true; readonly reason: 'always' | 'hours' | 'holiday-hours'; readonly holiday: string | null }
  | { readonly open: false; readonly reason: 'hours' | 'holiday'; readonly holiday: string | null };

const WEEKDAY_OF: Readonly<Record<string, Weekday>> = {
  Mon: 'mon',
  Tue: 'tue',
  Wed: 'wed',
  Thu: 'thu',
  Fri: 'fri',
  Sat: 'sat',
  Sun: 'sun',
};

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    // Zones come from the config and the tests: a handful, never one per call.
    if (formatters.size < 64) formatters.set(timeZone, f);
  }
  return f;
}

/** True for an IANA zone name Intl knows (`Europe/Berlin`, `UTC`). */
export function isValidTimeZone(timeZone: string): boolean {
  if (timeZone === '') return false;
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The zone `acd.timeZone` names, or the system's when it is empty. */
export function siteTimeZone(configured: string): string {
  return configured !== '' ? configured : Intl.DateTimeFormat().resolvedOptions().timeZone;
}

interface WallParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: Weekday;
}

function wallParts(atMs: number, timeZone: string): WallParts {
  const p: Record<string, string> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(atMs))) p[part.type] = part.value;
  return {
    year: Number(p['year']),
    month: Number(p['month']),
    day: Number(p['day']),
    hour: Number(p['hour']),
    minute: Number(p['minute']),
    second: Number(p['second']),
    weekday: WEEKDAY_OF[p['weekday'] ?? ''] ?? 'mon',
  };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The site's date, weekday and minute of the day at `atMs`. */
export function localTimeAt(atMs: number, timeZone: string): LocalTime {
  const w = wallParts(atMs, timeZone);
  return { date: `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`, weekday: w.weekday, minuteOfDay: w.hour * 60 + w.minute };
}

function minutes(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

function within(intervals: readonly OpeningInterval[] | undefined, minuteOfDay: number): boolean {
  return (intervals ?? []).some((i) => minuteOfDay >= minutes(i.from) && minuteOfDay < minutes(i.to));
}

/** The intervals that apply on a date (a holiday's own, else the weekday's), with the holiday's label. */
function dayIntervals(
  hours: BusinessHours,
  date: string,
  weekday: Weekday,
): { intervals: readonly OpeningInterval[]; holiday: string | null } {
  const h = hours.holidays?.find((x) => x.date === date);
  if (h !== undefined) return { intervals: h.open ?? [], holiday: h.name ?? h.date };
  return { intervals: hours.weekly[weekday] ?? [], holiday: null };
}

/** Open or closed at `atMs` in `timeZone`; no hours: always open. */
export function openAt(hours: BusinessHours | undefined, atMs: number, timeZone: string): OpenState {
  if (hours === undefined) return { open: true, reason: 'always', holiday: null };
  const t = localTimeAt(atMs, timeZone);
  const day = dayIntervals(hours, t.date, t.weekday);
  const open = within(day.intervals, t.minuteOfDay);
  if (day.holiday !== null)
    return open ? { open: true, reason: 'holiday-hours', holiday: day.holiday } : { open: false, reason: 'holiday', holiday: day.holiday };
  return open ? { open: true, reason: 'hours', holiday: null } : { open: false, reason: 'hours', holiday: null };
}

/** The zone's offset from UTC at `atMs` (local wall time − UTC), ms. */
function offsetMs(atMs: number, timeZone: string): number {
  const w = wallParts(atMs, timeZone);
  const wall = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return wall - Math.floor(atMs / 1000) * 1000;
}

/**
 * The instant of a wall time: the earlier one when the clock shows it twice (clocks going back), and
 * the end of the skipped hour when it never shows it (clocks going forward).
 */
function instantOf(date: string, minuteOfDay: number, timeZone: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d, 0, minuteOfDay);
  // the zone's offsets around that day (before and after a change on it): each gives a candidate
  const candidates = [...new Set([-DAY_MS, 0, DAY_MS].map((dt) => wall - offsetMs(wall + dt, timeZone)))];
  const shows = (at: number) => {
    const t = localTimeAt(at, timeZone);
    return t.date === date && t.minuteOfDay === minuteOfDay;
  };
  const valid = candidates.filter(shows);
  if (valid.length > 0) return Math.min(...valid);
  // The clock skips the wall time: the first minute it shows past it, where the skipped hour ends
  // (between the candidates: the later one is as far past the end as the wall time is into the gap).
  const past = (at: number) => {
    const t = localTimeAt(at, timeZone);
    return t.date > date || (t.date === date && t.minuteOfDay > minuteOfDay);
  };
  let at = Math.min(...candidates);
  const last = Math.max(...candidates);
  while (at < last && !past(at)) at += 60_000;
  return at;
}

const DAY_MS = 86_400_000;

/** Date#getUTCDay order. */
const UTC_WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/**
 * The first instant after `atMs` at which the group is open (within `horizonDays`), or null when it
 * never opens in that time. Returns `atMs` itself when it is open already.
 */
export function nextOpeningAt(hours: BusinessHours | undefined, atMs: number, timeZone: string, horizonDays = 14): number | null {
  if (openAt(hours, atMs, timeZone).open) return atMs;
  if (hours === undefined) return atMs;
  const [y, m, d] = localTimeAt(atMs, timeZone).date.split('-').map(Number) as [number, number, number];
  for (let day = 0; day <= horizonDays; day++) {
    // Calendar arithmetic on the local date: adding 24 h would skip a date across a 23-hour day.
    const cal = new Date(Date.UTC(y, m - 1, d + day));
    const date = cal.toISOString().slice(0, 10);
    const weekday = UTC_WEEKDAYS[cal.getUTCDay()]!;
    const starts = dayIntervals(hours, date, weekday)
      .intervals.map((i) => minutes(i.from))
      .sort((a, b) => a - b);
    for (const start of starts) {
      let at = instantOf(date, start, timeZone);
      if (at <= atMs) continue;
      // A start in the hour the clocks skip: step to the first minute that exists and is open.
      for (let step = 0; step < 180 && !openAt(hours, at, timeZone).open; step++) at += 60_000;
      if (openAt(hours, at, timeZone).open) return at;
    }
  }
  return null;
}
