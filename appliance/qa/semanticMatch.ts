/**
 * How a semantic rule reads an utterance. English utterances are cut into segments (the whole
 * utterance, and its clauses when it has several); a segment says a phrase when its sentence
 * embedding is within the rule's cosine threshold of the phrase's AND both have the same polarity
 * (a negated segment never says a positive phrase: "I will not resolve this" is not "I will resolve
 * this", although their embeddings are close). The embedding model is English only: Chinese
 * utterances (language 'zh', or text in Han script) and any utterance without a vector are matched
 * on the phrases' exact words instead, as keyword rules are.
 */
import { clauses, isNegated } from './negation.js';

const HAN = /\p{Script=Han}/u;

/** Whether a text is matched by exact words only (Chinese: the embedding model is English). */
export function keywordOnly(text: string, language?: string): boolean {
  return language === 'zh' || HAN.test(text);
}

/** A piece of an utterance that is embedded and compared: the whole text, then its clauses. */
export interface Segment {
  text: string;
  start: number;
  end: number;
  negated: boolean;
}

/** Clauses shorter than this many words ("Sorry", "but let me explain") are not compared alone: too little to carry an act. */
export const MIN_CLAUSE_WORDS = 3;

export function semanticSegments(text: string): Segment[] {
  const all = clauses(text);
  const parts = all.length > 1 ? all.filter((c) => (c.text.match(/[\p{L}\p{N}'’]+/gu) ?? []).length >= MIN_CLAUSE_WORDS) : [];
  const whole = text.trim();
  const lead = text.length - text.trimStart().length;
  const segments = [{ text: whole, start: lead, end: lead + whole.length }, ...parts];
  return segments.filter((s) => s.text !== '').map((s) => ({ ...s, negated: isNegated(s.text) }));
}

/** Cosine similarity of two vectors of the same length (0 when either is all zeros). */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** Phrases of a semantic rule matched by meaning (the others, Chinese, by exact words). */
export function semanticPhrases(phrases: readonly string[]): string[] {
  return phrases.filter((p) => !keywordOnly(p));
}

/** What a segment matched: the phrase, its similarity (1 for an exact-word match). */
export interface SegmentMatch {
  phrase: string;
  similarity: number;
}

/**
 * The best phrase a segment says (at or above the threshold, same polarity), or null; `best` is the
 * highest same-polarity similarity seen, matched or not.
 */
export function matchSegment(
  segment: Segment,
  vector: Float32Array,
  phrases: readonly { phrase: string; vector: Float32Array; negated: boolean }[],
  threshold: number,
): { match: SegmentMatch | null; best: number } {
  let best = 0;
  let match: SegmentMatch | null = null;
  for (const p of phrases) {
    if (p.negated !== segment.negated) continue;
    const s = cosine(vector, p.vector);
    if (s > best) best = s;
    if (s >= threshold && (match === null || s > match.similarity)) match = { phrase: p.phrase, similarity: s };
  }
  return { match, best };
}
