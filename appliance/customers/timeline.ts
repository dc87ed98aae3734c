/**
 * A customer's timeline: calls from their verified numbers and the chats and e-mail cases linked to
 * them (token or agent), newest first, with the intent, mood and summary where the analysis stored
 * them. Hashes and redacted summaries only; never a number, address or name.
 */
import type { Database } from 'better-sqlite3';

export interface TimelineEntry {
  readonly channel: 'call' | 'chat' | 'email';
  readonly id: string;
  /** Start (call) or creation (chat, e-mail case), unix ms. */
  readonly at: number;
  readonly endedAt: number | null;
  readonly state: string;
  /** A chat or e-mail case still waiting or with an agent. */
  readonly open: boolean;
  readonly intent: string | null;
  /** Chats and e-mail: the customer's sentiment at close (positive | neutral | negative); calls: null. */
  readonly mood: string | null;
  readonly outcome: string | null;
  /** Redacted summary text, where one was made. */
  readonly summary: string | null;
  /** How it is linked: the caller's number from the network, a site's identity token, an agent. */
  readonly linkedBy: 'network' | 'token' | 'agent';
}

interface CallRow {
  id: string;
  started_at: number;
  ended_at: number | null;
  state: string;
  intent: string | null;
  outcome: string | null;
  summary: string | null;
}
interface ConvRow {
  id: string;
  channel: 'chat' | 'email';
  created_at: number;
  closed_at: number | null;
  state: string;
  intent: string | null;
  mood: string | null;
  outcome: string | null;
  summary: string | null;
  source: 'token' | 'agent';
}

/** Newest first, at most `limit` of each kind before they are interleaved. */
export function customerTimeline(db: Database, customerId: string, limit = 100): TimelineEntry[] {
  const calls = db
    .prepare(
      `SELECT c.id, c.started_at, c.ended_at, c.state, s.reason_intent AS intent, s.outcome, json_extract(s.summary_json, '$.text') AS summary
         FROM calls c LEFT JOIN call_summaries s ON s.call_id = c.id
        WHERE c.caller_hash IN (SELECT hash FROM customer_identifiers WHERE customer_id = ? AND kind = 'phone')
        ORDER BY c.started_at DESC LIMIT ?`,
    )
    .all(customerId, limit) as CallRow[];
  const convs = db
    .prepare(
      `SELECT c.id, c.channel, c.created_at, c.closed_at, c.state, c.intent, a.sentiment_label AS mood, a.summary_outcome AS outcome,
              json_extract(a.summary_json, '$.text') AS summary, cc.source
         FROM customer_conversations cc JOIN conversations c ON c.id = cc.conversation_id
         LEFT JOIN conversation_analysis a ON a.conversation_id = c.id
        WHERE cc.customer_id = ?
        ORDER BY c.created_at DESC LIMIT ?`,
    )
    .all(customerId, limit) as ConvRow[];
  const entries: TimelineEntry[] = [
    ...calls.map((r) => ({
      channel: 'call' as const,
      id: r.id,
      at: r.started_at,
      endedAt: r.ended_at,
      state: r.state,
      open: false,
      intent: r.intent,
      mood: null,
      outcome: r.outcome,
      summary: typeof r.summary === 'string' ? r.summary : null,
      linkedBy: 'network' as const,
    })),
    ...convs.map((r) => ({
      channel: r.channel,
      id: r.id,
      at: r.created_at,
      endedAt: r.closed_at,
      state: r.state,
      open: r.state !== 'closed',
      intent: r.intent,
      mood: r.mood,
      outcome: r.outcome,
      summary: typeof r.summary === 'string' ? r.summary : null,
      linkedBy: r.source,
    })),
  ];
  return entries.sort((a, b) => b.at - a.at || a.id.localeCompare(b.id));
}

/** Open chats and e-mail cases first (newest first), then the rest of the timeline. */
export function openFirst(timeline: readonly TimelineEntry[]): TimelineEntry[] {
  return [...timeline.filter((e) => e.open), ...timeline.filter((e) => !e.open)];
}
