/** Final utterances of a call (already redacted text when redaction is on). */
import type { Database, Statement } from 'better-sqlite3';
import type { SpeechLanguage } from '../../asr/language.js';
import { parseJson, type Writer } from './writer.js';

export interface WordTiming {
  word: string;
  startMs: number;
  endMs: number;
}

export interface UtteranceRecord {
  id: number;
  callId: string;
  legId: string | null;
  speaker: string;
  startMs: number;
  endMs: number;
  text: string;
  words: WordTiming[];
  confidence: number | null;
  analysis: Record<string, unknown>;
  createdAt: number;
  /** The language of the text (absent when inserting = English). */
  language: SpeechLanguage;
  /** Mandarin: the recognised tonal pinyin, syllables separated by spaces; otherwise null. */
  pinyin: string | null;
}

interface Row {
  id: number;
  call_id: string;
  leg_id: string | null;
  speaker: string;
  start_ms: number;
  end_ms: number;
  text: string;
  words_json: string;
  confidence: number | null;
  analysis_json: string;
  created_at: number;
  language: SpeechLanguage;
  pinyin: string | null;
}

export class UtterancesRepo {
  private insertStmtCache: Statement | undefined;
  private readonly byCall: Statement<[string], Row>;
  private readonly patchAnalysis: Statement;

  constructor(
    private readonly db: Database,
    private readonly write: Writer,
  ) {
    this.byCall = db.prepare(`SELECT * FROM utterances WHERE call_id = ? ORDER BY start_ms, id`);
    this.patchAnalysis = db.prepare(`UPDATE utterances SET analysis_json = json_patch(analysis_json, ?) WHERE id = ?`);
  }

  // prepared on first use: its language/pinyin columns come from a later migration (see CallsRepo)
  private insertStmt(): Statement {
    this.insertStmtCache ??= this.db.prepare(
      `INSERT INTO utterances (call_id, leg_id, speaker, start_ms, end_ms, text, words_json, confidence, analysis_json, created_at, language, pinyin)
       VALUES (@callId, @legId, @speaker, @startMs, @endMs, @text, @wordsJson, @confidence, @analysisJson, @createdAt, @language, @pinyin)`,
    );
    return this.insertStmtCache;
  }

  insert(u: Omit<UtteranceRecord, 'id' | 'language' | 'pinyin'> & { language?: SpeechLanguage; pinyin?: string | null }): number {
    return this.write('utterances.insert', () =>
      Number(
        this.insertStmt().run({
          callId: u.callId,
          legId: u.legId,
          speaker: u.speaker,
          startMs: Math.round(u.startMs),
          endMs: Math.round(u.endMs),
          text: u.text,
          wordsJson: JSON.stringify(u.words),
          confidence: u.confidence,
          analysisJson: JSON.stringify(u.analysis),
          createdAt: u.createdAt,
          language: u.language ?? 'en',
          pinyin: u.language === 'zh' ? (u.pinyin ?? null) : null,
        }).lastInsertRowid,
      ),
    );
  }

  mergeAnalysis(id: number, patch: Record<string, unknown>): void {
    this.write('utterances.analysis', () => this.patchAnalysis.run(JSON.stringify(patch), id));
  }

  listByCall(callId: string): UtteranceRecord[] {
    return this.byCall.all(callId).map((r) => ({
      id: r.id,
      callId: r.call_id,
      legId: r.leg_id,
      speaker: r.speaker,
      startMs: r.start_ms,
      endMs: r.end_ms,
      text: r.text,
      words: parseJson<WordTiming[]>(r.words_json, []),
      confidence: r.confidence,
      analysis: parseJson(r.analysis_json, {}),
      createdAt: r.created_at,
      language: r.language,
      pinyin: r.pinyin,
    }));
  }
}
