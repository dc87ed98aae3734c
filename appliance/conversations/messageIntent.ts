/**
 * The intent of a customer's typed message, from the same classifiers that analyse call finals
 * (analysis/loader.ts: English BANKING77 model, Mandarin model for `zh`). A language without a model
 * gets no intent (null), like a call final.
 */
import type { IntentResult } from '../intent/classifier.js';
import type { MessageIntent } from './conversationService.js';

interface Classifier {
  classify(text: string): Promise<IntentResult>;
}

export function messageIntentOf(models: { en?: Classifier | null; zh?: Classifier | null }): MessageIntent | null {
  if ((models.en ?? null) === null && (models.zh ?? null) === null) return null;
  return async (text, language) => {
    const model = (language === 'zh' ? models.zh : models.en) ?? null;
    if (model === null) return null;
    const r = await model.classify(text);
    return { intent: r.intent, confidence: r.confidence, outOfScope: r.outOfScope, top: r.top };
  };
}
