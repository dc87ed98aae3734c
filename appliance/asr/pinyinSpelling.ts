/**
 * Phrases → tonal pinyin pieces, for models whose output units are pinyin initials and
 * tone-marked finals (the Mandarin keyword-spotting bundle: 交易 = `j iāo y ì`).
 *
 * The unit split is the written one (what sherpa-onnx's `ppinyin` text2token does with pypinyin
 * `strict=False`): a syllable is its written initial, `y` and `w` included (`zh`, `ch`, `sh` before
 * one-letter ones), then the rest as written with its tone mark (`jiāo` → `j` + `iāo`, `yòng` →
 * `y` + `òng`, `lüè` → `l` + `üè`, `jú` → `j` + `ú`); a zero-initial syllable is its final alone
 * (`ài`). The neutral tone has no mark (`de` → `d` + `e`).
 *
 * Characters are read with pinyin-pro in context (银行 → yín háng) without tone sandhi (一 stays yī,
 * 不 bù), as the training labels were. A character whose contextual reading the tokens cannot
 * spell falls back to its other readings (嗯 ǹg → ń). A phrase may also be written in pinyin, with
 * tone marks or tone numbers (`jiāo yì`, `jiao1 yi4`, `jiāoyì`, `xi1'an1`, `v` for `ü`); upper-case
 * Latin words are spelled with the model's letter tokens where it has them (`VIP` → `V I P`).
 */
import { pinyin } from 'pinyin-pro';
import type { TokenTable } from './tokens.js';

/** Written pinyin initials, two-letter ones first; `y`/`w` count as initials as in the model's units. */
const INITIALS = ['zh', 'ch', 'sh', 'b', 'p', 'm', 'f', 'd', 't', 'n', 'l', 'g', 'k', 'h', 'j', 'q', 'x', 'r', 'z', 'c', 's', 'y', 'w'];
const TONE_MARKS: Readonly<Record<string, string>> = {
  a: 'āáǎà',
  e: 'ēéěè',
  i: 'īíǐì',
  o: 'ōóǒò',
  u: 'ūúǔù',
  ü: 'ǖǘǚǜ',
};
const MARKED_VOWELS = Object.values(TONE_MARKS).join('') + 'ńňǹḿ';
const HAN = /\p{Script=Han}/u;
const VOWEL_START = /^[aeiouüāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ]/;
const ZERO_INITIAL_START = /^([aoeāáǎàōóǒòēéěè]|[nmńňǹḿ]g?$)/;
/** Longest written pinyin syllable (`zhuang` + a tone digit). */
const MAX_SYLLABLE_LENGTH = 7;

function hasToneMark(s: string): boolean {
  for (const c of s) if (MARKED_VOWELS.includes(c)) return true;
  return false;
}

/** Why a phrase could not be spelled (no phrase text: it may be PII). */
export type SpellFailure = 'empty' | 'character' | 'pinyin' | 'letters';

export class PinyinSpeller {
  private readonly tokens: TokenTable;
  private readonly usable: (symbol: string) => boolean;

  /** `usable` decides which symbols a spelling may use (network outputs only, no graph-only `#n`). */
  constructor(tokens: TokenTable, usable: (symbol: string) => boolean) {
    this.tokens = tokens;
    this.usable = usable;
  }

  /** Spell a phrase as token symbols, or say why it cannot be. */
  spell(phrase: string): { pieces: string[] } | { failure: SpellFailure } {
    const pieces: string[] = [];
    // runs of Han characters, and words of anything else; separators (spaces, apostrophes, punctuation) dropped
    const runs = phrase.normalize('NFC').match(/\p{Script=Han}+|(?:(?!\p{Script=Han})[\p{L}\p{M}0-9])+/gu) ?? [];
    if (runs.length === 0) return { failure: 'empty' };
    for (const run of runs) {
      let spelled: string[] | undefined;
      let failure: SpellFailure;
      if (HAN.test(run)) {
        spelled = this.characters(run);
        failure = 'character';
      } else if (/^[A-Z]+$/.test(run)) {
        spelled = this.letters(run);
        failure = 'letters';
      } else {
        spelled = this.pinyinWord(run.toLowerCase().replaceAll('v', 'ü'));
        failure = 'pinyin';
      }
      if (spelled === undefined) return { failure };
      pieces.push(...spelled);
    }
    return { pieces };
  }

  /** Han characters through pinyin-pro, in context; a reading the tokens lack falls back to the character's others. */
  private characters(run: string): string[] | undefined {
    const out: string[] = [];
    for (const c of pinyin(run, { type: 'all', toneSandhi: false })) {
      const readings = [c.pinyin, ...c.polyphonic.filter((p) => p !== c.pinyin)];
      let spelled: string[] | undefined;
      for (const r of readings) {
        spelled = this.syllable(r);
        if (spelled !== undefined) break;
      }
      if (spelled === undefined) return undefined;
      out.push(...spelled);
    }
    return out;
  }

  private letters(word: string): string[] | undefined {
    const out = [...word];
    return out.every((l) => this.has(l)) ? out : undefined;
  }

  /**
   * A word written in pinyin: split into syllables (fewest syllables wins, so `xian` is one and
   * `xi'an` two), each spelled with the tokens. Tone digits 1–4 become marks, 5 or 0 is neutral.
   */
  private pinyinWord(word: string): string[] | undefined {
    const n = word.length;
    const best: (string[] | undefined)[] = new Array<string[] | undefined>(n + 1).fill(undefined);
    const count = new Array<number>(n + 1).fill(Infinity);
    best[0] = [];
    count[0] = 0;
    for (let end = 1; end <= n; end++) {
      for (let start = Math.max(0, end - MAX_SYLLABLE_LENGTH); start < end; start++) {
        if (count[start] === Infinity || count[start]! + 1 >= count[end]!) continue;
        const syl = withToneMark(word.slice(start, end));
        if (syl === undefined) continue;
        const pieces = this.syllable(syl);
        if (pieces === undefined) continue;
        count[end] = count[start]! + 1;
        best[end] = [...best[start]!, ...pieces];
      }
    }
    return best[n];
  }

  /** One tone-marked syllable → [initial, final] or [final]; undefined when the tokens lack a part. */
  private syllable(syl: string): string[] | undefined {
    const s = syl.normalize('NFC');
    if (!/^[a-z]+$/.test(s.normalize('NFD').replace(/\p{M}/gu, ''))) return undefined; // letters with tone marks only
    for (const ini of INITIALS) {
      if (!s.startsWith(ini) || s.length === ini.length) continue;
      let final = s.slice(ini.length);
      // after j/q/x/y the written form of ü is u (ju, que, yuan), as in the model's units
      if ('jqxy'.includes(ini)) final = final.replace(/[üǖǘǚǜ]/, (c) => 'uūúǔù'['üǖǘǚǜ'.indexOf(c)]!);
      if (!VOWEL_START.test(final)) break; // not an initial here: syllabic ng / m
      return this.has(ini) && this.has(final) ? [ini, final] : undefined;
    }
    // zero initial: a written syllable starting with a, o, e, or a syllabic n/m (嗯 ńg, written ń in the units)
    if (!ZERO_INITIAL_START.test(s)) return undefined;
    if (this.has(s)) return [s];
    const syllabic = /^([nmńňǹḿ])g$/.exec(s);
    return syllabic && this.has(syllabic[1]!) ? [syllabic[1]!] : undefined;
  }

  private has(symbol: string): boolean {
    return this.tokens.id(symbol) !== undefined && this.usable(symbol);
  }
}

/** A pinyin syllable with an optional trailing tone digit → tone-marked form (undefined when malformed). */
export function withToneMark(text: string): string | undefined {
  const m = /^([a-züāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ]+)([0-5])?$/u.exec(text.normalize('NFC'));
  if (!m) return undefined;
  const letters = m[1]!;
  const digit = m[2];
  if (digit === undefined) return letters;
  if (hasToneMark(letters)) return undefined;
  const tone = Number(digit);
  if (tone === 0 || tone === 5) return letters;
  // the mark goes on a or e if present, on o of ou, else on the last vowel
  let at = letters.search(/[ae]/);
  if (at < 0) at = letters.indexOf('ou');
  if (at < 0) {
    for (let i = letters.length - 1; i >= 0; i--) {
      if ('iouü'.includes(letters[i]!)) {
        at = i;
        break;
      }
    }
  }
  if (at < 0) return undefined;
  const v = letters[at]!;
  return letters.slice(0, at) + TONE_MARKS[v]![tone - 1]! + letters.slice(at + 1);
}
