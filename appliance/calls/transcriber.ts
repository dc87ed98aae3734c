/**
 * The seam between calls and speech recognition: a call leg writes decoded PCM into a
 * LegTranscriber and receives partial/final/keyword callbacks. The ASR adapter (asrTranscriber.ts)
 * implements it on the streaming recognizer; tests can implement it on anything real.
 */
import type { LanguageChoice, LanguageDecision, SpeechLanguage } from '../asr/language.js';
import type { WordTimingEvent } from '../events/appEvents.js';

export interface TranscriptFinal {
  text: string;
  words: WordTimingEvent[];
  /** Utterance start/end in ms from the start of the leg's audio. */
  startMs: number;
  endMs: number;
  confidence: number;
  /** End of speech (endpoint) to final result, ms. */
  latencyMs: number;
  /** The language the text is in (the leg's language, or the one `auto` decided); absent = English. */
  language?: SpeechLanguage;
  /** Mandarin only: the recognised tonal pinyin, syllables separated by spaces. */
  pinyin?: string;
}

export interface KeywordHit {
  phrase: string;
  startMs: number;
  score: number;
}

export interface TranscriberCallbacks {
  /** A changed partial; `latencyMs`: from the arrival of the chunk's last audio to this result. */
  partial(text: string, latencyMs?: number): void;
  final(transcript: TranscriptFinal): void;
  keyword(hit: KeywordHit): void;
  /**
   * Recognition failed for this leg (e.g. an inference error). When `recoverable`, results resume
   * (a gap in the transcript); otherwise no more results will come.
   */
  failed(code: string, recoverable: boolean): void;
  /** A leg transcribed with language `auto` decided its language (once per leg). */
  language?(decision: LanguageDecision): void;
}

export interface LegTranscriber {
  /** Queue audio; must not block the media path. */
  write(samples: Int16Array, sampleRateHz: number): void;
  /** Audio not yet processed, in ms: the real-time lag of this leg. */
  lagMs(): number;
  /** Figures for the leg record and the metrics (no transcript content). */
  stats(): TranscriberStats;
  /** Flush (emit the last final) and release the stream. Idempotent. */
  close(): Promise<void>;
}

export interface TranscriberStats {
  /** 20 ms frames dropped because the leg's input buffer was full (decoding fell behind). */
  droppedFrames: number;
  /** Audio that went through the encoder, and audio the VAD kept away from it. */
  decodedMs: number;
  skippedMs: number;
  /** Per-chunk latency (audio arrival to chunk decoded), p95 over the leg. */
  chunkLatencyP95Ms: number;
}

export interface TranscriberOptions {
  callId: string;
  legId: string;
  speaker: string;
  sampleRateHz: number;
  hotwords: readonly string[];
  /** The leg's language (from its trunk, DID or queue); absent = the site's default. */
  language?: LanguageChoice;
}

export type TranscriberFactory = (options: TranscriberOptions, callbacks: TranscriberCallbacks) => LegTranscriber;
