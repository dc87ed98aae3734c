/**
 * Encoder calls of many streams run as one: the batching scheduler of a recognizer whose encoder
 * has a dynamic batch axis (`geometry.encoderBatchable`, made by models/pipelines/asr/).
 *
 * A stream whose next chunk is ready submits its EncoderState and awaits its encoder output. The
 * first request of a batch waits at most `windowMs` for others, and only while others are coming:
 * when the chunks submitted over the last second say that fewer than one more is due within the
 * window, waiting would add latency and batch nothing, so the batch closes at the end of the
 * event-loop turn (requests made in the same turn still run together). A batch runs as soon as it
 * holds as many requests as it may or its wait ends. A batch runs its encoder call and then each
 * stream's search (`submit(member, after)`), and the next batch starts only when those searches are
 * done: otherwise the next encoder run, which holds this thread, would push them back, and every
 * chunk would finish late under load (processor sharing instead of first come, first served). While
 * one batch runs, the chunks that become ready meanwhile queue up and form the next batch, so the
 * batch size follows the load: a few streams run alone without waiting, many in large batches.
 *
 * How many a batch may hold follows the device: at most `maxBatch`, and no more than the measured
 * cost per stream (a moving average over the runs so far) lets run within `budgetMs`, so a batch
 * never holds its streams much longer than the budget however many are waiting (on a CPU, where a
 * stream costs about as much in a batch as alone, batches stay small; on a GPU they grow to
 * `maxBatch`). Before the first run the limit is one stream; it grows as runs are measured.
 *
 * Stacking copies each stream's window and states into the batch's input tensors (row-major: a
 * stream's slice sits between the leading rows of its state's batch axis). The outputs are split
 * back without copies where the stream's rows are contiguous (batch axis first: encoder_out,
 * convolution caches) and copied where they are interleaved (attention caches, batch axis 1).
 * A model without a batch axis runs every request alone, exactly as before.
 */
import * as ort from 'onnxruntime-node';
import type { EncoderStateSpec, TransducerModel } from './transducer.js';

export interface EncoderBatchOptions {
  /** Most streams per encoder call. */
  readonly maxBatch: number;
  /** Longest wait for other streams' chunks after the first request of a batch (ms). */
  readonly windowMs: number;
  /**
   * Longest one encoder run should take (ms): a batch holds no more streams than the measured cost
   * per stream lets run in this time (at least one). Infinity: always up to maxBatch.
   */
  readonly budgetMs?: number;
  /** Milliseconds clock (default performance.now). */
  readonly now?: () => number;
}

export const DEFAULT_ENCODER_BATCH = { maxBatch: 32, windowMs: 4, budgetMs: 40 } as const satisfies EncoderBatchOptions;
/** Weight of the newest run in the moving average of the cost per stream. */
const COST_WEIGHT = 0.2;
/** The arrival rate that decides whether a batch waits is counted over this much of the past (ms). */
const RATE_HORIZON_MS = 1000;

/** What the scheduler needs from a stream's encoder (EncoderState implements it). */
export interface BatchMember {
  readonly x: Float32Array;
  /** The current state tensors (batch 1), by input name. */
  stateFeeds(): Readonly<Record<string, ort.Tensor>>;
  /** Take this stream's next states from a batched run. */
  accept(states: Record<string, ort.Tensor>): void;
  /** Run this stream alone (the exact batch-1 call). */
  runAlone(): Promise<Float32Array>;
}

export interface EncoderBatchStats {
  /** Encoder calls made (a batch of one counts as a call). */
  readonly calls: number;
  /** Stream chunks encoded. */
  readonly chunks: number;
  /** Largest batch run so far. */
  readonly maxBatchRun: number;
  /** Calls by batch size (index = size; index 0 unused). */
  readonly sizes: readonly number[];
  /** Time requests waited for their batch to start (ms): sum and max. */
  readonly waitMsSum: number;
  readonly waitMsMax: number;
  /** Wall time spent in encoder calls, stacking and unstacking included (ms). */
  readonly runMsSum: number;
  /** Moving average of a run's time per stream (ms; 0 before the first run), and the batch limit it gives now. */
  readonly msPerStream: number;
  readonly batchLimit: number;
  /** Batches whose first request waited the window for others, and those that closed at the end of the turn because no other chunk was due within it. */
  readonly windowsWaited: number;
  readonly windowsSkipped: number;
}

/** What a stream does with its encoder output before the next batch may run (its search). */
export type AfterEncoder<T> = (encoderOut: Float32Array) => T | Promise<T>;

interface Pending {
  readonly member: BatchMember;
  readonly at: number;
  readonly after: AfterEncoder<unknown>;
  readonly resolve: (result: unknown) => void;
  readonly reject: (err: unknown) => void;
}

export class EncoderBatcher {
  private readonly model: TransducerModel;
  private readonly options: Required<Omit<EncoderBatchOptions, 'now'>>;
  private readonly now: () => number;
  private readonly queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private closed = false;
  private readonly sizes: number[];
  private calls = 0;
  private chunks = 0;
  private waitMsSum = 0;
  private waitMsMax = 0;
  private runMsSum = 0;
  private msPerStream: number | undefined;
  /**
   * Submissions within RATE_HORIZON_MS before the newest that make, at their rate, one more due
   * within the window (ceil(horizon / window)); the ring keeps that many times and the newest.
   */
  private readonly busyCount: number;
  private readonly arrivals: Float64Array;
  private arrivalCount = 0;
  private immediate: NodeJS.Immediate | undefined;
  private windowsWaited = 0;
  private windowsSkipped = 0;

  constructor(model: TransducerModel, options: EncoderBatchOptions) {
    this.model = model;
    const batchable = model.geometry.encoderBatchable;
    const budget = options.budgetMs ?? DEFAULT_ENCODER_BATCH.budgetMs;
    this.options = {
      maxBatch: batchable ? Math.max(1, Math.floor(options.maxBatch)) : 1,
      windowMs: Math.max(0, options.windowMs),
      budgetMs: budget > 0 ? budget : DEFAULT_ENCODER_BATCH.budgetMs,
    };
    this.now = options.now ?? (() => performance.now());
    this.sizes = new Array<number>(this.options.maxBatch + 1).fill(0);
    // a window of 0 never waits, so it keeps no times
    this.busyCount = this.options.windowMs > 0 ? Math.ceil(RATE_HORIZON_MS / this.options.windowMs) : 0;
    this.arrivals = new Float64Array(this.busyCount + 1);
  }

  /** The most streams the next batch may hold: maxBatch, cut to what the budget lets run. */
  batchLimit(): number {
    const { maxBatch, budgetMs } = this.options;
    if (budgetMs === Infinity) return maxBatch;
    if (this.msPerStream === undefined) return 1;
    return Math.max(1, Math.min(maxBatch, Math.floor(budgetMs / this.msPerStream)));
  }

  /** Largest batch this scheduler forms (1 when the encoder is not batchable). */
  get maxBatch(): number {
    return this.options.maxBatch;
  }

  /** Encode one chunk of `member`; resolves with its encoder_out once its batch has run. */
  submit(member: BatchMember): Promise<Float32Array>;
  /**
   * Encode one chunk of `member`, then run `after` on its encoder_out (the stream's search); resolves
   * with what `after` returns. The next batch starts only when every `after` of this one has settled:
   * a batch's searches are not pushed back behind the next batch's encoder run, so chunks finish in
   * the order their batches ran (first come, first served, as the FIFO lane does for lone streams).
   */
  submit<T>(member: BatchMember, after: AfterEncoder<T>): Promise<T>;
  submit(member: BatchMember, after: AfterEncoder<unknown> = (out) => out): Promise<unknown> {
    if (this.options.maxBatch === 1) return this.count(1, 0, () => member.runAlone()).then(after);
    return new Promise((resolve, reject) => {
      const at = this.now();
      this.queue.push({ member, at, after, resolve, reject });
      this.arrivals[this.arrivalCount++ % this.arrivals.length] = at;
      this.schedule();
    });
  }

  /**
   * Whether at least one more chunk is due within the window at the rate chunks were submitted over
   * the last RATE_HORIZON_MS (the newest submission, the one that asks, not counted): whether the
   * busyCount-th submission before it is that recent.
   */
  private othersDue(now: number): boolean {
    const back = this.arrivalCount - 1 - this.busyCount;
    return back >= 0 && now - this.arrivals[back % this.arrivals.length]! <= RATE_HORIZON_MS;
  }

  stats(): EncoderBatchStats {
    return {
      calls: this.calls,
      chunks: this.chunks,
      maxBatchRun: this.sizes.findLastIndex((n) => n > 0),
      sizes: [...this.sizes],
      waitMsSum: this.waitMsSum,
      waitMsMax: this.waitMsMax,
      runMsSum: this.runMsSum,
      msPerStream: this.msPerStream ?? 0,
      batchLimit: this.batchLimit(),
      windowsWaited: this.windowsWaited,
      windowsSkipped: this.windowsSkipped,
    };
  }

  /** Reject what is queued; later submissions run alone (a closing recognizer drains its streams). */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.immediate = undefined;
    for (const p of this.queue.splice(0)) p.member.runAlone().then(p.after).then(p.resolve, p.reject);
  }

  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    const now = this.now();
    const waited = now - this.queue[0]!.at;
    if (this.closed || this.queue.length >= this.batchLimit() || waited >= this.options.windowMs) {
      this.runNow();
      return;
    }
    if (this.timer !== undefined || this.immediate !== undefined) return;
    if (this.queue.length === 1 && !this.othersDue(now)) {
      // nothing else is due within the window: run after the requests of this turn
      this.windowsSkipped++;
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        if (!this.running) void this.runBatch();
      });
      return;
    }
    this.windowsWaited++;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.running) void this.runBatch();
    }, this.options.windowMs - waited);
  }

  private runNow(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.immediate = undefined;
    void this.runBatch();
  }

  private async runBatch(): Promise<void> {
    const batch = this.queue.splice(0, this.batchLimit());
    if (batch.length === 0) return;
    this.running = true;
    const start = this.now();
    let wait = 0;
    for (const p of batch) wait = Math.max(wait, start - p.at);
    try {
      const outs =
        batch.length === 1
          ? [await this.count(1, wait, () => batch[0]!.member.runAlone(), start - batch[0]!.at)]
          : await this.count(
              batch.length,
              wait,
              () => this.runStacked(batch),
              batch.reduce((a, p) => a + (start - p.at), 0),
            );
      // every member's `after` starts in this turn (greedy search gathers them into shared calls)
      await Promise.all(batch.map((p, b) => Promise.resolve(outs[b]!).then(p.after).then(p.resolve, p.reject)));
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.running = false;
      this.schedule();
    }
  }

  /** One encoder run for the whole batch; each member's encoder_out, in batch order. */
  private async runStacked(batch: Pending[]): Promise<Float32Array[]> {
    const n = batch.length;
    const g = this.model.geometry;
    const feeds: Record<string, ort.Tensor> = {};
    const xSize = g.chunkFrames * g.featureDim;
    const x = new Float32Array(n * xSize);
    batch.forEach((p, b) => x.set(p.member.x, b * xSize));
    feeds.x = new ort.Tensor('float32', x, [n, g.chunkFrames, g.featureDim]);
    const memberFeeds = batch.map((p) => p.member.stateFeeds());
    for (const spec of this.model.states) {
      feeds[spec.name] = stackState(
        spec,
        memberFeeds.map((f) => f[spec.name]!),
      );
    }
    const out = await this.model.encoder.session.run(feeds);
    const encOut = out.encoder_out!.data as Float32Array;
    const rows = g.encoderFramesPerChunk * g.encoderDim;
    batch.forEach((p, b) => {
      const states: Record<string, ort.Tensor> = {};
      for (const spec of this.model.states) states[spec.name] = unstackState(spec, out[spec.outputName]!, n, b);
      p.member.accept(states);
    });
    return batch.map((_, b) => encOut.subarray(b * rows, (b + 1) * rows));
  }

  /** Run `work` (timed from before it starts: stacking included) and count it as a call of `size` streams. */
  private async count<T>(size: number, waitMs: number, work: () => Promise<T>, waitSum = waitMs): Promise<T> {
    const t0 = this.now();
    const result = await work();
    const ms = this.now() - t0;
    this.runMsSum += ms;
    const perStream = ms / size;
    this.msPerStream = this.msPerStream === undefined ? perStream : this.msPerStream + COST_WEIGHT * (perStream - this.msPerStream);
    this.calls++;
    this.chunks += size;
    this.sizes[size] = (this.sizes[size] ?? 0) + 1;
    this.waitMsSum += waitSum;
    this.waitMsMax = Math.max(this.waitMsMax, waitMs);
    return result;
  }
}

/** Rows of the state before its batch axis (1 = each stream's slice is contiguous). */
function leadingRows(spec: EncoderStateSpec): number {
  let pre = 1;
  for (let i = 0; i < spec.batchAxis!; i++) pre *= spec.dims[i]!;
  return pre;
}

function stackState(spec: EncoderStateSpec, tensors: ort.Tensor[]): ort.Tensor {
  const n = tensors.length;
  const pre = leadingRows(spec);
  const post = spec.size / pre;
  const out = (spec.type === 'int64' ? new BigInt64Array(n * spec.size) : new Float32Array(n * spec.size)) as Float32Array;
  tensors.forEach((t, b) => {
    const data = t.data as Float32Array; // or BigInt64Array: same layout code, typed as one
    if (pre === 1) out.set(data, b * post);
    else for (let p = 0; p < pre; p++) out.set(data.subarray(p * post, (p + 1) * post), (p * n + b) * post);
  });
  const dims = [...spec.dims];
  dims[spec.batchAxis!] = n;
  return new ort.Tensor(spec.type, out, dims);
}

function unstackState(spec: EncoderStateSpec, t: ort.Tensor, n: number, b: number): ort.Tensor {
  const pre = leadingRows(spec);
  const post = spec.size / pre;
  const data = t.data as Float32Array; // or BigInt64Array: same layout code, typed as one
  let mine: Float32Array;
  if (pre === 1) mine = data.subarray(b * post, (b + 1) * post);
  else {
    mine = (spec.type === 'int64' ? new BigInt64Array(spec.size) : new Float32Array(spec.size)) as Float32Array;
    for (let p = 0; p < pre; p++) mine.set(data.subarray((p * n + b) * post, (p * n + b + 1) * post), p * post);
  }
  return new ort.Tensor(spec.type, mine, spec.dims);
}
