/**
 * The rolling per-call emotion trend registry: one EmotionTrend (appliance/emotion/trend.ts, the
 * emotion model's own agitation definition and slope rule) per call and speaker. Bounded: at most
 * `maxKeys` series (the oldest dropped first, for calls whose end was never seen), each a fixed ring.
 * A call once forgotten stays forgotten: an analysis that finishes after the call ended (past the
 * call's analysis drain) gets its agitation but no series, so it cannot bring the call's state back.
 */
import { agitationOf, DEFAULT_TREND_OPTIONS, EmotionTrend, type EmotionTrendOptions } from '../emotion/trend.js';

/** `unknown` until the trend has seen enough utterances to judge. */
export type TrendLabel = 'escalating' | 'calming' | 'steady' | 'unknown';

export interface EmotionSample {
  readonly scores: Readonly<Record<string, number>>;
  readonly arousal: number;
  readonly valence: number;
}

export class EmotionTrendTracker {
  private readonly series = new Map<string, EmotionTrend>();
  /** Calls already forgotten (ended), the oldest dropped first beyond `maxKeys`. */
  private readonly ended = new Set<string>();

  constructor(
    private readonly options: EmotionTrendOptions = DEFAULT_TREND_OPTIONS,
    private readonly maxKeys = 4096,
  ) {}

  /** Add an utterance's emotion; returns its agitation and the call's trend including it. */
  add(callId: string, speaker: string, sample: EmotionSample): { agitation: number; trend: TrendLabel; slope: number } {
    // A late result for an ended call: no trend to extend, and none is started again.
    if (this.ended.has(callId)) return { agitation: agitationOf(sample), slope: 0, trend: 'unknown' };
    const key = `${callId}|${speaker}`;
    let t = this.series.get(key);
    if (t === undefined) {
      if (this.series.size >= this.maxKeys) this.series.delete(this.series.keys().next().value!);
      t = new EmotionTrend(this.options);
      this.series.set(key, t);
    }
    const s = t.push(sample);
    return { agitation: s.agitation, slope: s.slope, trend: s.utterances < this.options.minUtterances ? 'unknown' : s.direction };
  }

  /** Drop the call's series for good (its end): later results for it start none. */
  forgetCall(callId: string): void {
    if (!this.ended.has(callId)) {
      if (this.ended.size >= this.maxKeys) this.ended.delete(this.ended.values().next().value!);
      this.ended.add(callId);
    }
    for (const key of [...this.series.keys()]) if (key.startsWith(`${callId}|`)) this.series.delete(key);
  }

  get size(): number {
    return this.series.size;
  }
}
