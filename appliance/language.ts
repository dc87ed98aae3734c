/**
 * The languages a call can be transcribed in, and how a call chooses one (shared by the speech
 * engine, calls, events, storage and the console API).
 */

/** A language with a recognition model: English (gigaspeech) or Mandarin (wenetspeech, pinyin units). */
export type SpeechLanguage = 'en' | 'zh';

/** What a trunk, DID or queue asks for: a language, or `auto` (decided from the first seconds of speech). */
export type LanguageChoice = SpeechLanguage | 'auto';

export const SPEECH_LANGUAGES: readonly SpeechLanguage[] = ['en', 'zh'];
export const LANGUAGE_CHOICES: readonly LanguageChoice[] = ['en', 'zh', 'auto'];

export function isLanguageChoice(v: unknown): v is LanguageChoice {
  return typeof v === 'string' && (LANGUAGE_CHOICES as readonly string[]).includes(v);
}

/** The outcome of `auto`: which language won, how sure, after how much audio. */
export interface LanguageDecision {
  language: SpeechLanguage;
  /** 0..1: the winner's share of the two models' evidence. */
  confidence: number;
  /** Audio (ms from the start of the leg) heard when the decision was made. */
  decidedAtMs: number;
}
