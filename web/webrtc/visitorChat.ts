/**
 * The chat on the "call us" page: the visitor starts a chat (name, customer id and e-mail optional:
 * the box keeps only salted hashes of them), types, sees the agent typing and whether the agent has
 * read the messages, and keeps the chat through a network drop or a reload (the conversation id,
 * its chat token and the last seq seen stay in sessionStorage). A call started on the page is linked
 * to the chat, so the agent who takes it sees what was written. Where the box takes files
 * (chat.uploads), the visitor can send one (chatFiles.ts).
 *
 * Page state for tests and styling: <section id="chat" data-state="idle|open|closed"
 * data-connection="…" data-conversation-id>, each message <p data-seq data-from data-status="sending|delivered|read">.
 */
import type { ChatMessageView, ChatServerMessage } from '../../appliance/conversations/chatProtocol.js';
import { currentLanguage, t } from '../i18n/i18n.js';
import { ChatClient } from './chatClient.js';
import { fileButton, fileSize, uploadChatFile } from './chatFiles.js';
import { pageErrorText } from './pageI18n.js';

const STORE_KEY = 'evx-chat';

interface Saved {
  conversationId: string;
  token: string;
  lastSeq: number;
}

export class VisitorChat {
  private saved: Saved | null;
  private startFields: { name?: string; customerId?: string; email?: string } | null = null;
  private readonly client: ChatClient;
  private readonly bySeq = new Map<number, HTMLElement>();
  private readonly pendingEls = new Map<string, HTMLElement>();
  private agentReadSeq = 0;
  private typingTimer: ReturnType<typeof setTimeout> | undefined;
  private lastTypingSent = 0;
  private linkedCall: { callId: string; token: string } | null = null;
  private uploads: { maxBytes: number; types: string[] } | null = null;

  constructor(
    private readonly el: {
      root: HTMLElement;
      log: HTMLElement;
      typing: HTMLElement;
      input: HTMLInputElement;
      status: HTMLElement;
      /** The file picker and its label, shown when the box takes files (chat.uploads). */
      file: HTMLInputElement;
      fileLabel: HTMLElement;
    },
  ) {
    const raw = sessionStorage.getItem(STORE_KEY);
    this.saved = raw === null ? null : (JSON.parse(raw) as Saved);
    this.client = new ChatClient({
      hello: () => {
        if (this.saved !== null)
          return { type: 'resume', conversationId: this.saved.conversationId, token: this.saved.token, afterSeq: this.saved.lastSeq };
        if (this.startFields !== null) return { type: 'start', ...this.startFields, language: currentLanguage() === 'zh-CN' ? 'zh' : 'en' };
        return null;
      },
      message: (m) => this.onMessage(m),
      connection: (state) => {
        el.root.dataset['connection'] = state;
        if (state === 'closed' && this.active) el.status.textContent = t('chat:reconnecting');
      },
    });
    this.setState(this.saved === null ? 'idle' : 'open');
    if (this.saved !== null) this.client.connect();
  }

  private get active(): boolean {
    return this.el.root.dataset['state'] === 'open';
  }

  private setState(state: 'idle' | 'open' | 'closed'): void {
    this.el.root.dataset['state'] = state;
    if (this.saved !== null) this.el.root.dataset['conversationId'] = this.saved.conversationId;
  }

  start(fields: { name: string; customerId: string; email: string }): void {
    if (this.active) return;
    const given = Object.fromEntries(Object.entries(fields).filter(([, v]) => v.trim() !== '')) as typeof this.startFields;
    this.startFields = given ?? {};
    this.saved = null;
    sessionStorage.removeItem(STORE_KEY);
    this.el.log.replaceChildren();
    this.bySeq.clear();
    this.el.status.textContent = t('chat:starting');
    this.client.connect();
  }

  send(): void {
    const text = this.el.input.value.trim();
    if (text === '' || !this.active) return;
    this.el.input.value = '';
    const clientId = this.client.sendText(text);
    const p = this.line('visitor', text);
    p.dataset['clientId'] = clientId;
    p.dataset['status'] = 'sending';
    this.pendingEls.set(clientId, p);
    // sent: no longer typing, and the next keystroke says "typing" again at once
    clearTimeout(this.typingTimer);
    this.lastTypingSent = 0;
    this.client.send({ type: 'typing', typing: false });
  }

  /** Sends the file picked (when the box takes files): shown as "sending" until the box has it. */
  async sendFile(): Promise<void> {
    const file = this.el.file.files?.[0];
    this.el.file.value = '';
    if (file === undefined || !this.active || this.saved === null || this.uploads === null) return;
    if (file.size > this.uploads.maxBytes) {
      this.el.status.textContent = t('chat:fileTooLarge', { max: fileSize(this.uploads.maxBytes) });
      return;
    }
    const clientId = crypto.randomUUID();
    const p = this.line('visitor', `${file.name} (${fileSize(file.size)})`);
    p.dataset['clientId'] = clientId;
    p.dataset['status'] = 'sending';
    this.pendingEls.set(clientId, p);
    try {
      await uploadChatFile(this.saved.conversationId, this.saved.token, file, clientId);
    } catch (err) {
      if (this.pendingEls.get(clientId) === p) {
        this.pendingEls.delete(clientId);
        p.remove();
      }
      this.el.status.textContent = pageErrorText(err instanceof Error ? err.message : String(err));
    }
  }

  /** The visitor is typing: told to the agent at most every 2 s, and "stopped" after 3 s quiet. */
  typing(): void {
    if (!this.active) return;
    const now = Date.now();
    if (now - this.lastTypingSent > 2000) {
      this.lastTypingSent = now;
      this.client.send({ type: 'typing', typing: true });
    }
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.client.send({ type: 'typing', typing: false }), 3000);
  }

  end(): void {
    if (!this.active) return;
    this.client.send({ type: 'close' });
  }

  /** A call started on this page: linked to the chat (the agent on the call sees the chat). */
  callStarted(callId: string, callerToken: string): void {
    this.linkedCall = { callId, token: callerToken };
    if (this.active) this.client.send({ type: 'call', callId, callerToken });
  }

  private onMessage(m: ChatServerMessage): void {
    switch (m.type) {
      case 'started':
        this.saved = { conversationId: m.conversationId, token: m.token, lastSeq: this.saved?.lastSeq ?? 0 };
        this.persist();
        this.uploads = m.uploads ?? null;
        this.el.fileLabel.hidden = this.uploads === null;
        this.el.file.accept = this.uploads?.types.join(',') ?? '';
        this.setState(m.state === 'closed' ? 'closed' : 'open');
        this.el.status.textContent =
          m.state === 'assigned' ? t('chat:withAgent') : m.state === 'closed' ? t('chat:closed') : t('chat:waiting');
        if (this.linkedCall !== null && m.state !== 'closed')
          this.client.send({ type: 'call', callId: this.linkedCall.callId, callerToken: this.linkedCall.token });
        return;
      case 'ack': {
        const p = this.pendingEls.get(m.clientId);
        this.pendingEls.delete(m.clientId);
        if (p !== undefined) {
          p.textContent = m.text; // as stored: redacted
          this.placeSeq(p, m.seq);
        }
        return;
      }
      case 'message':
        this.showMessage(m.message);
        return;
      case 'typing':
        this.el.typing.hidden = !m.typing;
        return;
      case 'read':
        this.agentReadSeq = Math.max(this.agentReadSeq, m.seq);
        this.markRead();
        return;
      case 'state':
        if (m.conversation.state === 'assigned') this.el.status.textContent = t('chat:withAgent');
        if (m.conversation.state === 'closed') {
          this.el.status.textContent = t('chat:closed');
          this.setState('closed');
          sessionStorage.removeItem(STORE_KEY);
          this.saved = null;
          this.client.stop();
        }
        return;
      case 'linked':
        this.el.root.dataset['callId'] = m.callId;
        return;
      case 'error':
        if (m.code === 'EVX_ERR_CHAT_NOT_FOUND' || m.code === 'EVX_ERR_CHAT_CLOSED') {
          sessionStorage.removeItem(STORE_KEY);
          this.saved = null;
          this.setState('closed');
          this.client.stop();
        }
        this.el.status.textContent = pageErrorText(`${m.code}: ${m.message}`);
        return;
      default:
        return;
    }
  }

  private showMessage(msg: ChatMessageView): void {
    if (this.bySeq.has(msg.seq)) return;
    // our own message, acknowledged on another connection: the pending line becomes it
    const pending = msg.from === 'visitor' ? this.pendingEls.get(msg.clientId) : undefined;
    if (pending !== undefined) {
      this.pendingEls.delete(msg.clientId);
      this.fill(pending, msg);
      this.placeSeq(pending, msg.seq);
      return;
    }
    const p = this.line(msg.from, msg.text);
    this.fill(p, msg);
    this.placeSeq(p, msg.seq);
    if (msg.from === 'agent') {
      this.el.typing.hidden = true;
      if (document.visibilityState === 'visible') this.client.send({ type: 'read', seq: msg.seq });
    }
  }

  /** A message's content: its (redacted) text, or a button that saves the file it carries. */
  private fill(p: HTMLElement, msg: ChatMessageView): void {
    if (msg.file === undefined) p.textContent = msg.text;
    else p.replaceChildren(fileButton(msg.file, () => `Chat ${this.saved?.token ?? ''}`, this.el.status));
  }

  private line(from: string, text: string): HTMLElement {
    const p = document.createElement('p');
    p.className = `chat-msg from-${from}`;
    p.dataset['from'] = from;
    p.textContent = text;
    this.el.log.append(p);
    return p;
  }

  /** Puts a message at its place in seq order and remembers the last seq seen. */
  private placeSeq(p: HTMLElement, seq: number): void {
    p.dataset['seq'] = String(seq);
    if (p.dataset['from'] === 'visitor') p.dataset['status'] = seq <= this.agentReadSeq ? 'read' : 'delivered';
    this.bySeq.set(seq, p);
    const after = [...this.bySeq.entries()].filter(([s]) => s > seq).sort((a, b) => a[0] - b[0])[0];
    if (after !== undefined) this.el.log.insertBefore(p, after[1]);
    if (this.saved !== null && seq > this.saved.lastSeq) {
      this.saved.lastSeq = seq;
      this.persist();
    }
  }

  private markRead(): void {
    for (const [seq, p] of this.bySeq) if (p.dataset['from'] === 'visitor' && seq <= this.agentReadSeq) p.dataset['status'] = 'read';
  }

  private persist(): void {
    if (this.saved !== null) sessionStorage.setItem(STORE_KEY, JSON.stringify(this.saved));
  }

  /** For the e2e test: drop the socket as a network failure would (it reconnects and resumes). */
  dropConnection(): void {
    this.client.drop();
  }
}
