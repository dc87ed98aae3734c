/**
 * What transcript redaction knows about spoken personal data: the vocabulary of spoken digits,
 * numbers, e-mail addresses and names, the tokenizer, the checksums (Luhn, IBAN) and the helpers
 * that find digit runs, cues and addresses in a token stream and rewrite the redacted spans.
 * The Redactor (privacy/redactor.ts) decides what to redact with them.
 */
import { type RedactionCategory, PLACEHOLDERS, type TimedWord, type RedactionCounts, type Span } from './redactionTypes.js';

// --- vocabulary --------------------------------------------------------------------------------

export const STRONG_DIGITS: Record<string, string> = {
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
export const TENS: Record<string, string> = {
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
export const WEAK_DIGITS: Record<string, string> = {
  OH: '0',
  O: '0',
  WON: '1',
  TO: '2',
  TOO: '2',
  FOR: '4',
  FORE: '4',
  FREE: '3',
  ATE: '8',
};
export const MULTIPLIERS: Record<string, number> = { DOUBLE: 2, TRIPLE: 3 };
export const SCALES: Record<string, string> = { HUNDRED: '00', THOUSAND: '000' };
export const FILLERS = new Set(['UM', 'UH', 'ER', 'ERM', 'AH', 'HMM', 'MM', 'DASH', 'HYPHEN', 'SPACE']);

export const CONTEXT: Record<'card' | 'phone' | 'account' | 'id', ReadonlySet<string>> = {
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
export const CONTEXT_WINDOW = 6;
/** Words before a single trailing digit that announce a number being read out (openEnding only). */
export const NUMBER_CUES = new Set(['NUMBER', 'PIN', 'CODE', 'PASSCODE', 'DIGITS', 'POSTCODE', 'ZIP']);

export const TLDS = new Set(
  'COM NET ORG CO UK IO DE FR ES IT NL EDU GOV INFO BIZ US CA AU IE IN ME AI APP DEV EU CH AT BE SE NO DK PL JP NZ ZA BR MX RU CN FI PT GR CZ HU RO'.split(
    ' ',
  ),
);
// PLUS: plus-addressing (jane+news@...), read out as "JANE PLUS NEWS AT ..."
export const EMAIL_JOINERS = new Set(['DOT', 'PERIOD', 'UNDERSCORE', 'DASH', 'HYPHEN', 'PLUS']);
/** Words ASR hears for "at" in a spoken address; accepted only before a complete domain. */
export const AT_WORDS = new Set(['AT', '@']);
export const WEAK_AT_WORDS = new Set(['AND', 'ET', 'ADD', 'HAT']);

export const NAME_TRIGGERS: readonly (readonly string[])[] = [
  ['NAME', 'IS'],
  ["NAME'S"],
  ['NAMES'],
  ['I', 'AM', 'CALLED'],
  ["I'M", 'CALLED'],
  ['SPEAKING', 'WITH'],
  ['SPEAKING', 'TO'],
  ['SURNAME', 'IS'],
];
export const NAME_STOP = new Set(
  (
    "AND BUT SO OR I I'M IM AM IS ARE WAS WERE BE THE A AN ON IN AT FROM TO FOR WITH MY YOUR HIS HER OUR THEIR CALLING HERE THERE PLEASE THANK THANKS " +
    "YOU OK OKAY YES NO NOT SPEAKING IT'S ITS IT OF BY AS THAT THIS WHAT WHO HOW WHY WHEN CAN COULD WOULD WILL SHALL HAVE HAS HAD DO DOES DID " +
    'ME US HIM THEM JUST ALSO ACTUALLY REALLY WELL RIGHT SORRY HI HELLO HEY GOOD MORNING AFTERNOON EVENING CALLED ABOUT REGARDING BECAUSE IF THEN'
  ).split(' '),
);
export const SPELLING_LIMIT = 20;

/** "MY EMAIL IS ...", "E-MAIL ADDRESS IT'S ...": what follows is an address even when the ASR mangled its domain. */
export const EMAIL_CUES = new Set(['EMAIL', 'E-MAIL', 'MAIL']);
export const EMAIL_CUE_GLUE = new Set(['ADDRESS']);
export const COPULAS = new Set(['IS', "IT'S", 'ITS', 'WAS']);
export const MAX_EMAIL_WORDS = 12;
/** Words that end a cued address: the NAME_STOP words, except the ones spoken inside addresses. */
export const EMAIL_STOP = new Set([...NAME_STOP].filter((w) => !AT_WORDS.has(w)));
export const DIGIT_KINDS: ReadonlySet<Kind> = new Set(['strong', 'weak']);

// --- tokens ------------------------------------------------------------------------------------

export type Kind = 'strong' | 'weak' | 'mult' | 'scale' | 'filler' | 'plus' | 'other';

export interface Token {
  raw: string;
  /** Upper-case, surrounding punctuation stripped. */
  norm: string;
  kind: Kind;
  /** Digits this token contributes (digit-form and spoken digits). */
  digits: string;
  /** Typed digits with phone punctuation ("+44", "(020)"). */
  phoneShaped: boolean;
}

export const EDGE_PUNCT = /^[^\p{L}\p{N}+@(]+|[^\p{L}\p{N})']+$/gu;
export const DIGIT_FORM = /^\+?\(?\d[\d\-./()]*$/;
/**
 * Typed digits glued by punctuation to a following word ("1111,thanks", "4111111111111111.pdf"):
 * the digits count, and the whole token is rewritten when they are redacted.
 */
const DIGITS_THEN_WORD = /^(\+?\(?\d[\d\-./()]*?)[.,;:!?_]+\p{L}[\p{L}\p{N}]*$/u;
/**
 * Typed digits glued after a label by its punctuation ("Tel:+442079460958", "Mobile:07700900123",
 * "card:4111..."), as e-mail signatures and chats write them, or after a name or handle by a dash
 * or underscore ("john-07700900123", "wx_13912345678", a file name "zhangsan-13800138000.pdf"): the
 * digits count, and the whole token is rewritten when they are redacted.
 */
const WORD_THEN_DIGITS = /^\p{L}{1,20}[.:=#_-]+(\+?\(?\d[\d\-./()]*?)(?:[.,;:!?_]+\p{L}[\p{L}\p{N}]*)?$/u;
export const EMAIL_TOKEN = /^[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(\.[\p{L}\p{N}-]+)+$/u;
const EMAIL_LOCAL_CHAR = /[\p{L}\p{N}._%+-]/u;
const EMAIL_DOMAIN_CHAR = /[\p{L}\p{N}.-]/u;

/**
 * Whether a typed token holds an address anywhere in it: in brackets or quotes, after `mailto:` or
 * `Email:`, two joined by `;`. Looks out from each @ over the characters of an address (each side
 * bounded, so linear in the token's length) and checks what it found with EMAIL_TOKEN.
 */
export function containsEmail(token: string): boolean {
  const chars = Array.from(token);
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] !== '@') continue;
    let start = i;
    while (start > 0 && i - start < 64 && EMAIL_LOCAL_CHAR.test(chars[start - 1]!)) start--;
    let end = i + 1;
    while (end < chars.length && end - i <= 253 && EMAIL_DOMAIN_CHAR.test(chars[end]!)) end++;
    const found = chars
      .slice(start, end)
      .join('')
      .replace(/^[._%+-]+|[.-]+$/gu, '');
    if (EMAIL_TOKEN.test(found)) return true;
  }
  return false;
}
export const IBAN_TOKEN = /^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/;
export const SSN_TOKEN = /^\d{3}-\d{2}-\d{4}$/;
export const UK_NI_TOKEN = /^[A-Z]{2}\d{6}[A-D]$/;

/** Full-width ASCII forms (０-９, ＠, ＋, Ａ-Ｚ, as an IME's full-width mode types them) as their half-width characters. */
export function halfWidth(text: string): string {
  return text.replace(/[\uff01-\uff5e]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
}

export function tokenize(words: readonly string[]): Token[] {
  return words.map((raw) => {
    // read as half-width; the raw token (what is kept or replaced) stays as typed
    const norm = halfWidth(raw).replace(EDGE_PUNCT, '').toUpperCase();
    if (DIGIT_FORM.test(norm)) {
      return { raw, norm, kind: 'strong', digits: norm.replace(/\D/g, ''), phoneShaped: /^\+|[()]/.test(norm) };
    }
    const glued = DIGITS_THEN_WORD.exec(norm)?.[1] ?? WORD_THEN_DIGITS.exec(norm)?.[1];
    if (glued !== undefined) return { raw, norm, kind: 'strong', digits: glued.replace(/\D/g, ''), phoneShaped: /^\+|[()]/.test(glued) };
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

/** A digit run that crosses an utterance boundary at `b`, with digit words on both sides. */
export function crossesWithDigits(tokens: Token[], r: Run, b: number): boolean {
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
export function afterEmailCue(tokens: Token[], c: number): { next: number; copula: boolean } {
  let j = c + 1;
  while (j < tokens.length && EMAIL_CUE_GLUE.has(tokens[j]!.norm)) j++;
  const copula = j < tokens.length && COPULAS.has(tokens[j]!.norm);
  if (copula) j++;
  while (j < tokens.length && FILLERS.has(tokens[j]!.norm)) j++;
  return { next: j, copula };
}

/** Where a cued address starts ("MY EMAIL IS ^MARY ..."), or null without a copula after the cue. */
export function cuedAddressStart(tokens: Token[], c: number): number | null {
  const { next, copula } = afterEmailCue(tokens, c);
  return copula ? next : null;
}

/** Whether the first `end` tokens end with an e-mail cue and nothing after it ("... MY EMAIL IS", "... EMAIL ADDRESS"), not "IN THE MAIL". */
export function endsWithEmailCue(tokens: Token[], end: number): boolean {
  for (let c = Math.max(0, end - 4); c < end - 1; c++) {
    if (!EMAIL_CUES.has(tokens[c]!.norm)) continue;
    if (afterEmailCue(tokens.slice(0, end), c).next === end) return true;
  }
  return false;
}

/** Whether the first `end` tokens end with a complete address: a domain with a known TLD, or a typed address. */
export function completesAddress(tokens: Token[], end: number): boolean {
  const last = tokens[end - 1];
  if (last === undefined) return false;
  if (EMAIL_TOKEN.test(halfWidth(last.raw).replace(EDGE_PUNCT, '')) || last.norm === 'DOTCOM') return true;
  const dotted = last.norm.split('.');
  if (dotted.length > 1 && TLDS.has(dotted[dotted.length - 1]!)) return true;
  const before = tokens[end - 2]?.norm;
  return TLDS.has(last.norm) && (before === 'DOT' || before === 'PERIOD');
}

/** Whether only fillers follow index `end`. */
export function endsText(tokens: Token[], end: number): boolean {
  for (let i = end; i < tokens.length; i++) if (tokens[i]!.kind !== 'filler') return false;
  return true;
}

export function prefixOffsets(lengths: readonly number[]): number[] {
  const out = [0];
  for (const n of lengths) out.push(out[out.length - 1]! + n);
  return out;
}

/** Index of the part that holds token `index`. */
export function partOf(offsets: readonly number[], index: number): number {
  let p = 0;
  while (p + 2 < offsets.length && offsets[p + 1]! <= index) p++;
  return p;
}

/** The spans overlapping [from, to), clipped to it and made relative to `from`. */
export function clip(spans: readonly Span[], from: number, to: number): Span[] {
  const out: Span[] = [];
  for (const s of spans) {
    const start = Math.max(s.start, from);
    const end = Math.min(s.end, to);
    if (end > start) out.push({ start: start - from, end: end - from, category: s.category });
  }
  return out;
}

export const DIGIT_CATEGORIES: readonly RedactionCategory[] = ['card', 'phone', 'account', 'digits', 'id'];

export interface Run {
  start: number;
  end: number;
  digits: string;
  plus: boolean;
  phoneShaped: boolean;
}

/** Maximal runs of digit-ish tokens that contain at least one real digit. */
export function findRuns(tokens: Token[], taken: Uint8Array): Run[] {
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
export function spell(tokens: Token[], start: number, end: number): { digits: string; plus: boolean; phoneShaped: boolean } {
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
export function singleDigitWords(tokens: Token[], r: Run): number {
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

export function contextOf(tokens: Token[], start: number): Set<'card' | 'phone' | 'account' | 'id'> {
  const found = new Set<'card' | 'phone' | 'account' | 'id'>();
  for (let i = Math.max(0, start - CONTEXT_WINDOW); i < start; i++) {
    const w = tokens[i]!.norm;
    for (const key of ['card', 'phone', 'account', 'id'] as const) if (CONTEXT[key].has(w)) found.add(key);
  }
  return found;
}

export function numberCueBefore(tokens: Token[], start: number): boolean {
  for (let i = Math.max(0, start - CONTEXT_WINDOW); i < start; i++) if (NUMBER_CUES.has(tokens[i]!.norm)) return true;
  return false;
}

export function anyTaken(taken: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (taken[i]) return true;
  return false;
}

export function hasSentenceBreak(tokens: Token[], from: number, to: number): boolean {
  // Typed text: a full stop ends a number. (ASR text has no punctuation.)
  for (let i = Math.max(0, from - 1); i < to; i++) if (/[.!?]$/.test(tokens[i]!.raw)) return true;
  return false;
}

export function isLabel(t: Token): boolean {
  return /^[\p{L}\p{N}][\p{L}\p{N}._-]*$/u.test(t.norm) && !AT_WORDS.has(t.norm) && !EMAIL_JOINERS.has(t.norm);
}

/** End (exclusive) of a spoken domain starting at `i` ("EXAMPLE DOT CO DOT UK"), or -1. */
export function matchDomain(tokens: Token[], i: number): number {
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

export function aligned(tokens: Token[], words: readonly TimedWord[]): boolean {
  if (tokens.length !== words.length) return false;
  for (let i = 0; i < tokens.length; i++) if (tokens[i]!.raw !== words[i]!.word) return false;
  return true;
}

export function rewriteTokens(tokens: Token[], spans: Span[]): string {
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

export function rewriteWords(words: readonly TimedWord[], spans: Span[]): TimedWord[] {
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

export function emptyCounts(): RedactionCounts {
  return { card: 0, phone: 0, email: 0, account: 0, digits: 0, id: 0, name: 0, address: 0 };
}
