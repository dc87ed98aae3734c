/** A decoding result before it becomes words: token ids, their encoder frames and log-probabilities. */
export interface Hypothesis {
  readonly tokens: readonly number[];
  /** Utterance-relative encoder frame of each token. */
  readonly frames: readonly number[];
  /** log P(token) from the joiner at emission. */
  readonly tokenLogProbs: readonly number[];
}

/** What a search strategy offers the stream. */
export interface Search {
  readonly trailingBlankFrames: number;
  reset(): Promise<void>;
  decodeChunk(encoderOut: Float32Array, numFrames: number, firstFrame: number): Promise<boolean>;
  /** Best hypothesis so far (partial). */
  best(): Hypothesis;
  /** Best hypothesis at the end of an utterance (biasing bonuses of unfinished matches removed). */
  final?(): Hypothesis;
  /** The `n` best hypotheses at the end of an utterance, best first (searches that keep several). */
  nbest?(n: number): ScoredHypothesis[];
}

/** One entry of a search's n-best list: a hypothesis and its total log score. */
export interface ScoredHypothesis {
  readonly hypothesis: Hypothesis;
  readonly logProb: number;
}
