/**
 * Redaction of Chinese transcripts (finals with `language: 'zh'`), a peer of the English rules in
 * redactor.ts with the same results: typed placeholders in the text, placeholder words over the
 * redacted words' time, counts per category, consecutive finals redacted together.
 *
 * Text is characters without spaces; a recogniser's final also carries its tonal pinyin, one
 * syllable per character. Digits are found in both: numeral and Arabic characters, and the
 * syllables heard (幺三八 may come out as 要三吧 when the language model guesses a homophone, but the
 * pinyin still reads yāo sān bā). A syllable matching a digit only without its tone is weak: it
 * counts only inside a run of surer digits, never at its ends.
 *
 * What is redacted:
 * - numbers: an 18-character resident ID with a valid MOD 11-2 check character (its last may be
 *   X or 叉) → [ID]; 16–19 digits passing Luhn → [CARD]; a mainland mobile (1[3-9] + 9 digits,
 *   also after 86) or a number after 手机/电话/号码 → [PHONE], typed with dots between its groups
 *   too (138.1234.5678, 010.8888.6666: DOTTED_PHONE); numbers after card, ID and account
 *   words likewise; any other run of `minDigitRun` sure digits → [DIGITS];
 * - names after cues: 我叫/名字是/姓名是… take the next 1–3 characters (up to a particle or
 *   pronoun); 我姓/免贵姓/姓 take a listed surname; 我是 takes a name only when it starts with a
 *   surname from the unambiguous list (LISTED_SURNAMES), so 我是想问… is left alone;
 * - addresses: chains of units (…省/市/区/路/号/小区/栋/单元/室) specific enough to find a home
 *   (addressesZh.ts);
 * - typed e-mail addresses (local@domain.tld, half- or full-width, plus-addressing included), found
 *   first, so a numeric local part (QQ mail) is one [EMAIL], not a number.
 */
import { findAddressChains, endsWithAddressCue } from './addressesZh.js';
import {
  type OpenEnding,
  type RedactionCategory,
  type RedactionCounts,
  type RedactionPart,
  type RedactionResult,
  type Span,
  type TimedWord,
  PLACEHOLDERS,
} from './redactionTypes.js';
import { clip, emptyCounts, luhnValid, partOf } from './spokenPii.js';
import {
  COMPOUND_SURNAMES,
  CONTEXT_WINDOW_CHARS,
  DIGIT_GAP_CHARS,
  LISTED_SURNAMES,
  MAX_GAP_CHARS,
  MEASURE_WORDS,
  MOBILE,
  NAME_CUES_ZH,
  NAME_STOP_ZH,
  NOT_NAME_AFTER_JIAO,
  NOT_NAME_BEFORE_WO_JIAO,
  NOT_NAMES_AFTER_WO_SHI,
  NUMBER_CONTEXT_ZH,
  STRONG,
  SURNAMES,
  TITLES_ZH,
  TONAL,
  isHan,
  type Strength,
  type ZhChar,
  charsOf,
  digitOf,
  endsWithWord,
  isCheckX,
  residentIdValid,
  startsWithWord,
} from './spokenPiiZh.js';

export interface ZhRedactorSettings {
  readonly enabled: ReadonlySet<RedactionCategory>;
  /** Most characters taken as a name after a cue (a compound surname adds one; default 3). */
  readonly maxNameChars?: number;
  /** The redactor's cumulative totals, shared with the English rules. */
  readonly totals: RedactionCounts;
}

/** A run of digit characters (gaps of fillers, spaces and hyphens allowed inside). */
interface DigitRun {
  /** Character indexes of the digits, in order. */
  at: number[];
  digits: string;
  strengths: Strength[];
}

type Add = (start: number, end: number, category: RedactionCategory) => void;

const MAX_EMAIL_LOCAL = 64;
const MAX_EMAIL_DOMAIN = 253;
const EMAIL_LOCAL_CHAR = /^[A-Za-z0-9._%+-]$/;
const EMAIL_DOMAIN_CHAR = /^[A-Za-z0-9.-]$/;
const EMAIL_DOMAIN = /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

/** A full-width ASCII form (Ｊ, ＠, ．) as its half-width character; anything else as it is. */
function halfWidth(ch: string): string {
  const code = ch.charCodeAt(0);
  return ch.length === 1 && code >= 0xff01 && code <= 0xff5e ? String.fromCharCode(code - 0xfee0) : ch;
}

/**
 * A typed phone number with dots between its groups (138.1234.5678, 010.8888.6666, 0755.12345678),
 * as people write them in chats and forms: a mobile (3-4-4, also after 86/+86) or an area code and a
 * local number (whole or in two groups). The dots are taken only in these shapes, so decimals,
 * versions, dates and addresses with dots (3.14, 1.3.5, 2023.10.01, 192.168.1.1) stay.
 */
const DOTTED_PHONE =
  /(?<![0-9A-Za-z.+-])(?:(?:\+?86[ .-]?)?1[3-9][0-9][ .-][0-9]{4}[ .-][0-9]{4}|0[0-9]{2,3}[ .-](?:[0-9]{7,8}|[0-9]{3,4}[ .-][0-9]{4}))(?![0-9]|[ .-][0-9])/g;

/** Share of sure (tonal or stronger) digits a structured number needs. */
const SURE_SHARE = 0.6;
const NAME_CUE_FIRST = new Set(NAME_CUES_ZH.map((c) => c.cue[0]!));
const FILLERS = new Set([...'呃嗯啊额唔哦噢', ' ', '\u3000', '，', ',', '。', '.', '！', '？', '!', '?', '、']);

export class ChineseRedactor {
  private readonly maxNameChars: number;

  constructor(private readonly settings: ZhRedactorSettings) {
    this.maxNameChars = settings.maxNameChars ?? 3;
  }

  /**
   * Redact parts (consecutive finals) together; one result per part, the parts before
   * `firstCounted` (context) are not counted. `openTail`: a digit run at the very end is redacted
   * even if short (it is still being read out).
   */
  redactParts(parts: readonly RedactionPart[], minDigits: number, firstCounted: number, openTail: boolean): RedactionResult[] {
    const results: RedactionResult[] = parts.map((p) => ({
      text: p.text,
      words: (p.words ?? []).map((w) => ({ ...w })),
      counts: emptyCounts(),
      total: 0,
    }));
    if (this.settings.enabled.size === 0 || parts.every((p) => p.text.trim() === '')) return results;
    const { chars, offsets } = charsOf(parts);
    const spans = this.detect(chars, offsets, minDigits, openTail);
    for (const s of spans) {
      const owner = partOf(offsets, s.start);
      if (owner < firstCounted) continue;
      results[owner]!.counts[s.category]++;
      results[owner]!.total++;
      this.settings.totals[s.category]++;
    }
    for (let i = 0; i < parts.length; i++) {
      const own = clip(spans, offsets[i]!, offsets[i + 1]!);
      if (own.length === 0) continue;
      const partChars = chars.slice(offsets[i], offsets[i + 1]);
      results[i]!.text = rewriteChars(partChars, own);
      const words = parts[i]!.words ?? [];
      if (words.length > 0) results[i]!.words = rewriteWordsZh(partChars, words, own);
    }
    return results;
  }

  /** Whether the joined parts end in a way the next utterance may continue (see Redactor.openEnding). */
  openEnding(parts: readonly RedactionPart[], minDigits: number): OpenEnding | null {
    const enabled = this.settings.enabled;
    if (enabled.size === 0) return null;
    const { chars, offsets } = charsOf(parts);
    let end = chars.length;
    while (end > 0 && FILLERS.has(chars[end - 1]!.ch)) end--;
    if (end === 0) return null;
    if (['card', 'phone', 'account', 'digits', 'id'].some((c) => enabled.has(c as RedactionCategory))) {
      const last = findDigitRuns(chars).pop();
      if (last !== undefined && last.at[last.at.length - 1] === end - 1) {
        const core = coreOf(last);
        const sure = core === null ? 0 : core.strengths.filter((s) => s >= TONAL).length;
        const strong = last.strengths.some((s) => s === STRONG);
        const cued = contextOf(chars, last.at[0]!).size > 0;
        // A complete mobile or ID number is done; anything else may still grow.
        const done = classify(chars, last, minDigits);
        const complete =
          done !== null &&
          (done.category === 'id' || (done.category === 'phone' && last.at.filter((a) => a >= done.start && a < done.end).length === 11));
        if (!complete && ((sure >= 2 && (strong || cued)) || (strong && (cued || last.at[0] === 0)))) return 'digits';
      }
    }
    const spans = this.detect(chars, offsets, minDigits, false);
    const lastSpan = spans[spans.length - 1];
    if (lastSpan !== undefined && lastSpan.end >= end && lastSpan.category === 'name' && lastSpan.end - lastSpan.start === 1) return 'name';
    if (enabled.has('name') && NAME_CUES_ZH.some((c) => c.cue !== '姓' && endsWithWord(chars, end, c.cue))) return 'name';
    if (enabled.has('address')) {
      if (endsWithAddressCue(chars, end)) return 'address';
      const chain = findAddressChains(chars, new Uint8Array(chars.length)).pop();
      if (chain !== undefined && chain.end >= end && (chain.address || chain.units >= 2)) return 'address';
    }
    return null;
  }

  private detect(chars: ZhChar[], offsets: readonly number[], minDigits: number, openTail: boolean): Span[] {
    const spans: Span[] = [];
    const taken = new Uint8Array(chars.length);
    const add: Add = (start, end, category) => {
      if (!this.settings.enabled.has(category) || end <= start) return;
      for (let i = start; i < end; i++) if (taken[i]) return;
      for (let i = start; i < end; i++) taken[i] = 1;
      spans.push({ start, end, category });
    };
    this.detectEmails(chars, add);
    this.detectDottedPhones(chars, add);
    this.detectNumbers(chars, add, minDigits, offsets.slice(1, -1), openTail);
    this.detectAddresses(chars, add, taken);
    this.detectNames(chars, add, taken);
    return spans.sort((a, b) => a.start - b.start);
  }

  private detectNumbers(chars: ZhChar[], add: Add, minDigits: number, boundaries: readonly number[], openTail: boolean): void {
    let lastWord = chars.length - 1;
    while (lastWord >= 0 && FILLERS.has(chars[lastWord]!.ch)) lastWord--;
    for (const run of findDigitRuns(chars)) {
      const found = classify(chars, run, minDigits);
      const core = coreOf(run);
      if (found !== null) {
        const start = Math.min(found.start, core?.at[0] ?? found.start);
        const end = Math.max(found.end, core !== null ? core.at[core.at.length - 1]! + 1 : found.end);
        add(start, end, found.category);
        continue;
      }
      if (core === null) continue;
      const first = core.at[0]!;
      const last = core.at[core.at.length - 1]!;
      // A run crossing an utterance boundary with sure digits on both sides: a number read out with a pause.
      const crosses = boundaries.some(
        (b) =>
          core.at.some((a, k) => a < b && core.strengths[k]! >= TONAL) && core.at.some((a, k) => a >= b && core.strengths[k]! >= TONAL),
      );
      if (crosses || (openTail && last === lastWord)) add(first, last + 1, 'digits');
    }
  }

  /** Typed phone numbers with dots between their groups (DOTTED_PHONE); other spellings are digit runs. */
  private detectDottedPhones(chars: ZhChar[], add: Add): void {
    if (!this.settings.enabled.has('phone')) return;
    // One character per ZhChar, so a match's indexes are character indexes; full-width forms as ASCII.
    const text = chars
      .map((c) => {
        const h = halfWidth(c.ch);
        return h.length === 1 && h.charCodeAt(0) < 0x80 ? h : '#';
      })
      .join('');
    if (!text.includes('.')) return;
    for (const m of text.matchAll(DOTTED_PHONE)) if (m[0].includes('.')) add(m.index, m.index + m[0].length, 'phone');
  }

  /** Typed addresses: from each @ out over the characters an address is made of (linear: each side is bounded). */
  private detectEmails(chars: ZhChar[], add: Add): void {
    if (!this.settings.enabled.has('email')) return;
    const at = (k: number) => halfWidth(chars[k]!.ch);
    for (let i = 0; i < chars.length; i++) {
      if (at(i) !== '@') continue;
      let start = i;
      while (start > 0 && i - start < MAX_EMAIL_LOCAL && EMAIL_LOCAL_CHAR.test(at(start - 1))) start--;
      while (start < i && at(start) === '.') start++;
      let end = i + 1;
      while (end < chars.length && end - i <= MAX_EMAIL_DOMAIN && EMAIL_DOMAIN_CHAR.test(at(end))) end++;
      // a full stop or dash after the address ends the sentence, not the domain
      while (end > i + 1 && (at(end - 1) === '.' || at(end - 1) === '-')) end--;
      let domain = '';
      for (let k = i + 1; k < end; k++) domain += at(k);
      if (start < i && EMAIL_DOMAIN.test(domain)) {
        add(start, end, 'email');
        i = end - 1;
      }
    }
  }

  private detectAddresses(chars: ZhChar[], add: Add, taken: Uint8Array): void {
    if (!this.settings.enabled.has('address')) return;
    for (const chain of findAddressChains(chars, taken)) if (chain.address) add(chain.start, chain.end, 'address');
  }

  private detectNames(chars: ZhChar[], add: Add, taken: Uint8Array): void {
    if (!this.settings.enabled.has('name')) return;
    for (let i = 0; i < chars.length; i++) {
      if (!NAME_CUE_FIRST.has(chars[i]!.ch)) continue;
      const cue = NAME_CUES_ZH.find((c) => startsWithWord(chars, i, c.cue));
      if (cue === undefined) continue;
      if (cue.cue === '姓' && i > 0 && '百贵同'.includes(chars[i - 1]!.ch)) continue;
      if (cue.cue === '我叫' && i > 0 && NOT_NAME_BEFORE_WO_JIAO.includes(chars[i - 1]!.ch)) continue;
      let j = i + Array.from(cue.cue).length;
      while (j < chars.length && FILLERS.has(chars[j]!.ch)) j++;
      if (cue.cue.endsWith('叫') && NOT_NAME_AFTER_JIAO.some((w) => startsWithWord(chars, j, w))) continue;
      const end = nameEnd(chars, j, cue.takes, this.maxNameChars, taken);
      if (end > j) {
        add(j, end, 'name');
        i = end - 1;
      }
    }
  }
}

// --- numbers -----------------------------------------------------------------------------------

function findDigitRuns(chars: readonly ZhChar[]): DigitRun[] {
  const runs: DigitRun[] = [];
  let i = 0;
  while (i < chars.length) {
    const first = digitOf(chars[i]!.ch, chars[i]!.syllable);
    if (first === null) {
      i++;
      continue;
    }
    const run: DigitRun = { at: [i], digits: first.digit, strengths: [first.strength] };
    let j = i + 1;
    while (j < chars.length) {
      const c = chars[j]!;
      const d = digitOf(c.ch, c.syllable);
      if (d !== null) {
        run.at.push(j);
        run.digits += d.digit;
        run.strengths.push(d.strength);
        j++;
        continue;
      }
      if (run.at.length === 17 && isCheckX(c.ch, c.syllable)) {
        run.at.push(j);
        run.digits += 'X';
        run.strengths.push(STRONG);
        j++;
        break;
      }
      // Fillers, spaces, hyphens: at most MAX_GAP_CHARS, and only when a digit follows.
      let k = j;
      while (k < chars.length && k - j < MAX_GAP_CHARS && DIGIT_GAP_CHARS.has(chars[k]!.ch)) k++;
      if (k > j && k < chars.length && digitOf(chars[k]!.ch, chars[k]!.syllable) !== null) {
        j = k;
        continue;
      }
      break;
    }
    runs.push(run);
    i = j;
  }
  return runs;
}

/** The run without unsure digits at its ends: weak ones always, tonal ones when typed or numeral digits remain. */
function coreOf(run: DigitRun): DigitRun | null {
  const floor = run.strengths.some((s) => s === STRONG) ? STRONG : TONAL;
  let s = 0;
  let e = run.at.length;
  while (s < e && run.strengths[s]! < floor) s++;
  while (e > s && run.strengths[e - 1]! < floor) e--;
  if (s === e) return null;
  return sub(run, s, e);
}

function sub(run: DigitRun, s: number, e: number): DigitRun {
  return { at: run.at.slice(s, e), digits: run.digits.slice(s, e), strengths: run.strengths.slice(s, e) };
}

function sureShare(run: DigitRun): number {
  return run.strengths.filter((x) => x >= TONAL).length / Math.max(1, run.strengths.length);
}

function contextOf(chars: readonly ZhChar[], start: number): Set<keyof typeof NUMBER_CONTEXT_ZH> {
  const from = Math.max(0, start - CONTEXT_WINDOW_CHARS);
  const text = chars
    .slice(from, start)
    .map((c) => c.ch)
    .join('');
  const found = new Set<keyof typeof NUMBER_CONTEXT_ZH>();
  for (const [key, cues] of Object.entries(NUMBER_CONTEXT_ZH) as [keyof typeof NUMBER_CONTEXT_ZH, readonly string[]][])
    if (cues.some((c) => text.includes(c))) found.add(key);
  return found;
}

/** The first window of `length` digits in the run that `ok` accepts and that is mostly sure digits. */
function windowOf(run: DigitRun, length: number, ok: (digits: string) => boolean): DigitRun | null {
  for (let s = 0; s + length <= run.at.length; s++) {
    const w = sub(run, s, s + length);
    if (sureShare(w) >= SURE_SHARE && ok(w.digits)) return w;
  }
  return null;
}

function classify(
  chars: readonly ZhChar[],
  run: DigitRun,
  minDigits: number,
): { start: number; end: number; category: RedactionCategory } | null {
  if (run.at.length < 3) return null;
  const span = (r: DigitRun, category: RedactionCategory) => ({ start: r.at[0]!, end: r.at[r.at.length - 1]! + 1, category });
  const core = coreOf(run);
  if (core === null) return null;
  const digits = core.digits.replace(/X/g, '');
  const n = digits.length;
  const sure = sureShare(core) >= SURE_SHARE;
  const ctx = contextOf(chars, run.at[0]!);
  const card = sure && n >= 16 && n <= 19 && luhnValid(digits);
  if (card && ctx.has('card')) return span(core, 'card');
  // The check character is the evidence: only a whole run of 18 (or its sure core) is tried.
  const id = [core, run].find((r) => r.at.length === 18 && sureShare(r) >= SURE_SHARE && residentIdValid(r.digits));
  if (id !== undefined) return span(id, 'id');
  if (card) return span(core, 'card');
  if (ctx.has('id') && n >= 4 && ctx.size === 1) return span(core, 'id');
  if (ctx.has('card') && n >= 3 && !ctx.has('phone')) return span(core, 'card');
  if (ctx.has('account') && n >= 4 && !ctx.has('phone')) return span(core, 'account');
  if (sure && MOBILE.test(digits)) return span(core, 'phone');
  if (run.at.length >= 11 && run.at.length <= 14) {
    const mobile = windowOf(run, 11, (d) => MOBILE.test(d));
    if (mobile !== null) return span(mobile, 'phone');
  }
  if (sure && n >= 7 && n <= 15 && (ctx.has('phone') || (digits.startsWith('0') && n >= 10 && n <= 12))) return span(core, 'phone');
  if (ctx.has('digits') && n >= 4) return span(core, 'digits');
  const after = core.at[core.at.length - 1]! + 1;
  if (MEASURE_WORDS.some((w) => startsWithWord(chars, after, w))) return null;
  const sureCount = core.strengths.filter((x) => x >= TONAL).length;
  if (sureCount >= minDigits) return span(core, 'digits');
  return null;
}

// --- names -------------------------------------------------------------------------------------

/** Where a name that starts at `j` ends (j when there is none), by what the cue takes. */
function nameEnd(chars: readonly ZhChar[], j: number, takes: 'any' | 'surname' | 'listed', maxChars: number, taken: Uint8Array): number {
  // A numeral may be part of a given name (张三, 王一博) but never starts one (我叫一个…); a number
  // after the name was found first and is taken.
  const nameChar = (k: number) =>
    k < chars.length &&
    !taken[k] &&
    isHan(chars[k]!.ch) &&
    !NAME_STOP_ZH.has(chars[k]!.ch) &&
    (k > j || digitOf(chars[k]!.ch, null)?.strength !== STRONG);
  const compound = COMPOUND_SURNAMES.find((s) => startsWithWord(chars, j, s));
  let k = j;
  if (takes === 'surname') {
    if (compound !== undefined) return nameChar(j) && nameChar(j + 1) ? j + 2 : j;
    return nameChar(j) && SURNAMES.has(chars[j]!.ch) ? j + 1 : j;
  }
  let limit = maxChars;
  if (takes === 'listed') {
    // 小王, 老李: the prefix belongs to the name.
    if ((chars[k]?.ch === '小' || chars[k]?.ch === '老') && LISTED_SURNAMES.has(chars[k + 1]?.ch ?? '')) return nameChar(k + 1) ? k + 2 : j;
    if (compound === undefined && !LISTED_SURNAMES.has(chars[k]?.ch ?? '')) return j;
    if (NOT_NAMES_AFTER_WO_SHI.some((w) => startsWithWord(chars, k, w))) return j;
  }
  const surnameLength = compound !== undefined ? 2 : SURNAMES.has(chars[k]?.ch ?? '') ? 1 : 0;
  if (compound !== undefined) limit++;
  // 王先生: the surname is the name; the title stays.
  if (surnameLength > 0 && TITLES_ZH.some((t) => startsWithWord(chars, j + surnameLength, t))) {
    for (k = j; k < j + surnameLength; k++) if (!nameChar(k)) return j;
    return j + surnameLength;
  }
  while (k - j < limit && nameChar(k)) {
    if (k > j && TITLES_ZH.some((t) => startsWithWord(chars, k, t))) break;
    k++;
  }
  return k;
}

// --- rewriting ---------------------------------------------------------------------------------

function rewriteChars(chars: readonly ZhChar[], spans: readonly Span[]): string {
  let out = '';
  let i = 0;
  for (const s of spans) {
    for (; i < s.start; i++) out += chars[i]!.ch;
    out += PLACEHOLDERS[s.category];
    i = s.end;
  }
  for (; i < chars.length; i++) out += chars[i]!.ch;
  return out;
}

/**
 * The part's words with the redacted ones replaced by placeholder words over their time. Words are
 * matched to characters by their text (the recogniser's words concatenate to the text) or one per
 * character; a word that is only partly redacted is replaced whole. Words that match neither way
 * are all replaced by one placeholder (nothing is known of where the value lies in them).
 */
function rewriteWordsZh(chars: readonly ZhChar[], words: readonly TimedWord[], spans: readonly Span[]): TimedWord[] {
  const ranges = wordRanges(chars, words);
  if (ranges === null) {
    return [{ word: PLACEHOLDERS[spans[0]!.category], startMs: words[0]!.startMs, endMs: words[words.length - 1]!.endMs }];
  }
  const out: TimedWord[] = [];
  let lastSpan: Span | null = null;
  words.forEach((w, k) => {
    const [from, to] = ranges[k]!;
    const hit = spans.find((s) => s.start < to && s.end > from && to > from);
    if (hit === undefined) {
      out.push({ ...w });
      lastSpan = null;
      return;
    }
    const prev = out[out.length - 1];
    if (hit === lastSpan && prev !== undefined) prev.endMs = w.endMs;
    else out.push({ word: PLACEHOLDERS[hit.category], startMs: w.startMs, endMs: w.endMs });
    lastSpan = hit;
  });
  return out;
}

/** Character range of each word, or null when the words do not spell the text. */
function wordRanges(chars: readonly ZhChar[], words: readonly TimedWord[]): [number, number][] | null {
  const text = chars.map((c) => c.ch);
  const ranges: [number, number][] = [];
  let at = 0;
  let spelled = true;
  for (const w of words) {
    const wc = Array.from(w.word.trim());
    // Spaces between words are not characters of a Chinese text.
    while (at < text.length && /\s/.test(text[at]!) && wc[0] !== text[at]) at++;
    if (wc.some((c, k) => text[at + k] !== c)) {
      spelled = false;
      break;
    }
    ranges.push([at, at + wc.length]);
    at += wc.length;
  }
  if (spelled) return ranges;
  if (words.length === chars.length) return words.map((_, k) => [k, k + 1]);
  return null;
}
