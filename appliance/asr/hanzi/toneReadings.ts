/**
 * The tones a lexicon word is read with, from pinyin-pro: one 5-bit mask per character (bit 0
 * neutral, bits 1–4 the four tones), so a recognised tone can be checked per character.
 * A multi-character word takes pinyin-pro's reading in context (it reads 的确 as dí què); a
 * character whose contextual reading has another spelling than the lexicon path (a polyphone), and
 * every single-character word, takes all its readings with that spelling. A character pinyin-pro
 * cannot read gets every tone (no evidence, no penalty).
 */
import { pinyin } from 'pinyin-pro';
import { parseSyllable, toneBit } from './syllable.js';

const ANY_TONE = 0x1f;

/** Tone masks of `word` read as the toneless syllables `bases` (one per character). */
export function toneMasks(word: string, bases: readonly string[]): Uint8Array {
  const chars = [...word];
  const masks = new Uint8Array(bases.length).fill(ANY_TONE);
  if (chars.length !== bases.length) return masks; // 儿化 and the like: no per-character check
  const context = chars.length > 1 ? pinyin(word, { type: 'array', toneType: 'num', v: true }) : [];
  for (let k = 0; k < chars.length; k++) {
    const base = bases[k]!;
    const reading = context.length === chars.length ? parseSyllable(context[k]!) : null;
    if (reading && reading.base === base) {
      masks[k] = toneBit(reading.tone);
      continue;
    }
    let mask = 0;
    for (const r of pinyin(chars[k]!, { type: 'array', toneType: 'num', v: true, multiple: true })) {
      const p = parseSyllable(r);
      if (p && p.base === base) mask |= toneBit(p.tone);
    }
    masks[k] = mask === 0 ? ANY_TONE : mask;
  }
  return masks;
}
