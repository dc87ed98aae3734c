/**
 * Which knowledge cards a call's agent sees next: the search's candidates re-ranked by the agents'
 * feedback, those already shown on the call left out, text-only matches that do not stand out dropped.
 */
import type { AssistCard } from '../events/appEvents.js';
import type { CardRating } from './cardRepo.js';
import type { KnowledgeCard } from './knowledgeIndex.js';

/**
 * Pseudo-votes on each side before any feedback (a Beta(2, 2) prior): a card's first vote moves its
 * weight by a third, and it takes many consistent votes to approach the bounds.
 */
export const FEEDBACK_PRIOR = 2;

/**
 * How much feedback multiplies a card's score, in (0, 2): the smoothed share of useful votes over
 * one half, so a card without votes keeps its score. Votes given under the caller's intent count
 * when there are any; otherwise the card's votes over all intents.
 */
export function feedbackFactor(byIntent: ReadonlyMap<string, CardRating> | undefined, intent: string | null): number {
  if (byIntent === undefined) return 1;
  let r = byIntent.get(intent ?? '');
  if (r === undefined || r.useful + r.notUseful === 0) {
    let useful = 0;
    let notUseful = 0;
    for (const v of byIntent.values()) {
      useful += v.useful;
      notUseful += v.notUseful;
    }
    r = { useful, notUseful };
  }
  const share = (r.useful + FEEDBACK_PRIOR) / (r.useful + r.notUseful + 2 * FEEDBACK_PRIOR);
  return share / 0.5;
}

export interface PickOptions {
  /** Card ids already pushed on this call. */
  readonly shown: ReadonlySet<string>;
  /** Feedback totals keyed `article:<id>`, then intent. */
  readonly ratings: ReadonlyMap<string, ReadonlyMap<string, CardRating>>;
  /** The caller's in-scope intent (null: unknown or out of scope). */
  readonly intent: string | null;
  readonly emotion: string | null;
  /**
   * Articles labelled with the intent pass; another candidate passes only when its search score is
   * at least this many times the next candidate's (BM25 scores have no absolute scale; the margin
   * over the runner-up is what says a text match is clear).
   */
  readonly minMargin: number;
  readonly max: number;
}

/** New article cards for this push, best first; `candidates` in search order (best first). */
export function pickArticleCards(candidates: readonly KnowledgeCard[], o: PickOptions): AssistCard[] {
  const standsOut = (i: number): boolean => {
    const next = candidates[i + 1];
    // the last of several has no known runner-up (the search stopped at its limit): not clear
    return next === undefined ? candidates.length === 1 : candidates[i]!.score >= o.minMargin * next.score;
  };
  return candidates
    .map((c, i) => ({ c, i, score: c.score * feedbackFactor(o.ratings.get(`article:${c.articleId}`), o.intent) }))
    .filter(({ c }) => !o.shown.has(`article:${c.articleId}`))
    .filter(({ c, i }) => (o.intent !== null && c.intents.includes(o.intent)) || standsOut(i))
    .sort((a, b) => b.score - a.score)
    .slice(0, o.max)
    .map(({ c, score }) => ({
      cardId: `article:${c.articleId}`,
      kind: 'article' as const,
      refId: c.articleId,
      version: c.version,
      title: c.title,
      snippet: c.snippet,
      steps: [],
      score: Math.round(score * 1000) / 1000,
      intent: o.intent,
      emotion: o.emotion,
    }));
}
