/**
 * The caller's customer in the softphone's screen-pop: their open chats and e-mail cases first (the
 * channel, when it started, its state, and the last few messages of a chat or the subject of an
 * e-mail case), then the most recent earlier contacts. The box sends it right after an offer on the
 * presence socket (or on request for a call the agent answered); texts are redacted by the box and
 * inserted as text, never as HTML.
 *
 * Page state for tests: <section id="customer" data-call-id data-customer="none|shown|anonymous"
 * data-open-cases="n" data-shown-at>, each open case <article data-conversation-id data-channel>.
 */
import type { SoftphoneCustomer, SoftphoneOpenCase } from '../../appliance/customers/softphoneCustomer.js';
import { fmtDateTime, fmtPercent, t } from '../i18n/i18n.js';

export class CustomerPop {
  private callId: string | null = null;

  constructor(private readonly el: { root: HTMLElement; summary: HTMLElement; open: HTMLElement; timeline: HTMLElement }) {
    this.clear(null);
  }

  /** The call now in the screen-pop (an offer or an answered call); its customer is not known yet. */
  clear(callId: string | null): void {
    this.callId = callId;
    const r = this.el.root;
    r.hidden = true;
    r.dataset['customer'] = 'none';
    r.dataset['openCases'] = '0';
    if (callId === null) delete r.dataset['callId'];
    else r.dataset['callId'] = callId;
    delete r.dataset['shownAt'];
    this.el.summary.textContent = '';
    this.el.open.replaceChildren();
    this.el.timeline.replaceChildren();
  }

  /** Which call the pop is for (null: none). */
  get call(): string | null {
    return this.callId;
  }

  /** Whether the customer of the current call is shown already. */
  get shown(): boolean {
    return this.el.root.dataset['customer'] !== 'none';
  }

  /** The customer of `callId` (ignored unless it is the pop's call). */
  show(callId: string, customer: SoftphoneCustomer | null): void {
    if (callId !== this.callId) return;
    const r = this.el.root;
    r.hidden = false;
    if (customer === null) {
      r.dataset['customer'] = 'anonymous';
      this.el.summary.textContent = t('softphone:customer.anonymous');
    } else {
      r.dataset['customer'] = 'shown';
      r.dataset['openCases'] = String(customer.openCases.length);
      const tags = customer.tags.length === 0 ? '' : ` · ${customer.tags.join(', ')}`;
      this.el.summary.textContent = `${t('softphone:customer.churnRisk', { risk: fmtPercent(customer.churnRisk) })}${tags}`;
      this.el.open.replaceChildren(
        ...(customer.openCases.length === 0 ? [note(t('softphone:customer.noOpenCases'))] : customer.openCases.map(openCase)),
      );
      this.el.timeline.replaceChildren(
        ...customer.timeline.map((e) => {
          const li = document.createElement('li');
          li.dataset['channel'] = e.channel;
          const parts = [channelName(e.channel), fmtDateTime(e.at), e.intent, e.mood === null ? null : moodName(e.mood), e.outcome];
          li.textContent = parts.filter((p): p is string => p !== null && p !== '').join(' · ');
          if (e.summary !== null) {
            const s = document.createElement('div');
            s.className = 'muted';
            s.textContent = e.summary;
            li.append(s);
          }
          return li;
        }),
      );
      if (customer.timeline.length === 0) this.el.timeline.append(note(t('softphone:customer.noEarlier'), 'li'));
    }
    r.dataset['shownAt'] = String(Date.now());
  }
}

function channelName(channel: 'call' | 'chat' | 'email'): string {
  return t(`softphone:customer.channel.${channel}`);
}

function moodName(mood: string): string {
  return t(`chat:sentiment.${mood}`, { defaultValue: mood });
}

function note(text: string, tag: 'p' | 'li' = 'p'): HTMLElement {
  const p = document.createElement(tag);
  p.className = 'muted';
  p.textContent = text;
  return p;
}

function openCase(c: SoftphoneOpenCase): HTMLElement {
  const a = document.createElement('article');
  a.className = 'customer-case';
  a.dataset['conversationId'] = c.conversationId;
  a.dataset['channel'] = c.channel;
  a.dataset['state'] = c.state;
  const head = document.createElement('h4');
  head.textContent = t('softphone:customer.caseHead', {
    channel: channelName(c.channel),
    at: fmtDateTime(c.at),
    state: t(`softphone:customer.state.${c.state}`, { defaultValue: c.state }),
  });
  a.append(head);
  if (c.intent !== null) {
    const i = document.createElement('p');
    i.className = 'muted';
    i.textContent = t('softphone:customer.intent', { intent: c.intent });
    a.append(i);
  }
  if (c.subject !== null) {
    const s = document.createElement('p');
    s.className = 'customer-subject';
    s.textContent = t('softphone:customer.subject', { subject: c.subject });
    a.append(s);
  }
  for (const m of c.lastMessages) {
    const p = document.createElement('p');
    p.className = `chat-msg from-${m.from}`;
    p.dataset['from'] = m.from;
    const who = document.createElement('strong');
    who.textContent = `${t(`chat:from.${m.from}`, { defaultValue: m.from })}: `;
    p.append(who, m.text);
    a.append(p);
  }
  return a;
}
