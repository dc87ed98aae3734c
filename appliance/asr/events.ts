/** The events a recognition stream emits (discriminated on `type`). */
import type { EdgeVoxError } from '../errors.js';
import type { LanguageDecision, SpeechLanguage } from './language.js';
import type { WordTiming } from './words.js';

export interface PartialEvent {
  readonly type: 'partial';
  readonly utteranceId: number;
  readonly text: string;
  /** exp(mean token log-probability) of the hypothesis so far, 0..1. */
  readonly confidence: number;
  /** True when the text differs from the previous partial of this utterance. */
  readonly changed: boolean;
  /** Stream time (ms of audio pushed, at 16 kHz) at the end of the decoded audio. */
  readonly audioMs: number;
  /** Wall time from the arrival of the chunk's last sample to this event. */
  readonly chunkLatencyMs: number;
}

export type FinalReason = 'endpoint' | 'max-length' | 'flush';

export interface FinalEvent {
  readonly type: 'final';
  readonly utteranceId: number;
  /** The language of the text (of the model that produced it). */
  readonly language: SpeechLanguage;
  /** Characters for Mandarin, words for English. */
  readonly text: string;
  /** Mandarin: the recognised tonal pinyin, syllables separated by spaces. */
  readonly pinyin?: string;
  readonly words: readonly WordTiming[];
  /** exp(mean token log-probability), 0..1. */
  readonly confidence: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly reason: FinalReason;
  /** Wall time from the arrival of the audio that ended the utterance (or the flush call) to this event. */
  readonly latencyMs: number;
  /** Wall time spent decoding this utterance (encoder, search, keyword spotting). */
  readonly processingMs: number;
}

export interface KeywordEvent {
  readonly type: 'keyword';
  readonly keyword: string;
  readonly startMs: number;
  readonly endMs: number;
  /** Mean token probability of the keyword, 0..1. */
  readonly score: number;
}

/** A stream with language `auto` decided its language (once). */
export interface LanguageEvent extends LanguageDecision {
  readonly type: 'language';
}

export interface ErrorEvent {
  readonly type: 'error';
  readonly error: EdgeVoxError;
}

export type StreamEvents = {
  partial: PartialEvent;
  final: FinalEvent;
  keyword: KeywordEvent;
  language: LanguageEvent;
  error: ErrorEvent;
};

/** Per-stream figures for the metrics layer (no transcript content). */
export interface StreamStats {
  readonly audioPushedMs: number;
  /** Audio taken off the input buffer (decoded or skipped as silence). */
  readonly audioProcessedMs: number;
  /** Audio that went through the encoder. */
  readonly audioDecodedMs: number;
  /** Audio the VAD kept away from the encoder. */
  readonly audioSkippedMs: number;
  /** Audio waiting in the input buffer: how far decoding is behind real time. */
  readonly lagMs: number;
  /** Audio dropped because the input buffer was full, in ms and in 20 ms frames. */
  readonly droppedMs: number;
  readonly droppedFrames: number;
  readonly encoderChunks: number;
  readonly chunkLatencyP50Ms: number;
  readonly chunkLatencyP95Ms: number;
  readonly finals: number;
  readonly keywords: number;
  readonly listenerErrors: number;
  /** Bytes held by this stream's buffers and model states. */
  readonly memoryBytes: number;
}
