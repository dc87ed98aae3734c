/**
 * Search terms of knowledge text and of what callers say: Chinese runs segmented into words by
 * `Intl.Segmenter('zh', { granularity: 'word' })`, other words lower-cased with apostrophes dropped
 * (`don't` → `dont`, as the intent normaliser does) and a plural `s` taken off long words, so
 * "cards" finds "card". The same function serves indexing and queries, so both sides agree.
 */
const SEGMENTER = new Intl.Segmenter('zh', { granularity: 'word' });
const HAN = /\p{Script=Han}/u;
const HAN_RUN = /(\p{Script=Han}+)/u;
/** Letters or digits in a word, apostrophes inside words (ASCII and typographic). */
const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*/gu;

/** One English term: lower case, no apostrophes, a trailing plural `s` removed (not `ss`, `us`, `is`). */
export function englishTerm(word: string): string {
  const w = word.toLowerCase().replace(/['’]/g, '');
  if (w.length > 3 && w.endsWith('s') && !/(ss|us|is)$/.test(w))
    return w.endsWith('ies') && w.length > 4 ? `${w.slice(0, -3)}y` : w.slice(0, -1);
  return w;
}

/** The search terms of a text, in order (duplicates kept: BM25 counts them). */
export function searchTerms(text: string): string[] {
  const out: string[] = [];
  // Only Han runs go through the segmenter (ICU word breaking is the slow part); the rest is split on letters and digits.
  for (const part of text.normalize('NFKC').split(HAN_RUN)) {
    if (part === '') continue;
    if (HAN.test(part)) {
      for (const s of SEGMENTER.segment(part)) if (s.isWordLike === true) out.push(s.segment);
    } else for (const m of part.matchAll(WORD)) out.push(englishTerm(m[0]));
  }
  return out;
}
