/** Caller profiles keyed by the salted caller hash; no numbers, names or transcripts. */
import type { Database, Statement } from 'better-sqlite3';
import type { CallerProfile, ProfileEmotion } from './profile.js';
import { parseJson, type Writer } from '../store/repos/writer.js';

interface Row {
  caller_hash: string;
  first_seen_at: number;
  last_call_at: number;
  calls_total: number;
  recent_calls_json: string;
  last_intents_json: string;
  last_emotion_json: string | null;
  unresolved_repeats: number;
  churn_risk: number;
  vip: number;
  tags_json: string;
  updated_at: number;
}

export class ProfilesRepo {
  private readonly getStmt: Statement<[string], Row>;
  private readonly putStmt: Statement;

  constructor(
    private readonly db: Database,
    private readonly write: Writer,
  ) {
    this.getStmt = db.prepare(`SELECT * FROM caller_profiles WHERE caller_hash = ?`);
    this.putStmt = db.prepare(
      `INSERT INTO caller_profiles (caller_hash, first_seen_at, last_call_at, calls_total, recent_calls_json, last_intents_json, last_emotion_json,
         unresolved_repeats, churn_risk, vip, tags_json, updated_at)
       VALUES (@callerHash, @firstSeenAt, @lastCallAt, @callsTotal, @recentCalls, @lastIntents, @lastEmotion, @unresolvedRepeats, @churnRisk, @vip, @tags, @updatedAt)
       ON CONFLICT (caller_hash) DO UPDATE SET first_seen_at = excluded.first_seen_at, last_call_at = excluded.last_call_at, calls_total = excluded.calls_total,
         recent_calls_json = excluded.recent_calls_json, last_intents_json = excluded.last_intents_json, last_emotion_json = excluded.last_emotion_json,
         unresolved_repeats = excluded.unresolved_repeats, churn_risk = excluded.churn_risk, vip = excluded.vip, tags_json = excluded.tags_json,
         updated_at = excluded.updated_at`,
    );
  }

  get(callerHash: string): CallerProfile | undefined {
    const r = this.getStmt.get(callerHash);
    if (r === undefined) return undefined;
    return {
      callerHash: r.caller_hash,
      firstSeenAt: r.first_seen_at,
      lastCallAt: r.last_call_at,
      callsTotal: r.calls_total,
      recentCalls: parseJson<number[]>(r.recent_calls_json, []),
      lastIntents: parseJson<{ intent: string; at: number }[]>(r.last_intents_json, []),
      lastEmotion: parseJson<ProfileEmotion | null>(r.last_emotion_json, null),
      unresolvedRepeats: r.unresolved_repeats,
      churnRisk: r.churn_risk,
      vip: r.vip === 1,
      tags: parseJson<string[]>(r.tags_json, []),
      updatedAt: r.updated_at,
    };
  }

  put(p: CallerProfile): void {
    this.write('profiles.put', () =>
      this.putStmt.run({
        callerHash: p.callerHash,
        firstSeenAt: p.firstSeenAt,
        lastCallAt: p.lastCallAt,
        callsTotal: p.callsTotal,
        recentCalls: JSON.stringify(p.recentCalls),
        lastIntents: JSON.stringify(p.lastIntents),
        lastEmotion: p.lastEmotion === null ? null : JSON.stringify(p.lastEmotion),
        unresolvedRepeats: p.unresolvedRepeats,
        churnRisk: p.churnRisk,
        vip: p.vip ? 1 : 0,
        tags: JSON.stringify(p.tags),
        updatedAt: p.updatedAt,
      }),
    );
  }

  list(limit: number, minChurnRisk = 0): CallerProfile[] {
    const hashes = this.db
      .prepare(`SELECT caller_hash FROM caller_profiles WHERE churn_risk >= ? ORDER BY last_call_at DESC LIMIT ?`)
      .all(minChurnRisk, limit) as { caller_hash: string }[];
    return hashes.map((h) => this.get(h.caller_hash)!);
  }
}
