/**
 * Modified beam search (at most one symbol per frame, beam `beamSize`, hypotheses merged by token
 * sequence with log-add), as in icefall / sherpa-onnx `modified_beam_search`, with optional
 * contextual biasing through a ContextGraph. One batched joiner call per frame for all live
 * hypotheses and one batched decoder call for those that emitted a token.
 */
import type { ContextGraph, ContextNode } from './contextGraph.js';
import { DecoderJoiner } from './decoderJoiner.js';
import type { Hypothesis, ScoredHypothesis } from './hypothesis.js';
import type { TransducerModel } from './transducer.js';

export interface BeamHyp {
  readonly ys: number[];
  readonly frames: number[];
  readonly tokenLogProbs: number[];
  /** Acoustic + biasing score. */
  logProb: number;
  context: ContextNode | undefined;
  /** Row of decoderOut holding this hypothesis' decoder output. */
  decoderOut: Float32Array;
  decoderRow: number;
  trailingBlanks: number;
  /** Last phrase completion (for keyword spotting). */
  matched: ContextNode | undefined;
  matchedAtFrame: number;
}

export interface BeamSearchOptions {
  readonly beamSize: number;
  readonly context?: ContextGraph | undefined;
}

export class ModifiedBeamSearch {
  readonly beamSize: number;
  readonly context: ContextGraph | undefined;
  private readonly dj: DecoderJoiner;
  private readonly blank: number;
  private readonly unk: number;
  hyps: BeamHyp[] = [];
  // scratch for top-k selection
  private readonly candScore: Float64Array;
  private readonly candRow: Int32Array;
  private readonly candToken: Int32Array;
  private readonly rowLogNorm: Float64Array;

  constructor(model: TransducerModel, options: BeamSearchOptions) {
    this.beamSize = options.beamSize;
    this.context = options.context !== undefined && !options.context.isEmpty ? options.context : undefined;
    this.dj = new DecoderJoiner(model, options.beamSize);
    this.blank = model.tokens.blankId;
    this.unk = model.tokens.unkId;
    this.candScore = new Float64Array(options.beamSize);
    this.candRow = new Int32Array(options.beamSize);
    this.candToken = new Int32Array(options.beamSize);
    this.rowLogNorm = new Float64Array(options.beamSize);
  }

  get trailingBlankFrames(): number {
    return this.bestHyp()?.trailingBlanks ?? 0;
  }

  async reset(): Promise<void> {
    const ctx: number[] = [];
    for (let i = 0; i < this.dj.contextSize - 1; i++) ctx.push(-1);
    ctx.push(this.blank);
    this.dj.setContext(0, ctx);
    const out = (await this.dj.decode(1)).slice();
    this.hyps = [
      {
        ys: [],
        frames: [],
        tokenLogProbs: [],
        logProb: 0,
        context: this.context?.root,
        decoderOut: out,
        decoderRow: 0,
        trailingBlanks: 0,
        matched: undefined,
        matchedAtFrame: -1,
      },
    ];
  }

  async decodeChunk(encoderOut: Float32Array, numFrames: number, firstFrame: number): Promise<boolean> {
    if (this.hyps.length === 0) await this.reset();
    let changed = false;
    for (let f = 0; f < numFrames; f++) {
      if (await this.decodeFrame(encoderOut, f, firstFrame + f)) changed = true;
    }
    return changed;
  }

  /** Advance all hypotheses by encoder frame `f` of `encoderOut` (stream frame `frame`). */
  async decodeFrame(encoderOut: Float32Array, f: number, frame: number): Promise<boolean> {
    const dj = this.dj;
    const vocab = dj.vocabSize;
    const hyps = this.hyps;
    const n = hyps.length;
    for (let r = 0; r < n; r++) {
      dj.setEncoderRow(r, encoderOut, f);
      dj.setDecoderRow(r, hyps[r]!.decoderOut, hyps[r]!.decoderRow);
    }
    const logits = await dj.join(n);
    // log-softmax normaliser per row
    for (let r = 0; r < n; r++) {
      const base = r * vocab;
      let max = -Infinity;
      for (let i = 0; i < vocab; i++) if (logits[base + i]! > max) max = logits[base + i]!;
      let sum = 0;
      for (let i = 0; i < vocab; i++) sum += Math.exp(logits[base + i]! - max);
      this.rowLogNorm[r] = max + Math.log(sum);
    }
    // top-k over all (row, token) pairs of hyp.logProb + log p(token)
    const k = this.beamSize;
    let filled = 0;
    let minIdx = 0;
    for (let r = 0; r < n; r++) {
      const base = r * vocab;
      const offset = hyps[r]!.logProb - this.rowLogNorm[r]!;
      for (let t = 0; t < vocab; t++) {
        const s = offset + logits[base + t]!;
        if (filled < k) {
          this.candScore[filled] = s;
          this.candRow[filled] = r;
          this.candToken[filled] = t;
          filled++;
          if (filled === k) minIdx = argmin(this.candScore, k);
        } else if (s > this.candScore[minIdx]!) {
          this.candScore[minIdx] = s;
          this.candRow[minIdx] = r;
          this.candToken[minIdx] = t;
          minIdx = argmin(this.candScore, k);
        }
      }
    }
    const next = new Map<string, BeamHyp>();
    const needDecoder: BeamHyp[] = [];
    let emitted = false;
    for (let c = 0; c < filled; c++) {
      const src = hyps[this.candRow[c]!]!;
      const t = this.candToken[c]!;
      const score = this.candScore[c]!;
      let hyp: BeamHyp;
      if (t === this.blank || t === this.unk) {
        hyp = { ...src, logProb: score, trailingBlanks: src.trailingBlanks + 1 };
      } else {
        const tokenLogProb = logits[this.candRow[c]! * vocab + t]! - this.rowLogNorm[this.candRow[c]!]!;
        let logProb = score;
        let context = src.context;
        let matched = src.matched;
        let matchedAtFrame = src.matchedAtFrame;
        if (this.context !== undefined && context !== undefined) {
          const stepped = this.context.step(context, t);
          logProb += stepped.delta;
          context = stepped.node;
          if (stepped.matched !== undefined) {
            matched = stepped.matched;
            matchedAtFrame = frame;
          }
        }
        hyp = {
          ys: [...src.ys, t],
          frames: [...src.frames, frame],
          tokenLogProbs: [...src.tokenLogProbs, tokenLogProb],
          logProb,
          context,
          decoderOut: src.decoderOut,
          decoderRow: src.decoderRow,
          trailingBlanks: 0,
          matched,
          matchedAtFrame,
        };
        needDecoder.push(hyp);
        emitted = true;
      }
      const key = hyp.ys.join(',');
      const prev = next.get(key);
      if (prev === undefined) {
        next.set(key, hyp);
      } else {
        // Same token sequence reached twice: merge (log-add), keep the better path's details.
        const merged = logAdd(prev.logProb, hyp.logProb);
        if (hyp.logProb > prev.logProb) {
          hyp.logProb = merged;
          next.set(key, hyp);
        } else {
          prev.logProb = merged;
        }
      }
    }
    const live = [...next.values()];
    const pending = needDecoder.filter((h) => live.includes(h));
    if (pending.length > 0) {
      for (let r = 0; r < pending.length; r++) dj.setContext(r, pending[r]!.ys);
      const out = (await dj.decode(pending.length)).slice();
      for (let r = 0; r < pending.length; r++) {
        pending[r]!.decoderOut = out;
        pending[r]!.decoderRow = r;
      }
    }
    this.hyps = live;
    return emitted;
  }

  bestHyp(): BeamHyp | undefined {
    let best: BeamHyp | undefined;
    let bestScore = -Infinity;
    for (const h of this.hyps) {
      // length-normalised, as icefall's get_most_probable(length_norm=True)
      const s = h.logProb / Math.max(1, h.ys.length);
      if (s > bestScore) {
        bestScore = s;
        best = h;
      }
    }
    return best;
  }

  best(): Hypothesis {
    const h = this.bestHyp();
    return { tokens: h?.ys ?? [], frames: h?.frames ?? [], tokenLogProbs: h?.tokenLogProbs ?? [] };
  }

  /** The n best live hypotheses, length-normalised score order (call after final()). */
  nbest(n: number): ScoredHypothesis[] {
    return [...this.hyps]
      .sort((a, b) => b.logProb / Math.max(1, b.ys.length) - a.logProb / Math.max(1, a.ys.length))
      .slice(0, n)
      .map((h) => ({ hypothesis: { tokens: h.ys, frames: h.frames, tokenLogProbs: h.tokenLogProbs }, logProb: h.logProb }));
  }

  /** Best hypothesis after taking back the bonus of unfinished biasing matches. */
  final(): Hypothesis {
    if (this.context !== undefined) {
      for (const h of this.hyps) if (h.context !== undefined) h.logProb += this.context.finalize(h.context);
    }
    return this.best();
  }
}

function argmin(a: Float64Array, n: number): number {
  let idx = 0;
  for (let i = 1; i < n; i++) if (a[i]! < a[idx]!) idx = i;
  return idx;
}

function logAdd(a: number, b: number): number {
  const m = Math.max(a, b);
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}
