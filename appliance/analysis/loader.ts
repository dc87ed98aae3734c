/**
 * Loads the intent and emotion models from the model store's verified, active copies (never from
 * paths outside it) and builds the utterance analysers on them, and the text-sentiment one (a
 * lexicon, no model). A model that is not active leaves its analyser out (logged), so calls and
 * routing still run on what is there.
 */
import { join } from 'node:path';
import type { UtteranceAnalyser } from '../calls/analysis.js';
import type { EdgeVoxConfig } from '../config/schema.js';
import { EmotionAnalyser } from '../emotion/analyser.js';
import { isEdgeVoxError } from '../errors.js';
import { IntentClassifier } from '../intent/classifier.js';
import type { Logger } from '../log/logger.js';
import type { ModelStore } from '../modelstore/modelStore.js';
import { EmotionUtteranceAnalyser } from './emotionAnalyser.js';
import { EmotionTrendTracker } from './emotionTrend.js';
import { guardAnalyser } from './guard.js';
import { IntentUtteranceAnalyser } from './intentAnalyser.js';
import { SentimentUtteranceAnalyser } from './textSentiment.js';

export interface AnalysisRuntime {
  readonly analysers: readonly UtteranceAnalyser[];
  readonly intent: IntentClassifier | null;
  /** The Mandarin intent model (models/intent-zh), for finals whose language is `zh`. */
  readonly intentZh: IntentClassifier | null;
  readonly emotion: EmotionAnalyser | null;
  readonly trends: EmotionTrendTracker;
  close(): Promise<void>;
}

export async function startAnalysis(deps: { models: ModelStore; config: EdgeVoxConfig; logger: Logger }): Promise<AnalysisRuntime> {
  const { models, config, logger } = deps;
  const session = {
    providers: config.inference.providers,
    intraOpThreads: config.inference.intraOpThreads,
    interOpThreads: config.inference.interOpThreads,
  };
  const active = (name: string): string | null => {
    try {
      return models.activeDir(name);
    } catch (err) {
      if (!isEdgeVoxError(err)) throw err;
      logger.error({ model: name, code: err.code }, 'analysis model not active: its analyser is off');
      return null;
    }
  };
  let intent: IntentClassifier | null = null;
  let intentZh: IntentClassifier | null = null;
  let emotion: EmotionAnalyser | null = null;
  const trends = new EmotionTrendTracker();
  const analysers: UtteranceAnalyser[] = [];
  try {
    const intentDir = active('intent');
    if (intentDir !== null) intent = await IntentClassifier.load(join(intentDir, 'intent.json'), { session, topK: 10 });
    // The Mandarin model is optional: without it Chinese finals simply get no intent.
    const intentZhDir = active('intent-zh');
    if (intentZhDir !== null) intentZh = await IntentClassifier.load(join(intentZhDir, 'intent.json'), { session, topK: 7 });
    if (intent !== null || intentZh !== null) {
      analysers.push(
        new IntentUtteranceAnalyser(
          { ...(intent !== null ? { en: intent } : {}), ...(intentZh !== null ? { zh: intentZh } : {}) },
          { speakers: config.routing.intentSpeakers },
        ),
      );
    }
    const emotionDir = active('emotion');
    if (emotionDir !== null) {
      emotion = await EmotionAnalyser.load(join(emotionDir, 'emotion.json'), session);
      analysers.push(
        new EmotionUtteranceAnalyser(emotion, {
          speakers: config.routing.emotionSpeakers,
          minAudioMs: config.routing.minEmotionAudioMs,
          maxAudioMs: config.routing.maxEmotionAudioMs,
          trends,
        }),
      );
    }
    // Text sentiment needs no model (a lexicon in the package): on for the same speakers as emotion.
    analysers.push(new SentimentUtteranceAnalyser({ speakers: config.routing.emotionSpeakers }));
  } catch (err) {
    await intent?.close();
    await intentZh?.close();
    await emotion?.close();
    throw err;
  }
  // First inferences pay for JIT and onnxruntime allocations (~100 ms here): take that at start,
  // not on the first caller's routing decision.
  const warmStarted = performance.now();
  await intent?.classify('warm up the intent model');
  await intentZh?.classify('预热意图模型');
  await emotion?.analyse(
    Int16Array.from({ length: 8000 }, (_, i) => Math.round(2000 * Math.sin(i / 7))),
    8000,
  );
  logger.info(
    {
      intent: intent !== null,
      intentZh: intentZh !== null,
      emotion: emotion !== null,
      warmUpMs: Math.round(performance.now() - warmStarted),
    },
    'utterance analysis ready',
  );
  let closed = false;
  return {
    // Guarded: an analyser's failure, even a synchronous throw, never reaches the transcript callback.
    analysers: analysers.map((a) => guardAnalyser(a, logger)),
    intent,
    intentZh,
    emotion,
    trends,
    async close() {
      if (closed) return;
      closed = true;
      await intent?.close();
      await intentZh?.close();
      await emotion?.close();
    },
  };
}
