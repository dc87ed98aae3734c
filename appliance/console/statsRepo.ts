/**
 * Read-only aggregates for the console's charts and call search. Only counts, durations and labels
 * leave this module for the charts; transcript text is only searched, and returned per call to a
 * signed-in user on the call history screen.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { SpeechLanguage } from '../asr/language.js';

export interface ConsoleStats {
  sinceMs: number;
  callsPerHour: { hourStartMs: number; calls: number }[];
  /** Ring-to-answer time of answered calls, bucketed. */
  answerWait: { bucket: string; calls: number }[];
  emotionMix: { label: string; utterances: number }[];
  topIntents: { label: string; utterances: number }[];
  /** Calls per language spoken (undecided: auto calls with no decision yet). */
  callsByLanguage: { language: SpeechLanguage | 'undecided'; calls: number }[];
  /** The top intents of each language's utterances. */
  topIntentsByLanguage: { language: SpeechLanguage; label: string; utterances: number }[];
  totals: { calls: number; answered: number; ended: number; active: number; utterances: number; meanCallMs: number | null };
}

const WAIT_BUCKETS: [string, number][] = [
  ['< 1 s', 1000],
  ['1-3 s', 3000],
  ['3-10 s', 10_000],
  ['10-30 s', 30_000],
  ['30-60 s', 60_000],
  ['> 60 s', Number.POSITIVE_INFINITY],
];

export interface CallSearchHit {
  id: string;
  source: string;
  state: string;
  startedAt: number;
  endedAt: number | null;
  endReason: string | null;
  /** The language spoken (null: auto, not decided). */
  language: SpeechLanguage | null;
  utterances: number;
  /** The first matching utterance, for the result list (only when searching text). */
  match: string | null;
}

const like = (q: string) => `%${q.replace(/[\\%_]/g, (c) => '\\' + c)}%`;

export class ConsoleStatsRepo {
  private readonly perHour: Statement<[number]>;
  private readonly waits: Statement<[number]>;
  private readonly emotions: Statement<[number]>;
  private readonly intents: Statement<[number]>;
  private readonly totals: Statement<[number, number]>;
  private readonly languages: Statement<[number]>;
  private readonly intentsByLanguage: Statement<[number]>;
  private readonly searchText: Statement<[string, string, string, number, string | null, string | null, number]>;
  private readonly searchAll: Statement<[number, string | null, string | null, number]>;

  constructor(db: Database) {
    this.perHour = db.prepare(
      `SELECT (started_at / 3600000) * 3600000 AS hour, COUNT(*) AS n FROM calls WHERE started_at >= ? GROUP BY hour ORDER BY hour`,
    );
    this.waits = db.prepare(`SELECT answered_at - started_at AS w FROM calls WHERE started_at >= ? AND answered_at IS NOT NULL`);
    this.emotions = db.prepare(
      `SELECT json_extract(analysis_json, '$.emotion.category') AS label, COUNT(*) AS n FROM utterances
        WHERE created_at >= ? AND label IS NOT NULL GROUP BY label ORDER BY n DESC`,
    );
    this.intents = db.prepare(
      `SELECT json_extract(analysis_json, '$.intent.intent') AS label, COUNT(*) AS n FROM utterances
        WHERE created_at >= ? AND label IS NOT NULL AND COALESCE(json_extract(analysis_json, '$.intent.outOfScope'), 0) = 0
        GROUP BY label ORDER BY n DESC LIMIT 10`,
    );
    this.languages = db.prepare(
      `SELECT COALESCE(language, 'undecided') AS language, COUNT(*) AS n FROM calls WHERE started_at >= ? GROUP BY 1 ORDER BY n DESC, 1`,
    );
    this.intentsByLanguage = db.prepare(
      `SELECT language, label, n FROM (
         SELECT language, label, n, ROW_NUMBER() OVER (PARTITION BY language ORDER BY n DESC, label) AS rank FROM (
           SELECT language, json_extract(analysis_json, '$.intent.intent') AS label, COUNT(*) AS n FROM utterances
            WHERE created_at >= ? AND label IS NOT NULL AND COALESCE(json_extract(analysis_json, '$.intent.outOfScope'), 0) = 0
            GROUP BY language, label))
        WHERE rank <= 10 ORDER BY language, n DESC, label`,
    );
    this.totals = db.prepare(
      `SELECT COUNT(*) AS calls, COUNT(answered_at) AS answered, SUM(state = 'ended') AS ended, SUM(state != 'ended') AS active,
              AVG(CASE WHEN ended_at IS NOT NULL THEN ended_at - started_at END) AS meanMs,
              (SELECT COUNT(*) FROM utterances u WHERE u.created_at >= ?) AS utterances
         FROM calls WHERE started_at >= ?`,
    );
    const cols = `c.id, c.source, c.state, c.started_at, c.ended_at, c.end_reason, c.language, (SELECT COUNT(*) FROM utterances u WHERE u.call_id = c.id) AS n`;
    // the language filter, its parameter given twice (null: every call)
    const inLanguage = `(? IS NULL OR c.language = ?)`;
    this.searchText = db.prepare(
      `SELECT ${cols}, (SELECT text FROM utterances u WHERE u.call_id = c.id AND u.text LIKE ? ESCAPE '\\' ORDER BY start_ms LIMIT 1) AS match
         FROM calls c WHERE (c.id LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM utterances u WHERE u.call_id = c.id AND u.text LIKE ? ESCAPE '\\')) AND c.started_at < ? AND ${inLanguage}
        ORDER BY c.started_at DESC LIMIT ?`,
    );
    this.searchAll = db.prepare(
      `SELECT ${cols}, NULL AS match FROM calls c WHERE c.started_at < ? AND ${inLanguage} ORDER BY c.started_at DESC LIMIT ?`,
    );
  }

  stats(sinceMs: number): ConsoleStats {
    const counts = new Map(WAIT_BUCKETS.map(([b]) => [b, 0]));
    for (const { w } of this.waits.all(sinceMs) as { w: number }[]) {
      const bucket = WAIT_BUCKETS.find(([, max]) => w < max)![0];
      counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
    }
    const t = this.totals.get(sinceMs, sinceMs) as {
      calls: number;
      answered: number;
      ended: number | null;
      active: number | null;
      meanMs: number | null;
      utterances: number;
    };
    return {
      sinceMs,
      callsPerHour: (this.perHour.all(sinceMs) as { hour: number; n: number }[]).map((r) => ({ hourStartMs: r.hour, calls: r.n })),
      answerWait: [...counts].map(([bucket, calls]) => ({ bucket, calls })),
      emotionMix: (this.emotions.all(sinceMs) as { label: string; n: number }[]).map((r) => ({ label: String(r.label), utterances: r.n })),
      topIntents: (this.intents.all(sinceMs) as { label: string; n: number }[]).map((r) => ({ label: String(r.label), utterances: r.n })),
      callsByLanguage: (this.languages.all(sinceMs) as { language: SpeechLanguage | 'undecided'; n: number }[]).map((r) => ({
        language: r.language,
        calls: r.n,
      })),
      topIntentsByLanguage: (this.intentsByLanguage.all(sinceMs) as { language: SpeechLanguage; label: string; n: number }[]).map((r) => ({
        language: r.language,
        label: String(r.label),
        utterances: r.n,
      })),
      totals: {
        calls: t.calls,
        answered: t.answered,
        ended: t.ended ?? 0,
        active: t.active ?? 0,
        utterances: t.utterances,
        meanCallMs: t.meanMs === null ? null : Math.round(t.meanMs),
      },
    };
  }

  /** Calls whose id or transcript contains `query` (case-insensitive), newest first; only those in `language` when given. */
  search(query: string, beforeMs: number, limit: number, language?: SpeechLanguage): CallSearchHit[] {
    type Row = {
      id: string;
      source: string;
      state: string;
      started_at: number;
      ended_at: number | null;
      end_reason: string | null;
      language: SpeechLanguage | null;
      n: number;
      match: string | null;
    };
    const q = query.trim();
    const lang = language ?? null;
    const rows = (
      q === ''
        ? this.searchAll.all(beforeMs, lang, lang, limit)
        : this.searchText.all(like(q), like(q), like(q), beforeMs, lang, lang, limit)
    ) as Row[];
    return rows.map((r) => ({
      id: r.id,
      source: r.source,
      state: r.state,
      startedAt: r.started_at,
      endedAt: r.ended_at,
      endReason: r.end_reason,
      language: r.language,
      utterances: r.n,
      match: r.match,
    }));
  }
}
