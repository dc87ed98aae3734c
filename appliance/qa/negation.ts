/**
 * Negation and clauses for semantic QA rules (English). Sentence embeddings barely separate a
 * sentence from its negation ("I will not resolve this" is about 0.9 cosine from "I will resolve
 * this"), so a semantic rule also compares polarity: a clause that carries a negation cue does not
 * satisfy a phrase that carries none (and the other way round).
 *
 * Idioms that contain a cue but negate nothing the rule is about ("no problem", "don't worry",
 * "not at all") are removed before cues are looked for. Clauses are split at punctuation and at
 * "but" / "however" / "although", which is where contrast usually turns ("I understand your
 * frustration but I can't refund it" holds the empathy clause and a negated one).
 */

/** Words that negate what follows them. */
const CUE_WORDS = new Set([
  'not',
  'no',
  'never',
  'nothing',
  'none',
  'nobody',
  'nowhere',
  'neither',
  'nor',
  'cannot',
  'unable',
  'refuse',
  'refuses',
  'refused',
]);

/** Contractions of a negation: can't, won't, don't, isn't, wasn't, haven't, couldn't, ... ('nt' when typed without the apostrophe). */
const CONTRACTED = /^[a-z]+n['’]t$/;
const BARE_CONTRACTIONS = new Set([
  'cant',
  'wont',
  'dont',
  'doesnt',
  'didnt',
  'isnt',
  'arent',
  'wasnt',
  'werent',
  'havent',
  'hasnt',
  'hadnt',
  'couldnt',
  'shouldnt',
  'wouldnt',
  'mustnt',
  'neednt',
  'aint',
]);

/** Phrases with a cue that negate nothing a rule is about; removed before cues are looked for. */
const IDIOMS = [
  'no problem',
  'no problems',
  'not a problem',
  'no worries',
  'no worry',
  "don't worry",
  'dont worry',
  'do not worry',
  'not at all',
  'no doubt',
  'not only',
  'never mind',
  'no matter',
  'if not',
  'no later than',
  "why don't i",
  'why dont i',
  'no need to worry',
];

const IDIOM_RE = new RegExp(
  `\\b(?:${IDIOMS.map((i) => i.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/'/g, "['’]")).join('|')})\\b`,
  'giu',
);

/** Lower-cased words of a text (letters, digits, apostrophes). */
function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}'’]+/gu) ?? [];
}

/** The negation cues of a text, in order (idioms such as "no problem" are not cues). */
export function negationCues(text: string): string[] {
  const stripped = text.replace(IDIOM_RE, ' ');
  return words(stripped).filter((w) => CUE_WORDS.has(w) || CONTRACTED.test(w) || BARE_CONTRACTIONS.has(w));
}

/** Whether a text says something negated or refused. */
export function isNegated(text: string): boolean {
  return negationCues(text).length > 0;
}

/** One clause of an utterance: its text and UTF-16 offsets in the utterance. */
export interface Clause {
  text: string;
  start: number;
  end: number;
}

/** Where a clause ends: punctuation that closes a sentence or part of it. */
const BREAK = /[.!?;:,，。！？；：]+/gu;
/** Words that open a contrasting clause (the clause starts at the word). */
const CONTRAST = /\b(?:but|however|although|though|unfortunately)\b/giu;

/**
 * The clauses of an utterance: split at punctuation and before contrast words. Pieces without a
 * letter are dropped. Always at least the whole text when it has a letter.
 */
export function clauses(text: string): Clause[] {
  const cuts = new Set<number>([0, text.length]);
  for (const m of text.matchAll(BREAK)) {
    cuts.add(m.index);
    cuts.add(m.index + m[0].length);
  }
  for (const m of text.matchAll(CONTRAST)) cuts.add(m.index);
  const at = [...cuts].sort((a, b) => a - b);
  const out: Clause[] = [];
  for (let i = 0; i + 1 < at.length; i++) {
    const raw = text.slice(at[i], at[i + 1]);
    if (!/\p{L}/u.test(raw)) continue;
    const lead = raw.length - raw.trimStart().length;
    const body = raw.trim();
    out.push({ text: body, start: at[i]! + lead, end: at[i]! + lead + body.length });
  }
  return out;
}
