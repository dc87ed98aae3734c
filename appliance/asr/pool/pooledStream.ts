/**
 * The main-thread face of a stream that decodes in a worker: the same API and events as
 * RecognizerStream. push() only copies the frame into its worker's outgoing batch; stats() is
 * answered synchronously from the mirror the worker sends (periodically, with every final and with
 * every flush/whenIdle reply) combined with what the main thread itself counts.
 */
import { performance } from 'node:perf_hooks';
import { evxError, type EdgeVoxError } from '../../errors.js';
import { TypedEmitter } from '../../events/typedEmitter.js';
import type { SpeechStream } from '../api.js';
import type { FinalEvent, StreamEvents, StreamStats } from '../events.js';
import type { StreamOptions } from '../recognizer.js';
import { emptyStats, type StatsRecord } from './protocol.js';

/** What a stream needs from the worker slot it lives on. */
export interface StreamHost {
  sendAudio(stream: PooledStream, samples: Int16Array | Float32Array, arrivedAtMs: number): boolean;
  request(stream: PooledStream, kind: 'flush' | 'idle', atMs: number): Promise<unknown>;
  release(stream: PooledStream): void;
}

export class PooledStream extends TypedEmitter<StreamEvents> implements SpeechStream {
  readonly id: number;
  readonly options: StreamOptions;
  /** The worker slot currently hosting this stream (changes only if it is moved). */
  host: StreamHost;
  private readonly msPerSample: number;
  /** Audio given to push(), and the part dropped before it reached the worker (ms). */
  private pushedMs = 0;
  private droppedHereMs = 0;
  /** Latest stats from the worker's current incarnation, and totals carried over from earlier ones. */
  private mirror: StatsRecord = emptyStats();
  private carried: StatsRecord = emptyStats();
  private flushPending = false;
  private closed = false;

  constructor(id: number, options: StreamOptions, host: StreamHost) {
    super();
    this.id = id;
    this.options = options;
    this.host = host;
    this.msPerSample = 1000 / options.sampleRateHz;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  push(samples: Int16Array | Float32Array, arrivedAtMs: number = performance.now()): void {
    if (this.closed) throw evxError('EVX_ERR_STREAM_CLOSED', 'push() on a closed recognition stream');
    if (this.flushPending) throw evxError('EVX_ERR_STREAM_CLOSED', 'push() while flush() is pending');
    if (samples.length === 0) return;
    const ms = samples.length * this.msPerSample;
    this.pushedMs += ms;
    if (!this.host.sendAudio(this, samples, arrivedAtMs)) this.droppedHereMs += ms;
  }

  async flush(): Promise<FinalEvent | null> {
    if (this.closed) throw evxError('EVX_ERR_STREAM_CLOSED', 'flush() on a closed recognition stream');
    this.flushPending = true;
    try {
      return (await this.host.request(this, 'flush', performance.now())) as FinalEvent | null;
    } finally {
      this.flushPending = false;
    }
  }

  async whenIdle(): Promise<void> {
    if (this.closed) return;
    try {
      await this.host.request(this, 'idle', performance.now());
    } catch {
      // closed or its worker failed meanwhile: nothing is pending any more
    }
  }

  stats(): StreamStats {
    const m = this.mirror;
    const c = this.carried;
    const droppedMs = c.droppedMs + m.droppedMs + this.droppedHereMs;
    // Audio not yet processed: what was pushed here, less what the worker has taken off its ring
    // (its processed figure includes audio its own ring dropped) and what never left this thread.
    // The worker's figure can be up to one stats interval old, so this errs on the high side.
    const lagMs = this.closed ? 0 : Math.max(0, this.pushedMs - this.droppedHereMs - c.audioProcessedMs - m.audioProcessedMs);
    return {
      audioPushedMs: this.pushedMs,
      audioProcessedMs: c.audioProcessedMs + m.audioProcessedMs,
      audioDecodedMs: c.audioDecodedMs + m.audioDecodedMs,
      audioSkippedMs: c.audioSkippedMs + m.audioSkippedMs,
      lagMs,
      droppedMs,
      droppedFrames: Math.floor(droppedMs / 20),
      encoderChunks: c.encoderChunks + m.encoderChunks,
      chunkLatencyP50Ms: m.encoderChunks > 0 ? m.chunkLatencyP50Ms : c.chunkLatencyP50Ms,
      chunkLatencyP95Ms: m.encoderChunks > 0 ? m.chunkLatencyP95Ms : c.chunkLatencyP95Ms,
      finals: c.finals + m.finals,
      keywords: c.keywords + m.keywords,
      listenerErrors: this.listenerErrors,
      memoryBytes: m.memoryBytes,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.removeAllListeners();
    this.host.release(this);
  }

  // ---------------------------------------------------------------- called by the worker slot

  /** @internal A stats mirror from the worker. */
  updateStats(s: StatsRecord): void {
    this.mirror = s;
  }

  /** @internal Deliver an event decoded in the worker. */
  deliver<K extends keyof StreamEvents>(event: K, payload: StreamEvents[K]): void {
    if (!this.closed) this.emit(event, payload);
  }

  /**
   * @internal The worker hosting this stream died: whatever it had not processed is lost (counted
   * as dropped), its totals are kept, and the stream goes on with fresh decoder state.
   */
  workerLost(error: EdgeVoxError): void {
    if (this.closed) return;
    const m = this.mirror;
    const c = this.carried;
    const reached = this.pushedMs - this.droppedHereMs;
    const lostMs = Math.max(0, reached - c.audioProcessedMs - m.audioProcessedMs);
    this.droppedHereMs += lostMs;
    const next = emptyStats();
    for (const k of Object.keys(next) as (keyof StatsRecord)[]) next[k] = c[k] + m[k];
    next.chunkLatencyP50Ms = m.encoderChunks > 0 ? m.chunkLatencyP50Ms : c.chunkLatencyP50Ms;
    next.chunkLatencyP95Ms = m.encoderChunks > 0 ? m.chunkLatencyP95Ms : c.chunkLatencyP95Ms;
    this.carried = next;
    this.mirror = emptyStats();
    this.emit('error', { type: 'error', error });
  }

  /** @internal The pool closed underneath the stream. */
  poolClosed(): void {
    this.close();
  }
}
