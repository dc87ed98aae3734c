/**
 * Greedy search of many streams with shared joiner and decoder calls. The streams whose chunks ran
 * in one encoder batch reach their search in the same event-loop turn; their requests are taken
 * together (at the end of that turn) and decoded frame by frame: one joiner call with a row per
 * stream, then one decoder call for the streams that emitted a token. Each stream's decisions are
 * GreedySearch.takeFrame, as when it runs alone; with a joiner and decoder whose rows are computed
 * independently (models/asr-batch) the transcripts are the same.
 *
 * Batches run one after another (they share the input buffers); a request never waits for more
 * than the end of the turn it arrived in plus the batches ahead of it.
 */
import { DecoderJoiner } from './decoderJoiner.js';
import type { TransducerModel } from './transducer.js';

/** What a batch needs of a stream's greedy search (GreedySearch implements it). */
export interface GreedyMember {
  decoderOut: Float32Array | undefined;
  takeFrame(logits: Float32Array, row: number, frame: number): boolean;
  context(): readonly number[];
}

interface Request {
  readonly search: GreedyMember;
  readonly encoderOut: Float32Array;
  readonly numFrames: number;
  readonly firstFrame: number;
  changed: boolean;
  readonly resolve: (changed: boolean) => void;
  readonly reject: (err: unknown) => void;
}

export class GreedyBatch {
  private readonly dj: DecoderJoiner;
  private readonly decDim: number;
  private pending: Request[] = [];
  private scheduled = false;
  private tail: Promise<void> = Promise.resolve();
  /** Joiner calls made, and the frames of all streams they covered. */
  joinerCalls = 0;
  joinerRows = 0;

  constructor(model: TransducerModel, maxRows: number) {
    this.dj = new DecoderJoiner(model, maxRows);
    this.decDim = model.geometry.decoderDim;
  }

  decode(search: GreedyMember, encoderOut: Float32Array, numFrames: number, firstFrame: number): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.pending.push({ search, encoderOut, numFrames, firstFrame, changed: false, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        const taken = this.pending;
        this.pending = [];
        for (let i = 0; i < taken.length; i += this.dj.maxRows) {
          const group = taken.slice(i, i + this.dj.maxRows);
          this.tail = this.tail.then(() =>
            this.run(group).then(
              () => group.forEach((r) => r.resolve(r.changed)),
              (err: unknown) => group.forEach((r) => r.reject(err)),
            ),
          );
        }
      });
    });
  }

  private async run(group: Request[]): Promise<void> {
    const dj = this.dj;
    const frames = Math.max(...group.map((r) => r.numFrames));
    for (let f = 0; f < frames; f++) {
      const rows = group.filter((r) => f < r.numFrames);
      rows.forEach((r, i) => {
        dj.setEncoderRow(i, r.encoderOut, f);
        dj.setDecoderRow(i, r.search.decoderOut!);
      });
      const logits = await dj.join(rows.length);
      this.joinerCalls++;
      this.joinerRows += rows.length;
      const emitted = rows.filter((r, i) => r.search.takeFrame(logits, i, r.firstFrame + f));
      if (emitted.length === 0) continue;
      emitted.forEach((r, i) => {
        r.changed = true;
        dj.setContext(i, r.search.context());
      });
      const out = await dj.decode(emitted.length);
      emitted.forEach((r, i) => {
        r.search.decoderOut = out.slice(i * this.decDim, (i + 1) * this.decDim);
      });
    }
  }
}
