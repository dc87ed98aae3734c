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
import type { Worker } from 'node:worker_threads';
import { evxError } from '../../errors.js';
import { reportRemoteProvider } from '../../inference/sessions.js';
import { MAX_SAMPLE_RATE_HZ, MIN_SAMPLE_RATE_HZ } from '../../audio/wav.js';
import type { SpeechRecognizer, SpeechStream } from '../api.js';
import { batchModelFiles, findAsrModelFiles } from '../modelFiles.js';
import { PhraseTokenizer } from '../phraseTokenizer.js';
import { Recognizer, type PhraseSpec, type RecognizerInfo, type RecognizerOptions, type StreamOptions } from '../recognizer.js';
import { TokenTable } from '../tokens.js';
import { PooledStream } from './pooledStream.js';
import type { ToWorker } from './protocol.js';
import { asrWorkerScript } from './workerScript.js';
import { WorkerSlot, type SlotSettings, type WorkerFailure, type WorkerStats } from './workerSlot.js';

export type { WorkerFailure, WorkerStats } from './workerSlot.js';

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

export interface PoolStats {
  readonly workers: readonly WorkerStats[];
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
