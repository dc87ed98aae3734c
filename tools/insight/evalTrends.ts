/**
 * make eval-trends: the rising-topic detector (insight/risingTopics.ts, shipped options) on seeded
 * synthetic Poisson series: false alarms on flat series (per check and per topic-day of 24 hourly
 * checks) and detection of injected spikes (x2, x3, x5 the usual rate), per usual rate.
 */
import { DEFAULT_RISING, scoreTopic } from '../../appliance/insight/risingTopics.js';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function poisson(lambda: number, u: () => number): number {
  if (lambda > 50) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u())));
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= u();
  } while (p > l);
  return k - 1;
}

const u = rng(Number(process.env['EVAL_TRENDS_SEED'] ?? 7));
const CHECKS = 20_000;
const o = DEFAULT_RISING;
console.log(
  `rising-topic detector: window ${o.windowMs / 60_000} min vs the same window on ${o.baselineDays} previous days; alpha ${o.alpha}, minCount ${o.minCount}, prior ${o.priorCalls}/${o.priorWindows}; ${CHECKS} checks per rate, seed ${process.env['EVAL_TRENDS_SEED'] ?? 7}`,
);
console.log('usual/h  false-alarm/check  false-alarms/topic-day(24 checks)  detect x2  detect x3  detect x5');
for (const lambda of [0.2, 1, 3, 10, 30, 100]) {
  const base = () => Array.from({ length: o.baselineDays }, () => poisson(lambda, u));
  let fa = 0;
  for (let i = 0; i < CHECKS; i++) if (scoreTopic('t', poisson(lambda, u), base()).rising) fa++;
  const detect = (m: number) => {
    let hit = 0;
    for (let i = 0; i < 2000; i++) if (scoreTopic('t', poisson(lambda * m, u), base()).rising) hit++;
    return `${((100 * hit) / 2000).toFixed(1)}%`.padStart(9);
  };
  const perCheck = fa / CHECKS;
  console.log(
    `${String(lambda).padStart(7)}  ${(100 * perCheck).toFixed(3).padStart(16)}%  ${(24 * perCheck).toFixed(4).padStart(33)}  ${detect(2)}  ${detect(3)}  ${detect(5)}`,
  );
}
