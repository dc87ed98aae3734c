/** Tokens with frame times → words with start/end times and confidences. */
import type { Hypothesis } from './hypothesis.js';
import { WORD_START, type TokenTable } from './tokens.js';

export interface WordTiming {
  readonly word: string;
  readonly startMs: number;
  readonly endMs: number;
  /** exp(mean token log-probability) of the word's tokens. */
  readonly confidence: number;
}

/**
 * Group tokens into words (a token starting with ▁ starts a word). A word starts at its first
 * token's time and ends one encoder frame after its last token, never after the next word starts.
 * `frameMs(frame)` maps a token's frame to stream time.
 */
export function toWords(h: Hypothesis, tokens: TokenTable, frameMs: (frame: number) => number, encoderFrameMs: number): WordTiming[] {
  const words: { text: string; first: number; last: number; logSum: number; n: number }[] = [];
  for (let i = 0; i < h.tokens.length; i++) {
    const sym = tokens.symbol(h.tokens[i]!);
    const lp = h.tokenLogProbs[i] ?? 0;
    const cur = words[words.length - 1];
    if (sym.startsWith(WORD_START) || cur === undefined) {
      words.push({ text: sym.replaceAll(WORD_START, ''), first: i, last: i, logSum: lp, n: 1 });
    } else {
      cur.text += sym;
      cur.last = i;
      cur.logSum += lp;
      cur.n++;
    }
  }
  const out: WordTiming[] = [];
  for (let w = 0; w < words.length; w++) {
    const cur = words[w]!;
    if (cur.text === '') continue;
    const startMs = Math.round(frameMs(h.frames[cur.first]!));
    let endMs = Math.round(frameMs(h.frames[cur.last]!) + encoderFrameMs);
    const next = words[w + 1];
    if (next !== undefined) endMs = Math.min(endMs, Math.round(frameMs(h.frames[next.first]!)));
    out.push({ word: cur.text, startMs, endMs: Math.max(startMs, endMs), confidence: Math.exp(cur.logSum / cur.n) });
  }
  return out;
}

/** exp(mean log-probability) over all tokens; 0 for an empty hypothesis. */
export function hypothesisConfidence(h: Hypothesis): number {
  if (h.tokenLogProbs.length === 0) return 0;
  let s = 0;
  for (const lp of h.tokenLogProbs) s += lp;
  return Math.exp(s / h.tokenLogProbs.length);
}
