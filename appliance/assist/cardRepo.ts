/**
 * The cards pushed to each call and the agent's feedback on them (assist_cards), and the feedback
 * totals per card and intent that ranking reads (assist_card_ratings). The totals are counts only
 * and outlive the call rows, which retention deletes.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { AssistCard } from '../events/appEvents.js';
import { parseJson, type Writer } from '../store/repos/writer.js';

export type CardFeedback = 'useful' | 'not_useful';

/** A card as stored with its call. */
export interface ShownCard {
  readonly callId: string;
  readonly cardId: string;
  readonly kind: AssistCard['kind'];
  readonly refId: string;
  readonly version: number | null;
  readonly title: string;
  readonly snippet: string;
  readonly steps: readonly string[];
  readonly intent: string | null;
  readonly emotion: string | null;
  readonly rank: number;
  readonly score: number;
  readonly shownAt: number;
  readonly latencyMs: number;
  readonly feedback: CardFeedback | null;
  readonly feedbackBy: string | null;
  readonly feedbackAt: number | null;
}

/** A card with the agent's verdict. */
export type RatedCard = ShownCard & { readonly feedback: CardFeedback };

/** Feedback totals of one card for one intent ('' = intent not known). */
export interface CardRating {
  readonly useful: number;
  readonly notUseful: number;
}

interface ShownRow {
  call_id: string;
  card_id: string;
  kind: AssistCard['kind'];
  ref_id: string;
  version: number | null;
  title: string;
  snippet: string;
  steps_json: string;
  intent: string | null;
  emotion: string | null;
  rank: number;
  score: number;
  shown_at: number;
  latency_ms: number;
  feedback: CardFeedback | null;
  feedback_by: string | null;
  feedback_at: number | null;
}

const toShown = (r: ShownRow): ShownCard => ({
  callId: r.call_id,
  cardId: r.card_id,
  kind: r.kind,
  refId: r.ref_id,
  version: r.version,
  title: r.title,
  snippet: r.snippet,
  steps: parseJson<string[]>(r.steps_json, []),
  intent: r.intent,
  emotion: r.emotion,
  rank: r.rank,
  score: r.score,
  shownAt: r.shown_at,
  latencyMs: r.latency_ms,
  feedback: r.feedback,
  feedbackBy: r.feedback_by,
  feedbackAt: r.feedback_at,
});

export class CardRepo {
  private readonly insertStmt: Statement;
  private readonly getStmt: Statement<[string, string], ShownRow>;
  private readonly listStmt: Statement<[string], ShownRow>;
  private readonly setFeedbackStmt: Statement;
  private readonly rateStmt: Statement;
  private readonly ratingsStmt: Statement<[], { kind: string; ref_id: string; intent: string; useful: number; not_useful: number }>;

  constructor(
    db: Database,
    private readonly write: Writer,
  ) {
    this.insertStmt = db.prepare(
      `INSERT OR IGNORE INTO assist_cards (call_id, card_id, kind, ref_id, version, title, snippet, steps_json, intent, emotion, rank, score, shown_at, latency_ms)
       VALUES (@callId, @cardId, @kind, @refId, @version, @title, @snippet, @steps, @intent, @emotion, @rank, @score, @shownAt, @latencyMs)`,
    );
    this.getStmt = db.prepare(`SELECT * FROM assist_cards WHERE call_id = ? AND card_id = ?`);
    this.listStmt = db.prepare(`SELECT * FROM assist_cards WHERE call_id = ? ORDER BY shown_at, rank`);
    this.setFeedbackStmt = db.prepare(
      `UPDATE assist_cards SET feedback = @feedback, feedback_by = @by, feedback_at = @at WHERE call_id = @callId AND card_id = @cardId`,
    );
    this.rateStmt = db.prepare(
      `INSERT INTO assist_card_ratings (kind, ref_id, intent, useful, not_useful) VALUES (@kind, @refId, @intent, @useful, @notUseful)
       ON CONFLICT (kind, ref_id, intent) DO UPDATE SET useful = max(0, useful + excluded.useful), not_useful = max(0, not_useful + excluded.not_useful)`,
    );
    this.ratingsStmt = db.prepare(`SELECT kind, ref_id, intent, useful, not_useful FROM assist_card_ratings`);
  }

  /** Store the cards of one push (a card already shown on the call is kept as it was). */
  saveShown(callId: string, cards: readonly AssistCard[], shownAt: number, latencyMs: number): void {
    this.write('assist.cards', () => {
      cards.forEach((c, rank) =>
        this.insertStmt.run({
          callId,
          cardId: c.cardId,
          kind: c.kind,
          refId: c.refId,
          version: c.version,
          title: c.title,
          snippet: c.snippet,
          steps: JSON.stringify(c.steps),
          intent: c.intent,
          emotion: c.emotion,
          rank,
          score: c.score,
          shownAt,
          latencyMs: Math.round(latencyMs),
        }),
      );
    });
  }

  get(callId: string, cardId: string): ShownCard | undefined {
    const row = this.getStmt.get(callId, cardId);
    return row === undefined ? undefined : toShown(row);
  }

  list(callId: string): ShownCard[] {
    return this.listStmt.all(callId).map(toShown);
  }

  /**
   * Record the agent's feedback on a shown card and move the card's totals for its intent (a
   * changed mind takes the old vote back). Returns the card as now stored.
   */
  setFeedback(card: ShownCard, feedback: CardFeedback, by: string, at: number): RatedCard {
    this.write('assist.feedback', () => {
      this.setFeedbackStmt.run({ callId: card.callId, cardId: card.cardId, feedback, by, at });
      const delta = (f: CardFeedback | null, sign: number): void => {
        if (f === null) return;
        this.rateStmt.run({
          kind: card.kind,
          refId: card.refId,
          intent: card.intent ?? '',
          useful: f === 'useful' ? sign : 0,
          notUseful: f === 'not_useful' ? sign : 0,
        });
      };
      if (card.feedback !== feedback) {
        delta(card.feedback, -1);
        delta(feedback, 1);
      }
    });
    return { ...card, feedback, feedbackBy: by, feedbackAt: at };
  }

  /** Every card's totals, keyed `kind:refId` then intent. */
  ratings(): Map<string, Map<string, CardRating>> {
    const out = new Map<string, Map<string, CardRating>>();
    for (const r of this.ratingsStmt.all()) {
      const key = `${r.kind}:${r.ref_id}`;
      let byIntent = out.get(key);
      if (byIntent === undefined) out.set(key, (byIntent = new Map<string, CardRating>()));
      byIntent.set(r.intent, { useful: r.useful, notUseful: r.not_useful });
    }
    return out;
  }
}
