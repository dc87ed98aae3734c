/**
 * Keyword spotting on the recognizer's own encoder output: a second modified beam search whose
 * context graph holds only the keyword phrases (each token boosted), in the manner of sherpa-onnx's
 * keyword spotter. A keyword fires when the best hypothesis has just completed a phrase and the
 * phrase's tokens have a mean probability of at least the phrase threshold. After a hit the
 * search restarts so the same words are not reported twice.
 */
import { ContextGraph, type ContextPhrase } from './contextGraph.js';
import { ModifiedBeamSearch } from './beam.js';
import type { TransducerModel } from './transducer.js';

export interface KeywordHit {
  readonly keyword: string;
  /** Stream frames of the first and last keyword token. */
  readonly firstFrame: number;
  readonly lastFrame: number;
  /** Mean token probability of the keyword's tokens, 0..1. */
  readonly score: number;
}

export const DEFAULT_KEYWORD_BOOST = 1.0;
export const DEFAULT_KEYWORD_THRESHOLD = 0.25;

export class KeywordSpotter {
  private readonly search: ModifiedBeamSearch;

  constructor(model: TransducerModel, phrases: readonly ContextPhrase[], beamSize = 4) {
    this.search = new ModifiedBeamSearch(model, { beamSize, context: new ContextGraph(phrases) });
  }

  async reset(): Promise<void> {
    await this.search.reset();
  }

  /** Decode a chunk; returns the keywords completed in it. */
  async decodeChunk(encoderOut: Float32Array, numFrames: number, firstFrame: number): Promise<KeywordHit[]> {
    if (this.search.hyps.length === 0) await this.search.reset();
    const hits: KeywordHit[] = [];
    for (let f = 0; f < numFrames; f++) {
      const frame = firstFrame + f;
      await this.search.decodeFrame(encoderOut, f, frame);
      const best = this.search.bestHyp();
      if (best?.matched?.phrase === undefined || best.matchedAtFrame !== frame) continue;
      const phrase = best.matched.phrase;
      const k = phrase.tokens.length;
      const n = best.ys.length;
      if (n < k) continue;
      let sum = 0;
      for (let i = n - k; i < n; i++) sum += Math.exp(best.tokenLogProbs[i]!);
      const score = sum / k;
      if (score >= (phrase.threshold ?? DEFAULT_KEYWORD_THRESHOLD)) {
        hits.push({ keyword: phrase.text, firstFrame: best.frames[n - k]!, lastFrame: frame, score });
        await this.search.reset();
      }
    }
    return hits;
  }
}
