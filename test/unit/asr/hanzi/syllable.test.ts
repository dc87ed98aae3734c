/**
 * Tonal pinyin as the Mandarin model emits it → toneless base (sunpinyin spelling) + tone, and the
 * syllable ids sunpinyin's lexicon is keyed by.
 */
import { describe, expect, it } from 'vitest';
import { parseSyllable, syllableId, syllableText, toneBit } from '../../../../appliance/asr/hanzi/syllable.js';

describe('parseSyllable', () => {
  it('reads tone marks on any vowel, and the neutral tone as no mark', () => {
    expect(parseSyllable('jiāo')).toEqual({ base: 'jiao', tone: 1 });
    expect(parseSyllable('qíng')).toEqual({ base: 'qing', tone: 2 });
    expect(parseSyllable('kuǎ')).toEqual({ base: 'kua', tone: 3 });
    expect(parseSyllable('yì')).toEqual({ base: 'yi', tone: 4 });
    expect(parseSyllable('de')).toEqual({ base: 'de', tone: 0 });
    expect(parseSyllable('JIĀO')).toEqual({ base: 'jiao', tone: 1 });
  });

  it('writes ü as v (sunpinyin), with or without a tone mark, and folds its spelling variants', () => {
    expect(parseSyllable('nǚ')).toEqual({ base: 'nv', tone: 3 });
    expect(parseSyllable('lüè')).toEqual({ base: 'lve', tone: 4 });
    expect(parseSyllable('lü')).toEqual({ base: 'lv', tone: 0 });
    expect(parseSyllable('lue4')).toEqual({ base: 'lve', tone: 4 });
    expect(parseSyllable('jǚ')).toEqual({ base: 'ju', tone: 3 }); // ü after j is written u
    expect(parseSyllable('yv2')).toEqual({ base: 'yu', tone: 2 });
  });

  it('accepts composed and decomposed marks alike', () => {
    expect(parseSyllable('lüè'.normalize('NFD'))).toEqual({ base: 'lve', tone: 4 });
    expect(parseSyllable('lüè'.normalize('NFC'))).toEqual({ base: 'lve', tone: 4 });
  });

  it('reads tone digits; 0 and 5 are the neutral tone', () => {
    expect(parseSyllable('jiao1')).toEqual({ base: 'jiao', tone: 1 });
    expect(parseSyllable('de0')).toEqual({ base: 'de', tone: 0 });
    expect(parseSyllable('de5')).toEqual({ base: 'de', tone: 5 });
    expect(toneBit(5)).toBe(toneBit(0));
  });

  it('reads the syllabic nasal 嗯 as sunpinyin spells it', () => {
    expect(parseSyllable('ńg')).toEqual({ base: 'ng', tone: 2 });
    expect(parseSyllable('ń')).toEqual({ base: 'ng', tone: 2 });
  });

  it('refuses what is not one Mandarin syllable', () => {
    for (const bad of ['', 'zh', 'iāo', 'xyz', 'jiāō', 'jiāo1', 'ni hao', 'ma3a', '交', 'bv']) {
      expect(parseSyllable(bad), bad).toBeNull();
    }
  });
});

describe('syllable ids', () => {
  it('are initial << 12 | final << 4 in sunpinyin order', () => {
    expect(syllableId('jiao')).toBe((12 << 12) | (16 << 4));
    expect(syllableId('a')).toBe(1 << 4);
    expect(syllableId('lve')).toBe((8 << 12) | (32 << 4));
    expect(syllableId('jue')).toBe((12 << 12) | (33 << 4));
    expect(syllableId('xyz')).toBe(0);
  });

  it('decode back to their spelling, tone bits ignored', () => {
    for (const s of ['jiao', 'yi', 'zhuang', 'ng', 'er', 'lve', 'nv', 'hm'.slice(0, 1) + 'a']) {
      expect(syllableText(syllableId(s))).toBe(s);
      expect(syllableText(syllableId(s) | 3)).toBe(s);
    }
    expect(syllableText(0)).toBe('');
  });
});
