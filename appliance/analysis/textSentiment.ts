/**
 * Utterance analyser: the sentiment of the words of each final (VADER: a rule-based lexicon of
 * English words and their valence with rules for negation, intensifiers and "but"; the
 * vader-sentiment package, Apache-2.0, its lexicon derived from C.J. Hutto's VADER lexicon, MIT).
 * English only: no Chinese lexicon with a clear licence ships on the box, so Mandarin finals get no
 * text sentiment rather than a guess. Stored with the utterance as `analysis.sentiment` (scores and
 * label only, never the words) and announced as a generic `analysis` event named `sentiment`.
 * It is kept apart from the acoustic emotion; analysis/callMood.ts puts both on one call trend.
 */
import { createRequire } from 'node:module';
import type { SpeechLanguage } from '../asr/language.js';
import type { UtteranceAnalyser, UtteranceContext } from '../calls/analysis.js';
import { round } from './intentAnalyser.js';

export type SentimentLabel = 'positive' | 'neutral' | 'negative';

interface VaderScores {
  neg: number;
  neu: number;
  pos: number;
  compound: number;
}

const vader = createRequire(import.meta.url)('vader-sentiment') as {
  SentimentIntensityAnalyzer: { polarity_scores(text: string): VaderScores };
};

/**
 * |compound| at or above this is positive / negative. Chosen on the dev half of
 * test/fixtures/sentiment/contact-centre.json only (make eval-sentiment): VADER's own 0.05 calls
 * polite requests ("could you ... please") positive; 0.1-0.3 is a flat plateau of dev accuracy and
 * 0.2 its middle (0.35-0.4 gain one more dev item next to a cliff at 0.45, not taken).
 */
export const SENTIMENT_THRESHOLD = 0.2;
/** The VADER authors' cut-off, reported next to ours by make eval-sentiment. */
export const VADER_DEFAULT_THRESHOLD = 0.05;

/** What is stored with the utterance as `analysis.sentiment`. */
export interface TextSentiment {
  label: SentimentLabel;
  /** VADER compound score, -1 (most negative) .. 1 (most positive). */
  compound: number;
  pos: number;
  neu: number;
  neg: number;
  /** Which lexicon judged it (one today; kept so stored results say where they came from). */
  lexicon: 'vader-en';
}

/** Languages with a text-sentiment lexicon. */
export const SENTIMENT_LANGUAGES: readonly SpeechLanguage[] = ['en'];

/** The sentiment of `text`, or null in a language without a lexicon (or for text with no words). */
export function textSentiment(text: string, language: SpeechLanguage = 'en', threshold = SENTIMENT_THRESHOLD): TextSentiment | null {
  if (!SENTIMENT_LANGUAGES.includes(language) || !/[a-z]/i.test(text)) return null;
  const s = vader.SentimentIntensityAnalyzer.polarity_scores(text);
  const label: SentimentLabel = s.compound >= threshold ? 'positive' : s.compound <= -threshold ? 'negative' : 'neutral';
  return { label, compound: round(s.compound), pos: round(s.pos), neu: round(s.neu), neg: round(s.neg), lexicon: 'vader-en' };
}

export interface SentimentAnalyserOptions {
  /** Speakers whose finals are scored. */
  readonly speakers: readonly string[];
}

export class SentimentUtteranceAnalyser implements UtteranceAnalyser {
  readonly name = 'sentiment';

  constructor(private readonly options: SentimentAnalyserOptions) {}

  analyse(ctx: UtteranceContext): Promise<Record<string, unknown> | null> {
    if (!this.options.speakers.includes(ctx.speaker)) return Promise.resolve(null);
    const started = performance.now();
    const s = textSentiment(ctx.text, ctx.language ?? 'en');
    if (s === null) return Promise.resolve(null);
    return Promise.resolve({ ...s, latencyMs: round(performance.now() - started) });
  }
}
