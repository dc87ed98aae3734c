/**
 * One recognition worker thread and the streams placed on it (RecognizerPool's slot): posts their
 * audio in batches, answers their flush/whenIdle, mirrors their stats, and supervises the thread
 * (restart after a crash, replacement after a hang or a load that does not finish, close cascade).
 */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { evxError, type EdgeVoxError } from '../../errors.js';
import { inferenceRunning, newRunGauge } from '../../inference/runGauge.js';
import type { EncoderBatchStats } from '../encoderBatch.js';
import type { RecognizerInfo } from '../recognizer.js';
import type { PooledStream, StreamHost } from './pooledStream.js';
import {
  AUDIO_ENTRY,
  KIND_FLOAT32,
  KIND_INT16,
  STAT_FIELDS,
  fromWireError,
  unpackStats,
  type FromWorker,
  type OutItem,
  type ToWorker,
  type WireError,
  type WorkerInit,
} from './protocol.js';

export interface WorkerFailure {
  readonly worker: number;
  readonly exitCode: number | null;
  readonly streams: number;
  readonly error: EdgeVoxError;
  /** Delay before the replacement worker starts. */
  readonly restartInMs: number;
}

/** One worker's figures in RecognizerPool.stats(). */
export interface WorkerStats {
  readonly index: number;
  readonly state: 'starting' | 'ready' | 'closed';
  readonly streams: number;
  readonly restarts: number;
  /**
   * Times the worker answered nothing for hangTimeoutMs, or had not loaded its models within
   * loadTimeoutMs, and was ended (each one is also a restart).
   */
  readonly hangs: number;
  /** This slot's former threads told to end themselves (hung inside a native call) that have not yet. */
  readonly threadsLeftToEnd: number;
  /** flush()/whenIdle() requests given up after flushTimeoutMs without the worker's answer. */
  readonly requestTimeouts: number;
  /** Audio batches posted and not yet taken in by the worker. */
  readonly batchesInFlight: number;
  /** The worker's V8 heap in use and its memory outside the heap, as last reported (bytes). */
  readonly heapUsedBytes: number;
  readonly externalBytes: number;
  /** Encoder calls by batch size, as last reported (undefined when the worker does not batch). */
  readonly encoderBatch: EncoderBatchStats | undefined;
}

/** A slot starts no new worker while this many of its former threads, told to end, have not yet. */
const MAX_THREADS_LEFT_TO_END = 2;
/** How long a worker still loading its models may take to end itself on close before it is terminated. */
const LOADING_GRACE_MS = 30_000;
const INITIAL_STAGING_BYTES = 64 * 1024;
const MAX_STAGING_BYTES = 4 * 1024 * 1024;

export interface SlotSettings {
  readonly script: URL;
  readonly init: WorkerInit;
  readonly batchIntervalMs: number;
  readonly maxTransitMs: number;
  readonly closeGraceMs: number;
  readonly flushTimeoutMs: number;
  readonly hangTimeoutMs: number;
  readonly loadTimeoutMs: number;
  readonly loadStalls: readonly number[];
  readonly onFailure: ((f: WorkerFailure) => void) | undefined;
}

interface Pending {
  readonly stream: PooledStream;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
}

/** One worker thread and the streams placed on it; restarts the thread when it dies. */
export class WorkerSlot implements StreamHost {
  readonly index: number;
  state: 'starting' | 'ready' | 'closed' = 'starting';
  thread: Worker | undefined;
  restarts = 0;
  hangs = 0;
  requestTimeouts = 0;
  batchesSent = 0;
  framesSent = 0;
  private heapUsedBytes = 0;
  private externalBytes = 0;
  private encoderBatch: EncoderBatchStats | undefined;
  private readonly settings: SlotSettings;
  private readonly streams = new Map<number, PooledStream>();
  private readonly pending = new Map<number, Pending>();
  private nextReq = 1;
  // outgoing audio batch
  private staging = new ArrayBuffer(INITIAL_STAGING_BYTES);
  private stagingBytes = new Uint8Array(this.staging);
  private used = 0;
  private entries: number[] = [];
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  // flow control: batches posted and not acknowledged, with when they were posted
  private seq = 0;
  private unacked: { seq: number; sentMs: number }[] = [];
  // supervision
  private exitWaiters: (() => void)[] = [];
  private restartTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private runGauge: Int32Array | undefined;
  private lastHeardMs = 0;
  private spawned = 0;
  private spawnedAtMs = 0;
  /** Former threads told to end themselves (hung inside a native call), until they exit. */
  private readonly leftToEnd = new Set<Worker>();
  /** A restart is due but waits for one of leftToEnd to exit. */
  private restartWaiting = false;
  private recentFailures: number[] = [];
  private lastError: string | undefined;
  private onStarted: { resolve: (i: RecognizerInfo) => void; reject: (e: unknown) => void } | undefined;

  constructor(index: number, settings: SlotSettings) {
    this.index = index;
    this.settings = settings;
  }

  get streamCount(): number {
    return this.streams.size;
  }

  describe(): WorkerStats {
    return {
      index: this.index,
      state: this.state,
      streams: this.streams.size,
      restarts: this.restarts,
      hangs: this.hangs,
      threadsLeftToEnd: this.leftToEnd.size,
      requestTimeouts: this.requestTimeouts,
      batchesInFlight: this.unacked.length,
      heapUsedBytes: this.heapUsedBytes,
      externalBytes: this.externalBytes,
      encoderBatch: this.encoderBatch,
    };
  }

  /** Start the worker; resolves with its recognizer info once its models are loaded. */
  start(): Promise<RecognizerInfo> {
    return new Promise((resolve, reject) => {
      this.onStarted = { resolve, reject };
      this.spawn();
    });
  }

  adopt(stream: PooledStream): void {
    this.streams.set(stream.id, stream);
    if (this.state === 'ready') this.post({ t: 'create', id: stream.id, options: stream.options });
  }

  // ---------------------------------------------------------------- StreamHost

  sendAudio(stream: PooledStream, samples: Int16Array | Float32Array, arrivedAtMs: number): boolean {
    if (this.state !== 'ready') return false;
    const oldest = this.unacked[0];
    if (oldest !== undefined && performance.now() - oldest.sentMs > this.settings.maxTransitMs) return false;
    const bytes = samples.byteLength;
    let offset = (this.used + 3) & ~3; // Float32/Int16 views need aligned offsets
    if (offset + bytes > this.staging.byteLength) {
      if (offset + bytes <= MAX_STAGING_BYTES) {
        const bigger = new ArrayBuffer(Math.min(MAX_STAGING_BYTES, Math.max(this.staging.byteLength * 2, offset + bytes)));
        new Uint8Array(bigger).set(this.stagingBytes.subarray(0, this.used));
        this.staging = bigger;
        this.stagingBytes = new Uint8Array(bigger);
      } else {
        this.flushAudio();
        offset = 0;
        if (bytes > this.staging.byteLength) return false;
      }
    }
    this.stagingBytes.set(new Uint8Array(samples.buffer, samples.byteOffset, bytes), offset);
    this.used = offset + bytes;
    this.entries.push(stream.id, samples instanceof Int16Array ? KIND_INT16 : KIND_FLOAT32, offset, samples.length, arrivedAtMs);
    if (!this.scheduled) {
      this.scheduled = true;
      if (this.settings.batchIntervalMs > 0) this.timer = setTimeout(() => this.flushAudio(), this.settings.batchIntervalMs);
      else setImmediate(() => this.flushAudio());
    }
    return true;
  }

  request(stream: PooledStream, kind: 'flush' | 'idle', atMs: number): Promise<unknown> {
    if (this.state !== 'ready') {
      if (kind === 'idle') return Promise.resolve();
      return Promise.reject(
        evxError('EVX_ERR_ASR_WORKER_EXITED', `recognition worker ${this.index} is restarting; the stream's audio was lost`, {
          details: { worker: this.index },
        }),
      );
    }
    this.flushAudio(); // the request must follow the stream's audio
    const req = this.nextReq++;
    return new Promise((resolve, reject) => {
      // bounded: a worker that hangs (rather than dies, which rejects every pending request) must
      // not hold the stream's owner, a call at hang-up, for ever; a late answer finds no entry
      const timer = setTimeout(() => {
        if (!this.pending.delete(req)) return;
        this.requestTimeouts++;
        reject(
          evxError(
            'EVX_ERR_ASR_FLUSH_TIMEOUT',
            `recognition worker ${this.index} did not answer a stream's ${kind} within ${this.settings.flushTimeoutMs} ms`,
            {
              details: { worker: this.index, kind, timeoutMs: this.settings.flushTimeoutMs },
            },
          ),
        );
      }, this.settings.flushTimeoutMs);
      timer.unref();
      this.pending.set(req, {
        stream,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.post(kind === 'flush' ? { t: 'flush', id: stream.id, req, atMs } : { t: 'idle', id: stream.id, req });
    });
  }

  release(stream: PooledStream): void {
    if (!this.streams.delete(stream.id)) return;
    const e = evxError('EVX_ERR_STREAM_CLOSED', 'recognition stream closed');
    for (const [req, p] of this.pending) {
      if (p.stream !== stream) continue;
      this.pending.delete(req);
      p.reject(e);
    }
    if (this.state === 'ready') this.post({ t: 'close', id: stream.id });
  }

  // ---------------------------------------------------------------- lifecycle

  /** Close the streams, ask the worker to shut down, terminate it after the grace period. Idempotent. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const wasStarting = this.state === 'starting';
    this.state = 'closed';
    clearTimeout(this.restartTimer);
    clearInterval(this.watchdog);
    clearTimeout(this.timer);
    this.entries = [];
    this.used = 0;
    for (const s of [...this.streams.values()]) s.poolClosed();
    this.streams.clear();
    const e = evxError('EVX_ERR_STREAM_CLOSED', 'recognizer is closed');
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.onStarted?.reject(e);
    this.onStarted = undefined;
    const thread = this.thread;
    if (thread === undefined) return;
    const exited = new Promise<void>((r) => this.exitWaiters.push(r));
    // a worker still loading its models ends itself when loading is over (see worker.ts): terminating
    // it from outside during a native onnxruntime call would abort the process
    thread.postMessage({ t: 'shutdown' } satisfies ToWorker);
    const graceMs = wasStarting ? Math.max(this.settings.closeGraceMs, LOADING_GRACE_MS) : this.settings.closeGraceMs;
    const grace = setTimeout(() => void thread.terminate(), graceMs);
    await exited;
    clearTimeout(grace);
  }

  private spawn(): void {
    const runGauge = newRunGauge();
    const loadStallMs = this.settings.loadStalls[this.spawned++];
    const thread = new Worker(this.settings.script, {
      workerData: { ...this.settings.init, runGauge, ...(loadStallMs ? { loadStallMs } : {}) } satisfies WorkerInit,
      name: `edgevox-asr-${this.index}`,
    });
    this.thread = thread;
    this.runGauge = runGauge;
    this.state = 'starting';
    this.spawnedAtMs = performance.now();
    this.lastError = undefined;
    thread.on('message', (msg: FromWorker) => this.onMessage(msg));
    thread.on('error', (err) => {
      // an uncaught exception ends the worker; 'exit' follows and handles it
      this.lastError = err instanceof Error ? err.message : String(err);
    });
    thread.on('exit', (code) => this.onExit(thread, code));
    this.watch();
  }

  /**
   * Checks that the ready worker is still heard from, and that a starting one has loaded its models
   * within loadTimeoutMs. A check that itself runs late (the main thread was blocked) is skipped: the
   * worker's messages from that time are still queued behind it.
   */
  private watch(): void {
    if (this.watchdog !== undefined) return;
    const everyMs = Math.max(10, Math.min(1000, Math.min(this.settings.hangTimeoutMs, this.settings.loadTimeoutMs) / 4));
    let lastCheckMs = performance.now();
    this.watchdog = setInterval(() => {
      const now = performance.now();
      const late = now - lastCheckMs > 2 * everyMs;
      lastCheckMs = now;
      if (late || this.thread === undefined) return;
      if (this.state === 'starting') {
        const loadingMs = now - this.spawnedAtMs;
        if (loadingMs > this.settings.loadTimeoutMs) this.onLoadTimeout(this.thread, loadingMs);
        return;
      }
      if (this.state !== 'ready') return;
      const silentMs = now - this.lastHeardMs;
      if (silentMs > this.settings.hangTimeoutMs) this.onHang(this.thread, silentMs);
    }, everyMs);
    this.watchdog.unref();
  }

  /**
   * The worker answered nothing for hangTimeoutMs: replace it, and go on as if it had died. A thread
   * caught in JavaScript is ended. One inside an onnxruntime run cannot be (that aborts the process):
   * it is told to shut down and left to end itself if the run ever returns.
   */
  private onHang(thread: Worker, silentMs: number): void {
    this.hangs++;
    const inInference = this.runGauge !== undefined && inferenceRunning(this.runGauge);
    this.leave(thread, inInference ? 'tell' : 'terminate');
    const ms = Math.round(silentMs);
    this.lose(
      evxError(
        'EVX_ERR_ASR_WORKER_HUNG',
        `recognition worker ${this.index} answered nothing for ${ms} ms; ${inInference ? 'it is inside an inference run and was told to end' : 'it was ended'}`,
        { details: { worker: this.index, silentMs: ms, inInference } },
      ),
      null,
    );
  }

  /**
   * The worker has not loaded its models within loadTimeoutMs. Loading may be inside a native call,
   * so the thread is told to end once it is over (worker.ts), not terminated. At the pool's first
   * start, create() reports it; later the slot starts another worker.
   */
  private onLoadTimeout(thread: Worker, loadingMs: number): void {
    this.hangs++;
    this.leave(thread, 'tell');
    const ms = Math.round(loadingMs);
    const error = evxError(
      'EVX_ERR_ASR_WORKER_HUNG',
      `recognition worker ${this.index} had not loaded its models after ${ms} ms; it was told to end once loading is over`,
      { details: { worker: this.index, silentMs: ms, loading: true } },
    );
    this.fail(error, null);
  }

  /**
   * Lets go of a hung thread: its exit, whenever it comes, is then not this slot's (see onExit), and
   * nothing it might still send reaches the streams, which restart on the replacement. A thread
   * caught in JavaScript is terminated; one that may be inside a native call (terminating it then
   * aborts the whole process) is told to shut down, unref'd and counted until it exits.
   */
  private leave(thread: Worker, how: 'terminate' | 'tell'): void {
    this.thread = undefined;
    thread.removeAllListeners('message');
    thread.removeAllListeners('error');
    thread.on('error', () => undefined); // an 'error' event with no listener would throw here
    if (how === 'terminate') {
      void thread.terminate();
      return;
    }
    this.leftToEnd.add(thread);
    thread.postMessage({ t: 'shutdown' } satisfies ToWorker);
    thread.unref(); // a thread stuck for ever must not keep the process alive
  }

  private onMessage(msg: FromWorker): void {
    this.lastHeardMs = performance.now();
    switch (msg.t) {
      case 'ready':
        if (this.state !== 'starting') return;
        this.state = 'ready';
        for (const s of this.streams.values()) this.post({ t: 'create', id: s.id, options: s.options });
        this.onStarted?.resolve(msg.info);
        this.onStarted = undefined;
        break;
      case 'fatal':
        this.fatal = msg.error;
        break;
      case 'stats':
        this.ack(msg.ack);
        this.heapUsedBytes = msg.heapUsedBytes;
        this.externalBytes = msg.externalBytes;
        this.encoderBatch = msg.encoderBatch;
        for (let i = 0; i < msg.ids.length; i++)
          this.streams.get(msg.ids[i]!)?.updateStats(unpackStats(msg.values, i * STAT_FIELDS.length));
        break;
      case 'out':
        for (const item of msg.items) this.deliver(item);
        break;
    }
  }

  private fatal: WireError | undefined;

  private deliver(item: OutItem): void {
    const stream = this.streams.get(item.id);
    if (item.k === 'reply') {
      if (stream !== undefined && item.stats !== null) stream.updateStats(unpackStats(item.stats));
      const p = this.pending.get(item.req);
      if (p === undefined) return;
      this.pending.delete(item.req);
      if (item.error !== null) p.reject(fromWireError(item.error));
      else p.resolve(item.value);
      return;
    }
    if (stream === undefined) return;
    if (item.stats !== null) stream.updateStats(unpackStats(item.stats));
    const ev = item.event;
    if (ev.type === 'error') stream.deliver('error', { type: 'error', error: fromWireError(ev.error) });
    else stream.deliver(ev.type, ev);
  }

  private onExit(thread: Worker, code: number): void {
    if (this.leftToEnd.delete(thread)) {
      if (this.restartWaiting && this.state !== 'closed') {
        this.restartWaiting = false;
        this.restart();
      }
      return;
    }
    if (thread !== this.thread) return;
    this.thread = undefined;
    if (this.state === 'closed') {
      for (const w of this.exitWaiters.splice(0)) w();
      return;
    }
    const error =
      this.fatal !== undefined
        ? fromWireError(this.fatal)
        : evxError(
            'EVX_ERR_ASR_WORKER_EXITED',
            `recognition worker ${this.index} stopped (exit code ${code})${this.lastError ? ': ' + this.lastError : ''}`,
            {
              details: { worker: this.index, exitCode: code },
            },
          );
    this.fatal = undefined;
    this.fail(error, code);
  }

  /** The worker failed: at the first start the pool's create() reports it, later the slot restarts. */
  private fail(error: EdgeVoxError, code: number | null): void {
    if (this.onStarted === undefined) {
      this.lose(error, code);
      return;
    }
    this.state = 'closed';
    clearInterval(this.watchdog);
    this.onStarted.reject(error);
    this.onStarted = undefined;
  }

  /** The worker is gone (exited or ended as hung): fail what waited on it, restart after a backoff. */
  private lose(error: EdgeVoxError, code: number | null): void {
    this.state = 'starting';
    clearTimeout(this.timer);
    this.scheduled = false;
    this.entries = [];
    this.used = 0;
    this.unacked = [];
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    for (const s of this.streams.values()) s.workerLost(error);
    const now = performance.now();
    this.recentFailures = this.recentFailures.filter((t) => now - t < 60_000);
    this.recentFailures.push(now);
    const delay = Math.min(10_000, 50 * 2 ** (this.recentFailures.length - 1));
    try {
      this.settings.onFailure?.({ worker: this.index, exitCode: code, streams: this.streams.size, error, restartInMs: delay });
    } catch {
      // a failing observer must not stop the restart
    }
    this.restartTimer = setTimeout(() => {
      if (this.state === 'closed') return;
      // threads hung inside native calls hold their memory and a core: start no more than a bound
      if (this.leftToEnd.size >= MAX_THREADS_LEFT_TO_END) this.restartWaiting = true;
      else this.restart();
    }, delay);
  }

  private restart(): void {
    this.restarts++;
    this.spawn();
  }

  private ack(seq: number): void {
    let n = 0;
    while (n < this.unacked.length && this.unacked[n]!.seq <= seq) n++;
    if (n > 0) this.unacked.splice(0, n);
  }

  private flushAudio(): void {
    clearTimeout(this.timer);
    this.scheduled = false;
    if (this.entries.length === 0 || this.thread === undefined || this.state !== 'ready') return;
    const payload = this.staging.slice(0, this.used);
    const index = Float64Array.from(this.entries);
    const seq = ++this.seq;
    this.framesSent += this.entries.length / AUDIO_ENTRY;
    this.batchesSent++;
    this.entries = [];
    this.used = 0;
    this.unacked.push({ seq, sentMs: performance.now() });
    this.thread.postMessage({ t: 'audio', seq, index, payload } satisfies ToWorker, [payload, index.buffer]);
  }

  private post(msg: ToWorker): void {
    this.thread?.postMessage(msg);
  }
}
