/**
 * Greedy transducer search exactly as the model card (and sherpa-onnx greedy_search) does it:
 * initial decoder context [-1, blank]; per encoder frame a joiner row and an argmax; blank and
 * <unk> emit nothing; any other token is emitted (at most one per frame) and the decoder is rerun
 * on the last `contextSize` tokens.
 *
 * Alone, each stream makes its own joiner calls: one per frame, or, with a joiner whose rows are
 * independent, one per run of frames up to the next emitted token (greedyFrames.ts). With a
 * GreedyBatch (greedyBatch.ts) the streams of one encoder batch share the calls. The per-frame
 * decision below is the same code in every case.
 */
import { DecoderJoiner, logSoftmaxAt } from './decoderJoiner.js';
import type { GreedyBatch } from './greedyBatch.js';
import { decideFrames, type GreedyMember } from './greedyFrames.js';
import type { Hypothesis } from './hypothesis.js';
import type { TransducerModel } from './transducer.js';

export class GreedySearch implements GreedyMember {
  private readonly dj: DecoderJoiner;
  private readonly batch: GreedyBatch | undefined;
  private readonly blank: number;
  private readonly unk: number;
  private ys: number[] = [];
  private frames: number[] = [];
  private logProbs: number[] = [];
  /** The decoder output for the current context (decoderDim values). */
  decoderOut: Float32Array | undefined;
  /** Encoder frames since the last emitted token. */
  trailingBlankFrames = 0;

  /**
   * `framesPerCall`: frames of this stream per joiner call when it runs alone (default: a whole
   * chunk when the joiner's rows are independent, else 1; 1 forces the frame-by-frame loop).
   */
  constructor(model: TransducerModel, batch?: GreedyBatch, framesPerCall?: number) {
    const g = model.geometry;
    const perCall = framesPerCall ?? (g.joinerRowsIndependent ? g.encoderFramesPerChunk : 1);
    if (perCall > 1 && !g.joinerRowsIndependent)
      throw new RangeError(`${model.files.joiner}: several frames per joiner call need a joiner whose rows are independent`);
    this.dj = new DecoderJoiner(model, Math.max(1, Math.floor(perCall)));
    this.batch = batch;
    this.blank = model.tokens.blankId;
    this.unk = model.tokens.unkId;
  }

  /** Start a new utterance. */
  async reset(): Promise<void> {
    this.ys = [];
    this.frames = [];
    this.logProbs = [];
    this.trailingBlankFrames = 0;
    // Context [-1, blank]: a "no token" id then blank.
    const ctx: number[] = [];
    for (let i = 0; i < this.dj.contextSize - 1; i++) ctx.push(-1);
    ctx.push(this.blank);
    this.dj.setContext(0, ctx);
    this.decoderOut = (await this.dj.decode(1)).slice(0, this.dj.model.geometry.decoderDim);
  }

  /** Decode `numFrames` encoder frames; `firstFrame` is the utterance-relative index of the first. */
  async decodeChunk(encoderOut: Float32Array, numFrames: number, firstFrame: number): Promise<boolean> {
    if (this.decoderOut === undefined) await this.reset();
    if (this.batch) return this.batch.decode(this, encoderOut, numFrames, firstFrame);
    const work = { search: this, encoderOut, numFrames, firstFrame, changed: false };
    await decideFrames(this.dj, [work], this.dj.maxRows);
    return work.changed;
  }

  /**
   * The decision for one frame from row `row` of the joiner's logits: true when a token was emitted
   * (then the caller reruns the decoder on `context()` and stores the result in `decoderOut`).
   */
  takeFrame(logits: Float32Array, row: number, frame: number): boolean {
    const vocab = this.dj.vocabSize;
    const base = row * vocab;
    let best = 0;
    let bestValue = logits[base]!;
    for (let i = 1; i < vocab; i++) {
      if (logits[base + i]! > bestValue) {
        bestValue = logits[base + i]!;
        best = i;
      }
    }
    if (best === this.blank || best === this.unk) {
      this.trailingBlankFrames++;
      return false;
    }
    this.ys.push(best);
    this.frames.push(frame);
    this.logProbs.push(logSoftmaxAt(logits, row, vocab, best));
    this.trailingBlankFrames = 0;
    return true;
  }

  /** Tokens so far (the decoder's context is the last contextSize of them). */
  context(): readonly number[] {
    return this.ys;
  }

  best(): Hypothesis {
    return { tokens: this.ys, frames: this.frames, tokenLogProbs: this.logProbs };
  }
}
