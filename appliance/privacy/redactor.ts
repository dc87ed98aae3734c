/**
 * Transcript redaction, applied before a transcript is stored, shown or sent.
 *
 * Works on tokens, so it handles both ASR output (upper-case words, no punctuation, digits spelled
 * out: "FOUR ONE ONE ONE ...") and typed text ("4111-1111-1111-1111", "john@example.com"). Spans of
 * personal data are replaced by typed placeholders (`[CARD]`, `[PHONE]`, ...); when word timings are
 * given, the redacted words are replaced by one placeholder word spanning their time, so timings
 * stay usable (talk-over, silence, QA) without the content. Pure: no I/O, no clock, no shared state
 * other than the cumulative per-category totals kept for metrics.
 *
 * Chinese text (parts with `language: 'zh'`, and partials with Han characters on a leg without a
 * final yet) goes to the Chinese rules (redactorZh.ts) with the same options, results and totals;
 * everything else, including parts without a language, keeps the English rules below.
 */
import {
  REDACTION_CATEGORIES,
  type RedactionCategory,
  type RedactorOptions,
  type JoinedOptions,
  type RedactionPart,
  type OpenEnding,
  type TimedWord,
  type RedactionCounts,
  type RedactionResult,
  type Span,
} from './redactionTypes.js';
import {
  FILLERS,
  NUMBER_CUES,
  EMAIL_JOINERS,
  AT_WORDS,
  WEAK_AT_WORDS,
  NAME_TRIGGERS,
  NAME_STOP,
  SPELLING_LIMIT,
  EMAIL_CUES,
  COPULAS,
  MAX_EMAIL_WORDS,
  EMAIL_STOP,
  DIGIT_KINDS,
  type Token,
  EDGE_PUNCT,
  EMAIL_TOKEN,
  containsEmail,
  IBAN_TOKEN,
  SSN_TOKEN,
  UK_NI_TOKEN,
  tokenize,
  halfWidth,
  luhnValid,
  crossesWithDigits,
  cuedAddressStart,
  endsWithEmailCue,
  completesAddress,
  endsText,
  prefixOffsets,
  partOf,
  clip,
  DIGIT_CATEGORIES,
  type Run,
  findRuns,
  singleDigitWords,
  contextOf,
  numberCueBefore,
  anyTaken,
  hasSentenceBreak,
  isLabel,
  matchDomain,
  aligned,
  rewriteTokens,
  rewriteWords,
  emptyCounts,
} from './spokenPii.js';
import { ChineseRedactor } from './redactorZh.js';
import { HAN } from './spokenPiiZh.js';
import type { SpeechLanguage } from '../asr/language.js';

export * from './redactionTypes.js';
export { ibanValid, luhnValid } from './spokenPii.js';

// --- the redactor ------------------------------------------------------------------------------

export class Redactor {
  private readonly enabled: ReadonlySet<RedactionCategory>;
  private readonly minDigitRun: number;
  private readonly partialMinDigitRun: number;
  private readonly maxNameWords: number;
  private readonly maxDigitGap: number;
  private readonly minSpokenDigits: number;
  /** How long a call leg holds a final that ends open (RedactorOptions.holdMs). */
  readonly holdMs: number;
  /** Longest a call leg holds any final (RedactorOptions.maxHoldMs). */
  readonly maxHoldMs: number;
  /** Cumulative redactions per category since this redactor was created (for metrics). */
  readonly totals: RedactionCounts = emptyCounts();
  /** The rules for Chinese text (parts with language 'zh'); same categories, options and totals. */
  private readonly zh: ChineseRedactor;

  constructor(options: RedactorOptions = {}) {
    this.enabled = new Set(options.categories ?? REDACTION_CATEGORIES);
    this.minDigitRun = options.minDigitRun ?? 6;
    this.partialMinDigitRun = options.partialMinDigitRun ?? 4;
    this.maxNameWords = options.maxNameWords ?? 3;
    this.maxDigitGap = options.maxDigitGap ?? 2;
    this.minSpokenDigits = options.minSpokenDigits ?? 4;
    this.holdMs = options.holdMs ?? 2500;
    this.maxHoldMs = options.maxHoldMs ?? 3 * this.holdMs;
    this.zh = new ChineseRedactor({ enabled: this.enabled, totals: this.totals });
  }

  /** Categories this redactor replaces. */
  get categories(): RedactionCategory[] {
    return REDACTION_CATEGORIES.filter((c) => this.enabled.has(c));
  }

  /** Redact a final transcript and its word timings; `zh`: Chinese text (language 'zh') and its pinyin. */
  redact(text: string, words: readonly TimedWord[] = [], zh: { language?: SpeechLanguage; pinyin?: string } = {}): RedactionResult {
    const part: RedactionPart = { text, words, ...zh };
    if (isChinese([part])) return this.zh.redactParts([part], this.minDigitRun, 0, false)[0]!;
    return this.runParts([part], this.minDigitRun, 0, false)[0]!;
  }

  /**
   * Redact consecutive finals of one speaker together, so a value split across them (a number read
   * out with pauses, "MY NAME IS" | "JOHN SMITH") is found as one. One result per part; a span that
   * crosses parts leaves its placeholder in each part it covers (with that part's timing) and is
   * counted once, in the part where it starts. A digit run that crosses a part boundary, with
   * digits on both sides, is always redacted: the speaker paused while reading a number out.
   */
  redactJoined(parts: readonly RedactionPart[], options: JoinedOptions = {}): RedactionResult[] {
    const context = (options.context ?? []).map(asPart);
    const all = [...context, ...parts];
    const openTail = options.openTail === true;
    if (isChinese(all)) return this.zh.redactParts(all, this.minDigitRun, context.length, openTail).slice(context.length);
    return this.runParts(all, this.minDigitRun, context.length, openTail).slice(context.length);
  }

  /**
   * Redact a partial result: shorter digit runs are hidden too, since the run may still be growing.
   * `context`: the raw texts of the finals a leg is holding (legRedaction.ts); a value that starts
   * there and continues into the partial is masked in the partial too. Only redactions that start
   * in the partial are counted. `language`: the leg's (a partial has no language of its own); when
   * absent, a partial with Chinese characters in it is read by the Chinese rules.
   */
  redactPartial(text: string, context: readonly (string | RedactionPart)[] = [], language?: SpeechLanguage): RedactionResult {
    const own: RedactionPart = { text, language: language ?? (HAN.test(text) ? 'zh' : 'en') };
    const parts: RedactionPart[] = [...context.map(asPart), own];
    const minDigits = Math.min(this.partialMinDigitRun, this.minDigitRun);
    if (isChinese(parts)) return this.zh.redactParts(parts, minDigits, context.length, false)[context.length]!;
    return this.runParts(parts, minDigits, context.length, false)[context.length]!;
  }

  /**
   * Whether a final ends in a way the next utterance may continue: a digit run (two or more digit
   * words, a final of digits only, or digits after card/phone/account/ID words), a name cue or a
   * name running to the end, an e-mail cue or an address running to the end. A leg holds such a
   * final briefly (see legRedaction.ts). Given parts (the held finals with their language), Chinese
   * ones are judged by the Chinese rules: also an address cue or an address running to the end.
   */
  openEnding(text: string | readonly RedactionPart[]): OpenEnding | null {
    if (typeof text !== 'string') {
      if (isChinese(text)) return this.zh.openEnding(text, this.minDigitRun);
      text = text.map((p) => p.text).join(' ');
    }
    if (this.enabled.size === 0) return null;
    const tokens = tokenize(text.split(/\s+/).filter((t) => t !== ''));
    let end = tokens.length;
    while (end > 0 && tokens[end - 1]!.kind === 'filler') end--;
    if (end === 0) return null;
    if (DIGIT_CATEGORIES.some((c) => this.enabled.has(c))) {
      let start = end;
      while (start > 0 && tokens[start - 1]!.kind !== 'other') start--;
      const run = tokens.slice(start, end);
      const last = tokens[end - 1]!;
      const digitWords = run.filter((t) => DIGIT_KINDS.has(t.kind)).length;
      // Homophones (FOR, TO, ...) only count between real digits: "A TABLE FOR SEVEN" is not a number.
      const strongWords = run.filter((t) => t.kind === 'strong').length;
      const endsInDigits =
        last.kind === 'strong' ||
        (last.kind === 'weak' && strongWords >= 1 && digitWords >= 2) ||
        last.kind === 'mult' ||
        last.kind === 'plus';
      // One digit word after a cue ("MY CARD NUMBER IS FOUR"), not a pronoun ("A NEW ONE").
      const before = tokens[start - 1]?.norm ?? '';
      const cued =
        (COPULAS.has(before) || NUMBER_CUES.has(before)) && (contextOf(tokens, start).size > 0 || numberCueBefore(tokens, start));
      if (endsInDigits && run.some((t) => t.kind === 'strong') && (strongWords >= 2 || start === 0 || cued)) return 'digits';
    }
    const spans = this.detect(tokens, this.minDigitRun, []);
    const lastSpan = spans[spans.length - 1];
    if (lastSpan !== undefined && lastSpan.end >= end) {
      // A first name alone may be followed by the surname; a complete address (with its domain) is done.
      if (lastSpan.category === 'name' && lastSpan.end - lastSpan.start === 1 && !/^\p{L}$/u.test(tokens[lastSpan.start]!.norm))
        return 'name';
      if (lastSpan.category === 'email' && !completesAddress(tokens, end)) return 'email';
    }
    if (this.enabled.has('name') && NAME_TRIGGERS.some((t) => t.length <= end && t.every((w, k) => tokens[end - t.length + k]!.norm === w)))
      return 'name';
    if (this.enabled.has('email') && endsWithEmailCue(tokens, end)) return 'email';
    return null;
  }

  /** Detect over the parts joined, then rewrite each part with the spans that cover it. */
  private runParts(parts: readonly RedactionPart[], minDigits: number, firstCounted: number, openTail: boolean): RedactionResult[] {
    const copies = () =>
      parts.map((p) => ({ text: p.text, words: (p.words ?? []).map((w) => ({ ...w })), counts: emptyCounts(), total: 0 }));
    if (this.enabled.size === 0 || parts.every((p) => p.text.trim() === '')) return copies();
    const partTokens = parts.map((p) => tokenize(p.text.split(/\s+/).filter((t) => t !== '')));
    const offsets = prefixOffsets(partTokens.map((t) => t.length));
    const tokens = partTokens.flat();
    const spans = this.detect(tokens, minDigits, offsets.slice(1, -1), openTail);
    const results: RedactionResult[] = copies();
    for (const s of spans) {
      const owner = partOf(offsets, s.start);
      if (owner < firstCounted) continue;
      results[owner]!.counts[s.category]++;
      results[owner]!.total++;
      this.totals[s.category]++;
    }

    // Word timings: the text's spans when every part's words match its text token for token;
    // otherwise detect on the words themselves.
    const words = parts.map((p) => p.words ?? []);
    const allAligned = parts.every((_, i) => words[i]!.length === 0 || aligned(partTokens[i]!, words[i]!));
    let wordSpans = spans;
    let wordOffsets = offsets;
    if (!allAligned) {
      const wordTokens = words.map((w) => tokenize(w.map((x) => x.word)));
      wordOffsets = prefixOffsets(wordTokens.map((t) => t.length));
      wordSpans = this.detect(wordTokens.flat(), minDigits, wordOffsets.slice(1, -1), openTail);
    }
    for (let i = 0; i < parts.length; i++) {
      const own = clip(spans, offsets[i]!, offsets[i + 1]!);
      if (own.length > 0) results[i]!.text = rewriteTokens(partTokens[i]!, own);
      if (words[i]!.length > 0) results[i]!.words = rewriteWords(words[i]!, clip(wordSpans, wordOffsets[i]!, wordOffsets[i + 1]!));
    }
    return results;
  }

  /** `boundaries`: token indexes where a new utterance starts (joined parts). */
  private detect(tokens: Token[], minDigits: number, boundaries: readonly number[], openTail = false): Span[] {
    const spans: Span[] = [];
    const taken = new Uint8Array(tokens.length);
    const add = (start: number, end: number, category: RedactionCategory) => {
      if (!this.enabled.has(category) || end <= start) return;
      for (let i = start; i < end; i++) if (taken[i]) return;
      for (let i = start; i < end; i++) taken[i] = 1;
      spans.push({ start, end, category });
    };
    // Order matters: the most specific detectors claim tokens first.
    this.detectSingleTokens(tokens, add);
    this.detectSpokenEmails(tokens, add, taken);
    this.detectIban(tokens, add, taken);
    this.detectDigitRuns(tokens, add, taken, minDigits, boundaries, openTail);
    this.detectNames(tokens, add, taken);
    this.detectCuedEmails(tokens, add, taken);
    return spans.sort((a, b) => a.start - b.start);
  }

  private detectSingleTokens(tokens: Token[], add: (s: number, e: number, c: RedactionCategory) => void): void {
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      const lower = halfWidth(t.raw).replace(EDGE_PUNCT, '');
      if (EMAIL_TOKEN.test(lower) || (lower.includes('@') && containsEmail(lower))) add(i, i + 1, 'email');
      else if (SSN_TOKEN.test(t.norm) || UK_NI_TOKEN.test(t.norm)) add(i, i + 1, 'id');
      else if (IBAN_TOKEN.test(t.norm)) add(i, i + 1, 'account');
    }
  }

  /** "JOHN DOT SMITH AT EXAMPLE DOT COM" (and "... AT EXAMPLE.COM", "... DOTCOM"). */
  private detectSpokenEmails(tokens: Token[], add: (s: number, e: number, c: RedactionCategory) => void, taken: Uint8Array): void {
    for (let i = 1; i < tokens.length - 1; i++) {
      const at = tokens[i]!.norm;
      const weak = WEAK_AT_WORDS.has(at);
      if (!AT_WORDS.has(at) && !weak) continue;
      const domainEnd = matchDomain(tokens, i + 1);
      if (domainEnd < 0) continue;
      // The local part: a label, optionally preceded by (label JOINER)* chains.
      let start = i - 1;
      if (!isLabel(tokens[start]!) || taken[start]) continue;
      while (start - 2 >= 0 && EMAIL_JOINERS.has(tokens[start - 1]!.norm) && isLabel(tokens[start - 2]!) && !taken[start - 2]) start -= 2;
      add(start, domainEnd, 'email');
      i = domainEnd - 1;
    }
  }

  /** IBANs typed in groups: "GB82 WEST 1234 5698 7654 32". */
  private detectIban(tokens: Token[], add: (s: number, e: number, c: RedactionCategory) => void, taken: Uint8Array): void {
    for (let i = 0; i < tokens.length; i++) {
      if (taken[i] || !/^[A-Z]{2}\d{2}$/.test(tokens[i]!.norm)) continue;
      let joined = tokens[i]!.norm;
      let j = i + 1;
      while (
        j < tokens.length &&
        !taken[j] &&
        /^[A-Z0-9]{1,4}$/.test(tokens[j]!.norm) &&
        (/\d/.test(tokens[j]!.norm) || j === i + 1) &&
        joined.length < 34
      ) {
        joined += tokens[j]!.norm;
        j++;
      }
      if (joined.length >= 15 && IBAN_TOKEN.test(joined)) {
        add(i, j, 'account');
        i = j - 1;
      }
    }
  }

  private detectDigitRuns(
    tokens: Token[],
    add: (s: number, e: number, c: RedactionCategory) => void,
    taken: Uint8Array,
    minDigits: number,
    boundaries: readonly number[],
    openTail: boolean,
  ): void {
    const runs = findRuns(tokens, taken);
    // Bridge short gaps of misrecognised words between runs ("FOUR FIVE MAKE THREE SIX ...").
    const merged: Run[] = [];
    for (const r of runs) {
      const prev = merged[merged.length - 1];
      if (
        prev !== undefined &&
        r.start - prev.end <= this.maxDigitGap &&
        !anyTaken(taken, prev.end, r.start) &&
        !hasSentenceBreak(tokens, prev.end, r.start)
      ) {
        prev.end = r.end;
        prev.digits += r.digits;
        prev.plus ||= r.plus;
        prev.phoneShaped ||= r.phoneShaped;
      } else merged.push({ ...r });
    }
    for (const r of merged) {
      let category = this.classifyRun(tokens, r, minDigits);
      if (category === null && boundaries.some((b) => crossesWithDigits(tokens, r, b))) category = 'digits';
      // A run still being read out when a held group had to be released: it will continue.
      if (category === null && openTail && endsText(tokens, r.end)) category = 'digits';
      if (category !== null) add(r.start, r.end, category);
    }
  }

  private classifyRun(tokens: Token[], r: Run, minDigits: number): RedactionCategory | null {
    const n = r.digits.length;
    const ctx = contextOf(tokens, r.start);
    if (n >= 13 && n <= 19 && luhnValid(r.digits)) return 'card';
    if (ctx.has('card') && n >= 3) return 'card';
    if (ctx.has('id') && n >= 4) return 'id';
    if (ctx.has('account') && n >= 4) return 'account';
    if (n >= 7 && n <= 15 && (r.plus || r.phoneShaped || ctx.has('phone') || (r.digits.startsWith('0') && n >= 10))) return 'phone';
    if (n >= minDigits) return 'digits';
    // Digits read out one by one ("FOUR ONE ONE ONE") are a code, a PIN or part of a number: years and
    // prices are said with tens and hundreds ("TWENTY TWENTY FOUR", "FIVE HUNDRED").
    if (singleDigitWords(tokens, r) >= this.minSpokenDigits) return 'digits';
    return null;
  }

  /** Names after "MY NAME IS" and similar phrases: a few words, or a spelled sequence of letters. */
  private detectNames(tokens: Token[], add: (s: number, e: number, c: RedactionCategory) => void, taken: Uint8Array): void {
    for (let i = 0; i < tokens.length; i++) {
      const trigger = NAME_TRIGGERS.find((t) => t.every((w, k) => tokens[i + k]?.norm === w));
      // a typed field: "Name: ...", "Full name: ...", "Surname: ..."
      const field = trigger === undefined && NAME_FIELDS.has(tokens[i]!.norm) && FIELD_COLON.test(tokens[i]!.raw);
      if (trigger === undefined && !field) continue;
      let j = i + (trigger?.length ?? 1);
      while (j < tokens.length && FILLERS.has(tokens[j]!.norm)) j++;
      const start = j;
      let words = 0;
      let letters = 0;
      while (j < tokens.length && !taken[j]) {
        const t = tokens[j]!;
        const letter = /^\p{L}$/u.test(t.norm);
        // Inside a spelling, "I" and "A" are letters, not words.
        if (t.norm === '' || (NAME_STOP.has(t.norm) && !(letter && letters > 0)) || t.kind === 'strong') break;
        // in a typed form, the next field's label ("Phone:") is no part of the name
        if (field && j > start && FIELD_COLON.test(t.raw)) break;
        if (letter) {
          if (++letters > SPELLING_LIMIT) break;
        } else if (/^[\p{L}'-]+$/u.test(t.norm)) {
          if (words >= this.maxNameWords) break;
          words++;
        } else break;
        j++;
      }
      if (j > start) {
        add(start, j, 'name');
        i = j - 1;
      }
    }
  }

  /**
   * An address after an e-mail cue ("MY EMAIL IS MARY DOT JONES AT ...") that the spoken-address
   * detector did not claim (no complete domain, or the ASR mangled it): the words up to an ordinary
   * word, at most MAX_EMAIL_WORDS.
   */
  private detectCuedEmails(tokens: Token[], add: (s: number, e: number, c: RedactionCategory) => void, taken: Uint8Array): void {
    for (let i = 0; i < tokens.length; i++) {
      if (!EMAIL_CUES.has(tokens[i]!.norm)) continue;
      const start = cuedAddressStart(tokens, i);
      if (start === null) continue;
      let j = start;
      while (j < tokens.length && j - start < MAX_EMAIL_WORDS && !taken[j]) {
        const t = tokens[j]!;
        if (t.norm === '' || EMAIL_STOP.has(t.norm) || FILLERS.has(t.norm) || !/^[\p{L}\p{N}@._'-]+$/u.test(t.norm)) break;
        j++;
      }
      // Joiners hanging off the end ("... DOT") belong to the address too; nothing is lost by taking them.
      if (j > start) {
        add(start, j, 'email');
        i = j - 1;
      }
    }
  }
}

/** Field labels a typed name follows (with a colon). */
const NAME_FIELDS = new Set(['NAME', 'SURNAME']);
const FIELD_COLON = /[:：]$/;

function asPart(p: string | RedactionPart): RedactionPart {
  return typeof p === 'string' ? { text: p } : p;
}

/** Parts read by the Chinese rules: any of them is Chinese (a leg speaks one language). */
function isChinese(parts: readonly RedactionPart[]): boolean {
  return parts.some((p) => p.language === 'zh');
}
