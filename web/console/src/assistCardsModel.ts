// The assist cards' pure parts: a call's cards as the live view keeps them, merged from the pushes
// (assist.cards), the store (GET /api/v1/calls/:id/cards) and the verdicts (assist.feedback).

export type CardVerdict = 'useful' | 'not_useful';

/** A card as the live view keeps it: from a push (with its text) or from the store (title only). */
export interface LiveCard {
  cardId: string;
  kind: 'article' | 'action';
  title: string;
  snippet: string;
  steps: string[];
  intent: string | null;
  emotion: string | null;
  feedback: CardVerdict | null;
  feedbackBy: string | null;
}

/** A card as GET /api/v1/calls/:id/cards returns it. */
export interface StoredCard {
  cardId: string;
  kind: 'article' | 'action';
  title: string;
  snippet: string;
  steps: string[];
  intent: string | null;
  emotion: string | null;
  rank: number;
  shownAt: number;
  latencyMs: number;
  feedback: CardVerdict | null;
  feedbackBy: string | null;
}

interface PushedCard {
  cardId: string;
  kind: 'article' | 'action';
  title: string;
  snippet: string;
  steps: string[];
  intent: string | null;
  emotion: string | null;
}

/** The call's cards with a push's cards added after them (a card already there is kept, with its feedback). */
export function addPushedCards(cards: LiveCard[], pushed: PushedCard[]): LiveCard[] {
  const known = new Set(cards.map((c) => c.cardId));
  const added = pushed
    .filter((c) => !known.has(c.cardId))
    .map((c) => ({
      cardId: c.cardId,
      kind: c.kind,
      title: c.title,
      snippet: c.snippet,
      steps: c.steps,
      intent: c.intent,
      emotion: c.emotion,
      feedback: null,
      feedbackBy: null,
    }));
  return [...cards, ...added];
}

/**
 * The stored cards of a call the live view opened on, merged with those it has seen pushed: stored
 * order first; a pushed card keeps its text, and the feedback it has seen since wins over the store's.
 */
export function addStoredCards(cards: LiveCard[], stored: StoredCard[]): LiveCard[] {
  const live = new Map(cards.map((c) => [c.cardId, c]));
  const merged = stored.map((s) => {
    const seen = live.get(s.cardId);
    return {
      cardId: s.cardId,
      kind: s.kind,
      title: s.title,
      snippet: seen?.snippet ?? s.snippet,
      steps: seen?.steps ?? s.steps,
      intent: s.intent,
      emotion: s.emotion,
      feedback: seen?.feedback ?? s.feedback,
      feedbackBy: seen?.feedback ? seen.feedbackBy : s.feedbackBy,
    };
  });
  const storedIds = new Set(stored.map((s) => s.cardId));
  return [...merged, ...cards.filter((c) => !storedIds.has(c.cardId))];
}

/** The cards with one card's verdict set (an assist.feedback event or the feedback API's answer). */
export function setCardFeedback(cards: LiveCard[], cardId: string, feedback: CardVerdict, by: string): LiveCard[] {
  return cards.map((c) => (c.cardId === cardId ? { ...c, feedback, feedbackBy: by } : c));
}
