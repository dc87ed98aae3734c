/** The categories, placeholders, options and results of transcript redaction (privacy/redactor.ts). */
import type { SpeechLanguage } from '../asr/language.js';

export const REDACTION_CATEGORIES = ['card', 'phone', 'email', 'account', 'digits', 'id', 'name', 'address'] as const;
export type RedactionCategory = (typeof REDACTION_CATEGORIES)[number];

export const PLACEHOLDERS: Readonly<Record<RedactionCategory, string>> = {
  card: '[CARD]',
  phone: '[PHONE]',
  email: '[EMAIL]',
  account: '[ACCOUNT]',
  digits: '[DIGITS]',
  id: '[ID]',
  name: '[NAME]',
  address: '[ADDRESS]',
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
  /** Earlier finals of the same run (raw texts, or parts with their language and pinyin), already released: detection context only, not returned or counted. */
  context?: readonly (string | RedactionPart)[];
  /** The speaker is still reading a number out: a digit run at the very end is redacted even if short. */
  openTail?: boolean;
}

/** One utterance of a group redacted together (consecutive finals of one speaker). */
export interface RedactionPart {
  text: string;
  words?: readonly TimedWord[];
  /** The language of the text: 'zh' is redacted by the Chinese rules (redactorZh.ts); absent = English. */
  language?: SpeechLanguage;
  /** Chinese: the recognised tonal pinyin, one syllable per character (finds digits the characters hide). */
  pinyin?: string;
}

/** Why a text may continue in the next utterance: it ends in a digit run, a name cue, an e-mail cue or an address (Chinese). */
export type OpenEnding = 'digits' | 'name' | 'email' | 'address';

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

export interface Span {
  start: number;
  /** Exclusive. */
  end: number;
  category: RedactionCategory;
}
