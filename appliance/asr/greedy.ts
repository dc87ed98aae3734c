/**
 * Greedy transducer search exactly as the model card (and sherpa-onnx greedy_search) does it:
 * initial decoder context [-1, blank]; per encoder frame one joiner call and an argmax; blank and
 * <unk> emit nothing; any other token is emitted (at most one per frame) and the decoder is rerun
 * on the last `contextSize` tokens.
 */
import { DecoderJoiner, logSoftmaxAt } from './decoderJoiner.js';
import type { Hypothesis } from './hypothesis.js';
import type { TransducerModel } from './transducer.js';

export class GreedySearch {
  private readonly dj: DecoderJoiner;
  private readonly blank: number;
  private readonly unk: number;
  private ys: number[] = [];
  private frames: number[] = [];
  private logProbs: number[] = [];
  private decoderOut: Float32Array | undefined;
  /** Encoder frames since the last emitted token. */
  trailingBlankFrames = 0;

  constructor(model: TransducerModel) {
    this.dj = new DecoderJoiner(model, 1);
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
    this.decoderOut = await this.dj.decode(1);
    this.dj.setDecoderRow(0, this.decoderOut);
  }

  /** Decode `numFrames` encoder frames; `firstFrame` is the utterance-relative index of the first. */
  async decodeChunk(encoderOut: Float32Array, numFrames: number, firstFrame: number): Promise<boolean> {
    if (this.decoderOut === undefined) await this.reset();
    const dj = this.dj;
    const vocab = dj.vocabSize;
    let changed = false;
    for (let f = 0; f < numFrames; f++) {
      dj.setEncoderRow(0, encoderOut, f);
      const logits = await dj.join(1);
      let best = 0;
      let bestValue = logits[0]!;
      for (let i = 1; i < vocab; i++) {
        if (logits[i]! > bestValue) {
          bestValue = logits[i]!;
          best = i;
        }
      }
      if (best === this.blank || best === this.unk) {
        this.trailingBlankFrames++;
        continue;
      }
      this.ys.push(best);
      this.frames.push(firstFrame + f);
      this.logProbs.push(logSoftmaxAt(logits, 0, vocab, best));
      this.trailingBlankFrames = 0;
      changed = true;
      dj.setContext(0, this.ys);
      this.decoderOut = await dj.decode(1);
      dj.setDecoderRow(0, this.decoderOut);
    }
    return changed;
  }

  best(): Hypothesis {
    return { tokens: this.ys, frames: this.frames, tokenLogProbs: this.logProbs };
  }
}
