/**
 * Tonal-pinyin token sets (the Mandarin transducer's units): an initial token (`zh`, `j`, `y`…)
 * followed by a tone-marked final (`iāo`, `ì`, `uàng`…). Recognised here from the tokens
 * themselves, never from a model's name, and grouped back into syllables with times.
 */
import type { Hypothesis } from './hypothesis.js';
import type { TokenTable } from './tokens.js';

const INITIALS = new Set([
  'b',
  'p',
  'm',
  'f',
  'd',
  't',
  'n',
  'l',
  'g',
  'k',
  'h',
  'j',
  'q',
  'x',
  'zh',
  'ch',
  'sh',
  'r',
  'z',
  'c',
  's',
  'y',
  'w',
]);
/** Vowels with a tone mark (macron, acute, caron, grave), ü included. */
const TONED = /[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ]/u;
/** A final: lower-case pinyin letters, toned or neutral (`iāo`, `e`, `er`), not an initial. */
const FINAL = /^[aeiouüāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿngr]+$/u;

/** A token table is pinyin when it spells syllables as initials + tone-marked finals. */
export function isPinyinTokenSet(tokens: TokenTable): boolean {
  let initials = 0;
  let toned = 0;
  for (const s of tokens.symbols) {
    if (INITIALS.has(s)) initials++;
    else if (TONED.test(s)) toned++;
  }
  return initials >= 18 && toned >= 50;
}

export function isInitial(symbol: string): boolean {
  return INITIALS.has(symbol);
}

export function isFinal(symbol: string): boolean {
  return !INITIALS.has(symbol) && /^[aeiouüāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ]/u.test(symbol) && FINAL.test(symbol);
}

/** One recognised syllable (or a letter the model spells on its own), with its time span. */
export interface TimedSyllable {
  readonly text: string;
  readonly startMs: number;
  readonly endMs: number;
  /** Sum of the log-probabilities of its tokens. */
  readonly logProb: number;
  readonly tokens: number;
}

/**
 * Group a hypothesis' tokens into syllables: an initial joins the final after it; a final alone is
 * a zero-initial syllable; an initial with no final after it, and any other symbol (capital
 * letters, `○`), stands alone. A syllable starts at its first token's frame and ends one encoder
 * frame after its last token, never after the next syllable starts.
 */
export function toSyllables(
  h: Hypothesis,
  tokens: TokenTable,
  frameMs: (frame: number) => number,
  encoderFrameMs: number,
): TimedSyllable[] {
  const groups: { text: string; first: number; last: number; logProb: number; n: number }[] = [];
  let open: (typeof groups)[number] | undefined;
  for (let i = 0; i < h.tokens.length; i++) {
    const sym = tokens.symbol(h.tokens[i]!);
    const lp = h.tokenLogProbs[i] ?? 0;
    if (open !== undefined && isFinal(sym)) {
      open.text += sym;
      open.last = i;
      open.logProb += lp;
      open.n++;
      open = undefined;
      continue;
    }
    const g = { text: sym, first: i, last: i, logProb: lp, n: 1 };
    groups.push(g);
    open = isInitial(sym) ? g : undefined;
  }
  const out: TimedSyllable[] = [];
  for (let k = 0; k < groups.length; k++) {
    const g = groups[k]!;
    const startMs = Math.round(frameMs(h.frames[g.first]!));
    let endMs = Math.round(frameMs(h.frames[g.last]!) + encoderFrameMs);
    const next = groups[k + 1];
    if (next !== undefined) endMs = Math.min(endMs, Math.round(frameMs(h.frames[next.first]!)));
    out.push({ text: g.text, startMs, endMs: Math.max(startMs, endMs), logProb: g.logProb, tokens: g.n });
  }
  return out;
}
