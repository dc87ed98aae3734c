/**
 * Messages between the RecognizerPool (main thread) and its recognition workers. Audio travels in
 * batches: one transferred ArrayBuffer holding the frames of many streams plus a Float64Array index
 * of `AUDIO_ENTRY` numbers per frame, so the cost per message is paid once per batch, not per frame.
 */
import type { ErrorCode } from '../../errors.js';
import { evxError, isEdgeVoxError, type EdgeVoxError } from '../../errors.js';
import type { StreamEvents, StreamStats } from '../events.js';
import type { EncoderBatchStats } from '../encoderBatch.js';
import type { RecognizerInfo, RecognizerOptions, StreamOptions } from '../recognizer.js';

/** Index entry per frame: stream id, sample kind, byte offset in the payload, samples, arrival time. */
export const AUDIO_ENTRY = 5;
export const KIND_INT16 = 0;
export const KIND_FLOAT32 = 1;

export interface WorkerInit {
  readonly recognizer: RecognizerOptions;
  /** The main thread's performance.timeOrigin: arrival times are sent on the main thread's clock. */
  readonly mainTimeOrigin: number;
  readonly statsIntervalMs: number;
  /** The worker's onnxruntime runs in progress, shared with the pool (see inference/runGauge.ts). */
  readonly runGauge?: Int32Array;
  /**
   * Fault injection (RecognizerPool's `loadStalls`): the thread blocks this long before it loads its
   * models, as one reading them from stuck storage would, answering nothing meanwhile.
   */
  readonly loadStallMs?: number;
}

export type ToWorker =
  | { readonly t: 'create'; readonly id: number; readonly options: StreamOptions }
  | { readonly t: 'audio'; readonly seq: number; readonly index: Float64Array; readonly payload: ArrayBuffer }
  | { readonly t: 'flush'; readonly id: number; readonly req: number; readonly atMs: number }
  | { readonly t: 'idle'; readonly id: number; readonly req: number }
  | { readonly t: 'close'; readonly id: number }
  | { readonly t: 'shutdown' }
  /** Fault injection: the worker exits abnormally at its next idle moment (see RecognizerPool.crashWorker). */
  | { readonly t: 'crash' }
  /**
   * Fault injection: the worker's thread spins for `ms` without answering, counted as inside an
   * inference run when `inInference` (see RecognizerPool.hangWorker).
   */
  | { readonly t: 'hang'; readonly ms: number; readonly inInference: boolean };

export interface WireError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
}

export type WireEvent = {
  [K in keyof StreamEvents]: K extends 'error' ? { readonly type: 'error'; readonly error: WireError } : StreamEvents[K];
}[keyof StreamEvents];

export type OutItem =
  | { readonly k: 'event'; readonly id: number; readonly event: WireEvent; readonly stats: Float64Array | null }
  | {
      readonly k: 'reply';
      readonly id: number;
      readonly req: number;
      readonly value: unknown;
      readonly error: WireError | null;
      readonly stats: Float64Array | null;
    };

export type FromWorker =
  | { readonly t: 'ready'; readonly info: RecognizerInfo }
  | { readonly t: 'fatal'; readonly error: WireError }
  | { readonly t: 'out'; readonly items: OutItem[] }
  /** Periodic mirror of every stream's stats; `ack` is the last audio batch the worker took in. */
  | {
      readonly t: 'stats';
      readonly ack: number;
      readonly ids: Int32Array;
      readonly values: Float64Array;
      /** The worker's V8 heap in use, and its memory outside the heap (buffers, ONNX tensors), bytes. */
      readonly heapUsedBytes: number;
      readonly externalBytes: number;
      /** Encoder calls by batch size so far (absent when the worker does not batch). */
      readonly encoderBatch?: EncoderBatchStats | undefined;
    };

/** StreamStats fields in wire order (a Float64Array of STAT_FIELDS.length per stream). */
export const STAT_FIELDS = [
  'audioPushedMs',
  'audioProcessedMs',
  'audioDecodedMs',
  'audioSkippedMs',
  'lagMs',
  'droppedMs',
  'droppedFrames',
  'encoderChunks',
  'chunkLatencyP50Ms',
  'chunkLatencyP95Ms',
  'finals',
  'keywords',
  'listenerErrors',
  'memoryBytes',
] as const satisfies readonly (keyof StreamStats)[];

export type StatsRecord = { -readonly [K in (typeof STAT_FIELDS)[number]]: number };

export function packStats(s: StreamStats, out: Float64Array = new Float64Array(STAT_FIELDS.length), at = 0): Float64Array {
  for (let i = 0; i < STAT_FIELDS.length; i++) out[at + i] = s[STAT_FIELDS[i]!];
  return out;
}

export function unpackStats(values: Float64Array, at = 0): StatsRecord {
  const r = {} as StatsRecord;
  for (let i = 0; i < STAT_FIELDS.length; i++) r[STAT_FIELDS[i]!] = values[at + i]!;
  return r;
}

export function emptyStats(): StatsRecord {
  return unpackStats(new Float64Array(STAT_FIELDS.length));
}

export function toWireError(err: unknown): WireError {
  if (isEdgeVoxError(err)) return { code: err.code, message: err.message, details: { ...err.details } };
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'EVX_ERR_INFERENCE_FAILED', message: `speech recognition failed: ${message}`, details: {} };
}

export function fromWireError(e: WireError): EdgeVoxError {
  return evxError(e.code, e.message, { details: { ...e.details } });
}
