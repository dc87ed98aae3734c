/**
 * Utterance analyser: the emotion in the caller's voice (EmotionAnalyser on the utterance's own
 * audio, cut from the leg's bounded history) and the call's rolling trend. Stored with the utterance
 * as `analysis.emotion` and announced once as a typed `emotion` event (eventOf).
 */
import type { UtteranceAnalyser, UtteranceContext } from '../calls/analysis.js';
import type { ApplianceEvent } from '../events/appEvents.js';
import type { EmotionResult } from '../emotion/analyser.js';
import type { EmotionTrendTracker } from './emotionTrend.js';
import { round } from './intentAnalyser.js';

/** The part of EmotionAnalyser this analyser uses. */
export interface EmotionModel {
  analyse(pcm: Int16Array, sampleRateHz: number): Promise<EmotionResult>;
}

export interface EmotionAnalyserOptions {
  readonly speakers: readonly string[];
  /** Shorter utterances carry too little prosody to judge: skipped. */
  readonly minAudioMs: number;
  /** Only the last this-many ms of a longer utterance are analysed (training clips were ~3-4 s; bounds the cost). */
  readonly maxAudioMs?: number;
  readonly trends: EmotionTrendTracker;
}

/** The last `maxMs` of an utterance (a view, no copy); the whole utterance when shorter or no limit. */
export function emotionWindow(pcm: Int16Array, sampleRateHz: number, maxMs: number | undefined): Int16Array {
  if (maxMs === undefined) return pcm;
  const max = Math.round((sampleRateHz * maxMs) / 1000);
  return pcm.length > max ? pcm.subarray(pcm.length - max) : pcm;
}

export class EmotionUtteranceAnalyser implements UtteranceAnalyser {
  readonly name = 'emotion';

  constructor(
    private readonly model: EmotionModel,
    private readonly options: EmotionAnalyserOptions,
  ) {}

  async analyse(ctx: UtteranceContext): Promise<Record<string, unknown> | null> {
    if (!this.options.speakers.includes(ctx.speaker)) return null;
    const audioMs = (ctx.audio.length * 1000) / ctx.sampleRateHz;
    if (audioMs < this.options.minAudioMs) return null;
    const started = performance.now();
    const r = await this.model.analyse(emotionWindow(ctx.audio, ctx.sampleRateHz, this.options.maxAudioMs), ctx.sampleRateHz);
    const latencyMs = performance.now() - started;
    const t = this.options.trends.add(ctx.callId, ctx.speaker, r);
    const scores: Record<string, number> = {};
    for (const [k, v] of Object.entries(r.scores)) scores[k] = round(v);
    const result = {
      category: r.category,
      confidence: round(r.confidence),
      arousal: round(r.arousal),
      valence: round(r.valence),
      scores,
      agitation: round(t.agitation),
      trend: t.trend,
      audioMs: Math.round(audioMs),
      latencyMs: round(latencyMs),
    };
    return result;
  }

  eventOf(ctx: UtteranceContext, result: Record<string, unknown>, at: number): ApplianceEvent {
    const r = result as unknown as Omit<
      Extract<ApplianceEvent, { type: 'emotion' }>,
      'type' | 'at' | 'callId' | 'legId' | 'speaker' | 'utteranceId'
    >;
    return { type: 'emotion', at, callId: ctx.callId, legId: ctx.legId, speaker: ctx.speaker, utteranceId: ctx.utteranceId, ...r };
  }
}
