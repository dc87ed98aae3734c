/** The forecast screen's pure parts: days of a range, totals for the chart's legend, its scale and line, and the settings form. */
import { describe, expect, it } from 'vitest';
import {
  dayStarts,
  fromForm,
  linePath,
  niceMax,
  pointsOfDay,
  toForm,
  totals,
  type ForecastSettings,
} from '../../../web/console/src/forecastModel.js';

const DAY = 86_400_000;
const settings: ForecastSettings = {
  serviceLevelTarget: 0.8,
  serviceLevelS: 20,
  asaTargetS: null,
  shrinkage: 0.35,
  maxOccupancy: 0.9,
  patienceS: 120,
  method: 'default',
  historyWeeks: 8,
  alert: { enabled: true, deviationPct: 25, intervals: 8, minForecastCalls: 50 },
};

describe('forecast screen model', () => {
  it('splits a range into its days and a day into its points', () => {
    expect(dayStarts(1000, 3)).toEqual([1000, 1000 + DAY, 1000 + 2 * DAY]);
    const pts = [0, DAY - 1, DAY, 2 * DAY].map((start) => ({ start }));
    expect(pointsOfDay(pts, 0)).toEqual([{ start: 0 }, { start: DAY - 1 }]);
  });

  it('totals the plan, and the actuals beside the plan of the same intervals', () => {
    const p = (forecast: number, actual: number | null) => ({
      start: 0,
      forecast,
      forecastAhtS: null,
      reforecast: null,
      actual,
      actualAhtS: null,
    });
    expect(totals([p(10, 8), p(12, 15), p(20, null)])).toEqual({ forecast: 42, actual: 23, forecastOfActual: 22, closed: 2 });
  });

  it('scales to a round maximum and breaks the line at unknown values', () => {
    expect(niceMax([0, 3.2])).toBe(5);
    expect(niceMax([17])).toBe(20);
    expect(niceMax([230])).toBe(250);
    expect(niceMax([])).toBe(1);
    expect(
      linePath(
        [1, 2, null, 4],
        (i) => i * 10,
        (v) => 100 - v,
      ),
    ).toBe('M0.0,99.0L10.0,98.0M30.0,96.0');
  });

  it('shows ratios as percentages and saves what it shows; blank optional targets are none', () => {
    const form = toForm(settings);
    expect(form.serviceLevelPct).toBe('80');
    expect(form.shrinkagePct).toBe('35');
    expect(form.asaTargetS).toBe('');
    expect(fromForm(form)).toEqual(settings);
    expect(fromForm({ ...form, asaTargetS: '30', maxOccupancyPct: ' ', serviceLevelPct: '92.5' })).toMatchObject({
      asaTargetS: 30,
      maxOccupancy: null,
      serviceLevelTarget: 0.925,
    });
  });
});
