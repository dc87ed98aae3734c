/**
 * Conversations as the box runs them, for every text channel (chat now, e-mail cases next): start
 * one, add messages in order (seq per conversation; a resend with the same client id is the same
 * message), redact each message before it is stored or shown to anyone, analyse the customer's
 * messages like call finals (intent on the redacted text: typed digits mislead the model) and route the
 * conversation to a skill group with the call routing engine (routing/engine.ts groupForIntent), then
 * offer it to the group's agents, who accept (up to `maxChatsPerAgent` at once), reply and close.
 *
 * What it tells the transports (chat socket, e-mail) goes through `events`; it publishes nothing
 * on the appliance bus, whose events leave the box's process (console, webhooks).
 */
import { randomUUID } from 'node:crypto';
import type { CallerHasher } from '../calls/callerHash.js';
import { evxError } from '../errors.js';
import { TypedEmitter } from '../events/typedEmitter.js';
import type { Logger } from '../log/logger.js';
import type { Redactor } from '../privacy/redactor.js';
import { HAN } from '../privacy/spokenPiiZh.js';
import { groupForIntent } from '../routing/engine.js';
import type { RouteIntent, RoutingRules, SkillGroup } from '../routing/types.js';
import type { ConversationRepo } from './conversationRepo.js';
import type { Channel, Conversation, ConversationMessage } from './types.js';

/** Intent of a customer's message in a language; null when no model serves it. */
export type MessageIntent = (text: string, language: 'en' | 'zh') => Promise<RouteIntent | null>;

/** The routing facts a conversation is routed with (routing/routingService.ts). */
export interface ConversationRouting {
  readonly configured: boolean;
  groupList(): readonly SkillGroup[];
  rules(): RoutingRules;
}

export interface ConversationEvents {
  message: { conversation: Conversation; message: ConversationMessage };
  routed: { conversation: Conversation };
  assigned: { conversation: Conversation };
  closed: { conversation: Conversation };
  read: { conversationId: string; side: 'visitor' | 'agent'; seq: number };
  typing: { conversationId: string; side: 'visitor' | 'agent'; typing: boolean };
  call: { conversation: Conversation; callId: string };
}

export interface ConversationServiceOptions {
  /** Chats an agent may hold at once (besides one call). */
  readonly maxChatsPerAgent: number;
  /** Customer messages without a usable intent before the conversation goes to the default group. */
  readonly maxMessagesBeforeDefault: number;
  /** Longest message text (characters); longer ones are refused. */
  readonly maxMessageChars: number;
}

export interface StartInput {
  readonly channel: Channel;
  readonly language?: 'en' | 'zh';
  readonly name?: string;
  readonly customerId?: string;
  readonly email?: string;
  readonly phone?: string;
  readonly subject?: string;
}

export interface ConversationServiceDeps {
  readonly repo: ConversationRepo;
  /** Null: messages are stored as typed (chat.redact false, or redaction off). */
  readonly redactor: Redactor | null;
  readonly hasher: CallerHasher;
  readonly intent: MessageIntent | null;
  readonly routing: ConversationRouting | null;
  /** The skill groups an agent belongs to (routing agents' skills); unknown agent: none. */
  readonly agentGroups: (agentId: string) => readonly string[];
  readonly logger: Logger;
  readonly options: ConversationServiceOptions;
  readonly now?: () => number;
}

/** Unrouted conversations whose message count is kept (the oldest is forgotten past it: it starts counting again). */
const MAX_UNROUTED = 10_000;

export class ConversationService {
  readonly events: TypedEmitter<ConversationEvents>;
  /** Customer messages seen per unrouted conversation (routing waits for a usable intent). */
  private readonly unrouted = new Map<string, number>();

  constructor(private readonly deps: ConversationServiceDeps) {
    this.events = new TypedEmitter<ConversationEvents>((event, err) =>
      deps.logger.error({ event, reason: err instanceof Error ? err.message : String(err) }, 'conversation listener failed'),
    );
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  get options(): ConversationServiceOptions {
    return this.deps.options;
  }

  start(input: StartInput): Conversation {
    const h = this.deps.hasher;
    const given = (v: string | undefined) => (v !== undefined && v.trim() !== '' ? v : undefined);
    const name = given(input.name);
    const customerId = given(input.customerId);
    const email = given(input.email);
    const phone = given(input.phone);
    const subject = input.subject === undefined ? null : this.redact(input.subject, input.language ?? 'en').text;
    const c = this.deps.repo.create({
      id: randomUUID(),
      channel: input.channel,
      language: input.language ?? 'en',
      subject,
      nameHash: name === undefined ? null : h.hashIdentifier('name', name),
      customerHash: customerId === undefined ? null : h.hashIdentifier('customer', customerId),
      emailHash: email === undefined ? null : h.hashIdentifier('email', email),
      phoneHash: phone === undefined ? null : h.hash(phone),
      at: this.now(),
    });
    this.deps.logger.info({ conversationId: c.id, channel: c.channel }, 'conversation started');
    return c;
  }

  get(id: string): Conversation {
    const c = this.deps.repo.get(id);
    if (c === undefined) throw evxError('EVX_ERR_CHAT_NOT_FOUND', 'no such conversation', { details: { resource: 'conversation' } });
    return c;
  }

  find(id: string): Conversation | undefined {
    return this.deps.repo.get(id);
  }

  history(id: string, afterSeq = 0): ConversationMessage[] {
    return this.deps.repo.messagesAfter(id, afterSeq);
  }

  /** A customer's message: redacted and stored (or the earlier copy of a resend), then analysed and routed. */
  async postCustomer(id: string, clientId: string, text: string, meta?: Record<string, unknown>): Promise<ConversationMessage> {
    const c = this.openConversation(id);
    const { message, duplicate } = this.store(c, 'visitor', null, clientId, text, meta);
    if (duplicate) return message;
    this.events.emit('message', { conversation: c, message });
    // Intent from the redacted text: a typed card number's digits push the intent model out of scope
    // (measured: "I lost my card ... 4111 1111 1111 1111" 0.09 out of scope, with [CARD] 0.92).
    if (c.groupId === null) await this.route(c, message, message.text);
    return message;
  }

  /**
   * A file the customer sent (chatFiles.ts): a message whose text is the file's (cleaned, redacted)
   * name and whose meta names the file. It routes nothing: a file name says nothing of the intent.
   */
  postCustomerFile(
    id: string,
    clientId: string,
    name: string,
    file: { id: string; name: string; type: string; bytes: number },
  ): ConversationMessage {
    const c = this.openConversation(id);
    const { message, duplicate } = this.store(c, 'visitor', null, clientId, name, { file });
    if (!duplicate) this.events.emit('message', { conversation: c, message });
    return message;
  }

  /**
   * Text as conversation `id` would store it (redacted when redaction is on, by the rules of its
   * language): for what is kept beside a message, like a file's name.
   */
  redactText(id: string, text: string): string {
    return this.redact(text, this.find(id)?.language ?? 'en').text;
  }

  /** An agent's reply; only the agent holding the conversation may reply. */
  postAgent(id: string, agentId: string, clientId: string, text: string, meta?: Record<string, unknown>): ConversationMessage {
    const c = this.openConversation(id);
    if (c.state !== 'assigned' || c.agentId !== agentId)
      throw evxError('EVX_ERR_CHAT_NOT_FOUND', 'the conversation is not held by this agent', { details: { resource: 'conversation' } });
    const { message, duplicate } = this.store(c, 'agent', agentId, clientId, text, meta);
    if (!duplicate) this.events.emit('message', { conversation: c, message });
    return message;
  }

  /** Open conversations waiting in the agent's groups (or any group when routing is not configured), oldest first. */
  offersFor(agentId: string): Conversation[] {
    const groups = new Set(this.deps.agentGroups(agentId));
    const routingOn = this.deps.routing?.configured === true;
    return this.deps.repo
      .open()
      .filter((c) => c.state === 'waiting' && (routingOn ? c.groupId !== null && groups.has(c.groupId) : true))
      .filter((c) => routingOn || this.history(c.id).length > 0);
  }

  /** Open conversations the agent holds. */
  heldBy(agentId: string): Conversation[] {
    return this.deps.repo.open().filter((c) => c.state === 'assigned' && c.agentId === agentId);
  }

  accept(id: string, agentId: string): Conversation {
    const c = this.openConversation(id);
    if (c.state === 'assigned' && c.agentId === agentId) return c;
    if (this.heldBy(agentId).length >= this.deps.options.maxChatsPerAgent)
      throw evxError('EVX_ERR_CHAT_AGENT_FULL', `an agent holds at most ${this.deps.options.maxChatsPerAgent} chats`);
    if (!this.deps.repo.assign(id, agentId, this.now())) throw evxError('EVX_ERR_CHAT_TAKEN', 'another agent took the chat first');
    const assigned = this.get(id);
    this.unrouted.delete(id);
    this.deps.logger.info({ conversationId: id, agentId }, 'conversation assigned');
    this.events.emit('assigned', { conversation: assigned });
    return assigned;
  }

  /** Close (customer or agent); closing a closed conversation is a no-op. */
  close(id: string, by: { side: 'visitor' } | { side: 'agent'; agentId: string }): Conversation {
    const c = this.get(id);
    if (by.side === 'agent' && c.state === 'assigned' && c.agentId !== by.agentId)
      throw evxError('EVX_ERR_CHAT_NOT_FOUND', 'the conversation is not held by this agent', { details: { resource: 'conversation' } });
    this.unrouted.delete(id);
    if (!this.deps.repo.close(id, this.now())) return c;
    const closed = this.get(id);
    this.deps.logger.info({ conversationId: id, by: by.side }, 'conversation closed');
    this.events.emit('closed', { conversation: closed });
    return closed;
  }

  read(id: string, side: 'visitor' | 'agent', seq: number): void {
    if (!Number.isSafeInteger(seq) || seq < 0) throw evxError('EVX_ERR_CHAT_PROTOCOL', 'seq must be a whole number');
    this.deps.repo.markRead(id, side, seq);
    this.events.emit('read', { conversationId: id, side, seq });
  }

  typing(id: string, side: 'visitor' | 'agent', typing: boolean): void {
    this.events.emit('typing', { conversationId: id, side, typing });
  }

  /** The customer escalated to a call: remember the call, so the agent on it sees this conversation. */
  linkCall(id: string, callId: string): Conversation {
    const c = this.openConversation(id);
    this.deps.repo.linkCall(id, callId, this.now());
    const linked = this.get(c.id);
    this.events.emit('call', { conversation: linked, callId });
    return linked;
  }

  /** The conversation a call was escalated from (screen-pop on the call). */
  byCall(callId: string): Conversation | undefined {
    return this.deps.repo.byCall(callId);
  }

  private openConversation(id: string): Conversation {
    const c = this.get(id);
    if (c.state === 'closed') throw evxError('EVX_ERR_CHAT_CLOSED', 'the conversation is closed');
    return c;
  }

  /**
   * `language`: the conversation's. Chinese text needs the Chinese rules (the English ones miss its
   * numbers and names), also in a conversation started without a language (English by default);
   * what a customer types in a Chinese conversation may still be English words ("my name is ..."),
   * so the English rules then read what the Chinese ones left.
   */
  private redact(text: string, language: 'en' | 'zh' = 'en'): { text: string; total: number } {
    const r = this.deps.redactor;
    if (r === null) return { text, total: 0 };
    if (language === 'zh' || HAN.test(text)) {
      const zh = r.redact(text, [], { language: 'zh' });
      const en = r.redact(zh.text);
      return { text: en.text, total: zh.total + en.total };
    }
    const out = r.redact(text);
    return { text: out.text, total: out.total };
  }

  private store(
    c: Conversation,
    sender: 'visitor' | 'agent',
    agentId: string | null,
    clientId: string,
    text: string,
    meta: Record<string, unknown> | undefined,
  ): { message: ConversationMessage; duplicate: boolean } {
    if (text.trim() === '') throw evxError('EVX_ERR_CHAT_PROTOCOL', 'a message needs text');
    if (text.length > this.deps.options.maxMessageChars)
      throw evxError('EVX_ERR_CHAT_PROTOCOL', `a message holds at most ${this.deps.options.maxMessageChars} characters`);
    const redacted = this.redact(text, c.language);
    return this.deps.repo.addMessage(c.id, {
      clientId,
      sender,
      agentId,
      text: redacted.text,
      redactions: redacted.total,
      ...(meta !== undefined ? { meta } : {}),
      at: this.now(),
    });
  }

  /** Intent of the customer's words (as stored: redacted), then a skill group like a call's. */
  private async route(c: Conversation, message: ConversationMessage, text: string): Promise<void> {
    const routing = this.deps.routing;
    if (routing === null || !routing.configured) return;
    let intent: RouteIntent | null = null;
    try {
      intent = this.deps.intent === null ? null : await this.deps.intent(text, c.language);
    } catch (err) {
      this.deps.logger.warn({ conversationId: c.id, reason: err instanceof Error ? err.name : 'error' }, 'chat intent failed');
    }
    if (intent !== null) this.deps.repo.setMessageIntent(c.id, message.seq, intent.intent);
    const now = this.deps.repo.get(c.id);
    if (now === undefined || now.groupId !== null || now.state === 'closed') return;
    const seen = (this.unrouted.get(c.id) ?? 0) + 1;
    const { groupId, reason } = groupForIntent(
      { callId: c.id, intent, emotion: null, profile: null },
      routing.groupList(),
      routing.rules(),
    );
    const usable = reason.code === 'intent.group' || reason.code === 'intent.group-mass';
    if (!usable && seen < this.deps.options.maxMessagesBeforeDefault) {
      if (this.unrouted.size >= MAX_UNROUTED && !this.unrouted.has(c.id)) this.unrouted.delete(this.unrouted.keys().next().value!);
      this.unrouted.set(c.id, seen);
      return;
    }
    this.unrouted.delete(c.id);
    this.deps.repo.routed(c.id, groupId, intent?.intent ?? null, reason.code, this.now());
    const routed = this.get(c.id);
    this.deps.logger.info({ conversationId: c.id, groupId, reason: reason.code }, 'conversation routed');
    this.events.emit('routed', { conversation: routed });
  }
}
