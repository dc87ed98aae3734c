/**
 * Rolling-origin scoring of the forecasting methods: at each origin every method sees only the
 * history before it and forecasts a week; errors are summed per horizon bucket (unknown actuals,
 * NaN, are skipped) into WAPE, MAPE over intervals with at least 10 calls, and the ratio to
 * seasonal naive.
 */
import { FORECAST_METHODS, forecastSeries, type ForecastMethod, type SpecialDay } from '../../appliance/forecast/models.js';

export interface ScoredSeries {
  name: string;
  startMs: number;
  intervalMs: number;
  values: number[];
  announced: SpecialDay[];
  /** A reference row that is not a forecast (e.g. the generator's mean), scored beside the methods. */
  reference?: { label: string; values: number[] };
  /** Interval indices at which to forecast. */
  origins: number[];
}

export interface Bucket {
  name: string;
  from: number;
  to: number;
}

export function buckets(perDay: number): Bucket[] {
  return [
    { name: 'next interval (h=1)', from: 1, to: 1 },
    { name: `next day (h=1..${perDay})`, from: 1, to: perDay },
    { name: `day 2 (h=${perDay + 1}..${2 * perDay})`, from: perDay + 1, to: 2 * perDay },
    { name: `next week (h=1..${7 * perDay})`, from: 1, to: 7 * perDay },
    { name: `day 7 (h=${6 * perDay + 1}..${7 * perDay})`, from: 6 * perDay + 1, to: 7 * perDay },
  ];
}

interface Acc {
  absErr: number;
  actual: number;
  ape: number;
  apeN: number;
}

export interface Scores {
  rows: string[];
  buckets: Bucket[];
  total: Map<string, Acc>;
  /** Next-day accumulators per series name. */
  perSeriesDay: Map<string, Acc>;
  origins: number;
}

const key = (a: string, b: string) => `${a}|${b}`;

export function scoreRollingOrigin(series: ScoredSeries[], perDay: number): Scores {
  const bs = buckets(perDay);
  const week = 7 * perDay;
  const refLabel = series.find((s) => s.reference)?.reference?.label;
  const rows: string[] = [...FORECAST_METHODS, ...(refLabel ? [refLabel] : [])];
  const total = new Map<string, Acc>();
  const perSeriesDay = new Map<string, Acc>();
  const get = (m: Map<string, Acc>, k: string) => {
    let a = m.get(k);
    if (!a) m.set(k, (a = { absErr: 0, actual: 0, ape: 0, apeN: 0 }));
    return a;
  };
  let origins = 0;
  for (const g of series) {
    for (const o of g.origins) {
      if (o + week > g.values.length) continue;
      origins++;
      const history = { startMs: g.startMs, intervalMs: g.intervalMs, values: g.values.slice(0, o) };
      for (const row of rows) {
        const f =
          row === refLabel
            ? g.reference!.values.slice(o, o + week)
            : forecastSeries(history, { horizon: week, method: row as ForecastMethod, specialDays: g.announced });
        for (const b of bs) {
          const a = get(total, key(row, b.name));
          const pg = b.from === 1 && b.to === perDay ? get(perSeriesDay, key(row, g.name)) : null;
          for (let h = b.from; h <= b.to; h++) {
            const y = g.values[o + h - 1]!;
            if (!Number.isFinite(y)) continue;
            const e = Math.abs(f[h - 1]! - y);
            a.absErr += e;
            a.actual += y;
            if (y >= 10) {
              a.ape += e / y;
              a.apeN++;
            }
            if (pg) {
              pg.absErr += e;
              pg.actual += y;
            }
          }
        }
      }
    }
  }
  return { rows, buckets: bs, total, perSeriesDay, origins };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The per-horizon table, the next-day table per series, and the 15 % goal line. */
export function printScores(s: Scores, names: string[], defaultMethod: ForecastMethod): void {
  console.log(
    `${'horizon'.padEnd(22)} ${'method'.padEnd(15)} ${'WAPE'.padStart(7)} ${'vs naive'.padStart(9)} ${'MAPE(>=10)'.padStart(11)}`,
  );
  for (const b of s.buckets) {
    const naive = s.total.get(key('seasonal-naive', b.name))!;
    const naiveWape = naive.absErr / naive.actual;
    for (const m of s.rows) {
      const a = s.total.get(key(m, b.name))!;
      const wape = a.absErr / a.actual;
      const mark = m === defaultMethod ? ' (default)' : '';
      console.log(
        `${b.name.padEnd(22)} ${m.padEnd(15)} ${pct(wape).padStart(7)} ${(wape / naiveWape).toFixed(3).padStart(9)} ${(a.apeN > 0 ? pct(a.ape / a.apeN) : 'n/a').padStart(11)}${mark}`,
      );
    }
  }
  const dayBucket = s.buckets[1]!.name;
  console.log('');
  console.log(`next-day WAPE per group ${dayBucket.replace(/^next day /, '')}:`);
  console.log(`${'group'.padEnd(14)} ${s.rows.map((m) => m.padStart(15)).join(' ')}`);
  for (const n of names) {
    console.log(
      `${n.padEnd(14)} ${s.rows
        .map((m) => {
          const a = s.perSeriesDay.get(key(m, n));
          return (a ? pct(a.absErr / a.actual) : 'n/a').padStart(15);
        })
        .join(' ')}`,
    );
  }
  const day = s.total.get(key(defaultMethod, dayBucket))!;
  const nday = s.total.get(key('seasonal-naive', dayBucket))!;
  const gain = 1 - day.absErr / day.actual / (nday.absErr / nday.actual);
  console.log('');
  console.log(
    `goal: default method (${defaultMethod}) next-day WAPE at least 15% lower than seasonal naive: ${pct(gain)} lower -> ${gain >= 0.15 ? 'met' : 'NOT met'}`,
  );
}
