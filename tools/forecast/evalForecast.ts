/**
 * make eval-forecast: every forecasting method and the seasonal-naive baseline on the synthetic
 * arrivals of tools/forecast/arrivals-params.json (parameters committed before the models),
 * rolling origin over the held-out weeks: WAPE (and MAPE over intervals with at least 10 calls)
 * per horizon, and the ratio to seasonal naive. The models see only the history before each
 * origin and only the announced special days, with the site's guessed factor. Then staffing
 * (Erlang C and Erlang A) for a scripted day from the default method's forecast.
 */
import { staffErlangA, staffErlangC } from '../../appliance/forecast/erlang.js';
import { DEFAULT_METHOD, forecastSeries } from '../../appliance/forecast/models.js';
import { generateArrivals, loadArrivalParams } from './arrivals.js';
import { loadBankCalls } from './bankCalls.js';
import { printScores, scoreRollingOrigin } from './rollingOrigin.js';

const params = loadArrivalParams(process.argv[2]);
// EVAL_FORECAST_TUNE=1 scores the weeks before the held-out ones instead (for choosing settings
// without looking at the held-out weeks).
const TUNE = process.env['EVAL_FORECAST_TUNE'] === '1';
const groups = generateArrivals(params);
const perDay = (24 * 60) / params.intervalMinutes;
const WEEK = 7 * perDay;
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

const started = performance.now();
const scores = scoreRollingOrigin(
  groups.map((g) => {
    const evalStart = Math.round((Date.parse(`${params.evaluation.evalStartDate}T00:00:00Z`) - g.startMs) / g.intervalMs);
    const step = (params.evaluation.originEveryHours * 3_600_000) / g.intervalMs;
    const first = TUNE ? 8 * WEEK : evalStart;
    const end = TUNE ? evalStart : g.values.length;
    const origins: number[] = [];
    for (let o = first; o + WEEK <= end; o += step) origins.push(o);
    // Not a forecast: the generator's own mean (day noise included), the floor set by the interval noise.
    return { ...g, origins, reference: { label: 'oracle (mean)', values: g.means } };
  }),
  perDay,
);
const seconds = (performance.now() - started) / 1000;

console.log(
  `forecast accuracy: ${groups.length} synthetic groups (${groups.map((g) => g.name).join(', ')}), ${params.intervalMinutes}-min intervals, ${params.weeks} weeks from ${params.startDate};`,
);
console.log(
  `rolling origin every ${params.evaluation.originEveryHours} h ${TUNE ? 'before' : 'from'} ${params.evaluation.evalStartDate} (${TUNE ? 'TUNING weeks before the held-out ones' : 'held out'}; ${scores.origins} origin x group pairs), horizon 7 days; models told only the announced special days (guessed factors)`,
);
console.log(
  `unannounced: ${params.specialDays.unannounced.map((u) => `${u.date} ${u.label}`).join('; ')}; level shifts: ${params.groups
    .filter((g) => g.levelShift)
    .map((g) => `${g.name} x${g.levelShift!.factor} from ${g.levelShift!.date}`)
    .join(', ')}`,
);
console.log('');
printScores(
  scores,
  groups.map((g) => g.name),
  DEFAULT_METHOD,
);
console.log(`evaluation time ${seconds.toFixed(1)} s`);

// Real arrivals, when the user points to them (not stored here): fpp3's bank_calls.
const bankPath = process.env['FORECAST_BANK_CALLS_CSV'];
console.log('');
if (bankPath) {
  const bank = loadBankCalls(bankPath);
  const step = (4 * 3_600_000) / bank.intervalMs;
  const first = Math.round((Date.parse('2003-06-02T07:00:00Z') - bank.startMs) / bank.intervalMs);
  const origins: number[] = [];
  for (let o = first; o + WEEK <= bank.values.length; o += step) if (Number.isFinite(bank.values[o]!)) origins.push(o);
  const real = scoreRollingOrigin([{ name: 'bank_calls', ...bank, announced: [], origins }], perDay);
  console.log(
    `real arrivals: fpp3 bank_calls (North American bank, weekdays 07:00-21:00, 2003; ${bankPath}), 15-min intervals, rolling origin every 4 h within opening hours from 2003-06-02 (${real.origins} origins), no special days given, settings never tuned on it`,
  );
  printScores(real, ['bank_calls'], DEFAULT_METHOD);
} else {
  console.log('real arrivals: skipped (set FORECAST_BANK_CALLS_CSV to the fpp3 bank_calls CSV, e.g. from Rdatasets, to score them too)');
}

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
