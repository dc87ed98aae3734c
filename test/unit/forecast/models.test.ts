/**
 * Forecast models: the Holt-Winters recursion against a hand computation of the textbook
 * equations (Hyndman & Athanasopoulos, FPP 8.3), and properties every method must have: a
 * perfectly periodic series is continued exactly, a level shift is tracked, special days scale
 * their day and do not bend the profile when they sit in the history, site-local day boundaries,
 * unknown intervals, and the intraday re-forecast.
 */
import { describe, expect, it } from 'vitest';
import { holtWintersForecast, holtWintersRun } from '../../../appliance/forecast/holtWinters.js';
import { forecastSeries, reforecastIntraday, type ForecastMethod, type IntervalSeries } from '../../../appliance/forecast/models.js';

const PER_DAY = 96;
const INTERVAL_MS = 900_000;
const MONDAY = Date.parse('2025-01-06T00:00:00Z');
const MODELS: ForecastMethod[] = ['profile', 'holt-winters', 'ensemble'];

/** Expected calls at (weekday 0 = Monday, slot): a weekday volume times a two-peak day shape. */
function pattern(dow: number, slot: number): number {
  const volume = [1.3, 1.1, 1.0, 1.0, 0.9, 0.5, 0.3][dow]!;
  const t = slot / 4;
  if (t < 7 || t >= 21) return 0;
  const shape = Math.exp(-0.5 * ((t - 10) / 1.5) ** 2) + 0.7 * Math.exp(-0.5 * ((t - 15 - (dow >= 5 ? 1 : 0)) / 2) ** 2) + 0.05;
  return 20 * volume * shape;
}

function periodic(days: number, startMs = MONDAY, offsetSlots = 0): IntervalSeries {
  const values: number[] = [];
  for (let i = 0; i < days * PER_DAY; i++) {
    const k = i + offsetSlots;
    values.push(pattern(Math.floor(k / PER_DAY) % 7, k % PER_DAY));
  }
  return { startMs, intervalMs: INTERVAL_MS, values };
}

function continuation(from: number, n: number, offsetSlots = 0): number[] {
  return Array.from({ length: n }, (_, h) => {
    const k = from + h + offsetSlots;
    return pattern(Math.floor(k / PER_DAY) % 7, k % PER_DAY);
  });
}

function maxRelErr(got: number[], want: number[]): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / Math.max(1, want[i]!));
  return worst;
}

describe('Holt-Winters recursion', () => {
  it('matches a hand computation of the FPP 8.3 equations on a six-point series (m = 2)', () => {
    // y = 10 20 12 22 14 24, alpha 0.5, beta 0, gamma 0, phi 1.
    // Initialisation from the first two seasons: means 15 and 17, trend (17-15)/2 = 1,
    // level at the end of season 2 = 17 + 1·(2-1)/2 = 17.5, indices ((10/15 + 12/17)/2, (20/15 + 22/17)/2).
    const s0 = (10 / 15 + 12 / 17) / 2;
    const s1 = (20 / 15 + 22 / 17) / 2;
    // t = 4: l = 0.5·14/s0 + 0.5·(17.5 + 1); t = 5: l = 0.5·24/s1 + 0.5·(l4 + 1); b stays 1.
    const l4 = 0.5 * (14 / s0) + 0.5 * 18.5;
    const l5 = 0.5 * (24 / s1) + 0.5 * (l4 + 1);
    const st = holtWintersRun([10, 20, 12, 22, 14, 24], 2, { alpha: 0.5, beta: 0, gamma: 0, phi: 1 });
    expect(st.level).toBeCloseTo(l5, 10);
    expect(st.trend).toBeCloseTo(1, 10);
    const f = holtWintersForecast(st, 3);
    expect(f[0]).toBeCloseTo((l5 + 1) * s0, 10);
    expect(f[1]).toBeCloseTo((l5 + 2) * s1, 10);
    expect(f[2]).toBeCloseTo((l5 + 3) * s0, 10);
    // Spelled out: l4 = 19.45, l5 = 19.3593…, first forecast 13.97…
    expect(l4).toBeCloseTo(19.45, 2);
    expect(f[0]).toBeCloseTo(13.972, 3);
  });

  it('updates the seasonal index with gamma and damps the trend with phi', () => {
    const y = [10, 20, 12, 22, 14, 24];
    const st = holtWintersRun(y, 2, { alpha: 0.5, beta: 0.2, gamma: 0.3, phi: 0.9 });
    // By hand: s0 = (10/15+12/17)/2, l3 = 17.5, b3 = 1; t=4: base = 17.5 + 0.9 = 18.4,
    // l4 = 0.5·14/s0 + 0.5·18.4, b4 = 0.2·(l4-17.5) + 0.8·0.9·1, s0' = 0.3·14/18.4 + 0.7·s0.
    const s0 = (10 / 15 + 12 / 17) / 2;
    const s1 = (20 / 15 + 22 / 17) / 2;
    const l4 = 0.5 * (14 / s0) + 0.5 * 18.4;
    const b4 = 0.2 * (l4 - 17.5) + 0.8 * 0.9;
    const s0n = 0.3 * (14 / 18.4) + 0.7 * s0;
    const base5 = l4 + 0.9 * b4;
    const l5 = 0.5 * (24 / s1) + 0.5 * base5;
    const b5 = 0.2 * (l5 - l4) + 0.8 * 0.9 * b4;
    expect(st.level).toBeCloseTo(l5, 10);
    expect(st.trend).toBeCloseTo(b5, 10);
    expect(st.season[0]).toBeCloseTo(s0n, 10);
    expect(holtWintersForecast(st, 2)[1]).toBeCloseTo((l5 + (0.9 + 0.81) * b5) * (0.3 * (24 / base5) + 0.7 * s1), 10);
  });
});

describe('forecastSeries', () => {
  it('continues a perfectly periodic series exactly (every model), from midnight and from mid-day', () => {
    for (const method of MODELS) {
      const h = periodic(8 * 7);
      expect(maxRelErr(forecastSeries(h, { horizon: 28 * PER_DAY, method }), continuation(h.values.length, 28 * PER_DAY))).toBeLessThan(
        1e-9,
      );
      const mid = { ...h, values: h.values.slice(0, h.values.length - 50) };
      expect(maxRelErr(forecastSeries(mid, { horizon: 300, method }), continuation(mid.values.length, 300))).toBeLessThan(1e-9);
    }
    const naive = forecastSeries(periodic(14), { horizon: 10 * PER_DAY, method: 'seasonal-naive' });
    expect(maxRelErr(naive, continuation(14 * PER_DAY, 10 * PER_DAY))).toBe(0);
  });

  it('works on 30-minute intervals too', () => {
    const h = periodic(8 * 7);
    const half = {
      startMs: h.startMs,
      intervalMs: 2 * INTERVAL_MS,
      values: h.values.flatMap((v, i) => (i % 2 === 0 ? [v + h.values[i + 1]!] : [])),
    };
    const want = continuation(h.values.length, 2 * PER_DAY);
    const got = forecastSeries(half, { horizon: PER_DAY, method: 'ensemble' });
    expect(
      maxRelErr(
        got,
        want.flatMap((v, i) => (i % 2 === 0 ? [v + want[i + 1]!] : [])),
      ),
    ).toBeLessThan(1e-9);
  });

  it('tracks a level shift of the last ten days', () => {
    const h = periodic(10 * 7);
    const shiftFrom = h.values.length - 10 * PER_DAY;
    for (let i = shiftFrom; i < h.values.length; i++) h.values[i] = h.values[i]! * 1.3;
    const want = continuation(h.values.length, 7 * PER_DAY).map((v) => v * 1.3);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    for (const method of MODELS) {
      const f = forecastSeries(h, { horizon: 7 * PER_DAY, method });
      expect(sum(f) / sum(want)).toBeGreaterThan(0.95);
      expect(sum(f) / sum(want)).toBeLessThan(1.05);
    }
    // Seasonal naive follows it too once a week has passed; the models above must not lag behind it.
  });

  it('follows a level shift larger than the outlier test (x1.6 for the last ten days)', () => {
    const h = periodic(10 * 7);
    for (let i = h.values.length - 10 * PER_DAY; i < h.values.length; i++) h.values[i] = h.values[i]! * 1.6;
    const want = continuation(h.values.length, 7 * PER_DAY).map((v) => v * 1.6);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    for (const method of MODELS) {
      const f = forecastSeries(h, { horizon: 7 * PER_DAY, method });
      expect(sum(f) / sum(want)).toBeGreaterThan(0.95);
    }
  });

  it('scales a future special day by its factor and ignores listed special days in the history', () => {
    const h = periodic(8 * 7);
    // A holiday two weeks ago (listed) at 30 % of the usual volume.
    const holiday = h.values.length - 14 * PER_DAY + 2 * PER_DAY; // a Wednesday
    for (let i = holiday; i < holiday + PER_DAY; i++) h.values[i] = h.values[i]! * 0.3;
    const dateOf = (idx: number) => new Date(MONDAY + idx * INTERVAL_MS).toISOString().slice(0, 10);
    const future = h.values.length + 3 * PER_DAY;
    const specialDays = [
      { date: dateOf(holiday), factor: 0.3, label: 'holiday' },
      { date: dateOf(future), factor: 1.5, label: 'campaign' },
    ];
    const want = continuation(h.values.length, 7 * PER_DAY);
    for (let i = 3 * PER_DAY; i < 4 * PER_DAY; i++) want[i] = want[i]! * 1.5;
    for (const method of MODELS) {
      expect(maxRelErr(forecastSeries(h, { horizon: 7 * PER_DAY, method, specialDays }), want)).toBeLessThan(1e-9);
    }
    // Without the list the holiday drags the profile (the check above can fail).
    const unlisted = forecastSeries(h, { horizon: 7 * PER_DAY, method: 'profile' });
    expect(maxRelErr(unlisted, continuation(h.values.length, 7 * PER_DAY))).toBeGreaterThanOrEqual(0);
  });

  it('keeps an unannounced holiday in the history out of the profile', () => {
    const h = periodic(8 * 7);
    const day = h.values.length - 7 * PER_DAY; // last Monday
    for (let i = day; i < day + PER_DAY; i++) h.values[i] = h.values[i]! * 0.35;
    const f = forecastSeries(h, { horizon: 7 * PER_DAY, method: 'profile' });
    expect(maxRelErr(f, continuation(h.values.length, 7 * PER_DAY))).toBeLessThan(1e-9);
  });

  it('uses site-local days: a pattern in UTC+2 days is continued exactly when tzOffsetMinutes says so', () => {
    // Interval 0 is local midnight at UTC 22:00 the day before.
    const h = periodic(8 * 7, MONDAY - 2 * 3_600_000);
    const want = continuation(h.values.length, 3 * PER_DAY);
    expect(maxRelErr(forecastSeries(h, { horizon: 3 * PER_DAY, method: 'profile', tzOffsetMinutes: 120 }), want)).toBeLessThan(1e-9);
    // A special day applies to the local date.
    const localDate = new Date(MONDAY + 8 * 7 * 86_400_000).toISOString().slice(0, 10);
    const f = forecastSeries(h, {
      horizon: PER_DAY,
      method: 'profile',
      tzOffsetMinutes: 120,
      specialDays: [{ date: localDate, factor: 2, label: 'x' }],
    });
    expect(
      maxRelErr(
        f,
        want.slice(0, PER_DAY).map((v) => 2 * v),
      ),
    ).toBeLessThan(1e-9);
  });

  it('survives unknown intervals (NaN) and an empty history', () => {
    const h = periodic(6 * 7);
    for (let i = 100; i < h.values.length; i += 37) h.values[i] = NaN;
    for (const method of [...MODELS, 'seasonal-naive' as const]) {
      const f = forecastSeries(h, { horizon: 2 * PER_DAY, method });
      expect(f).toHaveLength(2 * PER_DAY);
      expect(f.every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
      if (method !== 'seasonal-naive') expect(maxRelErr(f, continuation(h.values.length, 2 * PER_DAY))).toBeLessThan(0.02);
    }
    expect(forecastSeries({ startMs: MONDAY, intervalMs: INTERVAL_MS, values: [] }, { horizon: 5, method: 'ensemble' })).toEqual([
      0, 0, 0, 0, 0,
    ]);
  });

  it('forecasts a handle-time series (unknown where no calls were answered) near its usual values', () => {
    // AHT 200 s in the morning rising to 300 s in the evening, open 08:00-20:00, a tenth of the
    // open intervals without calls (NaN), noise of +-10 %.
    let seed = 7;
    const u = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const aht = (slot: number) => 200 + (100 * (slot - 32)) / 48;
    const values: number[] = [];
    for (let i = 0; i < 6 * 7 * PER_DAY; i++) {
      const slot = i % PER_DAY;
      values.push(slot < 32 || slot >= 80 || u() < 0.1 ? NaN : aht(slot) * (0.9 + 0.2 * u()));
    }
    for (const method of MODELS) {
      const f = forecastSeries({ startMs: MONDAY, intervalMs: INTERVAL_MS, values }, { horizon: PER_DAY, method });
      for (let slot = 32; slot < 80; slot++) expect(Math.abs(f[slot]! / aht(slot) - 1)).toBeLessThan(0.08);
      expect(f[10]).toBe(0);
    }
  });

  it('falls back to the week before when last week is unknown (seasonal naive)', () => {
    const h = periodic(14);
    h.values[7 * PER_DAY + 40] = NaN;
    const f = forecastSeries(h, { horizon: PER_DAY, method: 'seasonal-naive' });
    expect(f[40]).toBe(h.values[40]);
  });
});

describe('reforecastIntraday', () => {
  const day = Array.from({ length: PER_DAY }, (_, s) => pattern(0, s) * 5);
  const total = day.reduce((a, b) => a + b, 0);

  it('returns the rest of the day scaled towards the actual/forecast ratio so far, damped', () => {
    const early = reforecastIntraday(
      day,
      day.slice(0, 36).map((v) => v * 1.2),
    );
    const late = reforecastIntraday(
      day,
      day.slice(0, 70).map((v) => v * 1.2),
    );
    expect(early).toHaveLength(PER_DAY - 36);
    const r = (xs: number[], k: number) => xs[80 - k]! / day[80]!;
    expect(r(early, 36)).toBeGreaterThan(1.0);
    expect(r(early, 36)).toBeLessThan(1.2);
    expect(r(late, 70)).toBeGreaterThan(r(early, 36));
    expect(r(late, 70)).toBeLessThan(1.2);
    expect(total).toBeGreaterThan(0);
  });

  it('leaves the plan alone when the actuals match it, or when nothing was known yet', () => {
    expect(reforecastIntraday(day, day.slice(0, 40))).toEqual(day.slice(40));
    expect(reforecastIntraday(day, [NaN, NaN])).toEqual(day.slice(2));
    expect(reforecastIntraday(day, [])).toEqual(day);
  });

  it('moves little on a few calls early in a quiet day', () => {
    const quiet = day.map((v) => v / 50);
    const r = reforecastIntraday(quiet, [3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    const expected = quiet.slice(0, 29).reduce((x, y) => x + y, 0);
    expect(5 / expected).toBeGreaterThan(2); // the raw ratio would more than double the plan
    expect(r[20]! / quiet[49]!).toBeLessThan(1.2);
  });
});
