// The forecast screen as pure functions: the API's shapes, the days a range covers, the points of one
// day, the chart's scale and paths, and the settings form's values (percentages shown, ratios saved).
// No DOM here, so unit tests run the code the browser does.

export interface ForecastPoint {
  start: number;
  forecast: number;
  forecastAhtS: number | null;
  reforecast: number | null;
  actual: number | null;
  actualAhtS: number | null;
}

export interface ForecastReply {
  group: string;
  intervalMs: number;
  from: number;
  to: number;
  days: number;
  method: string;
  timeZone: string;
  historyIntervals: number;
  specialDays: { date: string; factor: number; label: string }[];
  points: ForecastPoint[];
}

export interface StaffingFigures {
  agents: number;
  scheduled: number;
  serviceLevel: number;
  asaS: number;
  abandonRate: number;
  occupancy: number;
}

export interface StaffingPoint {
  start: number;
  calls: number;
  ahtS: number | null;
  erlangC: StaffingFigures | null;
  erlangA: StaffingFigures | null;
}

export interface StaffingReply {
  intervalMs: number;
  from: number;
  to: number;
  points: StaffingPoint[];
  peak: { erlangC: number; erlangA: number };
}

export interface SpecialDay {
  id: number;
  date: string;
  group: string;
  factor: number;
  label: string;
}

export interface ForecastSettings {
  serviceLevelTarget: number;
  serviceLevelS: number;
  asaTargetS: number | null;
  shrinkage: number;
  maxOccupancy: number | null;
  patienceS: number;
  method: string;
  historyWeeks: number;
  alert: { enabled: boolean; deviationPct: number; intervals: number; minForecastCalls: number };
}

const DAY_MS = 86_400_000;

/** The site-local midnights of a range (its first day from the reply's `from`). */
export function dayStarts(from: number, days: number): number[] {
  return Array.from({ length: days }, (_, i) => from + i * DAY_MS);
}

/** The points of the day starting at `dayStart`. */
export function pointsOfDay<T extends { start: number }>(points: readonly T[], dayStart: number): T[] {
  return points.filter((p) => p.start >= dayStart && p.start < dayStart + DAY_MS);
}

/** Totals of a set of points: the plan, the actuals where known (and the plan of those same intervals). */
export function totals(points: readonly ForecastPoint[]): { forecast: number; actual: number; forecastOfActual: number; closed: number } {
  let forecast = 0;
  let actual = 0;
  let forecastOfActual = 0;
  let closed = 0;
  for (const p of points) {
    forecast += p.forecast;
    if (p.actual !== null) {
      actual += p.actual;
      forecastOfActual += p.forecast;
      closed++;
    }
  }
  return { forecast, actual, forecastOfActual, closed };
}

/** A chart's vertical scale: a round maximum at or above every value. */
export function niceMax(values: readonly number[]): number {
  const max = Math.max(1, ...values.filter((v) => Number.isFinite(v)));
  const step = 10 ** Math.floor(Math.log10(max));
  for (const k of [1, 2, 2.5, 5, 10]) if (k * step >= max) return k * step;
  return 10 * step;
}

/** An SVG path through (x, y) pairs; null values break the line. */
export function linePath(values: readonly (number | null)[], x: (i: number) => number, y: (v: number) => number): string {
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) {
      pen = false;
      return;
    }
    d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
    pen = true;
  });
  return d;
}

/** The settings as the form shows them: ratios as whole percentages. */
export interface SettingsForm {
  serviceLevelPct: string;
  serviceLevelS: string;
  asaTargetS: string;
  shrinkagePct: string;
  maxOccupancyPct: string;
  patienceS: string;
  method: string;
  historyWeeks: string;
  alertEnabled: boolean;
  deviationPct: string;
  intervals: string;
  minForecastCalls: string;
}

const pct = (ratio: number) => String(Math.round(ratio * 1000) / 10);

export function toForm(s: ForecastSettings): SettingsForm {
  return {
    serviceLevelPct: pct(s.serviceLevelTarget),
    serviceLevelS: String(s.serviceLevelS),
    asaTargetS: s.asaTargetS === null ? '' : String(s.asaTargetS),
    shrinkagePct: pct(s.shrinkage),
    maxOccupancyPct: s.maxOccupancy === null ? '' : pct(s.maxOccupancy),
    patienceS: String(s.patienceS),
    method: s.method,
    historyWeeks: String(s.historyWeeks),
    alertEnabled: s.alert.enabled,
    deviationPct: String(s.alert.deviationPct),
    intervals: String(s.alert.intervals),
    minForecastCalls: String(s.alert.minForecastCalls),
  };
}

/** The settings the form saves (the server validates the ranges); blank optional fields are null. */
export function fromForm(f: SettingsForm): ForecastSettings {
  const num = (s: string) => Number(s.trim());
  const ratio = (s: string) => Math.round(num(s) * 10) / 1000;
  return {
    serviceLevelTarget: ratio(f.serviceLevelPct),
    serviceLevelS: num(f.serviceLevelS),
    asaTargetS: f.asaTargetS.trim() === '' ? null : num(f.asaTargetS),
    shrinkage: ratio(f.shrinkagePct),
    maxOccupancy: f.maxOccupancyPct.trim() === '' ? null : ratio(f.maxOccupancyPct),
    patienceS: num(f.patienceS),
    method: f.method,
    historyWeeks: num(f.historyWeeks),
    alert: {
      enabled: f.alertEnabled,
      deviationPct: num(f.deviationPct),
      intervals: num(f.intervals),
      minForecastCalls: num(f.minForecastCalls),
    },
  };
}
