/** Post-call summaries in the store: one per call, replaced when a call is summarised again. */
import type { Database, Statement } from 'better-sqlite3';
import { parseJson, type Writer } from '../store/repos/writer.js';
import type { CallSummary } from './summariser.js';

export interface StoredSummary {
  callId: string;
  createdAt: number;
  summary: CallSummary;
}

interface Row {
  call_id: string;
  created_at: number;
  summary_json: string;
}

export class SummaryRepo {
  private readonly upsertStmt: Statement;
  private readonly getStmt: Statement<[string], Row>;

  constructor(
    db: Database,
    private readonly write: Writer,
  ) {
    this.upsertStmt = db.prepare(
      `INSERT INTO call_summaries (call_id, version, language, reason_intent, outcome, summary_json, created_at)
       VALUES (@callId, @version, @language, @reasonIntent, @outcome, @json, @createdAt)
       ON CONFLICT (call_id) DO UPDATE SET version = excluded.version, language = excluded.language,
         reason_intent = excluded.reason_intent, outcome = excluded.outcome, summary_json = excluded.summary_json,
         created_at = excluded.created_at`,
    );
    this.getStmt = db.prepare(`SELECT call_id, created_at, summary_json FROM call_summaries WHERE call_id = ?`);
  }

  /** Store (or replace) the summary of a call. */
  save(callId: string, summary: CallSummary, createdAt: number): void {
    this.write('summaries.save', () =>
      this.upsertStmt.run({
        callId,
        version: summary.version,
        language: summary.language,
        reasonIntent: summary.reason.intent,
        outcome: summary.outcome,
        json: JSON.stringify(summary),
        createdAt,
      }),
    );
  }

  get(callId: string): StoredSummary | undefined {
    const row = this.getStmt.get(callId);
    if (row === undefined) return undefined;
    return {
      callId: row.call_id,
      createdAt: row.created_at,
      summary: parseJson<CallSummary>(row.summary_json, null as unknown as CallSummary),
    };
  }
}
