/**
 * Transcript redaction, applied before a transcript is stored, shown or sent.
 *
 * Works on tokens, so it handles both ASR output (upper-case words, no punctuation, digits spelled
 * out: "FOUR ONE ONE ONE ...") and typed text ("4111-1111-1111-1111", "john@example.com"). Spans of
 * personal data are replaced by typed placeholders (`[CARD]`, `[PHONE]`, ...); when word timings are
 * given, the redacted words are replaced by one placeholder word spanning their time, so timings
 * stay usable (talk-over, silence, QA) without the content. Pure: no I/O, no clock, no shared state
 * other than the cumulative per-category totals kept for metrics.
 */

export const REDACTION_CATEGORIES = ['card', 'phone', 'email', 'account', 'digits', 'id', 'name'] as const;
export type RedactionCategory = (typeof REDACTION_CATEGORIES)[number];

export const PLACEHOLDERS: Readonly<Record<RedactionCategory, string>> = {
  card: '[CARD]',
  phone: '[PHONE]',
  email: '[EMAIL]',
  account: '[ACCOUNT]',
  digits: '[DIGITS]',
  id: '[ID]',
  name: '[NAME]',
};

export interface RedactorOptions {
  /** Categories to redact (default: all). */
  categories?: readonly RedactionCategory[];
  /** A digit sequence this long is redacted as `[DIGITS]` even without context (finals). */
  minDigitRun?: number;
  /** The same for partial results, which may still be growing (default 4). */
  partialMinDigitRun?: number;
  /** Most words taken as a name after "MY NAME IS" (spelled letters always continue). */
  maxNameWords?: number;
  /** This many digits read out one word each ("FOUR ONE ONE ONE") are redacted as `[DIGITS]` (default 4). */
  minSpokenDigits?: number;
  /** Non-digit words (ASR misrecognitions) bridged between two digit runs. */
  maxDigitGap?: number;
  /**
   * How long a call leg holds a final that ends open (a digit run, "MY NAME IS", an e-mail cue)
   * waiting for the next utterance to start, so a value split across utterances is redacted as one
   * (see legRedaction.ts). 0 = never hold. Not used by the redactor itself.
   */
  holdMs?: number;
  /** Longest a call leg holds any final (default 3 × holdMs). Not used by the redactor itself. */
  maxHoldMs?: number;
}

export interface JoinedOptions {
  /** Raw texts of earlier finals of the same run, already released: detection context only, not returned or counted. */
  context?: readonly string[];
  /** The speaker is still reading a number out: a digit run at the very end is redacted even if short. */
  openTail?: boolean;
}

/** One utterance of a group redacted together (consecutive finals of one speaker). */
export interface RedactionPart {
  text: string;
  words?: readonly TimedWord[];
}

/** Why a text may continue in the next utterance: it ends in a digit run, a name cue or an e-mail cue. */
export type OpenEnding = 'digits' | 'name' | 'email';

export interface TimedWord {
  word: string;
  startMs: number;
  endMs: number;
}

export type RedactionCounts = Record<RedactionCategory, number>;

export interface RedactionResult {
  text: string;
  words: TimedWord[];
  /** Redactions made in this text, per category. */
  counts: RedactionCounts;
  /** Sum of counts. */
  total: number;
}

interface Span {
  start: number;
  /** Exclusive. */
  end: number;
  category: RedactionCategory;
}

// --- vocabulary --------------------------------------------------------------------------------

const STRONG_DIGITS: Record<string, string> = {
  ZERO: '0',
  NOUGHT: '0',
  NAUGHT: '0',
  ONE: '1',
  TWO: '2',
  THREE: '3',
  FOUR: '4',
  FIVE: '5',
  SIX: '6',
  SEVEN: '7',
  EIGHT: '8',
  NINE: '9',
  NINER: '9',
  TEN: '10',
  ELEVEN: '11',
  TWELVE: '12',
  THIRTEEN: '13',
  FOURTEEN: '14',
  FIFTEEN: '15',
  SIXTEEN: '16',
  SEVENTEEN: '17',
  EIGHTEEN: '18',
  NINETEEN: '19',
};
const TENS: Record<string, string> = {
  TWENTY: '2',
  THIRTY: '3',
  FORTY: '4',
  FIFTY: '5',
  SIXTY: '6',
  SEVENTY: '7',
  EIGHTY: '8',
  NINETY: '9',
};
/** Homophones ASR produces for spoken digits; counted only inside a run that has real digits. */
const WEAK_DIGITS: Record<string, string> = { OH: '0', O: '0', WON: '1', TO: '2', TOO: '2', FOR: '4', FORE: '4', FREE: '3', ATE: '8' };
const MULTIPLIERS: Record<string, number> = { DOUBLE: 2, TRIPLE: 3 };
const SCALES: Record<string, string> = { HUNDRED: '00', THOUSAND: '000' };
const FILLERS = new Set(['UM', 'UH', 'ER', 'ERM', 'AH', 'HMM', 'MM', 'DASH', 'HYPHEN', 'SPACE']);

const CONTEXT: Record<'card' | 'phone' | 'account' | 'id', ReadonlySet<string>> = {
  card: new Set(['CARD', 'CREDIT', 'DEBIT', 'VISA', 'MASTERCARD', 'AMEX', 'CVV', 'CVC', 'EXPIRY', 'EXPIRES']),
  phone: new Set([
    'PHONE',
    'MOBILE',
    'CELL',
    'CELLPHONE',
    'TELEPHONE',
    'TEL',
    'LANDLINE',
    'CALL',
    'REACH',
    'TEXT',
    'WHATSAPP',
    'EXTENSION',
    'CONTACT',
  ]),
  account: new Set([
    'ACCOUNT',
    'IBAN',
    'SORT',
    'ROUTING',
    'BANK',
    'POLICY',
    'MEMBERSHIP',
    'CUSTOMER',
    'REFERENCE',
    'SWIFT',
    'BIC',
    'ORDER',
  ]),
  id: new Set([
    'SOCIAL',
    'SECURITY',
    'SSN',
    'INSURANCE',
    'PASSPORT',
    'LICENSE',
    'LICENCE',
    'ID',
    'IDENTITY',
    'IDENTIFICATION',
    'TAX',
    'BIRTH',
    'NI',
  ]),
};
const CONTEXT_WINDOW = 6;
/** Words before a single trailing digit that announce a number being read out (openEnding only). */
const NUMBER_CUES = new Set(['NUMBER', 'PIN', 'CODE', 'PASSCODE', 'DIGITS', 'POSTCODE', 'ZIP']);

const TLDS = new Set(
  'COM NET ORG CO UK IO DE FR ES IT NL EDU GOV INFO BIZ US CA AU IE IN ME AI APP DEV EU CH AT BE SE NO DK PL JP NZ ZA BR MX RU CN FI PT GR CZ HU RO'.split(
    ' ',
  ),
);
const EMAIL_JOINERS = new Set(['DOT', 'PERIOD', 'UNDERSCORE', 'DASH', 'HYPHEN']);
/** Words ASR hears for "at" in a spoken address; accepted only before a complete domain. */
const AT_WORDS = new Set(['AT', '@']);
const WEAK_AT_WORDS = new Set(['AND', 'ET', 'ADD', 'HAT']);

const NAME_TRIGGERS: readonly (readonly string[])[] = [
  ['NAME', 'IS'],
  ["NAME'S"],
  ['NAMES'],
  ['I', 'AM', 'CALLED'],
  ["I'M", 'CALLED'],
  ['SPEAKING', 'WITH'],
  ['SPEAKING', 'TO'],
  ['SURNAME', 'IS'],
];
const NAME_STOP = new Set(
  (
    "AND BUT SO OR I I'M IM AM IS ARE WAS WERE BE THE A AN ON IN AT FROM TO FOR WITH MY YOUR HIS HER OUR THEIR CALLING HERE THERE PLEASE THANK THANKS " +
    "YOU OK OKAY YES NO NOT SPEAKING IT'S ITS IT OF BY AS THAT THIS WHAT WHO HOW WHY WHEN CAN COULD WOULD WILL SHALL HAVE HAS HAD DO DOES DID " +
    'ME US HIM THEM JUST ALSO ACTUALLY REALLY WELL RIGHT SORRY HI HELLO HEY GOOD MORNING AFTERNOON EVENING CALLED ABOUT REGARDING BECAUSE IF THEN'
  ).split(' '),
);
const SPELLING_LIMIT = 20;

/** "MY EMAIL IS ...", "E-MAIL ADDRESS IT'S ...": what follows is an address even when the ASR mangled its domain. */
const EMAIL_CUES = new Set(['EMAIL', 'E-MAIL', 'MAIL']);
const EMAIL_CUE_GLUE = new Set(['ADDRESS']);
const COPULAS = new Set(['IS', "IT'S", 'ITS', 'WAS']);
const MAX_EMAIL_WORDS = 12;
/** Words that end a cued address: the NAME_STOP words, except the ones spoken inside addresses. */
const EMAIL_STOP = new Set([...NAME_STOP].filter((w) => !AT_WORDS.has(w)));
const DIGIT_KINDS: ReadonlySet<Kind> = new Set(['strong', 'weak']);

// --- tokens ------------------------------------------------------------------------------------

type Kind = 'strong' | 'weak' | 'mult' | 'scale' | 'filler' | 'plus' | 'other';

interface Token {
  raw: string;
  /** Upper-case, surrounding punctuation stripped. */
  norm: string;
  kind: Kind;
  /** Digits this token contributes (digit-form and spoken digits). */
  digits: string;
  /** Typed digits with phone punctuation ("+44", "(020)"). */
  phoneShaped: boolean;
}

const EDGE_PUNCT = /^[^\p{L}\p{N}+@(]+|[^\p{L}\p{N})']+$/gu;
const DIGIT_FORM = /^\+?\(?\d[\d\-./()]*$/;
const EMAIL_TOKEN = /^[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(\.[\p{L}\p{N}-]+)+$/u;
const IBAN_TOKEN = /^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/;
const SSN_TOKEN = /^\d{3}-\d{2}-\d{4}$/;
const UK_NI_TOKEN = /^[A-Z]{2}\d{6}[A-D]$/;

function tokenize(words: readonly string[]): Token[] {
  return words.map((raw) => {
    const norm = raw.replace(EDGE_PUNCT, '').toUpperCase();
    if (DIGIT_FORM.test(norm)) {
      return { raw, norm, kind: 'strong', digits: norm.replace(/\D/g, ''), phoneShaped: /^\+|[()]/.test(norm) };
    }
    let kind: Kind = 'other';
    let digits = '';
    const strong = STRONG_DIGITS[norm];
    if (strong !== undefined) {
      kind = 'strong';
      digits = strong;
    } else if (TENS[norm] !== undefined) {
      kind = 'strong';
      digits = TENS[norm] + '0';
    } else if (WEAK_DIGITS[norm] !== undefined) {
      kind = 'weak';
      digits = WEAK_DIGITS[norm];
    } else if (MULTIPLIERS[norm] !== undefined) kind = 'mult';
    else if (SCALES[norm] !== undefined) kind = 'scale';
    else if (FILLERS.has(norm)) kind = 'filler';
    else if (norm === 'PLUS') kind = 'plus';
    return { raw, norm, kind, digits, phoneShaped: false };
  });
}

/** Luhn checksum over a digit string. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** ISO 13616 mod-97 check of an IBAN (letters and digits, no spaces). */
export function ibanValid(iban: string): boolean {
  if (!IBAN_TOKEN.test(iban)) return false;
  const moved = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (const ch of moved) {
    const v = ch >= 'A' && ch <= 'Z' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const c of v) rem = (rem * 10 + (c.charCodeAt(0) - 48)) % 97;
  }
  return rem === 1;
}

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

  constructor(options: RedactorOptions = {}) {
    this.enabled = new Set(options.categories ?? REDACTION_CATEGORIES);
    this.minDigitRun = options.minDigitRun ?? 6;
    this.partialMinDigitRun = options.partialMinDigitRun ?? 4;
    this.maxNameWords = options.maxNameWords ?? 3;
    this.maxDigitGap = options.maxDigitGap ?? 2;
    this.minSpokenDigits = options.minSpokenDigits ?? 4;
    this.holdMs = options.holdMs ?? 2500;
    this.maxHoldMs = options.maxHoldMs ?? 3 * this.holdMs;
  }

  /** Categories this redactor replaces. */
  get categories(): RedactionCategory[] {
    return REDACTION_CATEGORIES.filter((c) => this.enabled.has(c));
  }

  /** Redact a final transcript and its word timings. */
  redact(text: string, words: readonly TimedWord[] = []): RedactionResult {
    return this.runParts([{ text, words }], this.minDigitRun, 0, false)[0]!;
  }

  /**
   * Redact consecutive finals of one speaker together, so a value split across them (a number read
   * out with pauses, "MY NAME IS" | "JOHN SMITH") is found as one. One result per part; a span that
   * crosses parts leaves its placeholder in each part it covers (with that part's timing) and is
   * counted once, in the part where it starts. A digit run that crosses a part boundary, with
   * digits on both sides, is always redacted: the speaker paused while reading a number out.
   */
  redactJoined(parts: readonly RedactionPart[], options: JoinedOptions = {}): RedactionResult[] {
    const context = (options.context ?? []).map((text) => ({ text }));
    const all = [...context, ...parts];
    return this.runParts(all, this.minDigitRun, context.length, options.openTail === true).slice(context.length);
  }

  /**
   * Redact a partial result: shorter digit runs are hidden too, since the run may still be growing.
   * `context`: the raw texts of the finals a leg is holding (legRedaction.ts); a value that starts
   * there and continues into the partial is masked in the partial too. Only redactions that start
   * in the partial are counted.
   */
  redactPartial(text: string, context: readonly string[] = []): RedactionResult {
    const parts: RedactionPart[] = [...context.map((t) => ({ text: t })), { text }];
    return this.runParts(parts, Math.min(this.partialMinDigitRun, this.minDigitRun), context.length, false)[context.length]!;
  }

  /**
   * Whether a final ends in a way the next utterance may continue: a digit run (two or more digit
   * words, a final of digits only, or digits after card/phone/account/ID words), a name cue or a
   * name running to the end, an e-mail cue or an address running to the end. A leg holds such a
   * final briefly (see legRedaction.ts).
   */
  openEnding(text: string): OpenEnding | null {
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
      const lower = t.raw.replace(EDGE_PUNCT, '');
      if (EMAIL_TOKEN.test(lower)) add(i, i + 1, 'email');
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
      if (trigger === undefined) continue;
      let j = i + trigger.length;
      while (j < tokens.length && FILLERS.has(tokens[j]!.norm)) j++;
      const start = j;
      let words = 0;
      let letters = 0;
      while (j < tokens.length && !taken[j]) {
        const t = tokens[j]!;
        const letter = /^\p{L}$/u.test(t.norm);
        // Inside a spelling, "I" and "A" are letters, not words.
        if (t.norm === '' || (NAME_STOP.has(t.norm) && !(letter && letters > 0)) || t.kind === 'strong') break;
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

/** A digit run that crosses an utterance boundary at `b`, with digit words on both sides. */
function crossesWithDigits(tokens: Token[], r: Run, b: number): boolean {
  if (!(r.start < b && b < r.end)) return false;
  let before = false;
  let after = false;
  for (let i = r.start; i < r.end; i++) {
    if (tokens[i]!.kind !== 'strong') continue;
    if (i < b) before = true;
    else after = true;
  }
  return before && after;
}

/** Index after an e-mail cue at `c` and its glue ("EMAIL [ADDRESS] IS|IT'S|WAS [UM]"); `copula`: whether one was found. */
function afterEmailCue(tokens: Token[], c: number): { next: number; copula: boolean } {
  let j = c + 1;
  while (j < tokens.length && EMAIL_CUE_GLUE.has(tokens[j]!.norm)) j++;
  const copula = j < tokens.length && COPULAS.has(tokens[j]!.norm);
  if (copula) j++;
  while (j < tokens.length && FILLERS.has(tokens[j]!.norm)) j++;
  return { next: j, copula };
}

/** Where a cued address starts ("MY EMAIL IS ^MARY ..."), or null without a copula after the cue. */
function cuedAddressStart(tokens: Token[], c: number): number | null {
  const { next, copula } = afterEmailCue(tokens, c);
  return copula ? next : null;
}

/** Whether the first `end` tokens end with an e-mail cue and nothing after it ("... MY EMAIL IS", "... EMAIL ADDRESS"), not "IN THE MAIL". */
function endsWithEmailCue(tokens: Token[], end: number): boolean {
  for (let c = Math.max(0, end - 4); c < end - 1; c++) {
    if (!EMAIL_CUES.has(tokens[c]!.norm)) continue;
    if (afterEmailCue(tokens.slice(0, end), c).next === end) return true;
  }
  return false;
}

/** Whether the first `end` tokens end with a complete address: a domain with a known TLD, or a typed address. */
function completesAddress(tokens: Token[], end: number): boolean {
  const last = tokens[end - 1];
  if (last === undefined) return false;
  if (EMAIL_TOKEN.test(last.raw.replace(EDGE_PUNCT, '')) || last.norm === 'DOTCOM') return true;
  const dotted = last.norm.split('.');
  if (dotted.length > 1 && TLDS.has(dotted[dotted.length - 1]!)) return true;
  const before = tokens[end - 2]?.norm;
  return TLDS.has(last.norm) && (before === 'DOT' || before === 'PERIOD');
}

/** Whether only fillers follow index `end`. */
function endsText(tokens: Token[], end: number): boolean {
  for (let i = end; i < tokens.length; i++) if (tokens[i]!.kind !== 'filler') return false;
  return true;
}

function prefixOffsets(lengths: readonly number[]): number[] {
  const out = [0];
  for (const n of lengths) out.push(out[out.length - 1]! + n);
  return out;
}

/** Index of the part that holds token `index`. */
function partOf(offsets: readonly number[], index: number): number {
  let p = 0;
  while (p + 2 < offsets.length && offsets[p + 1]! <= index) p++;
  return p;
}

/** The spans overlapping [from, to), clipped to it and made relative to `from`. */
function clip(spans: readonly Span[], from: number, to: number): Span[] {
  const out: Span[] = [];
  for (const s of spans) {
    const start = Math.max(s.start, from);
    const end = Math.min(s.end, to);
    if (end > start) out.push({ start: start - from, end: end - from, category: s.category });
  }
  return out;
}

const DIGIT_CATEGORIES: readonly RedactionCategory[] = ['card', 'phone', 'account', 'digits', 'id'];

interface Run {
  start: number;
  end: number;
  digits: string;
  plus: boolean;
  phoneShaped: boolean;
}

/** Maximal runs of digit-ish tokens that contain at least one real digit. */
function findRuns(tokens: Token[], taken: Uint8Array): Run[] {
  const runs: Run[] = [];
  let i = 0;
  while (i < tokens.length) {
    if (taken[i] || tokens[i]!.kind === 'other') {
      i++;
      continue;
    }
    let j = i;
    while (j < tokens.length && !taken[j] && tokens[j]!.kind !== 'other') j++;
    // Trim fillers and multipliers hanging off the ends; weak digits at the ends stay (over-redact).
    let s = i;
    let e = j;
    while (s < e && (tokens[s]!.kind === 'filler' || tokens[s]!.kind === 'scale')) s++;
    while (e > s && (tokens[e - 1]!.kind === 'filler' || tokens[e - 1]!.kind === 'mult' || tokens[e - 1]!.kind === 'plus')) e--;
    if (tokens.slice(s, e).some((t) => t.kind === 'strong')) runs.push({ start: s, end: e, ...spell(tokens, s, e) });
    i = j;
  }
  return runs;
}

/** The digits a run of tokens spells ("DOUBLE OH NINE" → 009, "TWENTY ONE" → 21, "FIVE HUNDRED" → 500). */
function spell(tokens: Token[], start: number, end: number): { digits: string; plus: boolean; phoneShaped: boolean } {
  let digits = '';
  let repeat = 1;
  let plus = false;
  let phoneShaped = false;
  let pendingTens = false;
  for (let i = start; i < end; i++) {
    const t = tokens[i]!;
    switch (t.kind) {
      case 'plus':
        if (digits === '') plus = true;
        break;
      case 'mult':
        repeat = MULTIPLIERS[t.norm] ?? 1;
        break;
      case 'scale':
        if (digits !== '') digits += SCALES[t.norm] ?? '';
        pendingTens = false;
        break;
      case 'strong':
      case 'weak': {
        if (t.phoneShaped) phoneShaped = true;
        if (t.digits.startsWith('+') || /^\+/.test(t.norm)) plus = true;
        // "TWENTY ONE" is 21, not 201.
        if (pendingTens && t.digits.length === 1 && t.digits !== '0') digits = digits.slice(0, -1) + t.digits;
        else digits += t.digits.repeat(repeat);
        pendingTens = TENS[t.norm] !== undefined;
        repeat = 1;
        break;
      }
      default:
        break;
    }
  }
  return { digits, plus, phoneShaped };
}

/** Single-digit words (ONE, OH, FOR, ...) in a run, DOUBLE/TRIPLE expanded. */
function singleDigitWords(tokens: Token[], r: Run): number {
  let n = 0;
  let repeat = 1;
  for (let i = r.start; i < r.end; i++) {
    const t = tokens[i]!;
    if (t.kind === 'mult') repeat = MULTIPLIERS[t.norm] ?? 1;
    else if ((t.kind === 'strong' || t.kind === 'weak') && t.digits.length === 1 && !DIGIT_FORM.test(t.norm)) {
      n += repeat;
      repeat = 1;
    }
  }
  return n;
}

function contextOf(tokens: Token[], start: number): Set<'card' | 'phone' | 'account' | 'id'> {
  const found = new Set<'card' | 'phone' | 'account' | 'id'>();
  for (let i = Math.max(0, start - CONTEXT_WINDOW); i < start; i++) {
    const w = tokens[i]!.norm;
    for (const key of ['card', 'phone', 'account', 'id'] as const) if (CONTEXT[key].has(w)) found.add(key);
  }
  return found;
}

function numberCueBefore(tokens: Token[], start: number): boolean {
  for (let i = Math.max(0, start - CONTEXT_WINDOW); i < start; i++) if (NUMBER_CUES.has(tokens[i]!.norm)) return true;
  return false;
}

function anyTaken(taken: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (taken[i]) return true;
  return false;
}

function hasSentenceBreak(tokens: Token[], from: number, to: number): boolean {
  // Typed text: a full stop ends a number. (ASR text has no punctuation.)
  for (let i = Math.max(0, from - 1); i < to; i++) if (/[.!?]$/.test(tokens[i]!.raw)) return true;
  return false;
}

function isLabel(t: Token): boolean {
  return /^[\p{L}\p{N}][\p{L}\p{N}._-]*$/u.test(t.norm) && !AT_WORDS.has(t.norm) && !EMAIL_JOINERS.has(t.norm);
}

/** End (exclusive) of a spoken domain starting at `i` ("EXAMPLE DOT CO DOT UK"), or -1. */
function matchDomain(tokens: Token[], i: number): number {
  const first = tokens[i];
  if (first === undefined || !isLabel(first)) return -1;
  // "EXAMPLE.COM" in one token, or "EXAMPLE DOTCOM".
  const dotted = first.norm.split('.');
  if (dotted.length > 1 && TLDS.has(dotted[dotted.length - 1]!)) return i + 1;
  if (tokens[i + 1]?.norm === 'DOTCOM') return i + 2;
  let j = i + 1;
  let last = '';
  while (j + 1 < tokens.length && (tokens[j]!.norm === 'DOT' || tokens[j]!.norm === 'PERIOD') && isLabel(tokens[j + 1]!)) {
    last = tokens[j + 1]!.norm;
    j += 2;
  }
  return last !== '' && TLDS.has(last) ? j : -1;
}

function aligned(tokens: Token[], words: readonly TimedWord[]): boolean {
  if (tokens.length !== words.length) return false;
  for (let i = 0; i < tokens.length; i++) if (tokens[i]!.raw !== words[i]!.word) return false;
  return true;
}

function rewriteTokens(tokens: Token[], spans: Span[]): string {
  const out: string[] = [];
  let i = 0;
  for (const s of spans) {
    for (; i < s.start; i++) out.push(tokens[i]!.raw);
    const trailing = /[,.;:!?]+$/.exec(tokens[s.end - 1]!.raw)?.[0] ?? '';
    out.push(PLACEHOLDERS[s.category] + trailing);
    i = s.end;
  }
  for (; i < tokens.length; i++) out.push(tokens[i]!.raw);
  return out.join(' ');
}

function rewriteWords(words: readonly TimedWord[], spans: Span[]): TimedWord[] {
  const out: TimedWord[] = [];
  let i = 0;
  for (const s of spans) {
    for (; i < s.start; i++) out.push({ ...words[i]! });
    out.push({ word: PLACEHOLDERS[s.category], startMs: words[s.start]!.startMs, endMs: words[s.end - 1]!.endMs });
    i = s.end;
  }
  for (; i < words.length; i++) out.push({ ...words[i]! });
  return out;
}

function emptyCounts(): RedactionCounts {
  return { card: 0, phone: 0, email: 0, account: 0, digits: 0, id: 0, name: 0 };
}
