/**
 * A call's mood over time from what is stored with its utterances: the acoustic emotion
 * (`analysis.emotion`, the voice) and the text sentiment (`analysis.sentiment`, the words), kept as
 * two separate series, and one combined figure.
 *
 * Both are put on one 0..1 "distress" scale before they are combined:
 * - acoustic: the emotion model's agitation (emotion/trend.ts: P(angry) + 0.5·arousal⁺·(−valence)⁺),
 *   capped at 1;
 * - text: the negative part of the VADER compound score, max(0, −compound) (positive or neutral
 *   words = 0: pleasant words do not cancel an angry voice).
 * combined = the weighted mean of the parts an utterance has (ACOUSTIC_WEIGHT, TEXT_WEIGHT; one part
 * alone when the other is missing, e.g. a Mandarin final has no text sentiment, a short one no
 * emotion). Each series' trend is the least-squares slope over its last TREND.windowSize points, as
 * for the acoustic trend (escalating above TREND.slopeThreshold per utterance, calming below minus it).
 */
import { DEFAULT_TREND_OPTIONS } from '../emotion/trend.js';
import type { TrendLabel } from './emotionTrend.js';
import { round } from './intentAnalyser.js';

export const ACOUSTIC_WEIGHT = 0.5;
export const TEXT_WEIGHT = 0.5;
const TREND = DEFAULT_TREND_OPTIONS;

/** The parts of a stored utterance this reads. */
export interface MoodUtterance {
  id: number;
  speaker: string;
  startMs: number;
  analysis: Record<string, unknown> | null;
}

export interface MoodPoint {
  utteranceId: number;
  speaker: string;
  startMs: number;
  /** Acoustic distress 0..1 (null: no emotion for this utterance). */
  acoustic: number | null;
  /** The acoustic emotion's category, for the tooltip. */
  emotion: string | null;
  /** VADER compound -1..1 (null: no text sentiment, e.g. Mandarin). */
  sentiment: number | null;
  sentimentLabel: string | null;
  /** Text distress 0..1 = max(0, -sentiment). */
  text: number | null;
  combined: number | null;
}

export interface SpeakerMood {
  speaker: string;
  points: MoodPoint[];
  trend: { acoustic: TrendLabel; text: TrendLabel; combined: TrendLabel };
  mean: { acoustic: number | null; text: number | null; combined: number | null };
}

export interface CallMood {
  method: { acousticWeight: number; textWeight: number; windowSize: number; slopeThreshold: number };
  speakers: SpeakerMood[];
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const obj = (v: unknown): Record<string, unknown> | null => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : null);

/** One utterance's point (null when it has neither emotion nor sentiment). */
export function moodPoint(u: MoodUtterance): MoodPoint | null {
  const emotion = obj(u.analysis?.['emotion']);
  const sentiment = obj(u.analysis?.['sentiment']);
  const agitation = num(emotion?.['agitation']);
  const compound = num(sentiment?.['compound']);
  if (agitation === null && compound === null) return null;
  const acoustic = agitation === null ? null : Math.min(1, Math.max(0, agitation));
  const text = compound === null ? null : Math.max(0, -compound);
  return {
    utteranceId: u.id,
    speaker: u.speaker,
    startMs: u.startMs,
    acoustic: acoustic === null ? null : round(acoustic),
    emotion: typeof emotion?.['category'] === 'string' ? emotion['category'] : null,
    sentiment: compound,
    sentimentLabel: typeof sentiment?.['label'] === 'string' ? sentiment['label'] : null,
    text: text === null ? null : round(text),
    combined: combineDistress(acoustic, text),
  };
}

/** The combined distress of one utterance: weighted mean of the parts present. */
export function combineDistress(acoustic: number | null, text: number | null): number | null {
  if (acoustic === null && text === null) return null;
  if (acoustic === null) return round(text!);
  if (text === null) return round(acoustic);
  return round((ACOUSTIC_WEIGHT * acoustic + TEXT_WEIGHT * text) / (ACOUSTIC_WEIGHT + TEXT_WEIGHT));
}

/** Trend of the last window of a series (escalating / calming / steady; unknown when too short). */
export function trendOf(values: readonly number[]): TrendLabel {
  const ys = values.slice(-TREND.windowSize);
  const n = ys.length;
  if (n < TREND.minUtterances) return 'unknown';
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let numer = 0;
  let den = 0;
  ys.forEach((y, i) => {
    numer += (i - mx) * (y - my);
    den += (i - mx) * (i - mx);
  });
  const slope = den > 0 ? numer / den : 0;
  return slope > TREND.slopeThreshold ? 'escalating' : slope < -TREND.slopeThreshold ? 'calming' : 'steady';
}

const mean = (xs: readonly number[]): number | null => (xs.length === 0 ? null : round(xs.reduce((a, b) => a + b, 0) / xs.length));

/** The mood of a call, per speaker, from its stored utterances (in start order). */
export function callMood(utterances: readonly MoodUtterance[]): CallMood {
  const bySpeaker = new Map<string, MoodPoint[]>();
  for (const u of [...utterances].sort((a, b) => a.startMs - b.startMs)) {
    const p = moodPoint(u);
    if (p === null) continue;
    const list = bySpeaker.get(u.speaker) ?? [];
    list.push(p);
    bySpeaker.set(u.speaker, list);
  }
  const speakers = [...bySpeaker].map(([speaker, points]) => {
    const series = (k: 'acoustic' | 'text' | 'combined') => points.map((p) => p[k]).filter((v): v is number => v !== null);
    return {
      speaker,
      points,
      trend: { acoustic: trendOf(series('acoustic')), text: trendOf(series('text')), combined: trendOf(series('combined')) },
      mean: { acoustic: mean(series('acoustic')), text: mean(series('text')), combined: mean(series('combined')) },
    };
  });
  return {
    method: {
      acousticWeight: ACOUSTIC_WEIGHT,
      textWeight: TEXT_WEIGHT,
      windowSize: TREND.windowSize,
      slopeThreshold: TREND.slopeThreshold,
    },
    speakers,
  };
}
