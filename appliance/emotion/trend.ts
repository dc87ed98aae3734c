/**
 * Rolling per-call emotion trend: keeps the last `windowSize` utterance results of one call (a
 * bounded ring) and says whether the caller is escalating, calming or steady.
 *
 * The score tracked is kept simple and explainable:
 * agitation = P(angry) + 0.5 * max(0, arousal) * max(0, -valence).
 * The trend is the least-squares slope of agitation over utterance index, compared against
 * `slopeThreshold`; with fewer than `minUtterances` results the trend is 'steady'.
 */
import type { EmotionResult } from './analyser.js';

export type EmotionTrendDirection = 'escalating' | 'calming' | 'steady';

export interface EmotionTrendOptions {
  readonly windowSize: number;
  readonly minUtterances: number;
  /** Agitation change per utterance above which the call is escalating (below minus: calming). */
  readonly slopeThreshold: number;
}

export const DEFAULT_TREND_OPTIONS: EmotionTrendOptions = { windowSize: 6, minUtterances: 3, slopeThreshold: 0.08 };

export interface EmotionTrendState {
  readonly direction: EmotionTrendDirection;
  /** Agitation of the latest utterance, 0..1.5. */
  readonly agitation: number;
  /** Slope of agitation per utterance over the window. */
  readonly slope: number;
  readonly utterances: number;
}

/** Agitation of one utterance: probability of anger plus negative high-arousal speech. */
export function agitationOf(r: Pick<EmotionResult, 'scores' | 'arousal' | 'valence'>): number {
  return (r.scores.angry ?? 0) + 0.5 * Math.max(0, r.arousal) * Math.max(0, -r.valence);
}

export class EmotionTrend {
  private readonly options: EmotionTrendOptions;
  private readonly ring: Float64Array;
  private count = 0;

  constructor(options: EmotionTrendOptions = DEFAULT_TREND_OPTIONS) {
    if (!(options.windowSize >= 2) || !(options.minUtterances >= 2) || options.minUtterances > options.windowSize) {
      throw new RangeError('EmotionTrend: need 2 <= minUtterances <= windowSize');
    }
    this.options = options;
    this.ring = new Float64Array(options.windowSize);
  }

  /** Add one utterance's result and return the updated trend. */
  push(r: Pick<EmotionResult, 'scores' | 'arousal' | 'valence'>): EmotionTrendState {
    this.ring[this.count % this.ring.length] = agitationOf(r);
    this.count++;
    return this.state();
  }

  state(): EmotionTrendState {
    const n = Math.min(this.count, this.ring.length);
    if (n === 0) return { direction: 'steady', agitation: 0, slope: 0, utterances: 0 };
    const first = this.count - n;
    let mx = 0;
    let my = 0;
    for (let i = 0; i < n; i++) {
      mx += i / n;
      my += this.ring[(first + i) % this.ring.length]! / n;
    }
    let num = 0;
    let den = 0;
    for (let i = 0; i < n; i++) {
      const y = this.ring[(first + i) % this.ring.length]!;
      num += (i - mx) * (y - my);
      den += (i - mx) * (i - mx);
    }
    const slope = den > 0 ? num / den : 0;
    const latest = this.ring[(this.count - 1) % this.ring.length]!;
    let direction: EmotionTrendDirection = 'steady';
    if (n >= this.options.minUtterances) {
      if (slope > this.options.slopeThreshold) direction = 'escalating';
      else if (slope < -this.options.slopeThreshold) direction = 'calming';
    }
    return { direction, agitation: latest, slope, utterances: this.count };
  }
}
