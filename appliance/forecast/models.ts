/**
 * Forecasts of a per-interval series (offered calls, or handle time) for the next 1-28 days:
 *
 * - `seasonal-naive`: the same interval one week earlier (the baseline every other method is
 *   measured against; it knows nothing of special days);
 * - `profile`: day-of-week × time-of-day profile: a weekday's time-of-day shape pooled over recent
 *   weeks (recent weeks weigh more), a weekday index, and a level from the recent days;
 * - `holt-winters`: the same time-of-day shapes, with the daily totals from Holt-Winters
 *   (damped trend, multiplicative weekly season) fitted on the history;
 * - `ensemble`: the mean of profile and Holt-Winters daily totals.
 *
 * Special days multiply the day's total by their factor; listed special days in the history, and
 * days far from their weekday's usual volume, shape neither profile nor level. When the history
 * ends inside a day, the rest of that day is re-forecast from its actuals so far.
 */
import { DAY_MS, seriesCalendar, specialDayFactors, weekday } from './calendar.js';
import { toDays, weekdayShapes, type DayView } from './dailyProfile.js';
import { holtWintersFit, holtWintersForecast } from './holtWinters.js';

export type ForecastMethod = 'seasonal-naive' | 'profile' | 'holt-winters' | 'ensemble';
/** NaN = unknown. */
export interface IntervalSeries {
  startMs: number;
  intervalMs: number;
  values: number[];
}
export interface SpecialDay {
  /** YYYY-MM-DD, site-local. */
  date: string;
  /** 1.3 = +30 %. */
  factor: number;
  label: string;
}
export interface ForecastOptions {
  /** Intervals. */
  horizon: number;
  method: ForecastMethod;
  specialDays?: SpecialDay[];
  /** Site-local day boundaries; default 0. */
  tzOffsetMinutes?: number;
}

/** The method eval-forecast shows best. */
export const DEFAULT_METHOD: ForecastMethod = 'ensemble';

export const FORECAST_METHODS: readonly ForecastMethod[] = ['seasonal-naive', 'profile', 'holt-winters', 'ensemble'];

/** A day further than this from its weekday's usual volume is not used for profile or level. */
const OUTLIER_RATIO = 0.35;
/** Weeks of history that set the weekday index and the outlier test. */
const INDEX_WEEKS = 12;
const INDEX_DECAY = 0.9;
/** Day-to-day decay of the weight of a day in the level. */
const LEVEL_DECAY = 0.8;
const LEVEL_DAYS = 14;

/** Forecast `opts.horizon` intervals starting at the end of the history. */
export function forecastSeries(history: IntervalSeries, opts: ForecastOptions): number[] {
  const horizon = Math.max(0, Math.floor(opts.horizon));
  if (horizon === 0) return [];
  if (opts.method === 'seasonal-naive') return seasonalNaive(history, horizon);
  const cal = seriesCalendar(history.startMs, history.intervalMs, opts.tzOffsetMinutes ?? 0);
  const { perDay } = cal;
  if (history.values.length === 0) return new Array<number>(horizon).fill(0);
  const view = toDays(history.values, cal);
  const special = specialDayFactors(opts.specialDays);
  const lastComplete = view.lastDayKnownSlots < perDay ? view.totals.length - 2 : view.totals.length - 1;
  const usable = usableDays(view, special, lastComplete);
  const shapes = weekdayShapes(view, usable, perDay);
  // Days to forecast: the partial last day (if any) and the following ones.
  const partial = view.lastDayKnownSlots < perDay;
  const firstDay = partial ? view.totals.length - 1 : view.totals.length; // index in view days
  const nDays = Math.ceil(((partial ? view.lastDayKnownSlots : 0) + horizon) / perDay);
  const totals = dayTotals(opts.method, view, usable, lastComplete, firstDay, nDays);
  const out: number[] = [];
  for (let k = 0; k < nDays && out.length < horizon; k++) {
    const d = firstDay + k;
    const dayNo = view.firstDay + d;
    const total = totals[k]! * (special.get(dayNo) ?? 1);
    const shape = shapes[weekday(dayNo)]!;
    const day = shape.map((p) => p * total);
    if (k === 0 && partial) {
      const known = Array.from(view.values[d]!.subarray(0, view.lastDayKnownSlots));
      out.push(...reforecastIntraday(day, known));
    } else out.push(...day);
  }
  return out.slice(0, horizon).map((v) => (Number.isFinite(v) && v > 0 ? v : 0));
}

/** Same interval one week earlier (or the latest earlier week that is known). */
function seasonalNaive(history: IntervalSeries, horizon: number): number[] {
  const perWeek = Math.round((7 * DAY_MS) / history.intervalMs);
  const v = history.values;
  const n = v.length;
  const out: number[] = [];
  for (let h = 0; h < horizon; h++) {
    // The latest known value at the same time of week (beyond a week ahead, last week repeats).
    let i = n + h - perWeek;
    while (i >= n) i -= perWeek;
    let got = NaN;
    for (; i >= 0 && !Number.isFinite(got); i -= perWeek) got = v[i]!;
    out.push(Number.isFinite(got) ? Math.max(0, got) : 0);
  }
  return out;
}

/**
 * Complete, not special, and not a lone outlier: a day further than OUTLIER_RATIO from the median
 * of the same weekday in nearby weeks is left out, unless the nearest scored day before or after
 * it deviates the same way (then it is the start of a level shift, which the level must follow).
 */
function usableDays(view: DayView, special: Map<number, number>, lastComplete: number): boolean[] {
  const usable = view.totals.map((t, d) => d <= lastComplete && Number.isFinite(t) && !special.has(view.firstDay + d));
  const ratio = new Array<number>(lastComplete + 1).fill(NaN);
  for (let d = 0; d <= lastComplete; d++) {
    if (!usable[d]) continue;
    const peers: number[] = [];
    for (let k = 1; k <= INDEX_WEEKS; k++) {
      for (const e of [d - 7 * k, d + 7 * k]) {
        if (e >= 0 && e <= lastComplete && usable[e]) peers.push(view.totals[e]!);
      }
      if (peers.length >= 6) break;
    }
    if (peers.length < 2) continue;
    const med = median(peers);
    if (med > 0) ratio[d] = view.totals[d]! / med - 1;
  }
  const deviates = (r: number | undefined, dir: number, by: number) =>
    r !== undefined && Number.isFinite(r) && Math.sign(r) === dir && Math.abs(r) > by;
  const nearest = (d: number, step: number) => {
    for (let e = d + step; e >= 0 && e <= lastComplete; e += step) if (Number.isFinite(ratio[e]!)) return ratio[e];
    return undefined;
  };
  for (let d = 0; d <= lastComplete; d++) {
    const r = ratio[d]!;
    if (!(Math.abs(r) > OUTLIER_RATIO)) continue;
    const dir = Math.sign(r);
    if (!deviates(nearest(d, -1), dir, OUTLIER_RATIO / 2) && !deviates(nearest(d, 1), dir, OUTLIER_RATIO / 2)) usable[d] = false;
  }
  return usable;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Expected (unadjusted for special days) totals of view days firstDay … firstDay + nDays - 1. */
function dayTotals(
  method: ForecastMethod,
  view: DayView,
  usable: boolean[],
  lastComplete: number,
  firstDay: number,
  nDays: number,
): number[] {
  const prof = profileTotals(view, usable, lastComplete, firstDay, nDays);
  if (method === 'profile') return prof;
  const hw = holtWintersTotals(view, usable, lastComplete, firstDay, nDays);
  if (hw === null) return prof;
  if (method === 'holt-winters') return hw;
  return prof.map((p, k) => 0.5 * (p + hw[k]!));
}

/** Weekday index (mean 1 over the week) × level of the recent days. */
function profileTotals(view: DayView, usable: boolean[], lastComplete: number, firstDay: number, nDays: number): number[] {
  const idx = weekdayIndex(view, usable, lastComplete);
  let num = 0;
  let den = 0;
  let w = 1;
  let seen = 0;
  for (let d = lastComplete; d >= 0 && seen < LEVEL_DAYS; d--, w *= LEVEL_DECAY) {
    seen++;
    const i = idx[weekday(view.firstDay + d)]!;
    if (!usable[d] || i <= 0) continue;
    num += w * view.totals[d]!;
    den += w * i;
  }
  const level = den > 0 ? num / den : 0;
  return Array.from({ length: nDays }, (_, k) => level * idx[weekday(view.firstDay + firstDay + k)]!);
}

/** Mean usable total per weekday over recent weeks (recent weeks weigh more), over the mean of the seven. */
function weekdayIndex(view: DayView, usable: boolean[], lastComplete: number): number[] {
  const sum = new Float64Array(7);
  const wsum = new Float64Array(7);
  for (let d = lastComplete; d >= 0; d--) {
    const age = Math.floor((lastComplete - d) / 7);
    if (age >= INDEX_WEEKS) break;
    if (!usable[d]) continue;
    const w = Math.pow(INDEX_DECAY, age);
    const wd = weekday(view.firstDay + d);
    sum[wd] = sum[wd]! + w * view.totals[d]!;
    wsum[wd] = wsum[wd]! + w;
  }
  const means = Array.from(sum, (s, wd) => (wsum[wd]! > 0 ? s / wsum[wd]! : NaN));
  const known = means.filter((m) => Number.isFinite(m));
  const overall = known.length > 0 ? known.reduce((a, b) => a + b, 0) / known.length : 0;
  return means.map((m) => (overall > 0 ? (Number.isFinite(m) ? m / overall : 1) : 0));
}

function holtWintersTotals(view: DayView, usable: boolean[], lastComplete: number, firstDay: number, nDays: number): number[] | null {
  const y = view.totals.slice(0, lastComplete + 1).map((t, d) => (usable[d] ? t : NaN));
  const state = holtWintersFit(y, 7);
  if (state === null) return null;
  const ahead = firstDay - (lastComplete + 1);
  return holtWintersForecast(state, ahead + nDays).slice(ahead);
}

/** Weight, in expected calls, of the plan against today's actuals (a gamma prior on today's level). */
const PRIOR_CALLS = 30;
/** The plan's weight as a share of the day already expected (early in the day trust the plan). */
const PRIOR_DAY_SHARE = 0.05;

/**
 * The rest of the day: the day's forecast from the first interval not yet in actualSoFar, scaled
 * by today's actual/forecast ratio so far, damped towards 1 while little of the day has passed or
 * few calls were expected (unknown actuals, NaN, are skipped).
 */
export function reforecastIntraday(dayForecast: number[], actualSoFar: number[]): number[] {
  const ratio = intradayRatio(dayForecast, actualSoFar);
  return dayForecast.slice(Math.min(actualSoFar.length, dayForecast.length)).map((f) => Math.max(0, f) * ratio);
}

/** Today's damped actual/forecast ratio so far (1 when nothing is known yet). */
function intradayRatio(dayForecast: number[], actualSoFar: number[]): number {
  const k = Math.min(actualSoFar.length, dayForecast.length);
  let expected = 0;
  let actual = 0;
  let dayTotal = 0;
  for (const f of dayForecast) dayTotal += Math.max(0, f);
  for (let i = 0; i < k; i++) {
    const a = actualSoFar[i]!;
    if (!Number.isFinite(a)) continue;
    expected += Math.max(0, dayForecast[i]!);
    actual += Math.max(0, a);
  }
  const prior = Math.max(PRIOR_CALLS, PRIOR_DAY_SHARE * dayTotal);
  return Math.min(5, Math.max(0.2, (actual + prior) / (expected + prior)));
}
