/**
 * The chat WebSocket (GET /api/v1/chat/socket): visitors of the "call us" page and agents in the
 * softphone page speak chatProtocol.ts over it. Its own socket rather than the WebRTC signalling
 * one: a chat needs no call (signalling sockets join one call with a token bound to it and close
 * without one), it must outlive calls and reconnects, and its doors differ (origin allow-list, rate
 * limits per visitor and per address; files go over HTTP, chatFileRoutes.ts) — the signalling protocol stays as it was.
 *
 * Doors: the handshake is refused (403) unless its Origin is the box's own or in chat.allowedOrigins;
 * a frame over chat.maxFrameBytes or binary closes the socket (1009 / 1003); repeated bad frames or
 * rate-limit refusals close it (1008); a socket that says nothing in `joinTimeoutMs`, or misses a
 * pong (half-open: the peer vanished without a close), is terminated. Visitors authenticate with the
 * chat token `start` gave them (chatTokens.ts); agents with their softphone's agent token, and an
 * agent's socket lasts no longer than the agent's place on the roster (`agentActive`): once the
 * agent is removed, the next chat event for them, or their next message, closes it (CREDENTIAL_ENDED).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { evxError, isEdgeVoxError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { parseChatMessage, type ChatClientMessage, type ChatServerMessage, type ChatSummaryView } from './chatProtocol.js';
import { mintChatToken, verifyChatToken } from './chatTokens.js';
import { agentMessageView, messageView, summaryView } from './chatViews.js';
import type { ConversationService } from './conversationService.js';
import { RateLimiter } from './rateLimit.js';
import type { Conversation } from './types.js';
import { CREDENTIAL_ENDED } from '../auth/socketClose.js';

export const CHAT_SOCKET_PATH = '/api/v1/chat/socket';

/** The part of a `ws` WebSocket used here. */
interface ChatSocket {
  readonly readyState: number;
  readonly OPEN: number;
  send(data: string): void;
  close(code: number, reason: string): void;
  on(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): void;
  on(event: 'close' | 'error' | 'pong', listener: () => void): void;
  ping?(): void;
  terminate?(): void;
}

export interface ChatSocketOptions {
  /** Origins allowed besides the box's own; empty: the box's own only. */
  readonly allowedOrigins: readonly string[];
  readonly maxFrameBytes: number;
  readonly visitorMessagesPerMinute: number;
  readonly ipMessagesPerMinute: number;
  readonly ipSessionsPerMinute: number;
  readonly joinTimeoutMs?: number;
  readonly heartbeatMs?: number;
  /** Bad frames or refused messages on one socket before it is closed. */
  readonly maxStrikes?: number;
  /** Files visitors may send (chat.uploads, over HTTP); absent: none, and `started` says nothing of files. */
  readonly uploads?: { readonly maxBytes: number; readonly types: readonly string[] };
}

export interface ChatSocketDeps {
  readonly service: ConversationService;
  /** Signs visitors' chat tokens (the box's token secret). */
  readonly secret: Uint8Array;
  readonly verifyAgent: (token: string) => { subject: string; expiresAtMs: number } | undefined;
  /**
   * Whether an agent id may chat now (on the roster; app/conversations.ts). Asked at sign-in and
   * before each delivery to, or message from, a signed-in agent. Absent: every verified token may.
   */
  readonly agentActive?: (agentId: string) => boolean;
  /** Whether `callerToken` is a valid caller token of `callId` (the escalated WebRTC call). */
  readonly verifyCallerToken: (callId: string, callerToken: string) => boolean;
  /**
   * Verifies a site's identity token (throws EVX_ERR_CUSTOMER_IDENTITY) and returns what links the
   * new chat to that customer; absent: tokens are refused. Typed identifiers never link.
   */
  readonly identity?: (token: string) => (conversationId: string) => void;
  readonly logger: Logger;
  readonly options: ChatSocketOptions;
}

/** The sockets attached to conversations and agents; forwards the service's events to them. */
class ChatHub {
  readonly visitors = new Map<string, Set<VisitorSession>>();
  readonly agents = new Map<string, Set<AgentSession>>();
  private readonly offs: (() => void)[] = [];

  constructor(private readonly service: ConversationService) {
    const ev = service.events;
    this.offs.push(
      ev.on('message', ({ conversation, message }) => {
        const out: ChatServerMessage = { type: 'message', message: messageView(message) };
        this.toVisitors(conversation.id, out);
        // The agent's copy carries the customer's sentiment; the visitor's never does.
        const toAgent: ChatServerMessage = { type: 'message', message: agentMessageView(message, conversation.language) };
        if (conversation.state === 'assigned' && conversation.agentId !== null) this.toAgent(conversation.agentId, toAgent);
        else this.refreshAgents();
      }),
      ev.on('typing', (e) => {
        const out: ChatServerMessage = { type: 'typing', conversationId: e.conversationId, from: e.side, typing: e.typing };
        if (e.side === 'agent') this.toVisitors(e.conversationId, out);
        else this.toHolder(e.conversationId, out);
      }),
      ev.on('read', (e) => {
        const out: ChatServerMessage = { type: 'read', conversationId: e.conversationId, by: e.side, seq: e.seq };
        if (e.side === 'agent') this.toVisitors(e.conversationId, out);
        else this.toHolder(e.conversationId, out);
      }),
      ev.on('routed', () => this.refreshAgents()),
      ev.on('assigned', ({ conversation }) => this.stateChanged(conversation)),
      ev.on('closed', ({ conversation }) => this.stateChanged(conversation)),
      ev.on('call', ({ conversation }) => this.stateChanged(conversation)),
    );
  }

  summary(c: Conversation): ChatSummaryView {
    const first = this.service.history(c.id).find((m) => m.sender === 'visitor');
    return summaryView(c, first?.text ?? '');
  }

  private stateChanged(c: Conversation): void {
    const out: ChatServerMessage = { type: 'state', conversation: this.summary(c) };
    this.toVisitors(c.id, out);
    if (c.agentId !== null) this.toAgent(c.agentId, out);
    this.refreshAgents();
  }

  refreshAgents(): void {
    for (const [agentId, set] of this.agents) for (const s of set) s.sendLists(agentId);
  }

  private toVisitors(conversationId: string, m: ChatServerMessage): void {
    for (const s of this.visitors.get(conversationId) ?? []) s.send(m);
  }

  private toAgent(agentId: string, m: ChatServerMessage): void {
    for (const s of this.agents.get(agentId) ?? []) s.send(m);
  }

  private toHolder(conversationId: string, m: ChatServerMessage): void {
    const c = this.service.find(conversationId);
    if (c?.state === 'assigned' && c.agentId !== null) this.toAgent(c.agentId, m);
  }

  add<S>(map: Map<string, Set<S>>, key: string, s: S): void {
    let set = map.get(key);
    if (set === undefined) map.set(key, (set = new Set()));
    set.add(s);
  }

  remove<S>(map: Map<string, Set<S>>, key: string, s: S): void {
    const set = map.get(key);
    set?.delete(s);
    if (set?.size === 0) map.delete(key);
  }

  close(): void {
    for (const off of this.offs.splice(0)) off();
  }
}

/** Mounts the chat socket. Needs @fastify/websocket registered on `app` (the appliance's core routes do). */
export function registerChatSocket(app: FastifyInstance, deps: ChatSocketDeps): { close(): void } {
  const hub = new ChatHub(deps.service);
  const o = deps.options;
  const limits = {
    visitor: new RateLimiter(o.visitorMessagesPerMinute),
    ip: new RateLimiter(o.ipMessagesPerMinute),
    sessions: new RateLimiter(o.ipSessionsPerMinute),
    typing: new RateLimiter(60),
  };
  const sockets = new Set<Session>();
  app.get(
    CHAT_SOCKET_PATH,
    {
      websocket: true,
      schema: { hide: true },
      // Public to the console guard: visitors and agents authenticate inside the protocol.
      config: { public: true },
      preValidation: async (request) => {
        if (!originAllowed(request, o.allowedOrigins))
          throw evxError('EVX_ERR_CHAT_ORIGIN', 'this origin may not open the chat (chat.allowedOrigins)');
      },
    },
    (socket, request) => {
      const s = new Session(socket, request.ip, hub, deps, limits, () => sockets.delete(s));
      sockets.add(s);
      s.start();
    },
  );
  return {
    close() {
      for (const s of [...sockets]) s.end(1001, 'shutdown');
      hub.close();
    },
  };
}

/** The box's own origin, or one in the allow-list; a handshake without Origin (no browser) is refused too. */
export function originAllowed(request: FastifyRequest, allowed: readonly string[]): boolean {
  const origin = request.headers.origin;
  if (typeof origin !== 'string' || origin === '') return false;
  const own = `${request.protocol}://${request.headers.host ?? ''}`;
  return origin === own || allowed.includes(origin);
}

type Limits = { visitor: RateLimiter; ip: RateLimiter; sessions: RateLimiter; typing: RateLimiter };

/** One socket: first message decides whether it is a visitor's or an agent's. */
class Session {
  private queue: Promise<void> = Promise.resolve();
  private role: VisitorSession | AgentSession | null = null;
  private joinTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private alive = true;
  private strikes = 0;
  private done = false;

  constructor(
    readonly socket: ChatSocket,
    readonly ip: string,
    readonly hub: ChatHub,
    readonly deps: ChatSocketDeps,
    readonly limits: Limits,
    private readonly onEnd: () => void,
  ) {}

  start(): void {
    const o = this.deps.options;
    this.joinTimer = setTimeout(() => this.end(1008, 'start, resume or agent expected'), o.joinTimeoutMs ?? 10_000);
    this.heartbeat = setInterval(() => {
      if (!this.alive) {
        this.terminate();
        return;
      }
      this.alive = false;
      try {
        this.socket.ping?.();
      } catch {
        this.terminate();
      }
    }, o.heartbeatMs ?? 30_000);
    this.socket.on('pong', () => {
      this.alive = true;
    });
    this.socket.on('message', (data, isBinary) => this.onFrame(data, isBinary));
    this.socket.on('close', () => this.cleanup());
    this.socket.on('error', () => this.cleanup());
  }

  private onFrame(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    this.alive = true;
    if (this.done) return;
    if (isBinary) {
      this.send({ type: 'error', code: 'EVX_ERR_CHAT_PROTOCOL', message: 'binary frames are not accepted' });
      this.end(1003, 'binary frame');
      return;
    }
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (buf.length > this.deps.options.maxFrameBytes) {
      this.send({ type: 'error', code: 'EVX_ERR_CHAT_PROTOCOL', message: `frames hold at most ${this.deps.options.maxFrameBytes} bytes` });
      this.end(1009, 'frame too large');
      return;
    }
    let msg: ChatClientMessage;
    try {
      msg = parseChatMessage(buf.toString('utf8'));
    } catch (err) {
      this.refuse(err);
      return;
    }
    // One at a time, in order: acknowledgements and seqs follow the order the client sent.
    this.queue = this.queue
      .then(() => this.handle(msg))
      .catch((err: unknown) => this.refuse(err, 'clientId' in msg ? msg.clientId : undefined));
  }

  private async handle(msg: ChatClientMessage): Promise<void> {
    if (this.done) return;
    if (msg.type === 'upload') {
      if (this.deps.options.uploads === undefined)
        throw evxError('EVX_ERR_CHAT_UPLOAD_REFUSED', 'file uploads are not enabled on this box');
      throw evxError('EVX_ERR_CHAT_PROTOCOL', 'files are sent with POST /api/v1/chat/conversations/:id/files, not over the socket');
    }
    if (this.role === null) {
      if (msg.type === 'start' || msg.type === 'resume') this.role = new VisitorSession(this);
      else if (msg.type === 'agent') this.role = new AgentSession(this);
      else throw evxError('EVX_ERR_CHAT_PROTOCOL', 'start, resume or agent expected first');
      clearTimeout(this.joinTimer);
    }
    await this.role.handle(msg);
    this.strikes = 0;
  }

  /** Says why a message was refused; too many refusals in a row close the socket. */
  refuse(err: unknown, clientId?: string): void {
    if (!isEdgeVoxError(err)) {
      this.deps.logger.error({ reason: err instanceof Error ? err.name : 'error' }, 'chat message failed');
      this.send({ type: 'error', code: 'EVX_ERR_INTERNAL', message: 'the message could not be handled' });
    } else this.send({ type: 'error', code: err.code, message: err.message, ...(clientId !== undefined ? { clientId } : {}) });
    if (++this.strikes >= (this.deps.options.maxStrikes ?? 20)) this.end(1008, 'too many refused messages');
  }

  send(m: ChatServerMessage): void {
    if (this.done || this.socket.readyState !== this.socket.OPEN) return;
    try {
      this.socket.send(JSON.stringify(m));
    } catch {
      this.terminate();
    }
  }

  end(code: number, reason: string): void {
    if (this.done) return;
    try {
      this.socket.close(code, reason);
    } catch {
      this.terminate();
    }
    this.cleanup();
  }

  private terminate(): void {
    try {
      this.socket.terminate?.();
    } catch {
      // already gone
    }
    this.cleanup();
  }

  private cleanup(): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.joinTimer);
    clearInterval(this.heartbeat);
    this.role?.detach();
    this.onEnd();
  }
}

class VisitorSession {
  private conversationId: string | null = null;

  constructor(private readonly s: Session) {}

  private get service(): ConversationService {
    return this.s.deps.service;
  }

  private attached(): string {
    if (this.conversationId === null) throw evxError('EVX_ERR_CHAT_PROTOCOL', 'start or resume a chat first');
    return this.conversationId;
  }

  private uploads(): { uploads?: { maxBytes: number; types: string[] } } {
    const u = this.s.deps.options.uploads;
    return u === undefined ? {} : { uploads: { maxBytes: u.maxBytes, types: [...u.types] } };
  }

  private attach(id: string): void {
    this.conversationId = id;
    this.s.hub.add(this.s.hub.visitors, id, this);
  }

  async handle(msg: ChatClientMessage): Promise<void> {
    switch (msg.type) {
      case 'start': {
        if (this.conversationId !== null) throw evxError('EVX_ERR_CHAT_PROTOCOL', 'this socket already has a chat');
        if (!this.s.limits.sessions.take(this.s.ip)) throw evxError('EVX_ERR_CHAT_RATE_LIMITED', 'too many new chats from this address');
        // verified before the chat exists: a forged or expired token starts nothing
        const verify = this.s.deps.identity;
        if (msg.identity !== undefined && verify === undefined)
          throw evxError('EVX_ERR_CUSTOMER_IDENTITY', 'identity tokens are not accepted on this box');
        const link = msg.identity === undefined || verify === undefined ? null : verify(msg.identity);
        const c = this.service.start({
          channel: 'chat',
          ...(msg.language !== undefined ? { language: msg.language } : {}),
          ...(msg.name !== undefined ? { name: msg.name } : {}),
          ...(msg.customerId !== undefined ? { customerId: msg.customerId } : {}),
          ...(msg.email !== undefined ? { email: msg.email } : {}),
          ...(msg.phone !== undefined ? { phone: msg.phone } : {}),
        });
        link?.(c.id);
        this.attach(c.id);
        this.send({
          type: 'started',
          conversationId: c.id,
          token: mintChatToken(this.s.deps.secret, c.id),
          lastSeq: 0,
          state: c.state,
          ...this.uploads(),
        });
        return;
      }
      case 'resume': {
        if (this.conversationId !== null) throw evxError('EVX_ERR_CHAT_PROTOCOL', 'this socket already has a chat');
        const c = this.service.find(msg.conversationId);
        if (c === undefined || !verifyChatToken(this.s.deps.secret, msg.conversationId, msg.token))
          throw evxError('EVX_ERR_CHAT_NOT_FOUND', 'no such chat, or the token is not its');
        this.attach(c.id);
        const missed = this.service.history(c.id, msg.afterSeq);
        const lastSeq = this.service.history(c.id).at(-1)?.seq ?? 0;
        this.send({ type: 'started', conversationId: c.id, token: msg.token, lastSeq, state: c.state, ...this.uploads() });
        for (const m of missed) this.send({ type: 'message', message: messageView(m) });
        if (c.agentReadSeq > 0) this.send({ type: 'read', conversationId: c.id, by: 'agent', seq: c.agentReadSeq });
        return;
      }
      case 'message': {
        const id = this.attached();
        if (!this.s.limits.visitor.take(id) || !this.s.limits.ip.take(this.s.ip))
          throw evxError('EVX_ERR_CHAT_RATE_LIMITED', 'too many messages; wait a moment and send again');
        const m = await this.service.postCustomer(id, msg.clientId, msg.text);
        this.send({ type: 'ack', clientId: msg.clientId, seq: m.seq, text: m.text });
        return;
      }
      case 'typing': {
        const id = this.attached();
        if (this.s.limits.typing.take(`v:${id}`)) this.service.typing(id, 'visitor', msg.typing);
        return;
      }
      case 'read':
        this.service.read(this.attached(), 'visitor', msg.seq);
        return;
      case 'close':
        this.service.close(this.attached(), { side: 'visitor' });
        return;
      case 'call': {
        const id = this.attached();
        if (!this.s.deps.verifyCallerToken(msg.callId, msg.callerToken))
          throw evxError('EVX_ERR_WEBRTC_AUTH', 'the caller token is not valid for this call');
        this.service.linkCall(id, msg.callId);
        this.send({ type: 'linked', callId: msg.callId });
        return;
      }
      default:
        throw evxError('EVX_ERR_CHAT_PROTOCOL', `a visitor may not send ${msg.type}`);
    }
  }

  send(m: ChatServerMessage): void {
    this.s.send(m);
  }

  detach(): void {
    if (this.conversationId !== null) this.s.hub.remove(this.s.hub.visitors, this.conversationId, this);
  }
}

class AgentSession {
  private agentId: string | null = null;
  private expiry: NodeJS.Timeout | undefined;

  constructor(private readonly s: Session) {}

  private get service(): ConversationService {
    return this.s.deps.service;
  }

  private me(): string {
    if (this.agentId === null) throw evxError('EVX_ERR_CHAT_PROTOCOL', 'send agent with a token first');
    return this.agentId;
  }

  /** An agent may see a conversation it holds or one offered to it. */
  private visible(id: string): Conversation {
    const agentId = this.me();
    const c = this.service.find(id);
    if (c !== undefined && ((c.state !== 'waiting' && c.agentId === agentId) || this.service.offersFor(agentId).some((x) => x.id === id)))
      return c;
    throw evxError('EVX_ERR_CHAT_NOT_FOUND', 'no such chat for this agent', { details: { resource: 'conversation' } });
  }

  private conv(msg: { conversationId?: string | undefined }): string {
    if (msg.conversationId === undefined) throw evxError('EVX_ERR_CHAT_PROTOCOL', 'name the conversationId');
    return msg.conversationId;
  }

  async handle(msg: ChatClientMessage): Promise<void> {
    if (msg.type === 'agent') {
      if (this.agentId !== null) throw evxError('EVX_ERR_CHAT_PROTOCOL', 'already signed in');
      const p = this.s.deps.verifyAgent(msg.token);
      if (p === undefined || this.s.deps.agentActive?.(p.subject) === false) {
        this.s.send({ type: 'error', code: 'EVX_ERR_WEBRTC_AUTH', message: 'the agent token is not valid' });
        this.s.end(1008, 'bad agent token');
        return;
      }
      this.agentId = p.subject;
      this.s.hub.add(this.s.hub.agents, p.subject, this);
      this.expiry = setTimeout(() => this.s.end(1008, 'token expired'), Math.max(0, Math.min(p.expiresAtMs - Date.now(), 2 ** 31 - 1)));
      this.expiry.unref();
      this.s.send({ type: 'agent-ready', agentId: p.subject, maxChats: this.service.options.maxChatsPerAgent });
      this.sendLists(p.subject);
      return;
    }
    const agentId = this.me();
    if (!this.stillActive()) return;
    switch (msg.type) {
      case 'accept': {
        const c = this.service.accept(msg.conversationId, agentId);
        this.s.send({
          type: 'history',
          conversation: this.s.hub.summary(c),
          messages: this.service.history(c.id).map((m) => agentMessageView(m, c.language)),
        });
        return;
      }
      case 'history': {
        let id = msg.conversationId;
        if (id === undefined && msg.callId !== undefined) id = this.service.byCall(msg.callId)?.id;
        if (id === undefined) throw evxError('EVX_ERR_CHAT_NOT_FOUND', 'no chat for this call', { details: { resource: 'conversation' } });
        const c = this.visible(id);
        this.s.send({
          type: 'history',
          conversation: this.s.hub.summary(c),
          messages: this.service.history(c.id, msg.afterSeq ?? 0).map((m) => agentMessageView(m, c.language)),
        });
        return;
      }
      case 'message': {
        const m = this.service.postAgent(this.conv(msg), agentId, msg.clientId, msg.text);
        this.s.send({ type: 'ack', clientId: msg.clientId, seq: m.seq, text: m.text });
        return;
      }
      case 'typing': {
        const id = this.conv(msg);
        this.visible(id);
        if (this.s.limits.typing.take(`a:${agentId}`)) this.service.typing(id, 'agent', msg.typing);
        return;
      }
      case 'read': {
        const id = this.conv(msg);
        this.visible(id);
        this.service.read(id, 'agent', msg.seq);
        return;
      }
      case 'close':
        this.service.close(this.conv(msg), { side: 'agent', agentId });
        return;
      default:
        throw evxError('EVX_ERR_CHAT_PROTOCOL', `an agent may not send ${msg.type}`);
    }
  }

  /** False (and the socket closed) once the agent is off the roster: nothing more goes either way. */
  private stillActive(): boolean {
    if (this.agentId === null || this.s.deps.agentActive?.(this.agentId) !== false) return true;
    this.s.end(CREDENTIAL_ENDED, 'agent removed');
    return false;
  }

  sendLists(agentId: string): void {
    if (!this.stillActive()) return;
    this.s.send({ type: 'offers', conversations: this.service.offersFor(agentId).map((c) => this.s.hub.summary(c)) });
    this.s.send({ type: 'held', conversations: this.service.heldBy(agentId).map((c) => this.s.hub.summary(c)) });
  }

  send(m: ChatServerMessage): void {
    if (this.stillActive()) this.s.send(m);
  }

  detach(): void {
    clearTimeout(this.expiry);
    if (this.agentId !== null) this.s.hub.remove(this.s.hub.agents, this.agentId, this);
  }
}
