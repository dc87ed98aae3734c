/**
 * The browser side of the chat socket (appliance/conversations/chatProtocol.ts), for the visitor's
 * "call us" page and the agent's softphone: reconnects after a drop with a growing pause, says who
 * it is again on every connection (`hello`), and keeps each message it sent until the box
 * acknowledges it: unacknowledged ones are sent again, with the same client id, after a reconnect
 * (the box stores a client id once, so nothing is lost or doubled).
 */
import type { ChatClientMessage, ChatServerMessage } from '../../appliance/conversations/chatProtocol.js';

export const CHAT_SOCKET_PATH = '/api/v1/chat/socket';

export interface ChatClientHandlers {
  /** The first message(s) of every connection (start / resume / agent). */
  hello(): ChatClientMessage | null;
  message(m: ChatServerMessage): void;
  connection(state: 'connecting' | 'open' | 'closed'): void;
}

interface Pending {
  readonly clientId: string;
  readonly frame: ChatClientMessage;
}

export class ChatClient {
  private ws: WebSocket | null = null;
  private readonly pending = new Map<string, Pending>();
  private retryMs = 500;
  private stopped = false;
  private helloSent = false;

  constructor(private readonly handlers: ChatClientHandlers) {}

  connect(): void {
    if (this.stopped) return;
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${CHAT_SOCKET_PATH}`;
    this.handlers.connection('connecting');
    const ws = new WebSocket(url);
    this.ws = ws;
    this.helloSent = false;
    ws.onopen = () => {
      this.retryMs = 500;
      this.handlers.connection('open');
      this.sayHello();
    };
    ws.onmessage = (ev) => {
      let m: ChatServerMessage;
      try {
        m = JSON.parse(String(ev.data)) as ChatServerMessage;
      } catch {
        return;
      }
      if (m.type === 'ack') this.pending.delete(m.clientId);
      // once the box knows who we are, what it did not acknowledge goes again (same client ids)
      if (m.type === 'started' || m.type === 'agent-ready') for (const p of this.pending.values()) this.raw(p.frame);
      this.handlers.message(m);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.handlers.connection('closed');
      if (this.stopped) return;
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 8000);
    };
  }

  /** Say who we are now (a connection opened before there was anything to say). */
  sayHello(): void {
    if (this.helloSent || this.ws?.readyState !== WebSocket.OPEN) return;
    const hello = this.handlers.hello();
    if (hello === null) return;
    this.helloSent = true;
    this.raw(hello);
  }

  /** Sends a chat message; kept until acknowledged, sent again after a reconnect. Returns its client id. */
  sendText(text: string, conversationId?: string): string {
    const clientId = crypto.randomUUID();
    const frame: ChatClientMessage = { type: 'message', clientId, text, ...(conversationId !== undefined ? { conversationId } : {}) };
    this.pending.set(clientId, { clientId, frame });
    if (this.helloSent) this.raw(frame);
    return clientId;
  }

  /** A signal that is not worth resending (typing, read, accept, close, history). */
  send(m: ChatClientMessage): void {
    if (this.helloSent) this.raw(m);
  }

  get unacknowledged(): number {
    return this.pending.size;
  }

  /** For tests and a "network drop": closes the socket without stopping (it reconnects). */
  drop(): void {
    this.ws?.close();
  }

  stop(): void {
    this.stopped = true;
    this.ws?.close();
  }

  private raw(m: ChatClientMessage): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(m));
  }
}
