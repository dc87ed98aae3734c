/** Calls and their legs. Caller numbers never reach this table: only salted hashes. */
import type { Database, Statement } from 'better-sqlite3';
import type { LanguageChoice, SpeechLanguage } from '../../asr/language.js';
import { parseJson, type Writer } from './writer.js';

export type CallSource = 'sip' | 'siprec' | 'webrtc';
export type CallState = 'ringing' | 'active' | 'ended';

export interface CallRecord {
  id: string;
  source: CallSource;
  direction: 'inbound' | 'outbound';
  callerHash: string | null;
  state: CallState;
  startedAt: number;
  answeredAt: number | null;
  endedAt: number | null;
  endReason: string | null;
  meta: Record<string, unknown>;
  /** The language spoken: the one asked for, or the one `auto` decided; null while `auto` has not decided. */
  language: SpeechLanguage | null;
  /** What the call asked for (its queue, number, trunk or the site default), and where that came from. */
  languageChoice: LanguageChoice;
  languageFrom: string | null;
  /** `auto` only: how sure its decision was (0..1). */
  languageConfidence: number | null;
}

/** The language a new call asks for and where that came from (calls/callLanguage.ts). */
export interface CallLanguageChoice {
  choice: LanguageChoice;
  from: string;
}

export interface LegRecord {
  id: string;
  callId: string;
  label: string;
  codec: string | null;
  startedAt: number;
  endedAt: number | null;
  quality: Record<string, unknown>;
}

interface CallRow {
  id: string;
  source: CallSource;
  direction: 'inbound' | 'outbound';
  caller_hash: string | null;
  state: CallState;
  started_at: number;
  answered_at: number | null;
  ended_at: number | null;
  end_reason: string | null;
  meta_json: string;
  language: SpeechLanguage | null;
  language_choice: LanguageChoice;
  language_from: string | null;
  language_confidence: number | null;
}

interface LegRow {
  id: string;
  call_id: string;
  label: string;
  codec: string | null;
  started_at: number;
  ended_at: number | null;
  quality_json: string;
}

export interface CallListQuery {
  limit: number;
  /** Only calls that started before this unix ms (keyset pagination). */
  beforeStartedAt?: number | undefined;
  state?: CallState | undefined;
  /** Only calls in this language (undecided `auto` calls match neither). */
  language?: SpeechLanguage | undefined;
}

export class CallsRepo {
  private insertCallStmt: Statement | undefined;
  private readonly answerCall: Statement;
  private readonly endCall: Statement;
  private readonly insertLeg: Statement;
  private readonly endLegStmt: Statement;
  private readonly getCall: Statement<[string], CallRow>;
  private readonly legsOf: Statement<[string], LegRow>;
  private readonly mergeMetaStmt: Statement;
  private decideLanguageStmt: Statement | undefined;

  constructor(
    private readonly db: Database,
    private readonly write: Writer,
  ) {
    this.answerCall = db.prepare(`UPDATE calls SET state = 'active', answered_at = ? WHERE id = ? AND state = 'ringing'`);
    this.endCall = db.prepare(`UPDATE calls SET state = 'ended', ended_at = ?, end_reason = ? WHERE id = ? AND state != 'ended'`);
    this.insertLeg = db.prepare(
      `INSERT INTO call_legs (id, call_id, label, codec, started_at) VALUES (@id, @callId, @label, @codec, @startedAt)`,
    );
    this.endLegStmt = db.prepare(`UPDATE call_legs SET ended_at = ?, quality_json = ? WHERE id = ?`);
    this.getCall = db.prepare(`SELECT * FROM calls WHERE id = ?`);
    this.legsOf = db.prepare(`SELECT * FROM call_legs WHERE call_id = ? ORDER BY started_at`);
    this.mergeMetaStmt = db.prepare(`UPDATE calls SET meta_json = json_patch(meta_json, ?) WHERE id = ?`);
  }

  // Statements on columns of later migrations are prepared on first use, so a store opened at an
  // older schema (Store.open with fewer migrations: upgrade tests) can still be constructed.
  private insertCall(): Statement {
    this.insertCallStmt ??= this.db.prepare(
      `INSERT INTO calls (id, source, direction, caller_hash, state, started_at, meta_json, language, language_choice, language_from)
       VALUES (@id, @source, @direction, @callerHash, @state, @startedAt, @metaJson, @language, @languageChoice, @languageFrom)`,
    );
    return this.insertCallStmt;
  }

  private decideLanguage(): Statement {
    this.decideLanguageStmt ??= this.db.prepare(
      `UPDATE calls SET language = ?, language_confidence = ? WHERE id = ? AND language_choice = 'auto' AND language_confidence IS NULL`,
    );
    return this.decideLanguageStmt;
  }

  create(
    call: Pick<CallRecord, 'id' | 'source' | 'callerHash' | 'startedAt'> & {
      direction?: 'inbound' | 'outbound';
      meta?: Record<string, unknown>;
      /** Absent: English, origin unknown (what every call was before languages). */
      language?: CallLanguageChoice;
    },
  ): void {
    const choice = call.language?.choice ?? 'en';
    this.write('calls.create', () =>
      this.insertCall().run({
        id: call.id,
        source: call.source,
        direction: call.direction ?? 'inbound',
        callerHash: call.callerHash,
        state: 'ringing',
        startedAt: call.startedAt,
        metaJson: JSON.stringify(call.meta ?? {}),
        language: choice === 'auto' ? null : choice,
        languageChoice: choice,
        languageFrom: call.language?.from ?? null,
      }),
    );
  }

  markAnswered(id: string, at: number): void {
    this.write('calls.answer', () => this.answerCall.run(at, id));
  }

  /** End a call once; later calls for the same id are no-ops. */
  end(id: string, at: number, reason: string): boolean {
    return this.write('calls.end', () => this.endCall.run(at, reason, id).changes > 0);
  }

  mergeMeta(id: string, patch: Record<string, unknown>): void {
    this.write('calls.meta', () => this.mergeMetaStmt.run(JSON.stringify(patch), id));
  }

  /** `auto` decided the call's language (the first decision counts; a call that asked for one language is left alone). */
  decideAutoLanguage(id: string, language: SpeechLanguage, confidence: number): boolean {
    return this.write('calls.language', () => this.decideLanguage().run(language, confidence, id).changes > 0);
  }

  addLeg(leg: Pick<LegRecord, 'id' | 'callId' | 'label' | 'codec' | 'startedAt'>): void {
    this.write('calls.addLeg', () => this.insertLeg.run(leg));
  }

  endLeg(id: string, at: number, quality: Record<string, unknown>): void {
    this.write('calls.endLeg', () => this.endLegStmt.run(at, JSON.stringify(quality), id));
  }

  get(id: string): (CallRecord & { legs: LegRecord[] }) | undefined {
    const row = this.getCall.get(id);
    if (row === undefined) return undefined;
    return { ...toCall(row), legs: this.legsOf.all(id).map(toLeg) };
  }

  list(query: CallListQuery): CallRecord[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.beforeStartedAt !== undefined) {
      where.push('started_at < ?');
      params.push(query.beforeStartedAt);
    }
    if (query.state !== undefined) {
      where.push('state = ?');
      params.push(query.state);
    }
    if (query.language !== undefined) {
      where.push('language = ?');
      params.push(query.language);
    }
    const sql = `SELECT * FROM calls ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY started_at DESC, id LIMIT ?`;
    return (this.db.prepare(sql).all(...params, query.limit) as CallRow[]).map(toCall);
  }

  countByState(): Record<CallState, number> {
    const rows = this.db.prepare(`SELECT state, COUNT(*) AS n FROM calls GROUP BY state`).all() as { state: CallState; n: number }[];
    const out: Record<CallState, number> = { ringing: 0, active: 0, ended: 0 };
    for (const r of rows) out[r.state] = r.n;
    return out;
  }

  /** Close calls a previous run left open (crash, kill -9); returns how many were closed. */
  closeOrphans(at: number, reason: string): number {
    return this.write('calls.closeOrphans', () =>
      this.db.transaction(() => {
        this.db.prepare(`UPDATE call_legs SET ended_at = ? WHERE ended_at IS NULL`).run(at);
        return this.db.prepare(`UPDATE calls SET state = 'ended', ended_at = ?, end_reason = ? WHERE state != 'ended'`).run(at, reason)
          .changes;
      })(),
    );
  }
}

function toCall(row: CallRow): CallRecord {
  return {
    id: row.id,
    source: row.source,
    direction: row.direction,
    callerHash: row.caller_hash,
    state: row.state,
    startedAt: row.started_at,
    answeredAt: row.answered_at,
    endedAt: row.ended_at,
    endReason: row.end_reason,
    meta: parseJson(row.meta_json, {}),
    language: row.language,
    languageChoice: row.language_choice,
    languageFrom: row.language_from,
    languageConfidence: row.language_confidence,
  };
}

function toLeg(row: LegRow): LegRecord {
  return {
    id: row.id,
    callId: row.call_id,
    label: row.label,
    codec: row.codec,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    quality: parseJson(row.quality_json, {}),
  };
}
