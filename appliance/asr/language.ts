/** Speech languages as the recognizer sees them (the types live in ../language.ts). */
import type { SpeechLanguage } from '../language.js';

export { LANGUAGE_CHOICES, SPEECH_LANGUAGES, isLanguageChoice } from '../language.js';
export type { LanguageChoice, LanguageDecision, SpeechLanguage } from '../language.js';

/** CJK ideographs, or pinyin tone marks: a phrase written for the Mandarin model. */
const MANDARIN_SCRIPT = /[\u3400-\u9fff\uf900-\ufaff]|[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ]/u;

/** The language whose model can spell a keyword or hotword, from its script. */
export function phraseLanguage(phrase: string): SpeechLanguage {
  return MANDARIN_SCRIPT.test(phrase) ? 'zh' : 'en';
}
