/**
 * Cards during the call: after each of the caller's finals, the knowledge cards and next-best
 * actions for the agent, published as `assist.cards` (the agent's softphone and the console's live
 * view receive it) and stored with the call; the agent's useful / not-useful feedback is stored and
 * moves the card's rank on later calls.
 *
 * Timing: a caller's final waits for its intent (the `intent` event of the same utterance) at most
 * `intentWaitMs`, then the cards are picked from the last `recentFinals` finals, the intent and
 * the latest emotion. An emotion that arrives later can still bring a next-best action. A card is
 * pushed once per call. Per-call state is bounded and dropped when the call ends.
 */
import type { SpeechLanguage } from '../asr/language.js';
import { evxError } from '../errors.js';
import type { ApplianceEvent, AssistCard, EventBus } from '../events/appEvents.js';
import type { Logger } from '../log/logger.js';
import type { Script } from '../routing/schemas.js';
import { pickArticleCards } from './cardRanking.js';
import type { CardRating, CardRepo, RatedCard, ShownCard } from './cardRepo.js';
import type { KnowledgeCard, SearchOptions } from './knowledgeIndex.js';
import { selectActions } from './nextBestActions.js';

export interface CardSettings {
  /** New cards per push at most (actions and articles together). */
  readonly maxCards: number;
  /** How many of the caller's latest finals make the query. */
  readonly recentFinals: number;
  /** How long a final waits for its intent before the cards go without it (ms). */
  readonly intentWaitMs: number;
  /** A card not labelled with the caller's intent needs this margin over the next candidate's score. */
  readonly minMargin: number;
}

/**
 * maxCards 3: what fits beside the call controls. recentFinals 2: the request and its follow-up.
 * intentWaitMs 150: the intent comes about 5-40 ms after the final on this box's CPU. minMargin:
 * chosen by make eval-assist on the tuning half of BANKING77 test (the lowest margin band from
 * which the text-only top card is right at least half the time).
 */
export const DEFAULT_CARD_SETTINGS: CardSettings = { maxCards: 3, recentFinals: 2, intentWaitMs: 150, minMargin: 2 };

/** Calls followed at once at most; the oldest is dropped beyond (a leak guard, not a limit on calls). */
const MAX_TRACKED_CALLS = 10_000;
/** Finals remembered per call for the emotion that comes after them. */
const MAX_FINAL_TIMES = 16;

export interface CardServiceDeps {
  readonly bus: EventBus;
  readonly repo: CardRepo;
  readonly search: (text: string, options: SearchOptions) => KnowledgeCard[];
  /** The site's scripts (routing), next-best actions among them. */
  readonly scripts: () => readonly Script[];
  readonly logger: Logger;
  readonly settings?: Partial<CardSettings>;
  readonly now?: () => number;
}

interface PendingFinal {
  readonly legId: string;
  readonly utteranceId: number | null;
  readonly finalAt: number;
  readonly timer: NodeJS.Timeout;
}

interface CallCards {
  language: SpeechLanguage;
  readonly finals: string[];
  /** asr.final `at` per `legId:utteranceId`, for the emotion that comes later. */
  readonly finalTimes: Map<string, number>;
  intent: string | null;
  emotion: string | null;
  groupId: string | null;
  readonly shown: Set<string>;
  pending: PendingFinal | null;
}

export class CardService {
  private readonly settings: CardSettings;
  private readonly calls = new Map<string, CallCards>();
  private readonly ratings: Map<string, Map<string, CardRating>>;
  private readonly unsubscribe: () => void;
  private readonly now: () => number;
  private closed = false;
  readonly counters = { pushes: 0, cards: 0, feedback: 0, errors: 0 };

  constructor(private readonly deps: CardServiceDeps) {
    this.settings = { ...DEFAULT_CARD_SETTINGS, ...deps.settings };
    this.now = deps.now ?? Date.now;
    this.ratings = deps.repo.ratings();
    this.unsubscribe = deps.bus.subscribe((e) => this.onEvent(e));
  }

  /** The cards shown on a call, with their feedback. */
  list(callId: string): ShownCard[] {
    return this.deps.repo.list(callId);
  }

  /** The agent's verdict on a card of the call; throws EVX_ERR_ASSIST_CARD_NOT_FOUND for a card it was not shown. */
  feedback(callId: string, cardId: string, useful: boolean, by: string): RatedCard {
    const card = this.deps.repo.get(callId, cardId);
    if (card === undefined) throw evxError('EVX_ERR_ASSIST_CARD_NOT_FOUND', 'No such card was shown on this call', { details: { cardId } });
    const verdict = useful ? 'useful' : 'not_useful';
    const at = this.now();
    const stored = this.deps.repo.setFeedback(card, verdict, by, at);
    if (card.feedback !== verdict) this.moveRating(card, verdict);
    this.counters.feedback++;
    this.deps.bus.publish({ type: 'assist.feedback', at, callId, cardId, useful, by });
    return stored;
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    for (const c of this.calls.values()) if (c.pending !== null) clearTimeout(c.pending.timer);
    this.calls.clear();
  }

  private onEvent(e: ApplianceEvent): void {
    if (this.closed) return;
    switch (e.type) {
      case 'asr.final': {
        if (e.speaker !== 'caller' || e.text.trim() === '') return;
        const c = this.call(e.callId);
        c.language = e.language ?? 'en';
        c.finals.push(e.text);
        if (c.finals.length > this.settings.recentFinals) c.finals.shift();
        c.finalTimes.set(`${e.legId}:${e.utteranceId}`, e.at);
        if (c.finalTimes.size > MAX_FINAL_TIMES) c.finalTimes.delete(c.finalTimes.keys().next().value!);
        if (c.pending !== null) this.flush(e.callId, c);
        const pending: PendingFinal = {
          legId: e.legId,
          utteranceId: e.utteranceId,
          finalAt: e.at,
          timer: setTimeout(() => this.flush(e.callId, c), this.settings.intentWaitMs),
        };
        c.pending = pending;
        return;
      }
      case 'intent': {
        if (e.speaker !== 'caller') return;
        const c = this.calls.get(e.callId);
        if (c === undefined) return;
        c.intent = e.outOfScope ? null : e.intent;
        const p = c.pending;
        if (p !== null && p.legId === e.legId && (p.utteranceId === null || e.utteranceId === null || p.utteranceId === e.utteranceId))
          this.flush(e.callId, c);
        return;
      }
      case 'emotion': {
        if (e.speaker !== 'caller') return;
        const c = this.calls.get(e.callId);
        if (c === undefined) return;
        c.emotion = e.category;
        // an emotion can bring an action the final alone did not; articles wait for the next final
        if (c.pending === null) {
          const finalAt = c.finalTimes.get(`${e.legId}:${e.utteranceId}`) ?? e.at;
          this.push(e.callId, c, e.utteranceId, finalAt, this.actionCards(c));
        }
        return;
      }
      case 'route.decision': {
        const c = this.calls.get(e.callId);
        if (c !== undefined) c.groupId = e.groupId;
        return;
      }
      case 'call.ended': {
        const c = this.calls.get(e.callId);
        if (c?.pending) clearTimeout(c.pending.timer);
        this.calls.delete(e.callId);
        return;
      }
      default:
        return;
    }
  }

  private call(callId: string): CallCards {
    let c = this.calls.get(callId);
    if (c === undefined) {
      if (this.calls.size >= MAX_TRACKED_CALLS) {
        const [oldestId, oldest] = this.calls.entries().next().value!;
        if (oldest.pending !== null) clearTimeout(oldest.pending.timer);
        this.calls.delete(oldestId);
      }
      c = {
        language: 'en',
        finals: [],
        finalTimes: new Map(),
        intent: null,
        emotion: null,
        groupId: null,
        shown: new Set(),
        pending: null,
      };
      this.calls.set(callId, c);
    }
    return c;
  }

  /** Picks and pushes the cards of the pending final. */
  private flush(callId: string, c: CallCards): void {
    const p = c.pending;
    if (p === null) return;
    clearTimeout(p.timer);
    c.pending = null;
    if (this.closed || this.calls.get(callId) !== c) return;
    try {
      const actions = this.actionCards(c);
      const room = Math.max(0, this.settings.maxCards - actions.length);
      const candidates = room === 0 ? [] : this.deps.search(c.finals.join(' '), { language: c.language, intent: c.intent, limit: 10 });
      const articles = pickArticleCards(candidates, {
        shown: c.shown,
        ratings: this.ratings,
        intent: c.intent,
        emotion: c.emotion,
        minMargin: this.settings.minMargin,
        max: room,
      });
      this.push(callId, c, p.utteranceId, p.finalAt, [...actions, ...articles]);
    } catch (err) {
      this.counters.errors++;
      // static message: the code only, never what the caller said
      this.deps.logger.warn({ callId, code: (err as { code?: string }).code ?? 'unknown' }, 'assist cards failed');
    }
  }

  private actionCards(c: CallCards): AssistCard[] {
    return selectActions(this.deps.scripts(), { groupId: c.groupId, intent: c.intent, emotion: c.emotion, language: c.language })
      .filter((s) => !c.shown.has(`action:${s.id}`))
      .slice(0, this.settings.maxCards)
      .map((s) => ({
        cardId: `action:${s.id}`,
        kind: 'action' as const,
        refId: s.id,
        version: null,
        title: s.title,
        snippet: '',
        steps: [...s.steps],
        score: 0,
        intent: c.intent,
        emotion: c.emotion,
      }));
  }

  private push(callId: string, c: CallCards, utteranceId: number | null, finalAt: number, cards: AssistCard[]): void {
    if (cards.length === 0) return;
    for (const card of cards) c.shown.add(card.cardId);
    const at = this.now();
    const latencyMs = Math.max(0, at - finalAt);
    this.deps.bus.publish({ type: 'assist.cards', at, callId, utteranceId, finalAt, latencyMs, cards });
    this.counters.pushes++;
    this.counters.cards += cards.length;
    try {
      this.deps.repo.saveShown(callId, cards, at, latencyMs);
    } catch (err) {
      this.counters.errors++;
      this.deps.logger.warn({ callId, code: (err as { code?: string }).code ?? 'unknown' }, 'assist cards not stored');
    }
  }

  private moveRating(card: ShownCard, verdict: 'useful' | 'not_useful'): void {
    const key = `${card.kind}:${card.refId}`;
    let byIntent = this.ratings.get(key);
    if (byIntent === undefined) this.ratings.set(key, (byIntent = new Map<string, CardRating>()));
    const intent = card.intent ?? '';
    const r = byIntent.get(intent) ?? { useful: 0, notUseful: 0 };
    let { useful, notUseful } = r;
    if (card.feedback === 'useful') useful--;
    if (card.feedback === 'not_useful') notUseful--;
    if (verdict === 'useful') useful++;
    else notUseful++;
    byIntent.set(intent, { useful: Math.max(0, useful), notUseful: Math.max(0, notUseful) });
  }
}
