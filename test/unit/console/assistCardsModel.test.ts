/** The assist cards' pure parts: pushes add only new cards, stored cards merge in, verdicts apply. */
import { describe, expect, it } from 'vitest';
import { addPushedCards, addStoredCards, setCardFeedback, type StoredCard } from '../../../web/console/src/assistCardsModel.js';

const pushed = (cardId: string, snippet = `snippet of ${cardId}`) => ({
  cardId,
  kind: 'article' as const,
  title: `title of ${cardId}`,
  snippet,
  steps: [],
  intent: 'lost_or_stolen_card',
  emotion: null,
});
const stored = (cardId: string, rank: number, feedback: StoredCard['feedback'] = null): StoredCard => ({
  cardId,
  kind: 'article',
  title: `title of ${cardId}`,
  snippet: `stored snippet of ${cardId}`,
  steps: [],
  intent: 'lost_or_stolen_card',
  emotion: null,
  rank,
  shownAt: 1000 + rank,
  latencyMs: 20,
  feedback,
  feedbackBy: feedback ? 'ann' : null,
});

describe('assist cards in the live view', () => {
  it('adds a push after the cards already there, never a card twice, keeping its verdict', () => {
    let cards = addPushedCards([], [pushed('article:a'), pushed('article:b')]);
    cards = setCardFeedback(cards, 'article:a', 'useful', 'ann');
    cards = addPushedCards(cards, [pushed('article:a', 'other text'), pushed('action:c')]);
    expect(cards.map((c) => c.cardId)).toEqual(['article:a', 'article:b', 'action:c']);
    expect(cards[0]).toMatchObject({ snippet: 'snippet of article:a', feedback: 'useful', feedbackBy: 'ann' });
    expect(cards[2]).toMatchObject({ feedback: null, feedbackBy: null });
  });

  it('puts the stored cards first, keeps the pushed text and the newer verdict seen live', () => {
    let live = addPushedCards([], [pushed('article:b'), pushed('article:new')]);
    live = setCardFeedback(live, 'article:b', 'not_useful', 'bob');
    const cards = addStoredCards(live, [stored('article:a', 0, 'useful'), stored('article:b', 1, 'useful')]);
    expect(cards.map((c) => c.cardId)).toEqual(['article:a', 'article:b', 'article:new']);
    // a card only the store knows shows the text it was shown with
    expect(cards[0]).toMatchObject({ snippet: 'stored snippet of article:a', steps: [], feedback: 'useful', feedbackBy: 'ann' });
    expect(cards[1]).toMatchObject({ snippet: 'snippet of article:b', feedback: 'not_useful', feedbackBy: 'bob' });
  });

  it('takes the stored verdict for a pushed card with none seen live', () => {
    const cards = addStoredCards(addPushedCards([], [pushed('article:a')]), [stored('article:a', 0, 'useful')]);
    expect(cards).toHaveLength(1);
    expect(cards[0]).toMatchObject({ snippet: 'snippet of article:a', feedback: 'useful', feedbackBy: 'ann' });
  });

  it('sets a verdict on its card only, and a changed mind replaces it', () => {
    let cards = addPushedCards([], [pushed('article:a'), pushed('article:b')]);
    cards = setCardFeedback(cards, 'article:b', 'useful', 'ann');
    cards = setCardFeedback(cards, 'article:b', 'not_useful', 'bob');
    expect(cards.map((c) => [c.feedback, c.feedbackBy])).toEqual([
      [null, null],
      ['not_useful', 'bob'],
    ]);
  });
});
