/**
 * The synthetic arrivals behind make eval-forecast: deterministic for its seeds, counts that are
 * over-dispersed as the negative binomial promises (variance = mean + mean²/k), the special days
 * where the parameters put them, and the default method clearly ahead of seasonal naive on two
 * held-out weeks of one group (a quick guard of what eval-forecast reports in full).
 */
import { describe, expect, it } from 'vitest';
import { forecastSeries, DEFAULT_METHOD } from '../../../appliance/forecast/models.js';
import { gamma, generateArrivals, loadArrivalParams, poisson, seededUniform } from '../../../tools/forecast/arrivals.js';

const params = loadArrivalParams();

describe('synthetic arrivals', () => {
  it('are the same for the same parameters', () => {
    const a = generateArrivals(params);
    const b = generateArrivals(params);
    expect(a[0]!.values).toEqual(b[0]!.values);
    expect(a).toHaveLength(params.groups.length);
    expect(a[0]!.values).toHaveLength(params.weeks * 7 * 96);
  });

  it('draw gamma-Poisson counts with variance mean + mean²/k', () => {
    const u = seededUniform(5);
    for (const [mean, k] of [
      [4, 10],
      [80, 25],
    ] as const) {
      const n = 40_000;
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        const x = poisson(gamma(k, u) * (mean / k), u);
        s += x;
        s2 += x * x;
      }
      const m = s / n;
      const v = s2 / n - m * m;
      const want = mean + (mean * mean) / k;
      expect(Math.abs(m - mean) / mean).toBeLessThan(0.02);
      expect(Math.abs(v - want) / want).toBeLessThan(0.06);
    }
  });

  it('put an announced holiday and an unannounced one where the parameters say', () => {
    const g = generateArrivals(params)[0]!;
    const dayTotal = (date: string) => {
      const d = Math.round((Date.parse(`${date}T00:00:00Z`) - g.startMs) / 86_400_000);
      return g.means.slice(d * 96, (d + 1) * 96).reduce((a, b) => a + b, 0);
    };
    const weekBefore = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) - 7 * 86_400_000).toISOString().slice(0, 10);
    for (const day of [params.specialDays.announced[0]!, params.specialDays.unannounced[0]!]) {
      expect(dayTotal(day.date) / dayTotal(weekBefore(day.date))).toBeLessThan(0.6);
    }
    expect(g.announced.map((a) => a.date)).not.toContain(params.specialDays.unannounced[0]!.date);
  });

  it('give the default method a next-day WAPE at least 15 % below seasonal naive on two held-out weeks', () => {
    const g = generateArrivals(params)[1]!;
    const start = Math.round((Date.parse(`${params.evaluation.evalStartDate}T00:00:00Z`) - g.startMs) / g.intervalMs);
    let errModel = 0;
    let errNaive = 0;
    for (let o = start; o < start + 14 * 96; o += 96) {
      const history = { startMs: g.startMs, intervalMs: g.intervalMs, values: g.values.slice(0, o) };
      const f = forecastSeries(history, { horizon: 96, method: DEFAULT_METHOD, specialDays: g.announced });
      const n = forecastSeries(history, { horizon: 96, method: 'seasonal-naive' });
      for (let h = 0; h < 96; h++) {
        errModel += Math.abs(f[h]! - g.values[o + h]!);
        errNaive += Math.abs(n[h]! - g.values[o + h]!);
      }
    }
    expect(errModel / errNaive).toBeLessThan(0.85);
  });
});
