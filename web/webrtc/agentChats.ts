/**
 * Chats in the softphone page: the chats offered to the agent (routed to the agent's skill groups),
 * accept, the chats held (up to chat.maxChatsPerAgent) each with its messages, typing indicator and
 * read marks, reply and close; and, when the agent takes a call a visitor started from a chat, that
 * chat's history in the call view (`showForCall`). Texts arrive redacted from the box; a file the
 * customer sent is a button that saves it (chatFiles.ts).
 *
 * Page state for tests: <section id="chats" data-connection data-held="n">, offers
 * <li data-conversation-id>, held chats <article data-conversation-id data-group>, the call's chat
 * <section id="call-chat" data-conversation-id>.
 */
import type { ChatMessageView, ChatServerMessage, ChatSummaryView } from '../../appliance/conversations/chatProtocol.js';
import { t } from '../i18n/i18n.js';
import { ChatClient } from './chatClient.js';
import { fileButton } from './chatFiles.js';
import { pageErrorText } from './pageI18n.js';

interface Held {
  readonly view: ChatSummaryView;
  readonly el: HTMLElement;
  readonly log: HTMLElement;
  readonly typing: HTMLElement;
  readonly bySeq: Map<number, HTMLElement>;
}

export class AgentChats {
  private client: ChatClient | null = null;
  private token = '';
  private readonly held = new Map<string, Held>();
  private callId: string | null = null;
  private maxChats = 0;

  constructor(
    private readonly el: {
      root: HTMLElement;
      status: HTMLElement;
      offers: HTMLElement;
      held: HTMLElement;
      callChat: HTMLElement;
      callLog: HTMLElement;
    },
  ) {}

  /** (Re)connect with this agent token; '' disconnects. */
  setToken(token: string): void {
    if (token === this.token) return;
    this.token = token;
    this.client?.stop();
    this.client = null;
    this.held.clear();
    this.el.held.replaceChildren();
    this.el.offers.replaceChildren();
    if (token === '') return;
    this.client = new ChatClient({
      hello: () => ({ type: 'agent', token }),
      message: (m) => this.onMessage(m),
      connection: (state) => {
        this.el.root.dataset['connection'] = state;
      },
    });
    this.client.connect();
  }

  /** The agent took this call: show the chat it was escalated from, if any. */
  showForCall(callId: string | null): void {
    this.callId = callId;
    this.el.callChat.hidden = true;
    this.el.callLog.replaceChildren();
    delete this.el.callChat.dataset['conversationId'];
    if (callId !== null) this.client?.send({ type: 'history', callId });
  }

  private onMessage(m: ChatServerMessage): void {
    switch (m.type) {
      case 'agent-ready':
        this.maxChats = m.maxChats;
        this.el.status.textContent = t('chat:agentReady', { max: m.maxChats });
        if (this.callId !== null) this.client?.send({ type: 'history', callId: this.callId });
        return;
      case 'offers':
        this.renderOffers(m.conversations);
        return;
      case 'held':
        for (const c of m.conversations)
          if (!this.held.has(c.conversationId)) this.client?.send({ type: 'history', conversationId: c.conversationId });
        for (const id of [...this.held.keys()]) if (!m.conversations.some((c) => c.conversationId === id)) this.drop(id);
        this.el.root.dataset['held'] = String(m.conversations.length);
        return;
      case 'history':
        if (m.conversation.state === 'assigned') this.hold(m.conversation, m.messages);
        if (this.callId !== null && m.conversation.callId === this.callId) this.renderCallChat(m.conversation, m.messages);
        return;
      case 'message':
      case 'ack': {
        if (m.type === 'message') this.addMessage(m.message);
        return;
      }
      case 'typing': {
        const h = this.held.get(m.conversationId);
        if (h !== undefined) h.typing.hidden = !m.typing;
        return;
      }
      case 'read': {
        const h = this.held.get(m.conversationId);
        if (h !== undefined)
          for (const [seq, p] of h.bySeq) if (p.dataset['from'] === 'agent' && seq <= m.seq) p.dataset['status'] = 'read';
        return;
      }
      case 'state':
        if (m.conversation.state === 'closed') {
          const h = this.held.get(m.conversation.conversationId);
          if (h !== undefined) h.el.dataset['state'] = 'closed';
        }
        if (this.callId !== null && m.conversation.callId === this.callId) this.client?.send({ type: 'history', callId: this.callId });
        return;
      case 'error':
        this.el.status.textContent = pageErrorText(`${m.code}: ${m.message}`);
        return;
      default:
        return;
    }
  }

  private summary(c: ChatSummaryView): string {
    return t('chat:summary', { group: c.groupId ?? t('chat:noGroup'), intent: c.intent ?? t('chat:noIntent') });
  }

  private renderOffers(list: ChatSummaryView[]): void {
    this.el.offers.replaceChildren(
      ...list.map((c) => {
        const li = document.createElement('li');
        li.dataset['conversationId'] = c.conversationId;
        li.dataset['group'] = c.groupId ?? '';
        const text = document.createElement('span');
        text.textContent = `${this.summary(c)} — ${c.preview}`;
        const b = document.createElement('button');
        b.textContent = t('chat:accept');
        b.disabled = this.held.size >= this.maxChats;
        b.onclick = () => this.client?.send({ type: 'accept', conversationId: c.conversationId });
        li.append(text, ' ', b);
        return li;
      }),
    );
    this.el.root.dataset['offers'] = String(list.length);
  }

  private hold(c: ChatSummaryView, messages: ChatMessageView[]): void {
    let h = this.held.get(c.conversationId);
    if (h === undefined) {
      const el = document.createElement('article');
      el.className = 'chat';
      el.dataset['conversationId'] = c.conversationId;
      el.dataset['group'] = c.groupId ?? '';
      el.dataset['intent'] = c.intent ?? '';
      const head = document.createElement('h3');
      head.textContent = this.summary(c);
      const log = document.createElement('div');
      log.className = 'chat-log';
      const typing = document.createElement('p');
      typing.className = 'chat-typing';
      typing.hidden = true;
      typing.textContent = t('chat:visitorTyping');
      const form = document.createElement('form');
      form.className = 'buttons';
      const input = document.createElement('input');
      input.className = 'grow';
      input.placeholder = t('chat:replyPlaceholder');
      input.maxLength = 2000;
      const send = document.createElement('button');
      send.type = 'submit';
      send.textContent = t('chat:send');
      const close = document.createElement('button');
      close.type = 'button';
      close.className = 'danger';
      close.textContent = t('chat:close');
      form.append(input, send, close);
      let lastTyping = 0;
      input.oninput = () => {
        if (Date.now() - lastTyping < 2000) return;
        lastTyping = Date.now();
        this.client?.send({ type: 'typing', conversationId: c.conversationId, typing: true });
      };
      form.onsubmit = (e) => {
        e.preventDefault();
        const text = input.value.trim();
        if (text === '') return;
        input.value = '';
        lastTyping = 0;
        this.client?.sendText(text, c.conversationId);
        this.client?.send({ type: 'typing', conversationId: c.conversationId, typing: false });
      };
      close.onclick = () => this.client?.send({ type: 'close', conversationId: c.conversationId });
      el.append(head, log, typing, form);
      this.el.held.append(el);
      h = { view: c, el, log, typing, bySeq: new Map() };
      this.held.set(c.conversationId, h);
    }
    for (const m of messages) this.addMessage(m);
  }

  private addMessage(m: ChatMessageView): void {
    const h = this.held.get(m.conversationId);
    if (h === undefined || h.bySeq.has(m.seq)) return;
    const p = this.line(m);
    if (m.from === 'agent') p.dataset['status'] = 'delivered';
    h.bySeq.set(m.seq, p);
    const after = [...h.bySeq.entries()].filter(([s]) => s > m.seq).sort((a, b) => a[0] - b[0])[0];
    if (after !== undefined) h.log.insertBefore(p, after[1]);
    else h.log.append(p);
    if (m.from === 'visitor') {
      h.typing.hidden = true;
      this.client?.send({ type: 'read', conversationId: m.conversationId, seq: m.seq });
    }
    if (this.callId !== null && h.view.callId === this.callId && !this.el.callChat.hidden) this.el.callLog.append(this.line(m));
  }

  private drop(id: string): void {
    this.held.get(id)?.el.remove();
    this.held.delete(id);
  }

  private renderCallChat(c: ChatSummaryView, messages: ChatMessageView[]): void {
    this.el.callChat.hidden = false;
    this.el.callChat.dataset['conversationId'] = c.conversationId;
    this.el.callLog.replaceChildren(...messages.map((m) => this.line(m)));
  }

  /** A message; a file the customer sent is a button that saves it (with this agent's token). */
  private line(m: ChatMessageView): HTMLElement {
    return line(m, (f) => fileButton(f, () => `Agent ${this.token}`, this.el.status));
  }
}

function line(m: ChatMessageView, fileEl: (f: NonNullable<ChatMessageView['file']>) => HTMLElement): HTMLElement {
  const p = document.createElement('p');
  p.className = `chat-msg from-${m.from}`;
  p.dataset['from'] = m.from;
  p.dataset['seq'] = String(m.seq);
  const who = document.createElement('strong');
  who.textContent = `${t(`chat:from.${m.from}`)}: `;
  p.append(who, m.file === undefined ? m.text : fileEl(m.file));
  if (m.sentiment !== undefined) {
    p.dataset['sentiment'] = m.sentiment;
    const mood = document.createElement('span');
    mood.className = `chat-sentiment sentiment-${m.sentiment}`;
    mood.textContent = ` (${t(`chat:sentiment.${m.sentiment}`)})`;
    p.append(mood);
  }
  return p;
}
