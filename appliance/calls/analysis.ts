/**
 * Per-utterance analysis (intent, emotion, ...) that runs after a final transcript, off the media
 * path. Each analyser gets the unredacted text (in memory only) and the utterance's own audio, and
 * returns a JSON-able result that is stored with the utterance under its name and published once,
 * as the analyser's own typed event or a generic `analysis` event (calls/legAnalysis.ts).
 */
import type { SpeechLanguage } from '../asr/language.js';
import type { ApplianceEvent } from '../events/appEvents.js';

export interface UtteranceContext {
  readonly callId: string;
  readonly legId: string;
  readonly speaker: string;
  readonly utteranceId: number | null;
  /** Unredacted transcript: never store, log or send it; use it for inference only. */
  readonly text: string;
  /** The language of `text` (the final's); absent = English. */
  readonly language?: SpeechLanguage | undefined;
  readonly startMs: number;
  readonly endMs: number;
  /** The utterance's samples at `sampleRateHz` (empty when the audio is no longer buffered). */
  readonly audio: Int16Array;
  readonly sampleRateHz: number;
}

export interface UtteranceAnalyser {
  /** Key under which the result is stored in the utterance's analysis, e.g. 'intent'. */
  readonly name: string;
  /** The result for this utterance, or null when it has nothing to say about it. */
  analyse(ctx: UtteranceContext): Promise<Record<string, unknown> | null>;
  /**
   * The one event that announces a result (`intent`, `emotion`); without it the result is
   * announced as a generic `analysis` event. Analysers never publish themselves.
   */
  eventOf?(ctx: UtteranceContext, result: Record<string, unknown>, at: number): ApplianceEvent;
}

/**
 * The last `capacityMs` of a leg's audio, so an utterance's samples can be cut out after its final
 * arrives. Fixed capacity, overwritten in place: memory per leg is bounded.
 */
export class LegAudioHistory {
  private readonly buf: Int16Array;
  /** Total samples ever written (the stream position of the next sample). */
  private written = 0;

  constructor(
    readonly sampleRateHz: number,
    capacityMs: number,
  ) {
    this.buf = new Int16Array(Math.max(1, Math.round((sampleRateHz * capacityMs) / 1000)));
  }

  write(samples: Int16Array): void {
    const cap = this.buf.length;
    let src = samples;
    if (src.length > cap) src = src.subarray(src.length - cap);
    // Position of the first kept sample (a write longer than the capacity keeps only its tail).
    const at = (this.written + samples.length - src.length) % cap;
    const first = Math.min(src.length, cap - at);
    this.buf.set(src.subarray(0, first), at);
    if (first < src.length) this.buf.set(src.subarray(first), 0);
    this.written += samples.length;
  }

  /** Samples between two stream times (ms since the leg started); clipped to what is still held. */
  slice(startMs: number, endMs: number): Int16Array {
    const cap = this.buf.length;
    const oldest = Math.max(0, this.written - cap);
    const from = Math.max(oldest, Math.floor((startMs * this.sampleRateHz) / 1000));
    const to = Math.min(this.written, Math.ceil((endMs * this.sampleRateHz) / 1000));
    if (to <= from) return new Int16Array(0);
    const out = new Int16Array(to - from);
    for (let i = 0; i < out.length; i++) out[i] = this.buf[(from + i) % cap]!;
    return out;
  }

  get bytes(): number {
    return this.buf.byteLength;
  }
}
