/**
 * Synthetic call arrivals for make eval-forecast, from the committed parameters in
 * tools/forecast/arrivals-params.json: weekly and daily seasonality (weekday shapes, a later
 * weekend peak, a stronger Monday morning), a weekly trend, holidays and campaigns, a level shift
 * after a product change, and over-dispersed noise: a gamma day factor and week factor shared by
 * every interval of the day, then gamma-Poisson (negative binomial) counts per interval. Seeded.
 * The models are told only the announced special days, with the site's guessed factor.
 */
import { readFileSync } from 'node:fs';

export interface PeakParams {
  hour: number;
  widthHours: number;
  weight: number;
}
export interface GroupParams {
  name: string;
  seed: number;
  callsPerDay: number;
  trendPerWeek: number;
  /** Monday first. */
  weekday: number[];
  openHours: [number, number];
  baseShare?: number;
  peaks: PeakParams[];
  weekendPeakShiftHours: number;
  dispersionK: number;
  levelShift?: { date: string; factor: number; rampDays: number; reason: string };
}
export interface ArrivalParams {
  intervalMinutes: number;
  startDate: string;
  weeks: number;
  dayNoiseCv: number;
  weekNoiseCv: number;
  mondayFirstPeakBoost: number;
  groups: GroupParams[];
  specialDays: {
    announced: { date: string; trueFactor: number; guessedFactor: number; label: string }[];
    unannounced: { date: string; trueFactor: number; label: string }[];
    dayAfterHolidayFactor: number;
  };
  evaluation: { evalStartDate: string; originEveryHours: number };
}
export interface GeneratedGroup {
  name: string;
  startMs: number;
  intervalMs: number;
  /** Offered calls per interval. */
  values: number[];
  /** The generator's own mean per interval (before the per-interval noise), for reference. */
  means: number[];
  /** What the site would configure: announced days with the guessed factor. */
  announced: { date: string; factor: number; label: string }[];
}

const DAY_MS = 86_400_000;

export function loadArrivalParams(path = 'tools/forecast/arrivals-params.json'): ArrivalParams {
  return JSON.parse(readFileSync(path, 'utf8')) as ArrivalParams;
}

/** mulberry32: a small seeded uniform generator. */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(u: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** Gamma(shape, scale 1) by Marsaglia and Tsang (boosted for shape < 1). */
export function gamma(shape: number, u: () => number): number {
  if (shape < 1) return gamma(shape + 1, u) * Math.pow(u(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(u);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const w = u();
    if (w < 1 - 0.0331 * x ** 4 || Math.log(w) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Poisson: multiplication below 30, Hörmann's PTRS transformed rejection above. */
export function poisson(lambda: number, u: () => number): number {
  if (lambda <= 0) return 0;
  if (lambda < 30) {
    const l = Math.exp(-lambda);
    let k = 0;
    let p = u();
    while (p > l) {
      k++;
      p *= u();
    }
    return k;
  }
  const slam = Math.sqrt(lambda);
  const loglam = Math.log(lambda);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const U = u() - 0.5;
    const V = u();
    const us = 0.5 - Math.abs(U);
    const k = Math.floor(((2 * a) / us + b) * U + lambda + 0.43);
    if (us >= 0.07 && V <= vr) return k;
    if (k < 0 || (us < 0.013 && V > us)) continue;
    if (Math.log(V) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -lambda + k * loglam - logFactorial(k)) return k;
  }
}

function logFactorial(k: number): number {
  // Stirling series; exact enough for k >= 10, summed below.
  if (k < 10) {
    let s = 0;
    for (let i = 2; i <= k; i++) s += Math.log(i);
    return s;
  }
  return (k + 0.5) * Math.log(k) - k + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * k) - 1 / (360 * k ** 3);
}

/** Mean from a gamma with mean 1 and the given coefficient of variation. */
function unitGamma(cv: number, u: () => number): number {
  if (cv <= 0) return 1;
  const shape = 1 / (cv * cv);
  return gamma(shape, u) / shape;
}

/** Share of the day's calls per interval for one group and weekday (0 = Monday). */
export function dayProfile(g: GroupParams, dow: number, intervalMinutes: number, mondayBoost: number): number[] {
  const n = (24 * 60) / intervalMinutes;
  const shift = dow >= 5 ? g.weekendPeakShiftHours : 0;
  const out = new Array<number>(n).fill(0);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const t = ((i + 0.5) * intervalMinutes) / 60;
    if (t < g.openHours[0] || t >= g.openHours[1]) continue;
    let v = g.baseShare ?? 0.02;
    g.peaks.forEach((p, j) => {
      const w = p.weight * (dow === 0 && j === 0 ? mondayBoost : 1);
      v += w * Math.exp(-0.5 * ((t - p.hour - shift) / p.widthHours) ** 2);
    });
    out[i] = v;
    sum += v;
  }
  return sum > 0 ? out.map((v) => v / sum) : out;
}

/** Generate every group's arrivals from the parameters (deterministic for the given seeds). */
export function generateArrivals(p: ArrivalParams): GeneratedGroup[] {
  const startMs = Date.parse(`${p.startDate}T00:00:00Z`);
  const perDay = (24 * 60) / p.intervalMinutes;
  const days = p.weeks * 7;
  const factorOn = new Map<string, number>();
  for (const s of p.specialDays.announced) factorOn.set(s.date, s.trueFactor);
  for (const s of p.specialDays.unannounced) factorOn.set(s.date, s.trueFactor);
  const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return p.groups.map((g) => {
    const u = seededUniform(g.seed);
    const profiles = Array.from({ length: 7 }, (_, dow) => dayProfile(g, dow, p.intervalMinutes, p.mondayFirstPeakBoost));
    const values: number[] = [];
    const means: number[] = [];
    let weekFactor = 1;
    const shiftMs = g.levelShift ? Date.parse(`${g.levelShift.date}T00:00:00Z`) : Infinity;
    for (let d = 0; d < days; d++) {
      const dayMs = startMs + d * DAY_MS;
      const dow = (new Date(dayMs).getUTCDay() + 6) % 7;
      if (dow === 0 || d === 0) weekFactor = unitGamma(p.weekNoiseCv, u);
      let level = g.callsPerDay * (g.weekday[dow] ?? 0) * Math.pow(1 + g.trendPerWeek, d / 7) * weekFactor;
      if (g.levelShift && dayMs >= shiftMs) {
        const ramp = Math.min(1, (dayMs - shiftMs) / DAY_MS / Math.max(1, g.levelShift.rampDays) + 1 / Math.max(1, g.levelShift.rampDays));
        level *= 1 + (g.levelShift.factor - 1) * ramp;
      }
      const special = factorOn.get(iso(dayMs));
      if (special !== undefined) level *= special;
      else {
        const before = factorOn.get(iso(dayMs - DAY_MS));
        if (before !== undefined && before < 1) level *= p.specialDays.dayAfterHolidayFactor;
      }
      level *= unitGamma(p.dayNoiseCv, u);
      const prof = profiles[dow]!;
      for (let i = 0; i < perDay; i++) {
        const mean = level * prof[i]!;
        means.push(mean);
        values.push(mean > 0 ? poisson(gamma(g.dispersionK, u) * (mean / g.dispersionK), u) : 0);
      }
    }
    return {
      name: g.name,
      startMs,
      intervalMs: p.intervalMinutes * 60_000,
      values,
      means,
      announced: p.specialDays.announced.map((s) => ({ date: s.date, factor: s.guessedFactor, label: s.label })),
    };
  });
}
