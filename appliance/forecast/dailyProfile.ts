/**
 * A history of intervals seen as site-local days: each day's total, and per weekday the
 * time-of-day shape (share of the day per slot), pooled over recent weeks with the more recent
 * weeks weighted more. Special days and days far from their usual volume do not shape the
 * profile; unknown intervals (NaN) are left out slot by slot.
 */
import { weekday, type SeriesCalendar } from './calendar.js';

export interface DayView {
  /** Local day number of day 0. */
  firstDay: number;
  /** values[d][s]; NaN where unknown or outside the history. */
  values: Float64Array[];
  /** Complete days only (the last, partial day is not counted): estimated total or NaN. */
  totals: number[];
  /** Slots of the last day that are in the history (perDay when the history ends at midnight). */
  lastDayKnownSlots: number;
}

/** Split a series into local days (the first and last may be partial). */
export function toDays(values: number[], cal: SeriesCalendar): DayView {
  const { perDay, firstSlot } = cal;
  const nDays = Math.ceil((firstSlot + values.length) / perDay);
  const days: Float64Array[] = [];
  for (let d = 0; d < nDays; d++) days.push(new Float64Array(perDay).fill(NaN));
  for (let i = 0; i < values.length; i++) {
    const k = firstSlot + i;
    days[Math.floor(k / perDay)]![k % perDay] = values[i]!;
  }
  const end = firstSlot + values.length;
  const lastDayKnownSlots = end - (nDays - 1) * perDay;
  // The average shape over all days tells how much of a day a partly known day covers.
  const avg = new Float64Array(perDay);
  for (const day of days) for (let s = 0; s < perDay; s++) if (Number.isFinite(day[s]!)) avg[s] = avg[s]! + Math.max(0, day[s]!);
  const avgSum = avg.reduce((a, b) => a + b, 0);
  const totals = days.map((day, d) => {
    if (d === nDays - 1 && lastDayKnownSlots < perDay) return NaN;
    let sum = 0;
    let covered = 0;
    for (let s = 0; s < perDay; s++) {
      const v = day[s]!;
      if (Number.isFinite(v)) {
        sum += Math.max(0, v);
        covered += avg[s]!;
      }
    }
    if (avgSum <= 0) return covered === 0 && Number.isFinite(sum) ? sum : 0;
    const share = covered / avgSum;
    return share >= 0.5 ? sum / share : NaN;
  });
  return { firstDay: cal.firstDay, values: days, totals, lastDayKnownSlots };
}

export interface ProfileOptions {
  /** Weeks of the same weekday pooled into its shape. */
  weeks: number;
  /** Weight of a week relative to the week after it. */
  decay: number;
}

export const DEFAULT_PROFILE: ProfileOptions = { weeks: 12, decay: 0.9 };

/**
 * Time-of-day shape per weekday (each sums to 1, or all zero when nothing is known), from the
 * complete days whose `usable` flag is set. Each weekday's pooled shape is shrunk towards a
 * smoothed copy of itself (neighbouring slots, never across a slot that is always empty) by a
 * James-Stein factor: the noise variance of the pooled shape, estimated from how the weeks differ,
 * over its squared distance from the smoothed copy. A noiseless history is not shrunk at all, so
 * a periodic series is continued exactly.
 */
export function weekdayShapes(view: DayView, usable: boolean[], perDay: number, o: ProfileOptions = DEFAULT_PROFILE): number[][] {
  const byWeekday: { w: number; d: number }[][] = Array.from({ length: 7 }, () => []);
  const lastComplete = view.totals.length - 1;
  const open = new Uint8Array(perDay);
  for (let d = lastComplete; d >= 0; d--) {
    const total = view.totals[d]!;
    if (!usable[d] || !Number.isFinite(total) || total <= 0) continue;
    const age = Math.floor((lastComplete - d) / 7);
    if (age >= o.weeks) break;
    byWeekday[weekday(view.firstDay + d)]!.push({ w: Math.pow(o.decay, age), d });
    const day = view.values[d]!;
    for (let s = 0; s < perDay; s++) if (day[s]! > 0) open[s] = 1;
  }
  const shapes = byWeekday.map((days) => pooledShape(view, days, perDay, open));
  // A weekday never seen borrows the mean shape of the others.
  const seen = shapes.filter((sh): sh is number[] => sh !== null);
  const fallback = new Array<number>(perDay).fill(0);
  for (const sh of seen) for (let s = 0; s < perDay; s++) fallback[s] = fallback[s]! + sh[s]! / seen.length;
  return shapes.map((sh) => sh ?? fallback);
}

function pooledShape(view: DayView, days: { w: number; d: number }[], perDay: number, open: Uint8Array): number[] | null {
  if (days.length === 0) return null;
  const num = new Float64Array(perDay);
  const den = new Float64Array(perDay);
  for (const { w, d } of days) {
    const day = view.values[d]!;
    const total = view.totals[d]!;
    for (let s = 0; s < perDay; s++) {
      const v = day[s]!;
      if (!Number.isFinite(v)) continue;
      num[s] = num[s]! + w * Math.max(0, v);
      den[s] = den[s]! + w * total;
    }
  }
  const mean = Array.from(num, (v, s) => (den[s]! > 0 ? v / den[s]! : 0));
  // Noise variance of the pooled share per slot, from the spread of the days around it.
  let noise = 0;
  if (days.length >= 2) {
    for (let s = 0; s < perDay; s++) {
      let sw = 0;
      let sw2 = 0;
      let dev = 0;
      for (const { w, d } of days) {
        const v = view.values[d]![s]!;
        if (!Number.isFinite(v)) continue;
        const share = Math.max(0, v) / view.totals[d]!;
        sw += w;
        sw2 += w * w;
        dev += w * (share - mean[s]!) ** 2;
      }
      // Weighted variance of one day's share, times the effective 1/n of the weighted mean.
      if (sw > 0 && sw * sw > sw2) noise += (dev / sw) * (sw / (sw - sw2 / sw)) * (sw2 / (sw * sw));
    }
  }
  let smooth = mean;
  for (let pass = 0; pass < SMOOTH_PASSES; pass++) smooth = smoothOnce(smooth, open);
  let dist = 0;
  for (let s = 0; s < perDay; s++) dist += (mean[s]! - smooth[s]!) ** 2;
  const lambda = dist > 0 ? Math.min(1, noise / dist) : 0;
  const shape = mean.map((m, s) => (1 - lambda) * m + lambda * smooth[s]!);
  const sum = shape.reduce((a, b) => a + b, 0);
  return sum > 0 ? shape.map((v) => v / sum) : shape;
}

/** Passes of the [1 2 1]/4 kernel that make the shrinkage target. */
const SMOOTH_PASSES = 2;

function smoothOnce(x: number[], open: Uint8Array): number[] {
  return x.map((_, s) => {
    if (!open[s]) return 0;
    let acc = 2 * x[s]!;
    let wsum = 2;
    for (const t of [s - 1, s + 1]) {
      if (t >= 0 && t < x.length && open[t]) {
        acc += x[t]!;
        wsum += 1;
      }
    }
    return acc / wsum;
  });
}
