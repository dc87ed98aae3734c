/**
 * make eval-forecast: every forecasting method and the seasonal-naive baseline on the synthetic
 * arrivals of tools/forecast/arrivals-params.json (parameters committed before the models),
 * rolling origin over the held-out weeks: WAPE (and MAPE over intervals with at least 10 calls)
 * per horizon, and the ratio to seasonal naive. The models see only the history before each
 * origin and only the announced special days, with the site's guessed factor. Then staffing
 * (Erlang C and Erlang A) for a scripted day from the default method's forecast.
 */
import { staffErlangA, staffErlangC } from '../../appliance/forecast/erlang.js';
import { DEFAULT_METHOD, FORECAST_METHODS, forecastSeries, type ForecastMethod } from '../../appliance/forecast/models.js';
import { generateArrivals, loadArrivalParams } from './arrivals.js';

const params = loadArrivalParams(process.argv[2]);
// EVAL_FORECAST_TUNE=1 scores the weeks before the held-out ones instead (for choosing settings
// without looking at the held-out weeks).
const TUNE = process.env['EVAL_FORECAST_TUNE'] === '1';
/** Not a forecast: the generator's own mean (day noise included), the floor set by the interval noise. */
const ORACLE = 'oracle (mean)';
const ROWS = [...FORECAST_METHODS, ORACLE];
const groups = generateArrivals(params);
const perDay = (24 * 60) / params.intervalMinutes;
const WEEK = 7 * perDay;

interface Bucket {
  name: string;
  from: number;
  to: number;
}
const BUCKETS: Bucket[] = [
  { name: 'next interval (h=1)', from: 1, to: 1 },
  { name: 'next day (h=1..96)', from: 1, to: perDay },
  { name: 'day 2 (h=97..192)', from: perDay + 1, to: 2 * perDay },
  { name: 'next week (h=1..672)', from: 1, to: WEEK },
  { name: 'day 7 (h=577..672)', from: 6 * perDay + 1, to: WEEK },
];

interface Acc {
  absErr: number;
  actual: number;
  ape: number;
  apeN: number;
}
const acc = () => ({ absErr: 0, actual: 0, ape: 0, apeN: 0 });
const total = new Map<string, Acc>();
const perGroupDay = new Map<string, Acc>();
const key = (m: string, b: string) => `${m}|${b}`;

const started = performance.now();
let origins = 0;
for (const g of groups) {
  const evalStart = Math.round((Date.parse(`${params.evaluation.evalStartDate}T00:00:00Z`) - g.startMs) / g.intervalMs);
  const step = (params.evaluation.originEveryHours * 3_600_000) / g.intervalMs;
  const first = TUNE ? 8 * WEEK : evalStart;
  const end = TUNE ? evalStart : g.values.length;
  for (let o = first; o + WEEK <= end; o += step) {
    origins++;
    const history = { startMs: g.startMs, intervalMs: g.intervalMs, values: g.values.slice(0, o) };
    for (const method of ROWS) {
      const f =
        method === ORACLE
          ? g.means.slice(o, o + WEEK)
          : forecastSeries(history, { horizon: WEEK, method: method as ForecastMethod, specialDays: g.announced });
      for (const b of BUCKETS) {
        const a = total.get(key(method, b.name)) ?? acc();
        const pg = b.from === 1 && b.to === perDay ? (perGroupDay.get(key(method, g.name)) ?? acc()) : null;
        for (let h = b.from; h <= b.to; h++) {
          const y = g.values[o + h - 1]!;
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
        total.set(key(method, b.name), a);
        if (pg) perGroupDay.set(key(method, g.name), pg);
      }
    }
  }
}
const seconds = (performance.now() - started) / 1000;

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
console.log(
  `forecast accuracy: ${groups.length} synthetic groups (${groups.map((g) => g.name).join(', ')}), ${params.intervalMinutes}-min intervals, ${params.weeks} weeks from ${params.startDate};`,
);
console.log(
  `rolling origin every ${params.evaluation.originEveryHours} h ${TUNE ? 'before' : 'from'} ${params.evaluation.evalStartDate} (${TUNE ? 'TUNING weeks before the held-out ones' : 'held out'}; ${origins} origin x group pairs), horizon 7 days; models told only the announced special days (guessed factors)`,
);
console.log(
  `unannounced: ${params.specialDays.unannounced.map((u) => `${u.date} ${u.label}`).join('; ')}; level shifts: ${params.groups
    .filter((g) => g.levelShift)
    .map((g) => `${g.name} x${g.levelShift!.factor} from ${g.levelShift!.date}`)
    .join(', ')}`,
);
console.log('');
console.log(`${'horizon'.padEnd(22)} ${'method'.padEnd(15)} ${'WAPE'.padStart(7)} ${'vs naive'.padStart(9)} ${'MAPE(>=10)'.padStart(11)}`);
for (const b of BUCKETS) {
  const naive = total.get(key('seasonal-naive', b.name))!;
  const naiveWape = naive.absErr / naive.actual;
  for (const m of ROWS) {
    const a = total.get(key(m, b.name))!;
    const wape = a.absErr / a.actual;
    const mark = m === DEFAULT_METHOD ? ' (default)' : '';
    console.log(
      `${b.name.padEnd(22)} ${m.padEnd(15)} ${pct(wape).padStart(7)} ${(wape / naiveWape).toFixed(3).padStart(9)} ${(a.apeN > 0 ? pct(a.ape / a.apeN) : 'n/a').padStart(11)}${mark}`,
    );
  }
}
console.log('');
console.log('next-day WAPE per group (h=1..96):');
console.log(`${'group'.padEnd(14)} ${ROWS.map((m) => m.padStart(15)).join(' ')}`);
for (const g of groups) {
  console.log(
    `${g.name.padEnd(14)} ${ROWS.map((m) => {
      const a = perGroupDay.get(key(m, g.name))!;
      return pct(a.absErr / a.actual).padStart(15);
    }).join(' ')}`,
  );
}
const day = total.get(key(DEFAULT_METHOD, BUCKETS[1]!.name))!;
const nday = total.get(key('seasonal-naive', BUCKETS[1]!.name))!;
const gain = 1 - day.absErr / day.actual / (nday.absErr / nday.actual);
console.log('');
console.log(
  `goal: default method (${DEFAULT_METHOD}) next-day WAPE at least 15% lower than seasonal naive: ${pct(gain)} lower -> ${gain >= 0.15 ? 'met' : 'NOT met'}`,
);
console.log(`evaluation time ${seconds.toFixed(1)} s`);

// Staffing for a scripted day: the default method's forecast for the last Monday of the data (actuals beside it).
const g = groups[0]!;
const lastMidnight = Math.floor(g.values.length / perDay) * perDay - perDay;
let startIdx = lastMidnight;
while (new Date(g.startMs + startIdx * g.intervalMs).getUTCDay() !== 1) startIdx -= perDay;
const history = { startMs: g.startMs, intervalMs: g.intervalMs, values: g.values.slice(0, startIdx) };
const day96 = forecastSeries(history, { horizon: perDay, method: DEFAULT_METHOD, specialDays: g.announced });
const ahtSec = 240;
const base = {
  intervalSec: params.intervalMinutes * 60,
  ahtSec,
  serviceLevel: 0.8,
  targetSec: 20,
  asaTargetSec: 30,
  shrinkage: 0.3,
  maxOccupancy: 0.9,
};
const patienceSec = 120;
console.log('');
console.log(
  `staffing for a scripted day: group ${g.name}, ${new Date(g.startMs + startIdx * g.intervalMs).toISOString().slice(0, 10)} (${DEFAULT_METHOD} forecast), AHT ${ahtSec} s, 80% in 20 s, ASA <= 30 s, max occupancy 90%, shrinkage 30%, Erlang A patience ${patienceSec} s`,
);
console.log('time   calls   erl  | C: agents sched   SL    ASA  occ | A: agents sched   SL    ASA  aband  occ | actual');
let cHours = 0;
let aHours = 0;
for (let i = 0; i < perDay; i++) {
  const calls = day96[i]!;
  const c = staffErlangC({ ...base, callsPerInterval: calls });
  const a = staffErlangA({ ...base, callsPerInterval: calls, patienceSec });
  cHours += (c.scheduled * params.intervalMinutes) / 60;
  aHours += (a.scheduled * params.intervalMinutes) / 60;
  if (calls < 0.5) continue;
  const hhmm = new Date(i * params.intervalMinutes * 60_000).toISOString().slice(11, 16);
  const actual = g.values[startIdx + i];
  console.log(
    `${hhmm}  ${calls.toFixed(1).padStart(6)} ${c.trafficErlangs.toFixed(1).padStart(5)} | ${String(c.agents).padStart(9)} ${String(c.scheduled).padStart(5)} ${pct(c.serviceLevel).padStart(6)} ${c.asaSec.toFixed(1).padStart(5)} ${pct(c.occupancy).padStart(5)} | ${String(a.agents).padStart(9)} ${String(a.scheduled).padStart(5)} ${pct(a.serviceLevel).padStart(6)} ${a.asaSec.toFixed(1).padStart(5)} ${pct(a.abandonRate).padStart(6)} ${pct(a.occupancy).padStart(5)} | ${actual ?? ''}`,
  );
}
const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
console.log(
  `day total: forecast ${sum(day96).toFixed(0)} calls, actual ${sum(g.values.slice(startIdx, startIdx + perDay))}; scheduled agent-hours for the day: Erlang C ${cHours.toFixed(1)}, Erlang A ${aHours.toFixed(1)}`,
);
