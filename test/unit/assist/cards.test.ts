/**
 * Picking the cards of one push: feedback moves a card within (0, 2) of its score, cards already
 * shown are not pushed again, a text-only match needs the minimum score while an article labelled
 * with the caller's intent passes; next-best actions match intent and emotion together, the site's
 * scripts before the built-in ones, in the call's language.
 */
import { describe, expect, it } from 'vitest';
import { FEEDBACK_PRIOR, feedbackFactor, pickArticleCards, type PickOptions } from '../../../appliance/assist/cardRanking.js';
import type { CardRating } from '../../../appliance/assist/cardRepo.js';
import type { KnowledgeCard } from '../../../appliance/assist/knowledgeIndex.js';
import { BUILTIN_ACTIONS, NEXT_BEST_ACTION, selectActions } from '../../../appliance/assist/nextBestActions.js';
import { selectScript } from '../../../appliance/alerts/scripts.js';
import type { Script } from '../../../appliance/routing/schemas.js';

const card = (articleId: string, score: number, intents: string[] = []): KnowledgeCard => ({
  articleId,
  version: 1,
  title: articleId,
  snippet: `${articleId} snippet`,
  score,
  intents,
});
const ratings = (entries: [string, string, CardRating][]): Map<string, Map<string, CardRating>> => {
  const m = new Map<string, Map<string, CardRating>>();
  for (const [key, intent, r] of entries) {
    if (!m.has(key)) m.set(key, new Map());
    m.get(key)!.set(intent, r);
  }
  return m;
};
const base: PickOptions = { shown: new Set(), ratings: new Map(), intent: null, emotion: null, minMargin: 1.5, max: 3 };

describe('feedbackFactor', () => {
  it('is 1 without votes and moves by the smoothed share of useful votes, within (0, 2)', () => {
    expect(feedbackFactor(undefined, 'x')).toBe(1);
    const one = (useful: number, notUseful: number): Map<string, CardRating> => new Map([['lost_or_stolen_card', { useful, notUseful }]]);
    expect(feedbackFactor(one(1, 0), 'lost_or_stolen_card')).toBeCloseTo((1 + FEEDBACK_PRIOR) / (1 + 2 * FEEDBACK_PRIOR) / 0.5, 9);
    expect(feedbackFactor(one(0, 1), 'lost_or_stolen_card')).toBeLessThan(1);
    expect(feedbackFactor(one(1000, 0), 'lost_or_stolen_card')).toBeLessThan(2);
    expect(feedbackFactor(one(0, 1000), 'lost_or_stolen_card')).toBeGreaterThan(0);
  });
  it("uses the intent's votes when it has any, else the card's votes over all intents", () => {
    const r = new Map<string, CardRating>([
      ['card_arrival', { useful: 0, notUseful: 6 }],
      ['lost_or_stolen_card', { useful: 6, notUseful: 0 }],
    ]);
    expect(feedbackFactor(r, 'lost_or_stolen_card')).toBeGreaterThan(1);
    expect(feedbackFactor(r, 'card_arrival')).toBeLessThan(1);
    expect(feedbackFactor(r, 'pin_blocked')).toBe(1); // 6 up, 6 down over all intents
    expect(feedbackFactor(r, null)).toBe(1);
  });
});

describe('pickArticleCards', () => {
  it('keeps a text-only match only when it stands out from the next candidate, and an article labelled with the intent', () => {
    const cands = [
      card('clear', 30),
      card('close-a', 12),
      card('close-b', 11),
      card('labelled', 5, ['lost_or_stolen_card']),
      card('last', 1),
    ];
    // clear: 30 >= 1.5 x 12; close-a: 12 < 1.5 x 11; close-b: 11 >= 1.5 x 5; labelled: 5 >= 1.5 x 1 (text alone would do too)
    expect(pickArticleCards(cands, base).map((c) => c.refId)).toEqual(['clear', 'close-b', 'labelled']);
    expect(pickArticleCards([card('near', 10), card('labelled', 9.5, ['lost_or_stolen_card']), card('z', 9)], base)).toEqual([]);
    expect(
      pickArticleCards([card('near', 10), card('labelled', 9.5, ['lost_or_stolen_card']), card('z', 9)], {
        ...base,
        intent: 'lost_or_stolen_card',
      }).map((c) => c.refId),
    ).toEqual(['labelled']);
    expect(pickArticleCards([card('only', 2)], base).map((c) => c.refId)).toEqual(['only']);
  });
  it('never pushes a card the call was already shown, and stops at max', () => {
    const cands = [card('a', 20), card('b', 15), card('c', 14), card('d', 13)];
    const picked = pickArticleCards(cands, { ...base, minMargin: 1, shown: new Set(['article:a']), max: 2 });
    expect(picked.map((c) => c.cardId)).toEqual(['article:b', 'article:c']);
    expect(picked[0]).toMatchObject({ kind: 'article', version: 1, steps: [], snippet: 'b snippet' });
  });
  it('lets feedback reorder close candidates', () => {
    const cands = [card('a', 10), card('b', 9), card('c', 1)];
    const loose = { ...base, minMargin: 1 };
    const r = ratings([
      ['article:a', 'card_arrival', { useful: 0, notUseful: 5 }],
      ['article:b', 'card_arrival', { useful: 5, notUseful: 0 }],
    ]);
    expect(pickArticleCards(cands, { ...loose, ratings: r, intent: 'card_arrival' }).map((c) => c.refId)).toEqual(['b', 'a']);
    // the same votes under another intent count only through the card's totals (5 up, 0 down for b)
    expect(pickArticleCards(cands, { ...loose, ratings: r, intent: 'pin_blocked' }).map((c) => c.refId)).toEqual(['b', 'a']);
    expect(pickArticleCards(cands, loose).map((c) => c.refId)).toEqual(['a', 'b']);
  });
});

describe('next-best actions', () => {
  const ctx = { groupId: null, intent: 'terminate_account', emotion: 'angry', language: 'en' as const };
  it('offers retention to an angry caller who wants to close the account, not to a calm one', () => {
    expect(selectActions([], ctx).map((s) => s.id)).toEqual(['builtin-retention-offer']);
    expect(selectActions([], { ...ctx, emotion: 'neutral' })).toEqual([]);
    expect(selectActions([], { ...ctx, emotion: null })).toEqual([]);
    expect(selectActions([], { ...ctx, intent: null })).toEqual([]);
  });
  it('answers in the call language', () => {
    expect(selectActions([], { ...ctx, language: 'zh' }).map((s) => s.id)).toEqual(['builtin-retention-offer-zh']);
    for (const b of BUILTIN_ACTIONS) expect(b.when.alertKinds).toEqual([NEXT_BEST_ACTION]);
  });
  it("prefers the site's matching scripts, most specific first, and ignores other kinds", () => {
    const site: Script[] = [
      { id: 'any-angry', title: 'Any angry caller', when: { alertKinds: [NEXT_BEST_ACTION], emotions: ['angry'] }, steps: ['Breathe.'] },
      {
        id: 'leaving-angry',
        title: 'Leaving and angry',
        when: { alertKinds: [NEXT_BEST_ACTION], emotions: ['angry'], intents: ['terminate_account'] },
        steps: ['Offer the loyalty rate.'],
      },
      { id: 'alert-only', title: 'Alert script', when: { alertKinds: ['caller_angry'] }, steps: ['x'] },
    ];
    expect(selectActions(site, ctx).map((s) => s.id)).toEqual(['leaving-angry', 'any-angry']);
    expect(selectActions(site, { ...ctx, emotion: 'happy' })).toEqual([]);
  });
  it('lets an alert script name emotions too', () => {
    const s: Script = { id: 'calm-down', title: 'Calm', when: { alertKinds: ['caller_escalating'], emotions: ['fearful'] }, steps: ['x'] };
    expect(selectScript([s], { kind: 'caller_escalating', groupId: null, intent: null, emotion: 'fearful' })?.id).toBe('calm-down');
    expect(selectScript([s], { kind: 'caller_escalating', groupId: null, intent: null })?.id).toBe('builtin-escalating');
  });
});
