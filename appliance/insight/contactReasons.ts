/**
 * Contact reasons read from the store: a call's reasons are the distinct in-scope intents of its
 * utterances (a call adds at most 1 to an intent, as in the upstream aggregates), timed by the call's
 * start. Buckets are whole hours or days aligned to multiples of their length since the epoch (UTC),
 * as the ACD KPI intervals are. Only intent labels, counts and (inside this module) salted caller
 * hashes are read; never text or numbers.
 */
import type { Database, Statement } from 'better-sqlite3';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
export type ReasonBucket = 'hour' | 'day';
export const BUCKET_MS: Readonly<Record<ReasonBucket, number>> = { hour: HOUR_MS, day: DAY_MS };

/** One call's reason: the call, when it started, its caller's salted hash (null: withheld number). */
export interface CallReason {
  callId: string;
  startedAt: number;
  callerHash: string | null;
  intent: string;
}

export interface ReasonCount {
  intent: string;
  calls: number;
}

export interface ReasonBucketCounts {
  startMs: number;
  /** Calls in the bucket with at least one reason. */
  calls: number;
  intents: ReasonCount[];
}

export interface RepeatReason {
  intent: string;
  /** Calls of the period with this reason. */
  calls: number;
  /** Of them, calls whose caller had called for the same reason within the window before. */
  repeatCalls: number;
  /** Distinct callers behind the repeat calls. */
  repeatCallers: number;
}

export interface RepeatSummary {
  withinMs: number;
  /** Calls of the period with a known caller and a reason. */
  calls: number;
  /** Calls that repeat an earlier call's reason (a call with two repeated reasons counts once). */
  repeatCalls: number;
  byIntent: RepeatReason[];
}

const bucketStart = (t: number, bucketMs: number): number => Math.floor(t / bucketMs) * bucketMs;

export class ContactReasonsRepo {
  private readonly reasons: Statement<[number, number]>;

  constructor(db: Database) {
    this.reasons = db.prepare(
      `SELECT DISTINCT c.id AS callId, c.started_at AS startedAt, c.caller_hash AS callerHash,
              json_extract(u.analysis_json, '$.intent.intent') AS intent
         FROM calls c JOIN utterances u ON u.call_id = c.id
        WHERE c.started_at >= ? AND c.started_at < ? AND intent IS NOT NULL
          AND COALESCE(json_extract(u.analysis_json, '$.intent.outOfScope'), 0) = 0
        ORDER BY c.started_at, c.id`,
    );
  }

  /** Every (call, reason) of calls started in [from, to), oldest first. */
  callReasons(from: number, to: number): CallReason[] {
    return (this.reasons.all(from, to) as { callId: string; startedAt: number; callerHash: string | null; intent: unknown }[])
      .filter((r): r is CallReason => typeof r.intent === 'string')
      .map((r) => ({ callId: r.callId, startedAt: r.startedAt, callerHash: r.callerHash, intent: r.intent }));
  }

  /** Calls per reason in each hour or day overlapping [from, to) (empty buckets left out); `top` reasons per bucket. */
  perBucket(from: number, to: number, bucket: ReasonBucket, top: number): ReasonBucketCounts[] {
    const ms = BUCKET_MS[bucket];
    return countPerBucket(this.callReasons(bucketStart(from, ms), to), ms, top);
  }

  /** Calls per reason in [from, to), most first. */
  top(from: number, to: number, limit: number): ReasonCount[] {
    return countReasons(this.callReasons(from, to)).slice(0, limit);
  }

  /** Calls for each reason per bucket over [from, to): a dense series per intent (zeros included). */
  series(from: number, to: number, bucketMs: number): Map<string, number[]> {
    const first = bucketStart(from, bucketMs);
    const n = Math.max(0, Math.ceil((to - first) / bucketMs));
    const out = new Map<string, number[]>();
    for (const r of this.callReasons(first, to)) {
      let s = out.get(r.intent);
      if (s === undefined) out.set(r.intent, (s = new Array<number>(n).fill(0)));
      s[Math.floor((r.startedAt - first) / bucketMs)]!++;
    }
    return out;
  }

  /** Repeat callers in [from, to): calls whose caller called for the same reason within `withinMs` before. */
  repeats(from: number, to: number, withinMs: number): RepeatSummary {
    return countRepeats(this.callReasons(from - withinMs, to), from, withinMs);
  }
}

/** Calls per reason, most first (ties by label). */
export function countReasons(rows: readonly CallReason[]): ReasonCount[] {
  const n = new Map<string, number>();
  for (const r of rows) n.set(r.intent, (n.get(r.intent) ?? 0) + 1);
  return [...n].map(([intent, calls]) => ({ intent, calls })).sort((a, b) => b.calls - a.calls || a.intent.localeCompare(b.intent));
}

export function countPerBucket(rows: readonly CallReason[], bucketMs: number, top: number): ReasonBucketCounts[] {
  const buckets = new Map<number, CallReason[]>();
  for (const r of rows) {
    const b = bucketStart(r.startedAt, bucketMs);
    const list = buckets.get(b) ?? [];
    list.push(r);
    buckets.set(b, list);
  }
  return [...buckets]
    .sort(([a], [b]) => a - b)
    .map(([startMs, list]) => ({ startMs, calls: new Set(list.map((r) => r.callId)).size, intents: countReasons(list).slice(0, top) }));
}

/**
 * Repeat calls among `rows` (oldest first; they must reach `withinMs` before `from`): a call started
 * at or after `from` repeats when the same caller hash called for the same reason in the
 * `withinMs` before it. Calls without a caller hash are never repeats (and not counted).
 */
export function countRepeats(rows: readonly CallReason[], from: number, withinMs: number): RepeatSummary {
  const sorted = [...rows].sort((a, b) => a.startedAt - b.startedAt || a.callId.localeCompare(b.callId));
  /** Latest start of a call per caller|reason seen so far. */
  const last = new Map<string, { startedAt: number; callId: string }>();
  const per = new Map<string, { calls: Set<string>; repeats: Set<string>; callers: Set<string> }>();
  const calls = new Set<string>();
  const repeatCalls = new Set<string>();
  for (const r of sorted) {
    if (r.callerHash === null) continue;
    const key = `${r.callerHash}|${r.intent}`;
    const prev = last.get(key);
    if (r.startedAt >= from) {
      calls.add(r.callId);
      let p = per.get(r.intent);
      if (p === undefined) per.set(r.intent, (p = { calls: new Set(), repeats: new Set(), callers: new Set() }));
      p.calls.add(r.callId);
      if (prev !== undefined && prev.callId !== r.callId && r.startedAt - prev.startedAt <= withinMs) {
        p.repeats.add(r.callId);
        p.callers.add(r.callerHash);
        repeatCalls.add(r.callId);
      }
    }
    last.set(key, { startedAt: r.startedAt, callId: r.callId });
  }
  const byIntent = [...per]
    .map(([intent, p]) => ({ intent, calls: p.calls.size, repeatCalls: p.repeats.size, repeatCallers: p.callers.size }))
    .filter((x) => x.repeatCalls > 0)
    .sort((a, b) => b.repeatCalls - a.repeatCalls || a.intent.localeCompare(b.intent));
  return { withinMs, calls: calls.size, repeatCalls: repeatCalls.size, byIntent };
}
