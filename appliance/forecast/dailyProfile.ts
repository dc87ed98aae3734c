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
  /** Pseudo-days of the all-weekday shape mixed into each weekday's shape (noise control). */
  shrinkDays: number;
}

export const DEFAULT_PROFILE: ProfileOptions = { weeks: 8, decay: 0.85, shrinkDays: 0 };

/**
 * Time-of-day shape per weekday (each sums to 1, or all zero when nothing is known), from the
 * complete days whose `usable` flag is set.
 */
export function weekdayShapes(view: DayView, usable: boolean[], perDay: number, o: ProfileOptions = DEFAULT_PROFILE): number[][] {
  const num = Array.from({ length: 7 }, () => new Float64Array(perDay));
  const den = Array.from({ length: 7 }, () => new Float64Array(perDay));
  const weight = new Float64Array(7);
  const allNum = new Float64Array(perDay);
  const allDen = new Float64Array(perDay);
  const lastComplete = view.totals.length - 1;
  for (let d = lastComplete; d >= 0; d--) {
    const total = view.totals[d]!;
    if (!usable[d] || !Number.isFinite(total) || total <= 0) continue;
    const age = Math.floor((lastComplete - d) / 7);
    if (age >= o.weeks) break;
    const w = Math.pow(o.decay, age);
    const wd = weekday(view.firstDay + d);
    const day = view.values[d]!;
    weight[wd] = weight[wd]! + w;
    for (let s = 0; s < perDay; s++) {
      const v = day[s]!;
      if (!Number.isFinite(v)) continue;
      const nw = num[wd]!;
      const dw = den[wd]!;
      nw[s] = nw[s]! + w * Math.max(0, v);
      dw[s] = dw[s]! + w * total;
      allNum[s] = allNum[s]! + w * Math.max(0, v);
      allDen[s] = allDen[s]! + w * total;
    }
  }
  const all = Array.from(allNum, (v, s) => (allDen[s]! > 0 ? v / allDen[s]! : 0));
  return num.map((n, wd) => {
    const k = o.shrinkDays;
    const shape = Array.from(n, (v, s) => {
      const dd = den[wd]![s]!;
      if (dd <= 0) return all[s]!;
      // Mix in the all-weekday shape with the weight of k average days of this weekday.
      const avgTotal = dd / Math.max(weight[wd]!, 1e-9);
      return (v + k * avgTotal * all[s]!) / (dd + k * avgTotal);
    });
    const sum = shape.reduce((a, b) => a + b, 0);
    return sum > 0 ? shape.map((v) => v / sum) : shape;
  });
}
