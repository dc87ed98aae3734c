/**
 * Utterance analyser: the intent of each final utterance (IntentClassifier on the unredacted text,
 * in memory only). The model is chosen by the final's language (English: models/intent, BANKING77
 * labels; Mandarin: models/intent-zh, `zh.` labels); a final in a language without a model gets no
 * intent rather than a guess from the other language's model. The result is stored with the
 * utterance as `analysis.intent` and announced once as a typed `intent` event (eventOf).
 */
import type { SpeechLanguage } from '../asr/language.js';
import type { UtteranceAnalyser, UtteranceContext } from '../calls/analysis.js';
import type { ApplianceEvent } from '../events/appEvents.js';
import type { IntentResult } from '../intent/classifier.js';

/** The part of IntentClassifier this analyser uses (a fake can stand in for it in tests). */
export interface IntentModel {
  classify(text: string): Promise<IntentResult>;
}

/** One intent model per language; a language left out gets no intents. */
export type IntentModelsByLanguage = Partial<Record<SpeechLanguage, IntentModel>>;

export interface IntentAnalyserOptions {
  /** Speakers whose utterances are classified (routing needs the caller's). */
  readonly speakers: readonly string[];
}

/** What is stored with the utterance as `analysis.intent`. */
export interface IntentAnalysis {
  intent: string | null;
  confidence: number;
  outOfScope: boolean;
  top: { intent: string; confidence: number }[];
  latencyMs: number;
}

export class IntentUtteranceAnalyser implements UtteranceAnalyser {
  readonly name = 'intent';
  private readonly models: IntentModelsByLanguage;

  /** `models`: the English model alone, or one model per language. */
  constructor(
    models: IntentModel | IntentModelsByLanguage,
    private readonly options: IntentAnalyserOptions,
  ) {
    this.models = isIntentModel(models) ? { en: models } : models;
  }

  async analyse(ctx: UtteranceContext): Promise<Record<string, unknown> | null> {
    if (!this.options.speakers.includes(ctx.speaker)) return null;
    const model = this.models[ctx.language ?? 'en'];
    if (model === undefined) return null;
    const started = performance.now();
    const r = await model.classify(ctx.text);
    const latencyMs = performance.now() - started;
    const top = r.top.map((t) => ({ intent: t.intent, confidence: round(t.confidence) }));
    const result: IntentAnalysis = {
      intent: r.intent,
      confidence: round(r.confidence),
      outOfScope: r.outOfScope,
      top,
      latencyMs: round(latencyMs),
    };
    return { ...result };
  }

  eventOf(ctx: UtteranceContext, result: Record<string, unknown>, at: number): ApplianceEvent {
    const r = result as unknown as IntentAnalysis;
    return { type: 'intent', at, callId: ctx.callId, legId: ctx.legId, speaker: ctx.speaker, utteranceId: ctx.utteranceId, ...r };
  }
}

function isIntentModel(m: IntentModel | IntentModelsByLanguage): m is IntentModel {
  return typeof (m as Partial<IntentModel>).classify === 'function';
}

export function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
