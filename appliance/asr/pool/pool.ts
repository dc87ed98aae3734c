/**
 * RecognizerPool: speech recognition on worker threads. onnxruntime-node runs every session.run
 * synchronously on the calling thread, so in-process recognition puts all inference on the main
 * event loop (one core, and every encoder chunk blocks SIP/RTP/HTTP). The pool runs W workers, each
 * with its own Recognizer (own sessions, `threads` intra-op threads); `createStream()` places a
 * stream on the least-loaded worker and returns a PooledStream with RecognizerStream's API.
 *
 *   const pool = await RecognizerPool.create({ modelDir, vadModelPath, workers: 'auto', threads: 1 });
 *   const stream = pool.createStream({ sampleRateHz: 8000 });   // same events, push/flush/stats/close
 *   await pool.close();                                          // streams closed, workers ended
 *
 * Close cascade: pool.close() → every slot closes its streams (pending flush/whenIdle reject with
 * EVX_ERR_STREAM_CLOSED) → asks its worker to close its streams and exit → terminates it if it
 * has not exited within a grace period. stream.close() tells its worker to drop that stream.
 * A worker that dies unasked: its streams emit `error` (EVX_ERR_ASR_WORKER_EXITED) and keep their
 * totals, the slot starts a new worker (backoff on repeated failures) and re-creates the streams
 * there with fresh decoder state; streams on other workers are not affected. A worker that hangs
 * (answers nothing, not even its periodic stats, for `hangTimeoutMs`) is ended and replaced the same
 * way, its streams told EVX_ERR_ASR_WORKER_HUNG. So is one that has not loaded its models within
 * `loadTimeoutMs` (stuck storage, a GPU driver that never answers): at the first start the pool's
 * create() rejects, later the slot starts another. A thread that cannot be ended from outside (inside
 * a native call) is told to end itself and left; a slot starts no new thread while two of its own
 * are still left so, which bounds the memory and cores they can hold.
 * `workers: 0` keeps today's in-process Recognizer behind the same interface.
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { evxError, type EdgeVoxError } from '../../errors.js';
import { inferenceRunning, newRunGauge } from '../../inference/runGauge.js';
import { reportRemoteProvider } from '../../inference/sessions.js';
import { MAX_SAMPLE_RATE_HZ, MIN_SAMPLE_RATE_HZ } from '../../audio/wav.js';
import type { SpeechRecognizer, SpeechStream } from '../api.js';
import type { EncoderBatchStats } from '../encoderBatch.js';
import { batchModelFiles, findAsrModelFiles } from '../modelFiles.js';
import { PhraseTokenizer } from '../phraseTokenizer.js';
import { Recognizer, type PhraseSpec, type RecognizerInfo, type RecognizerOptions, type StreamOptions } from '../recognizer.js';
import { TokenTable } from '../tokens.js';
import { PooledStream, type StreamHost } from './pooledStream.js';
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
import { asrWorkerScript } from './workerScript.js';

export interface PoolOptions extends RecognizerOptions {
  /** Worker threads; 'auto' = available cores; 0 = recognize in-process (on the calling thread). */
  readonly workers?: number | 'auto';
  /** How long audio waits on the main thread to be batched (0 = until the end of the event-loop turn). */
  readonly batchIntervalMs?: number;
  /** How often each worker mirrors its streams' stats to the main thread. */
  readonly statsIntervalMs?: number;
  /**
   * How long a worker's VAD batch waits for other streams' windows (default 10 ms): with ~50 live
   * streams per worker, windows complete a few at a time; waiting gathers ~2-3x more per call.
   */
  readonly vadBatchWaitMs?: number;
  /** A worker that has not taken in a batch for this long gets no new audio (dropped and counted). */
  readonly maxTransitMs?: number;
  /** Grace period for a worker to exit on close before it is terminated. */
  readonly closeGraceMs?: number;
  /**
   * How long a stream's flush() (or whenIdle()) waits for its worker's answer. A worker that hangs
   * without dying would otherwise hold every call on it open at hang-up: the flush rejects with
   * EVX_ERR_ASR_FLUSH_TIMEOUT, the caller closes the stream and the call ends without its last words.
   */
  readonly flushTimeoutMs?: number;
  /**
   * A ready worker that sends nothing for this long, not even the stats it sends every
   * `statsIntervalMs`, is taken for hung: it is ended and replaced like a crashed one.
   */
  readonly hangTimeoutMs?: number;
  /**
   * A worker that has not loaded its models this long after it started is taken for hung: at the
   * pool's first start create() rejects with EVX_ERR_ASR_WORKER_HUNG, on a restart the slot starts
   * another worker (after the usual backoff).
   */
  readonly loadTimeoutMs?: number;
  /**
   * Fault injection for fault tests and drills: the n-th worker each slot starts (0 = the first
   * start, 1 = the first restart, ...) blocks `loadStalls[n]` ms before loading its models.
   */
  readonly loadStalls?: readonly number[];
  /** Told when a worker stops unasked, hangs or fails to start (for logs and metrics; no PII). */
  readonly onWorkerFailure?: (failure: WorkerFailure) => void;
}

export interface WorkerFailure {
  readonly worker: number;
  readonly exitCode: number | null;
  readonly streams: number;
  readonly error: EdgeVoxError;
  /** Delay before the replacement worker starts. */
  readonly restartInMs: number;
}

export interface PoolStats {
  readonly workers: readonly {
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
  }[];
  readonly batchesSent: number;
  readonly framesSent: number;
}

// maxTransitMs matches a stream's default input buffer (5 s): a starved worker thread holds back no
// less audio than an in-process stream would before anything is dropped.
// batchIntervalMs: with 100 streams of 20 ms frames arriving as UDP, batching per event-loop turn
// gave ~7 frames per message (721 messages/s) and cost ~2.5% of a core more than a 5 ms window
// (29 frames per message, 166 messages/s); 5 ms is noise against the 100 ms chunk-latency budget.
// flushTimeoutMs: a flush decodes what the stream still holds, at most its 5 s input buffer plus up
// to maxTransitMs of audio in transit, on a worker that runs faster than real time; 15 s is 1.5x that.
// hangTimeoutMs: a worker answers between inference calls; its longest call (a 64-stream encoder
// batch) takes some 0.3 s, and a working worker sends stats every 100 ms. 10 s of silence is a hang,
// and it ends before a flush's 15 s timeout, so a call at hang-up gets its answer from the new worker.
// loadTimeoutMs: loading takes 1-3 s on the CPU; a GPU provider compiling its kernels can take tens
// of seconds on a first run. Two minutes is a load that will not finish.
const DEFAULTS = {
  batchIntervalMs: 5,
  statsIntervalMs: 100,
  maxTransitMs: 5000,
  closeGraceMs: 2000,
  vadBatchWaitMs: 10,
  flushTimeoutMs: 15_000,
  hangTimeoutMs: 10_000,
  loadTimeoutMs: 120_000,
};
/** A slot starts no new worker while this many of its former threads, told to end, have not yet. */
const MAX_THREADS_LEFT_TO_END = 2;
/** How long a worker still loading its models may take to end itself on close before it is terminated. */
const LOADING_GRACE_MS = 30_000;
const INITIAL_STAGING_BYTES = 64 * 1024;
const MAX_STAGING_BYTES = 4 * 1024 * 1024;

export class RecognizerPool implements SpeechRecognizer {
  private readonly slots: WorkerSlot[];
  private readonly inProcess: Recognizer | undefined;
  private readonly tokenizer: PhraseTokenizer | undefined;
  private readonly workerInfo: RecognizerInfo | undefined;
  private readonly providerKey: string;
  private nextId = 1;
  private closed = false;
  private closing: Promise<void> | undefined;

  private constructor(
    slots: WorkerSlot[],
    inProcess: Recognizer | undefined,
    tokenizer: PhraseTokenizer | undefined,
    info: RecognizerInfo | undefined,
    key: string,
  ) {
    this.slots = slots;
    this.inProcess = inProcess;
    this.tokenizer = tokenizer;
    this.workerInfo = info;
    this.providerKey = key;
  }

  /** Start the workers (or the in-process recognizer) and wait until every one has its models loaded. */
  static async create(options: PoolOptions): Promise<RecognizerPool> {
    const count = options.workers === undefined || options.workers === 'auto' ? availableParallelism() : options.workers;
    if (!Number.isInteger(count) || count < 0)
      throw evxError('EVX_ERR_CONFIG_INVALID', `asr.workers must be 'auto' or an integer >= 0, got ${String(count)}`, {
        details: { key: 'asr.workers' },
      });
    const key = `asr-pool:${options.modelDir}`;
    if (count === 0) return new RecognizerPool([], await Recognizer.create(recognizerOptions(options)), undefined, undefined, key);
    // Validate the model directory here, so a bad path fails before any thread starts, and keep a
    // phrase tokenizer so createStream() rejects unspellable phrases synchronously, as in-process.
    const files = findAsrModelFiles(options.modelDir, batchModelFiles(options.batchModelDir));
    const tokenizer = new PhraseTokenizer(TokenTable.fromFile(files.tokens), files.bpeModel);
    const script = await asrWorkerScript();
    const settings: SlotSettings = {
      script,
      init: {
        recognizer: recognizerOptions(options),
        mainTimeOrigin: performance.timeOrigin,
        statsIntervalMs: options.statsIntervalMs ?? DEFAULTS.statsIntervalMs,
      },
      batchIntervalMs: options.batchIntervalMs ?? DEFAULTS.batchIntervalMs,
      maxTransitMs: options.maxTransitMs ?? DEFAULTS.maxTransitMs,
      closeGraceMs: options.closeGraceMs ?? DEFAULTS.closeGraceMs,
      flushTimeoutMs: options.flushTimeoutMs ?? DEFAULTS.flushTimeoutMs,
      hangTimeoutMs: options.hangTimeoutMs ?? DEFAULTS.hangTimeoutMs,
      loadTimeoutMs: options.loadTimeoutMs ?? DEFAULTS.loadTimeoutMs,
      loadStalls: options.loadStalls ?? [],
      onFailure: options.onWorkerFailure,
    };
    const slots = Array.from({ length: count }, (_, i) => new WorkerSlot(i, settings));
    const started = await Promise.allSettled(slots.map((s) => s.start()));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      await Promise.all(slots.map((s) => s.close()));
      throw failed.reason;
    }
    const info = (started[0] as PromiseFulfilledResult<RecognizerInfo>).value;
    reportRemoteProvider(key, info.provider as 'cpu');
    return new RecognizerPool(slots, undefined, tokenizer, info, key);
  }

  /** Number of worker threads (0 when recognizing in-process). */
  get workerCount(): number {
    return this.slots.length;
  }

  createStream(options: StreamOptions): SpeechStream {
    if (this.closed) throw evxError('EVX_ERR_STREAM_CLOSED', 'recognizer is closed');
    if (this.inProcess !== undefined) return this.inProcess.createStream(options);
    const rate = options.sampleRateHz;
    if (!Number.isInteger(rate) || rate < MIN_SAMPLE_RATE_HZ || rate > MAX_SAMPLE_RATE_HZ) {
      throw evxError('EVX_ERR_AUDIO_FORMAT', `sample rate ${rate} Hz is outside ${MIN_SAMPLE_RATE_HZ}..${MAX_SAMPLE_RATE_HZ} Hz`);
    }
    for (const p of [...(options.hotwords ?? []), ...(options.keywords ?? [])]) this.tokenizer!.encode(phraseText(p));
    const slot = this.leastLoaded();
    const stream = new PooledStream(this.nextId++, options, slot);
    slot.adopt(stream);
    return stream;
  }

  info(): RecognizerInfo {
    if (this.inProcess !== undefined) return this.inProcess.info();
    return { ...this.workerInfo!, activeStreams: this.slots.reduce((n, s) => n + s.streamCount, 0) };
  }

  stats(): PoolStats {
    return {
      workers: this.slots.map((s) => s.describe()),
      batchesSent: this.slots.reduce((n, s) => n + s.batchesSent, 0),
      framesSent: this.slots.reduce((n, s) => n + s.framesSent, 0),
    };
  }

  /** The live worker threads, by slot (undefined while one restarts); for supervision tests and diagnostics. */
  workerThreads(): readonly (Worker | undefined)[] {
    return this.slots.map((s) => s.thread);
  }

  /**
   * Fault injection for fault tests and drills: worker `index` exits abnormally at its next idle
   * moment, exactly as a crashed worker would be seen by the pool (streams get
   * EVX_ERR_ASR_WORKER_EXITED, the worker is restarted). Returns false when there is no such worker.
   */
  crashWorker(index: number): boolean {
    const thread = this.slots[index]?.thread;
    if (thread === undefined) return false;
    thread.postMessage({ t: 'crash' } satisfies ToWorker);
    return true;
  }

  /**
   * Fault injection for fault tests and drills: worker `index` spins for `ms` at its next idle
   * moment, answering nothing, as a decoder caught in a loop would (`inInference`: as a run that
   * does not return); past hangTimeoutMs the pool replaces it (streams get EVX_ERR_ASR_WORKER_HUNG).
   * Returns false when there is no such worker.
   */
  hangWorker(index: number, ms: number, { inInference = false } = {}): boolean {
    const thread = this.slots[index]?.thread;
    if (thread === undefined) return false;
    thread.postMessage({ t: 'hang', ms, inInference } satisfies ToWorker);
    return true;
  }

  /** Close every stream, then stop every worker (or the in-process sessions). Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      if (this.inProcess !== undefined) {
        await this.inProcess.close();
        return;
      }
      await Promise.all(this.slots.map((s) => s.close()));
      reportRemoteProvider(this.providerKey, null);
    })();
    return this.closing;
  }

  private leastLoaded(): WorkerSlot {
    let best = this.slots[0]!;
    for (const s of this.slots) {
      const ready = s.state === 'ready' ? 0 : 1;
      const bestReady = best.state === 'ready' ? 0 : 1;
      if (ready < bestReady || (ready === bestReady && s.streamCount < best.streamCount)) best = s;
    }
    return best;
  }
}

function phraseText(p: string | PhraseSpec): string {
  return typeof p === 'string' ? p : p.phrase;
}

function recognizerOptions(o: PoolOptions): RecognizerOptions {
  const { modelDir, vadModelPath, providers, threads, decoding, beamSize, hotwordBoost, batchModelDir, batch, hanziDataDir, hanziLm } = o;
  return {
    modelDir,
    ...(hanziDataDir !== undefined ? { hanziDataDir } : {}),
    ...(hanziLm !== undefined ? { hanziLm } : {}),
    batchModelDir,
    batch,
    vadModelPath,
    providers: providers ?? ['cpu'],
    threads: threads ?? 1,
    ...(decoding !== undefined ? { decoding } : {}),
    beamSize: beamSize ?? 4,
    hotwordBoost: hotwordBoost ?? 1.5,
    vadBatchWaitMs: o.vadBatchWaitMs ?? DEFAULTS.vadBatchWaitMs,
  };
}

interface SlotSettings {
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
class WorkerSlot implements StreamHost {
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

  describe(): PoolStats['workers'][number] {
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
