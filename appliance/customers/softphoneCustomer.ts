/**
 * The caller's customer as the agent softphone shows it with an offered or answered call: the open
 * chats and e-mail cases first, each with its last few messages (chat) or its subject (e-mail), then
 * the most recent timeline entries. Built from the screen-pop's customer view (customerService.ts);
 * the customer's id, conversation ids and stored (redacted) text only: no identifier hash, number,
 * address or name.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { ScreenPopCustomer } from './screenPop.js';
import type { TimelineEntry } from './timeline.js';

/** Messages of an open chat the softphone shows (the newest ones). */
export const SOFTPHONE_LAST_MESSAGES = 3;
/** Timeline entries the softphone shows after the open cases. */
export const SOFTPHONE_TIMELINE_ENTRIES = 5;
/** Open cases shown at most. */
const MAX_OPEN_CASES = 5;
/** Characters of a message or subject shown (the full text stays in the chat view). */
const MAX_TEXT_CHARS = 300;

export interface SoftphoneCaseMessage {
  readonly from: 'visitor' | 'agent' | 'system';
  /** As stored: redacted before storage. */
  readonly text: string;
  readonly at: number;
}

export interface SoftphoneOpenCase {
  readonly channel: 'chat' | 'email';
  readonly conversationId: string;
  /** Creation, unix ms. */
  readonly at: number;
  /** waiting | assigned. */
  readonly state: string;
  readonly intent: string | null;
  readonly linkedBy: TimelineEntry['linkedBy'];
  /** E-mail: the case's stored (redacted) subject; chat: null. */
  readonly subject: string | null;
  /** The last few messages, oldest first. */
  readonly lastMessages: readonly SoftphoneCaseMessage[];
}

export interface SoftphoneTimelineEntry {
  readonly channel: TimelineEntry['channel'];
  readonly at: number;
  readonly state: string;
  readonly intent: string | null;
  readonly mood: string | null;
  readonly outcome: string | null;
  readonly summary: string | null;
}

export interface SoftphoneCustomer {
  readonly customerId: string;
  readonly openCases: readonly SoftphoneOpenCase[];
  readonly timeline: readonly SoftphoneTimelineEntry[];
  readonly churnRisk: number;
  readonly tags: readonly string[];
}

const clip = (s: string): string => (s.length > MAX_TEXT_CHARS ? `${s.slice(0, MAX_TEXT_CHARS - 1)}…` : s);

/** Reads the open cases' last messages and subjects; one per database. */
export class SoftphoneCustomerReader {
  private readonly lastStmt: Statement<[string, number], { sender: SoftphoneCaseMessage['from']; text: string; at: number }>;
  private readonly subjectStmt: Statement<[string], { subject: string | null }>;

  constructor(db: Database) {
    this.lastStmt = db.prepare(`SELECT sender, text, at FROM conversation_messages WHERE conversation_id = ? ORDER BY seq DESC LIMIT ?`);
    this.subjectStmt = db.prepare(`SELECT subject FROM conversations WHERE id = ?`);
  }

  /** The softphone's view of `customer` (null stays null: an anonymous caller). */
  view(customer: ScreenPopCustomer | null): SoftphoneCustomer | null {
    if (customer === null) return null;
    return {
      customerId: customer.id,
      openCases: customer.openCases.slice(0, MAX_OPEN_CASES).flatMap((e) => (e.channel === 'call' ? [] : [this.openCase(e, e.channel)])),
      timeline: customer.timeline.slice(0, SOFTPHONE_TIMELINE_ENTRIES).map((e) => ({
        channel: e.channel,
        at: e.at,
        state: e.state,
        intent: e.intent,
        mood: e.mood,
        outcome: e.outcome,
        summary: e.summary === null ? null : clip(e.summary),
      })),
      churnRisk: customer.churn.churnRisk,
      tags: [...customer.churn.tags],
    };
  }

  private openCase(e: TimelineEntry, channel: 'chat' | 'email'): SoftphoneOpenCase {
    const subject = channel === 'email' ? (this.subjectStmt.get(e.id)?.subject ?? null) : null;
    const last = this.lastStmt.all(e.id, SOFTPHONE_LAST_MESSAGES).reverse();
    return {
      channel,
      conversationId: e.id,
      at: e.at,
      state: e.state,
      intent: e.intent,
      linkedBy: e.linkedBy,
      subject: subject === null ? null : clip(subject),
      lastMessages: last.map((m) => ({ from: m.sender, text: clip(m.text), at: m.at })),
    };
  }
}
