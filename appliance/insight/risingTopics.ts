/**
 * Rising contact reasons, each judged against its own baseline: the calls for a reason in the last
 * window (an hour by default, sliding) against the same window of the day on each of the previous
 * `baselineDays` days (so a reason that is always busy at 9 am is not "rising" every morning).
 *
 * The baseline is a Poisson rate with a Gamma(priorCalls, priorWindows) prior updated with the
 * baseline counts; the current count is judged by its posterior predictive (negative binomial)
 * upper tail P(X >= count), which accounts for a baseline of only a few days. A reason is rising
 * when that tail is at most `alpha` and the count is at least `minCount`. The z-score
 * (count - expected) / sqrt(predictive variance) is reported for people; the decision uses the tail
 * (a z-score over-alarms on small counts). Pure: no clock, no I/O.
 */

export interface RisingOptions {
  /** The window judged, ending now (sliding). */
  readonly windowMs: number;
  /** Previous days whose same window make the baseline. */
  readonly baselineDays: number;
  /** Fewer baseline days with data than this: nothing is judged (a new box, a new site). */
  readonly minBaselineDays: number;
  /** Rising when P(X >= count | baseline) <= alpha. */
  readonly alpha: number;
  /** ... and at least this many calls in the window. */
  readonly minCount: number;
  /**
   * Gamma prior of the rate: `priorCalls` calls over `priorWindows` windows. Near Jeffreys' (0.5, 0):
   * a prior worth whole windows pulls a busy reason's expected rate down (1 call over 1 window:
   * 2.7% false alarms per check at 100 calls an hour, against 0.1% with this one; make eval-trends).
   */
  readonly priorCalls: number;
  readonly priorWindows: number;
}

export const DEFAULT_RISING: RisingOptions = {
  windowMs: 3_600_000,
  baselineDays: 7,
  minBaselineDays: 3,
  alpha: 0.001,
  minCount: 3,
  priorCalls: 0.5,
  priorWindows: 0.1,
};

export interface TopicScore {
  intent: string;
  count: number;
  /** Expected calls in the window from the baseline (posterior mean rate). */
  expected: number;
  z: number;
  /** P(X >= count) under the baseline. */
  pValue: number;
  rising: boolean;
  /** Baseline counts, most recent day first. */
  baseline: number[];
}

/**
 * P(X >= x) for X ~ NegBin(r, p) (pmf(k) = C(k+r-1, k) p^r (1-p)^k), by summing the pmf below x.
 * Terms are built iteratively in log space at the start, so large r stay finite.
 */
export function negBinUpperTail(x: number, r: number, p: number): number {
  if (x <= 0) return 1;
  let logPmf = r * Math.log(p);
  let below = 0;
  for (let k = 0; k < x; k++) {
    below += Math.exp(logPmf);
    logPmf += Math.log((k + r) / (k + 1)) + Math.log(1 - p);
  }
  return Math.min(1, Math.max(0, 1 - below));
}

/** Score one reason's window `count` against its `baseline` counts (one per previous day). */
export function scoreTopic(intent: string, count: number, baseline: readonly number[], o: RisingOptions = DEFAULT_RISING): TopicScore {
  const n = baseline.length;
  const sum = baseline.reduce((a, b) => a + b, 0);
  const shape = sum + o.priorCalls;
  const rate = n + o.priorWindows;
  const expected = shape / rate;
  // posterior predictive of one window: NegBin(r = shape, p = rate / (rate + 1)); variance = mean (1 + 1/rate)
  const variance = expected * (1 + 1 / rate);
  const pValue = negBinUpperTail(count, shape, rate / (rate + 1));
  const z = (count - expected) / Math.sqrt(variance);
  const rising = n >= o.minBaselineDays && count >= o.minCount && pValue <= o.alpha;
  return {
    intent,
    count,
    expected: Math.round(expected * 100) / 100,
    z: Math.round(z * 100) / 100,
    pValue: Number(pValue.toPrecision(3)),
    rising,
    baseline: [...baseline],
  };
}

/**
 * Score every reason from (intent, time) observations: the window [now - windowMs, now) against
 * the same window on each previous day that lies wholly after `dataSinceMs` (when the box began
 * keeping calls). Reasons are returned most significant first.
 */
export function scoreTopics(
  observations: Iterable<{ intent: string; at: number }>,
  nowMs: number,
  dataSinceMs: number,
  o: RisingOptions = DEFAULT_RISING,
): TopicScore[] {
  const DAY = 86_400_000;
  const days: number[] = [];
  for (let d = 1; d <= o.baselineDays; d++) if (nowMs - d * DAY - o.windowMs >= dataSinceMs) days.push(d);
  const counts = new Map<string, number[]>(); // [current, days[0], days[1], ...] per intent
  for (const { intent, at } of observations) {
    // window d (0 = now, d = that many days back) holds the calls d days + (0, windowMs] before now
    const ago = nowMs - at;
    const d = Math.max(0, Math.ceil((ago - o.windowMs) / DAY));
    const inWindow = ago - d * DAY;
    if (!(inWindow > 0 && inWindow <= o.windowMs)) continue;
    const slot = d === 0 ? 0 : days.indexOf(d) + 1;
    if (slot === 0 && d !== 0) continue; // a day outside the baseline
    let c = counts.get(intent);
    if (c === undefined) counts.set(intent, (c = new Array<number>(days.length + 1).fill(0)));
    c[slot]!++;
  }
  return [...counts]
    .map(([intent, c]) => scoreTopic(intent, c[0]!, c.slice(1), o))
    .sort((a, b) => a.pValue - b.pValue || b.count - a.count || a.intent.localeCompare(b.intent));
}
