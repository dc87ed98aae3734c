/**
 * SQLite rows of conversations and their messages (migration 19). Only redacted text and hashed
 * identifiers reach it: the service (conversationService.ts) redacts before calling `addMessage`.
 */
import type { Database, Statement } from 'better-sqlite3';
import { parseJson, type Writer } from '../store/repos/writer.js';
import type { Channel, Conversation, ConversationMessage, ConversationState, IdentityHashes, Sender } from './types.js';

interface ConversationRow {
  id: string;
  channel: Channel;
  state: ConversationState;
  group_id: string | null;
  agent_id: string | null;
  intent: string | null;
  route_reason: string | null;
  language: string;
  name_hash: string | null;
  customer_hash: string | null;
  email_hash: string | null;
  phone_hash: string | null;
  call_id: string | null;
  subject: string | null;
  visitor_read_seq: number;
  agent_read_seq: number;
  created_at: number;
  updated_at: number;
  closed_at: number | null;
}

interface MessageRow {
  conversation_id: string;
  seq: number;
  client_id: string;
  sender: Sender;
  agent_id: string | null;
  text: string;
  redactions: number;
  intent: string | null;
  meta_json: string;
  at: number;
}

export interface NewMessage {
  readonly clientId: string;
  readonly sender: Sender;
  readonly agentId: string | null;
  readonly text: string;
  readonly redactions: number;
  readonly meta?: Record<string, unknown>;
  readonly at: number;
}

export class ConversationRepo {
  private readonly getStmt: Statement<[string], ConversationRow>;
  private readonly byClientIdStmt: Statement<[string, string, string], MessageRow>;
  private readonly lastSeqStmt: Statement<[string], { seq: number | null }>;
  private readonly insertMessageStmt: Statement;
  private readonly afterStmt: Statement<[string, number, number], MessageRow>;

  constructor(
    private readonly db: Database,
    private readonly write: Writer,
  ) {
    this.getStmt = db.prepare(`SELECT * FROM conversations WHERE id = ?`);
    this.byClientIdStmt = db.prepare(`SELECT * FROM conversation_messages WHERE conversation_id = ? AND sender = ? AND client_id = ?`);
    this.lastSeqStmt = db.prepare(`SELECT MAX(seq) AS seq FROM conversation_messages WHERE conversation_id = ?`);
    this.insertMessageStmt = db.prepare(
      `INSERT INTO conversation_messages (conversation_id, seq, client_id, sender, agent_id, text, redactions, intent, meta_json, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)`,
    );
    this.afterStmt = db.prepare(`SELECT * FROM conversation_messages WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?`);
  }

  create(c: { id: string; channel: Channel; language: 'en' | 'zh'; subject: string | null; at: number } & IdentityHashes): Conversation {
    this.write('conversations.create', () =>
      this.db
        .prepare(
          `INSERT INTO conversations (id, channel, state, language, name_hash, customer_hash, email_hash, phone_hash, subject, created_at, updated_at)
           VALUES (?, ?, 'waiting', ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(c.id, c.channel, c.language, c.nameHash, c.customerHash, c.emailHash, c.phoneHash, c.subject, c.at, c.at),
    );
    return this.get(c.id)!;
  }

  get(id: string): Conversation | undefined {
    const r = this.getStmt.get(id);
    return r === undefined ? undefined : toConversation(r);
  }

  /**
   * Store a message with the next seq, or return the one already stored under the same sender and
   * client id (`duplicate`: a resend after a lost acknowledgement). One transaction: seqs never repeat.
   */
  addMessage(conversationId: string, m: NewMessage): { message: ConversationMessage; duplicate: boolean } {
    return this.write('conversations.message', () =>
      this.db.transaction(() => {
        const existing = this.byClientIdStmt.get(conversationId, m.sender, m.clientId);
        if (existing !== undefined) return { message: toMessage(existing), duplicate: true };
        const seq = (this.lastSeqStmt.get(conversationId)?.seq ?? 0) + 1;
        this.insertMessageStmt.run(
          conversationId,
          seq,
          m.clientId,
          m.sender,
          m.agentId,
          m.text,
          m.redactions,
          JSON.stringify(m.meta ?? {}),
          m.at,
        );
        this.db.prepare(`UPDATE conversations SET updated_at = ? WHERE id = ?`).run(m.at, conversationId);
        return { message: toMessage(this.byClientIdStmt.get(conversationId, m.sender, m.clientId)!), duplicate: false };
      })(),
    );
  }

  setMessageIntent(conversationId: string, seq: number, intent: string | null): void {
    this.write('conversations.intent', () =>
      this.db.prepare(`UPDATE conversation_messages SET intent = ? WHERE conversation_id = ? AND seq = ?`).run(intent, conversationId, seq),
    );
  }

  /** Messages after `afterSeq`, in order (a reconnecting client resumes from its last seq). */
  messagesAfter(conversationId: string, afterSeq = 0, limit = 500): ConversationMessage[] {
    return this.afterStmt.all(conversationId, afterSeq, limit).map(toMessage);
  }

  routed(id: string, groupId: string, intent: string | null, reason: string, at: number): void {
    this.write('conversations.route', () =>
      this.db
        .prepare(`UPDATE conversations SET group_id = ?, intent = ?, route_reason = ?, updated_at = ? WHERE id = ?`)
        .run(groupId, intent, reason, at, id),
    );
  }

  /** waiting -> assigned to `agentId`; false when it was not waiting (another agent took it first). */
  assign(id: string, agentId: string, at: number): boolean {
    return (
      this.write('conversations.assign', () =>
        this.db
          .prepare(`UPDATE conversations SET state = 'assigned', agent_id = ?, updated_at = ? WHERE id = ? AND state = 'waiting'`)
          .run(agentId, at, id),
      ).changes === 1
    );
  }

  close(id: string, at: number): boolean {
    return (
      this.write('conversations.close', () =>
        this.db
          .prepare(`UPDATE conversations SET state = 'closed', closed_at = ?, updated_at = ? WHERE id = ? AND state != 'closed'`)
          .run(at, at, id),
      ).changes === 1
    );
  }

  linkCall(id: string, callId: string, at: number): void {
    this.write('conversations.call', () =>
      this.db.prepare(`UPDATE conversations SET call_id = ?, updated_at = ? WHERE id = ?`).run(callId, at, id),
    );
  }

  /** Raise a side's read mark (never lowers it). */
  markRead(id: string, side: 'visitor' | 'agent', seq: number): void {
    const column = side === 'visitor' ? 'visitor_read_seq' : 'agent_read_seq';
    this.write('conversations.read', () =>
      this.db.prepare(`UPDATE conversations SET ${column} = MAX(${column}, ?) WHERE id = ?`).run(seq, id),
    );
  }

  /** Open conversations (waiting or assigned), oldest first. */
  open(limit = 1000): Conversation[] {
    return (
      this.db.prepare(`SELECT * FROM conversations WHERE state != 'closed' ORDER BY created_at LIMIT ?`).all(limit) as ConversationRow[]
    ).map(toConversation);
  }

  /** The conversation escalated to this call, if any. */
  byCall(callId: string): Conversation | undefined {
    const r = this.db.prepare(`SELECT * FROM conversations WHERE call_id = ? ORDER BY created_at DESC LIMIT 1`).get(callId) as
      ConversationRow | undefined;
    return r === undefined ? undefined : toConversation(r);
  }
}

function toConversation(r: ConversationRow): Conversation {
  return {
    id: r.id,
    channel: r.channel,
    state: r.state,
    groupId: r.group_id,
    agentId: r.agent_id,
    intent: r.intent,
    routeReason: r.route_reason,
    language: r.language === 'zh' ? 'zh' : 'en',
    nameHash: r.name_hash,
    customerHash: r.customer_hash,
    emailHash: r.email_hash,
    phoneHash: r.phone_hash,
    callId: r.call_id,
    subject: r.subject,
    visitorReadSeq: r.visitor_read_seq,
    agentReadSeq: r.agent_read_seq,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    closedAt: r.closed_at,
  };
}

function toMessage(r: MessageRow): ConversationMessage {
  return {
    conversationId: r.conversation_id,
    seq: r.seq,
    clientId: r.client_id,
    sender: r.sender,
    agentId: r.agent_id,
    text: r.text,
    redactions: r.redactions,
    intent: r.intent,
    meta: parseJson(r.meta_json, {}),
    at: r.at,
  };
}
