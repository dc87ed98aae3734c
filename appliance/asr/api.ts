/**
 * The recognition API the media layer codes against. Two implementations: the in-process
 * `Recognizer` / `RecognizerStream` (inference on the calling thread) and the worker-thread
 * `RecognizerPool` / `PooledStream` (pool/), which behave the same from the outside.
 */
import type { Listener } from '../events/typedEmitter.js';
import type { FinalEvent, StreamEvents, StreamStats } from './events.js';
import type { RecognizerInfo, StreamOptions } from './recognizer.js';

export interface SpeechStream {
  readonly isClosed: boolean;
  /** Listener exceptions swallowed so far (listeners never break decoding). */
  readonly listenerErrors: number;
  /** Subscribe; returns the function that unsubscribes. */
  on<K extends keyof StreamEvents>(event: K, listener: Listener<StreamEvents[K]>): () => void;
  once<K extends keyof StreamEvents>(event: K, listener: Listener<StreamEvents[K]>): () => void;
  off<K extends keyof StreamEvents>(event: K, listener: Listener<StreamEvents[K]>): void;
  /** Queue audio (Int16 PCM or Float32 in [-1, 1]) at the stream's rate; synchronous, never blocks. */
  push(samples: Int16Array | Float32Array, arrivedAtMs?: number): void;
  /** End of input: decode the rest, emit the final (resolves to it or null), ready for more audio. */
  flush(): Promise<FinalEvent | null>;
  /** Resolves once the audio queued so far has been processed. */
  whenIdle(): Promise<void>;
  /** Per-stream figures (no transcript content); synchronous. */
  stats(): StreamStats;
  /** Stop decoding and release the stream. Idempotent. */
  close(): void;
}

export interface SpeechRecognizer {
  createStream(options: StreamOptions): SpeechStream;
  info(): RecognizerInfo;
  /** Close every stream, then the inference sessions (and worker threads). Idempotent. */
  close(): Promise<void>;
}
