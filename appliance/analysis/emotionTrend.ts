/**
 * The rolling per-call emotion trend: each caller utterance gets an agitation score in [0, 1] from
 * its emotion (P(angry), arousal, valence); the slope of the last few scores says whether the caller
 * is escalating or calming. Pure functions plus a small bounded tracker.
 */

export type EmotionTrend = 'escalating' | 'calming' | 'steady' | 'unknown';

export interface EmotionSample {
  /** P(angry) (0 when the model has no angry class). */
  readonly angry: number;
  /** -1 .. 1 */
  readonly arousal: number;
  /** -1 .. 1 */
  readonly valence: number;
}

export interface TrendOptions {
  /** Utterances the trend looks back over. */
  readonly window: number;
  /** Least-squares slope per utterance beyond which the trend is escalating / calming. */
  readonly slopeThreshold: number;
  /** Escalating also needs the latest agitation at least this high (a calm caller getting a little livelier is not escalating). */
  readonly minEscalatedLevel: number;
}

export const DEFAULT_TREND_OPTIONS: TrendOptions = { window: 5, slopeThreshold: 0.06, minEscalatedLevel: 0.4 };

const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);

/** Agitation in [0, 1]: half anger probability, a quarter arousal, a quarter negative valence. */
export function agitation(s: EmotionSample): number {
  return clamp01(0.5 * clamp01(s.angry) + 0.25 * clamp01((s.arousal + 1) / 2) + 0.25 * clamp01((1 - s.valence) / 2));
}

/** Least-squares slope of `values` against their index. */
export function slope(values: readonly number[]): number {
  const n = values.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2;
  let my = 0;
  for (const v of values) my += v;
  my /= n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (i - mx) * (values[i]! - my);
    den += (i - mx) * (i - mx);
  }
  return num / den;
}

/** Trend of a series of agitation scores (oldest first; only the last `window` count). */
export function trendOf(agitations: readonly number[], options: TrendOptions = DEFAULT_TREND_OPTIONS): { trend: EmotionTrend; slope: number } {
  const recent = agitations.slice(-options.window);
  if (recent.length < 2) return { trend: 'unknown', slope: 0 };
  const s = slope(recent);
  const last = recent[recent.length - 1]!;
  if (s >= options.slopeThreshold && last >= options.minEscalatedLevel) return { trend: 'escalating', slope: s };
  if (s <= -options.slopeThreshold) return { trend: 'calming', slope: s };
  return { trend: 'steady', slope: s };
}

/**
 * Agitation history per call and speaker. Bounded twice: `window` scores per key, `maxKeys` keys
 * (the oldest key is dropped first, for calls whose end was never seen).
 */
export class EmotionTrendTracker {
  private readonly series = new Map<string, number[]>();

  constructor(
    private readonly options: TrendOptions = DEFAULT_TREND_OPTIONS,
    private readonly maxKeys = 4096,
  ) {}

  /** Add an utterance's emotion; returns its agitation and the trend including it. */
  add(callId: string, speaker: string, sample: EmotionSample): { agitation: number; trend: EmotionTrend; slope: number } {
    const key = `${callId}|${speaker}`;
    let s = this.series.get(key);
    if (s === undefined) {
      if (this.series.size >= this.maxKeys) this.series.delete(this.series.keys().next().value!);
      s = [];
      this.series.set(key, s);
    }
    const a = agitation(sample);
    s.push(a);
    if (s.length > this.options.window) s.shift();
    return { agitation: a, ...trendOf(s, this.options) };
  }

  forgetCall(callId: string): void {
    for (const key of [...this.series.keys()]) if (key.startsWith(`${callId}|`)) this.series.delete(key);
  }

  get size(): number {
    return this.series.size;
  }
}
