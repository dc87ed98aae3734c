/**
 * KPIs of the text channels (chat, e-mail), read from the conversations table (migration 19) so
 * they hold for every channel that writes rows there and survive restarts: conversations waiting
 * (offered to a group or not yet routed, not accepted), the longest current wait, active ones (held
 * by an agent), open ones (waiting + active), and the first-response time (the customer's first
 * message to the agent's first reply) of the conversations started in the last window.
 * Per channel and per channel and skill group; no conversation, agent or customer ids leave here.
 */
import type { Database, Statement } from 'better-sqlite3';
import { CHANNELS, type Channel } from './types.js';

/** The group key of conversations not routed yet. */
export const UNROUTED_GROUP = 'unrouted';
const DEFAULT_WINDOW_MS = 3_600_000;
const CACHE_MS = 1000;

export interface FirstResponseFigures {
  /** Conversations of the window with a first reply. */
  readonly count: number;
  readonly p50S: number | null;
  readonly p95S: number | null;
}

export interface ChannelFigures {
  readonly waiting: number;
  /** Oldest current wait (since the conversation started); null when none waits. */
  readonly longestWaitingS: number | null;
  readonly active: number;
  readonly open: number;
  readonly firstResponse: FirstResponseFigures;
}

export interface ChannelKpiSnapshot {
  readonly at: number;
  /** The first-response window, seconds. */
  readonly windowS: number;
  readonly channels: Readonly<Record<Channel, ChannelFigures>>;
  /** Per channel, per skill group (`unrouted` for conversations no group has yet). */
  readonly groups: Readonly<Record<Channel, Readonly<Record<string, ChannelFigures>>>>;
}

interface OpenRow {
  channel: Channel;
  grp: string | null;
  state: 'waiting' | 'assigned';
  n: number;
  oldest: number;
}

interface ResponseRow {
  channel: Channel;
  grp: string | null;
  first_customer: number | null;
  first_agent: number | null;
}

/** Nearest-rank percentile of sorted values; null when empty. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? null;
}

interface Acc {
  waiting: number;
  oldestWaiting: number | null;
  active: number;
  responsesMs: number[];
}

const emptyAcc = (): Acc => ({ waiting: 0, oldestWaiting: null, active: 0, responsesMs: [] });

function figures(a: Acc, at: number): ChannelFigures {
  const sorted = [...a.responsesMs].sort((x, y) => x - y);
  const s = (ms: number | null): number | null => (ms === null ? null : Math.round(ms) / 1000);
  return {
    waiting: a.waiting,
    longestWaitingS: a.oldestWaiting === null ? null : Math.max(0, Math.round((at - a.oldestWaiting) / 1000)),
    active: a.active,
    open: a.waiting + a.active,
    firstResponse: { count: sorted.length, p50S: s(percentile(sorted, 50)), p95S: s(percentile(sorted, 95)) },
  };
}

export class ChannelKpis {
  private readonly openStmt: Statement<[], OpenRow>;
  private readonly responseStmt: Statement<[number], ResponseRow>;
  private readonly windowMs: number;
  private readonly now: () => number;
  private cached: ChannelKpiSnapshot | null = null;

  constructor(db: Database, options: { readonly windowMs?: number; readonly now?: () => number } = {}) {
    this.windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
    this.now = options.now ?? Date.now;
    this.openStmt = db.prepare(
      `SELECT channel, group_id AS grp, state, COUNT(*) AS n, MIN(created_at) AS oldest
         FROM conversations WHERE state IN ('waiting', 'assigned') GROUP BY channel, group_id, state`,
    );
    this.responseStmt = db.prepare(
      `SELECT c.channel, c.group_id AS grp,
              (SELECT MIN(m.at) FROM conversation_messages m WHERE m.conversation_id = c.id AND m.sender = 'visitor') AS first_customer,
              (SELECT MIN(m.at) FROM conversation_messages m WHERE m.conversation_id = c.id AND m.sender = 'agent') AS first_agent
         FROM conversations c WHERE c.created_at >= ?`,
    );
  }

  /** The figures now (cached for a second: the wallboard, the API and a scrape share one read). */
  snapshot(): ChannelKpiSnapshot {
    const at = this.now();
    const c = this.cached;
    if (c !== null && at >= c.at && at - c.at < CACHE_MS) return c;
    const channel = new Map<Channel, Acc>(CHANNELS.map((ch) => [ch, emptyAcc()]));
    const groups = new Map<Channel, Map<string, Acc>>(CHANNELS.map((ch) => [ch, new Map<string, Acc>()]));
    const accs = (ch: Channel, grp: string | null): Acc[] => {
      const byGroup = groups.get(ch);
      const total = channel.get(ch);
      if (byGroup === undefined || total === undefined) return [];
      const key = grp ?? UNROUTED_GROUP;
      let g = byGroup.get(key);
      if (g === undefined) byGroup.set(key, (g = emptyAcc()));
      return [total, g];
    };
    for (const r of this.openStmt.all()) {
      for (const a of accs(r.channel, r.grp)) {
        if (r.state === 'waiting') {
          a.waiting += r.n;
          a.oldestWaiting = a.oldestWaiting === null ? r.oldest : Math.min(a.oldestWaiting, r.oldest);
        } else a.active += r.n;
      }
    }
    for (const r of this.responseStmt.all(at - this.windowMs)) {
      if (r.first_customer === null || r.first_agent === null || r.first_agent < r.first_customer) continue;
      for (const a of accs(r.channel, r.grp)) a.responsesMs.push(r.first_agent - r.first_customer);
    }
    const out = (m: Map<string, Acc>): Record<string, ChannelFigures> =>
      Object.fromEntries([...m].sort(([x], [y]) => x.localeCompare(y)).map(([k, a]) => [k, figures(a, at)]));
    const snapshot: ChannelKpiSnapshot = {
      at,
      windowS: this.windowMs / 1000,
      channels: Object.fromEntries(CHANNELS.map((ch) => [ch, figures(channel.get(ch) ?? emptyAcc(), at)])) as Record<
        Channel,
        ChannelFigures
      >,
      groups: Object.fromEntries(CHANNELS.map((ch) => [ch, out(groups.get(ch) ?? new Map<string, Acc>())])) as Record<
        Channel,
        Record<string, ChannelFigures>
      >,
    };
    this.cached = snapshot;
    return snapshot;
  }
}
