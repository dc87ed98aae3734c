/**
 * Tonal pinyin syllables: parsing what the acoustic model emits ('jiāo', 'lüè', 'de', 'jiao1') and
 * encoding a toneless syllable the way sunpinyin's lexicon keys its trie (initial << 12 | final << 4).
 * ü is written `v`, sunpinyin's convention; 'lue'/'nue' are the same syllable as 'lve'/'nve'.
 */

/** Tone of a syllable: 1–4 the four tones; 0 neutral (no mark, or digit 0); 5 neutral written with digit 5. */
export type Tone = 0 | 1 | 2 | 3 | 4 | 5;

// Initials and finals in sunpinyin's index order: the index is part of the syllable id stored in
// pydict_sc.bin, so this order is a file-format constant, not a choice.
const INITIALS = [
  '',
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
  'hm',
];
const FINALS = [
  '',
  'a',
  'o',
  'e',
  'ai',
  'ei',
  'ao',
  'ou',
  'an',
  'en',
  'ang',
  'eng',
  'er',
  'i',
  'ia',
  'ie',
  'iao',
  'iu',
  'ian',
  'in',
  'iang',
  'ing',
  'u',
  'ua',
  'uo',
  'uai',
  'ui',
  'uan',
  'un',
  'uang',
  'ong',
  'v',
  've',
  'ue',
  'iong',
  'ng',
];

// The finals each initial combines with in standard Mandarin (the syllables the lexicon can hold).
const COMBINATIONS: Record<string, string> = {
  '': 'a ai an ang ao e ei en eng er o ou ng',
  b: 'a ai an ang ao ei en eng i ian iao ie in ing o u',
  p: 'a ai an ang ao ei en eng i ian iao ie in ing o ou u',
  m: 'a ai an ang ao e ei en eng i ian iao ie in ing iu o ou u',
  f: 'a an ang ei en eng iao o ou u',
  d: 'a ai an ang ao e ei en eng i ia ian iao ie ing iu ong ou u uan ui un uo',
  t: 'a ai an ang ao e ei eng i ian iao ie ing ong ou u uan ui un uo',
  n: 'a ai an ang ao e ei en eng i ian iang iao ie in ing iu ong ou u uan un uo v ve',
  l: 'a ai an ang ao e ei eng i ia ian iang iao ie in ing iu o ong ou u uan un uo v ve',
  g: 'a ai an ang ao e ei en eng ong ou u ua uai uan uang ui un uo',
  k: 'a ai an ang ao e ei en eng ong ou u ua uai uan uang ui un uo',
  h: 'a ai an ang ao e ei en eng ong ou u ua uai uan uang ui un uo',
  j: 'i ia ian iang iao ie in ing iong iu u uan ue un',
  q: 'i ia ian iang iao ie in ing iong iu u uan ue un',
  x: 'i ia ian iang iao ie in ing iong iu u uan ue un',
  zh: 'a ai an ang ao e ei en eng i ong ou u ua uai uan uang ui un uo',
  ch: 'a ai an ang ao e en eng i ong ou u ua uai uan uang ui un uo',
  sh: 'a ai an ang ao e ei en eng i ou u ua uai uan uang ui un uo',
  r: 'an ang ao e en eng i ong ou u ua uan ui un uo',
  z: 'a ai an ang ao e ei en eng i ong ou u uan ui un uo',
  c: 'a ai an ang ao e ei en eng i ong ou u uan ui un uo',
  s: 'a ai an ang ao e en eng i ong ou u uan ui un uo',
  y: 'a an ang ao e i in ing o ong ou u uan ue un',
  w: 'a ai an ang ei en eng o u',
};

/** Toneless syllable (sunpinyin spelling) → sunpinyin syllable id. */
const SYLLABLE_IDS: ReadonlyMap<string, number> = (() => {
  const ids = new Map<string, number>();
  for (const [initial, finals] of Object.entries(COMBINATIONS)) {
    for (const final of finals.split(' ')) {
      ids.set(initial + final, (INITIALS.indexOf(initial) << 12) | (FINALS.indexOf(final) << 4));
    }
  }
  return ids;
})();

// Combining marks after NFD: the four tone marks and the diaeresis of ü.
const TONE_MARKS: Record<string, Tone> = { '\u0304': 1, '\u0301': 2, '\u030c': 3, '\u0300': 4 };
const DIAERESIS = '\u0308';
const CIRCUMFLEX = '\u0302'; // ê, a rare interjection: read as e

/**
 * Parse one tonal pinyin syllable: 'jiāo' → {base:'jiao', tone:1}; 'lüè' → {base:'lve', tone:4};
 * 'de' → {base:'de', tone:0}; digit forms 'jiao1', 'de5' also parse. Null when the text is not
 * one Mandarin syllable (two tone marks, a piece like 'zh', letters outside pinyin).
 */
export function parseSyllable(text: string): { base: string; tone: Tone } | null {
  let s = text.trim().toLowerCase().normalize('NFD');
  let tone: Tone = 0;
  let marks = 0;
  const last = s.charCodeAt(s.length - 1);
  if (last >= 0x30 && last <= 0x35) {
    tone = (last - 0x30) as Tone;
    marks++;
    s = s.slice(0, -1);
  }
  let base = '';
  for (const ch of s) {
    const mark = TONE_MARKS[ch];
    if (mark !== undefined) {
      tone = mark;
      marks++;
    } else if (ch === DIAERESIS) {
      if (!base.endsWith('u')) return null;
      base = base.slice(0, -1) + 'v';
    } else if (ch === CIRCUMFLEX) {
      continue;
    } else if (ch >= 'a' && ch <= 'z') {
      base += ch;
    } else {
      return null;
    }
  }
  if (marks > 1) return null;
  base = canonicalBase(base);
  return SYLLABLE_IDS.has(base) ? { base, tone } : null;
}

/** Spelling variants the acoustic model or pinyin-pro may use, folded to sunpinyin's spelling. */
function canonicalBase(base: string): string {
  // ü after j/q/x/y is written u in standard pinyin; lue/nue are lve/nve in sunpinyin.
  if (/^[jqxy]v/.test(base)) return base[0]! + 'u' + base.slice(2);
  if (base === 'lue' || base === 'nue') return base[0]! + 've';
  // 嗯 'ń', 'ňg': sunpinyin spells the syllabic nasal ng
  if (base === 'n') return 'ng';
  return base;
}

/** sunpinyin's id of a toneless syllable ('jiao'), 0 when it is not a Mandarin syllable. */
export function syllableId(base: string): number {
  return SYLLABLE_IDS.get(base) ?? 0;
}

/** The toneless spelling of a sunpinyin syllable id (inverse of syllableId), '' when unknown. */
export function syllableText(id: number): string {
  const initial = INITIALS[id >>> 12];
  const final = FINALS[(id >>> 4) & 0xff];
  if (initial === undefined || final === undefined) return '';
  return SYLLABLE_IDS.get(initial + final) === (id & ~0xf) ? initial + final : '';
}

/** Tone as a bit of a 5-bit reading mask: bit 0 neutral (0 and 5), bits 1–4 the four tones. */
export function toneBit(tone: Tone): number {
  return tone === 5 ? 1 : 1 << tone;
}
