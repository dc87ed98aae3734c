/**
 * The agent-assist cards of the softphone's call: each `assist.cards` push (knowledge articles and
 * next-best actions the box picked from what the caller said) goes on top of the list, a card with
 * its title, the article's best-matching sentence or the action's numbered steps, and Useful / Not
 * useful buttons that send the verdict on the call's signalling socket. A verdict given elsewhere
 * (`assist.feedback`: the agent's own, echoed by the box, or a supervisor's in the console) shows too.
 * Text from the box is inserted as text, never as HTML.
 *
 * For tests and diagnostics each card keeps the moment the page received its push
 * (<article data-received-at>, and `cards()`): the issue measures the time from the caller's final to
 * the softphone receiving the card.
 */
import type { CallEventForAgent } from '../../appliance/webrtc/protocol.js';
import { t } from '../i18n/i18n.js';

type CardsPush = Extract<CallEventForAgent, { type: 'assist.cards' }>;
type Card = CardsPush['cards'][number];
export type Verdict = 'useful' | 'not_useful';

/** A card as the page shows it, with its timing (all `Date.now()` ms of this machine's clock). */
export interface ShownCard {
  readonly cardId: string;
  readonly kind: Card['kind'];
  readonly title: string;
  /** Rank within its push (0: top). */
  readonly rank: number;
  /** The caller's final that led to the card (asr.final `at`) and the box's push (`at`). */
  readonly finalAt: number;
  readonly pushAt: number;
  /** When the page got the push's message, and when the card was in the page. */
  readonly receivedAt: number;
  shownAt: number;
  feedback: Verdict | null;
  feedbackBy: string | null;
}

interface CardView {
  readonly info: ShownCard;
  readonly el: HTMLElement;
  readonly usefulBtn: HTMLButtonElement;
  readonly notUsefulBtn: HTMLButtonElement;
  readonly verdictLine: HTMLElement;
}

export interface CardPanelDeps {
  /** Sends the verdict on the call; resolves with the stored one (rejects: not stored). */
  readonly send: (cardId: string, useful: boolean) => Promise<Verdict>;
  /** Who this page is in feedback's `by` (`agent:<id>`), when known: shown as "you". */
  readonly self: () => string | undefined;
  /** A signalling error as the page shows it. */
  readonly errorText: (err: unknown) => string;
}

export class CardPanel {
  private readonly views = new Map<string, CardView>();
  private open = false;

  constructor(
    private readonly list: HTMLElement,
    private readonly none: HTMLElement,
    private readonly deps: CardPanelDeps,
  ) {}

  /** A new call: no cards, feedback possible. */
  start(): void {
    this.views.clear();
    this.list.replaceChildren();
    this.none.hidden = false;
    this.open = true;
  }

  /** The call ended: the cards stay readable, feedback goes through the console from now on. */
  end(): void {
    this.open = false;
    for (const v of this.views.values()) this.setButtons(v, false);
  }

  /** A push of `assist.cards` received at `receivedAt`: its new cards on top, in their rank order. */
  push(e: CardsPush, receivedAt: number): void {
    const fresh = e.cards.filter((c) => !this.views.has(c.cardId));
    if (fresh.length === 0) return;
    const made = fresh.map((c, rank) => this.render(c, rank, e, receivedAt));
    this.list.prepend(...made.map((v) => v.el));
    this.none.hidden = true;
    const shownAt = Date.now();
    for (const v of made) {
      v.info.shownAt = shownAt;
      v.el.dataset['shownAt'] = String(shownAt);
      this.views.set(v.info.cardId, v);
    }
  }

  /** A stored verdict (from this page or anyone else on the call). */
  verdict(cardId: string, useful: boolean, by: string): void {
    const v = this.views.get(cardId);
    if (v !== undefined) this.showVerdict(v, useful ? 'useful' : 'not_useful', by);
  }

  /** The cards shown, newest push first. */
  cards(): ShownCard[] {
    return [...this.list.querySelectorAll<HTMLElement>('.assist-card')]
      .map((el) => this.views.get(el.dataset['cardId'] ?? '')?.info)
      .filter((i): i is ShownCard => i !== undefined)
      .map((i) => ({ ...i }));
  }

  private render(c: Card, rank: number, e: CardsPush, receivedAt: number): CardView {
    const el = document.createElement('article');
    el.className = `assist-card ${c.kind}`;
    el.dataset['cardId'] = c.cardId;
    el.dataset['kind'] = c.kind;
    el.dataset['rank'] = String(rank);
    el.dataset['receivedAt'] = String(receivedAt);
    el.dataset['finalAt'] = String(e.finalAt);
    el.dataset['feedback'] = 'none';
    const kind = document.createElement('span');
    kind.className = 'kind';
    kind.textContent = t(`softphone:cards.kind.${c.kind}`);
    const title = document.createElement('h3');
    title.textContent = c.title;
    el.append(kind, title);
    if (c.kind === 'action' && c.steps.length > 0) {
      const steps = document.createElement('ol');
      steps.className = 'steps';
      for (const s of c.steps) {
        const li = document.createElement('li');
        li.textContent = s;
        steps.append(li);
      }
      el.append(steps);
    } else if (c.snippet !== '') {
      const snippet = document.createElement('p');
      snippet.className = 'snippet';
      snippet.textContent = c.snippet;
      el.append(snippet);
    }
    const buttons = document.createElement('div');
    buttons.className = 'buttons';
    buttons.setAttribute('role', 'group');
    buttons.setAttribute('aria-label', t('softphone:cards.feedbackLabel'));
    const usefulBtn = this.button('useful', t('softphone:cards.useful'));
    const notUsefulBtn = this.button('not-useful', t('softphone:cards.notUseful'));
    buttons.append(usefulBtn, notUsefulBtn);
    const verdictLine = document.createElement('p');
    verdictLine.className = 'verdict';
    verdictLine.setAttribute('role', 'status');
    el.append(buttons, verdictLine);
    const info: ShownCard = {
      cardId: c.cardId,
      kind: c.kind,
      title: c.title,
      rank,
      finalAt: e.finalAt,
      pushAt: e.at,
      receivedAt,
      shownAt: receivedAt,
      feedback: null,
      feedbackBy: null,
    };
    const view: CardView = { info, el, usefulBtn, notUsefulBtn, verdictLine };
    usefulBtn.onclick = () => void this.give(view, true);
    notUsefulBtn.onclick = () => void this.give(view, false);
    this.setButtons(view, this.open);
    return view;
  }

  private button(cls: string, text: string): HTMLButtonElement {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = cls;
    b.textContent = text;
    b.setAttribute('aria-pressed', 'false');
    return b;
  }

  private async give(v: CardView, useful: boolean): Promise<void> {
    if (!this.open) return;
    this.setButtons(v, false);
    v.el.dataset['feedback'] = 'pending';
    try {
      const stored = await this.deps.send(v.info.cardId, useful);
      this.showVerdict(v, stored, this.deps.self() ?? '');
    } catch (err) {
      v.el.dataset['feedback'] = v.info.feedback ?? 'none';
      v.verdictLine.textContent = t('softphone:cards.feedbackFailed', { error: this.deps.errorText(err) });
    }
    this.setButtons(v, this.open);
  }

  private showVerdict(v: CardView, verdict: Verdict, by: string): void {
    v.info.feedback = verdict;
    v.info.feedbackBy = by;
    v.el.dataset['feedback'] = verdict;
    v.el.dataset['feedbackBy'] = by;
    v.usefulBtn.setAttribute('aria-pressed', String(verdict === 'useful'));
    v.notUsefulBtn.setAttribute('aria-pressed', String(verdict === 'not_useful'));
    const who = by === '' || by === this.deps.self() ? t('softphone:cards.you') : by;
    v.verdictLine.textContent = t(`softphone:cards.verdict.${verdict}`, { by: who });
  }

  private setButtons(v: CardView, enabled: boolean): void {
    v.usefulBtn.disabled = !enabled;
    v.notUsefulBtn.disabled = !enabled;
  }
}
