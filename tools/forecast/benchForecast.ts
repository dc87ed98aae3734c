/**
 * make bench-forecast: time to forecast 28 days of 96 intervals for 10 groups (26 weeks of
 * 15-minute history each, synthetic arrivals), per method, and to staff every one of those
 * 26,880 intervals by Erlang C and by Erlang A. Prints times; asserts nothing.
 */
import { staffErlangA, staffErlangC } from '../../appliance/forecast/erlang.js';
import { cpus, loadavg } from 'node:os';
import { FORECAST_METHODS, forecastSeries, type ForecastMethod } from '../../appliance/forecast/models.js';
import { generateArrivals, loadArrivalParams } from './arrivals.js';

const params = loadArrivalParams(process.argv[2]);
const base = generateArrivals(params);
const PER_DAY = 96;
const HISTORY = 26 * 7 * PER_DAY;
const HORIZON = 28 * PER_DAY;
// Ten groups: the six generated ones and four more from the same parameters with other seeds.
const more = generateArrivals({
  ...params,
  groups: params.groups.slice(0, 4).map((g, i) => ({ ...g, name: `${g.name}-b`, seed: g.seed + 1000 + i })),
});
const groups = [...base, ...more].map((g) => ({ ...g, values: g.values.slice(0, HISTORY) }));

const ms = (t0: number) => performance.now() - t0;
console.log(
  `bench-forecast: ${groups.length} groups x ${HORIZON / PER_DAY} days x ${PER_DAY} intervals (${groups.length * HORIZON} intervals), ${HISTORY / PER_DAY / 7} weeks of history each; node ${process.version}`,
);
console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} on ${cpus().length} CPUs (timings are wall time on a shared machine)`,
);
const run = (method: ForecastMethod) =>
  groups.map((g) =>
    forecastSeries(
      { startMs: g.startMs, intervalMs: g.intervalMs, values: g.values },
      { horizon: HORIZON, method, specialDays: g.announced },
    ),
  );
// Warm every method up (JIT) before timing any, then the best of five each.
for (let r = 0; r < 3; r++) for (const method of FORECAST_METHODS) run(method);
let forecasts: number[][] = [];
for (const method of FORECAST_METHODS) {
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    forecasts = run(method);
    best = Math.min(best, ms(t0));
  }
  console.log(`forecast ${method.padEnd(15)} ${best.toFixed(1).padStart(8)} ms for all ${groups.length} groups (target < 1000 ms)`);
}
const input = { intervalSec: 900, ahtSec: 240, serviceLevel: 0.8, targetSec: 20, asaTargetSec: 30, shrinkage: 0.3, maxOccupancy: 0.9 };
let t0 = performance.now();
let agentsC = 0;
for (const f of forecasts) for (const calls of f) agentsC += staffErlangC({ ...input, callsPerInterval: calls }).agents;
const tC = ms(t0);
t0 = performance.now();
let agentsA = 0;
for (const f of forecasts) for (const calls of f) agentsA += staffErlangA({ ...input, callsPerInterval: calls, patienceSec: 120 }).agents;
const tA = ms(t0);
const n = forecasts.length * HORIZON;
console.log(
  `staffing Erlang C ${tC.toFixed(1).padStart(8)} ms for ${n} intervals (${((1000 * tC) / n).toFixed(1)} us each), agent-intervals ${agentsC}`,
);
console.log(
  `staffing Erlang A ${tA.toFixed(1).padStart(8)} ms for ${n} intervals (${((1000 * tA) / n).toFixed(1)} us each), agent-intervals ${agentsA}`,
);
