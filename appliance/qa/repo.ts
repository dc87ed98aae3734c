/** QA rule sets (versioned, append-only) and per-call scorecards in the store. */
import type { Database, Statement } from 'better-sqlite3';
import { parseJson, type Writer } from '../store/repos/writer.js';
import type { RuleResult } from './engine.js';
import type { QaRule } from './rules.js';

export interface StoredRuleSet {
  version: number;
  rules: QaRule[];
  author: string;
  createdAt: number;
}

export interface ScorecardRecord {
  callId: string;
  scoredAt: number;
  callStartedAt: number;
  rulesVersion: number;
  score: number | null;
  passed: boolean | null;
  agentLabel: string | null;
  groupId: string | null;
  results: RuleResult[];
}

export interface QaSummaryRow {
  key: string | null;
  calls: number;
  scored: number;
  passed: number;
  passRate: number | null;
  meanScore: number | null;
  /** Per rule: applicable calls and passes. */
  rules: Record<string, { applicable: number; passed: number }>;
}

interface ScoreRow {
  call_id: string;
  scored_at: number;
  call_started_at: number;
  rules_version: number;
  score: number | null;
  passed: number | null;
  agent_label: string | null;
  group_id: string | null;
  results_json: string;
}

export class QaRepo {
  private readonly insertRules: Statement;
  private readonly currentRules: Statement<[], { version: number; rules_json: string; author: string; created_at: number }>;
  private readonly upsertCard: Statement;
  private readonly getCard: Statement<[string], ScoreRow>;
  private readonly between: Statement<[number, number], ScoreRow>;

  constructor(
    private readonly db: Database,
    private readonly write: Writer,
  ) {
    this.insertRules = db.prepare(`INSERT INTO qa_rule_sets (rules_json, author, created_at) VALUES (?, ?, ?)`);
    this.currentRules = db.prepare(`SELECT * FROM qa_rule_sets ORDER BY version DESC LIMIT 1`);
    this.upsertCard = db.prepare(
      `INSERT INTO qa_scorecards (call_id, scored_at, call_started_at, rules_version, score, passed, agent_label, group_id, results_json)
       VALUES (@callId, @scoredAt, @callStartedAt, @rulesVersion, @score, @passed, @agentLabel, @groupId, @resultsJson)
       ON CONFLICT (call_id) DO UPDATE SET scored_at = excluded.scored_at, rules_version = excluded.rules_version, score = excluded.score,
         passed = excluded.passed, agent_label = excluded.agent_label, group_id = excluded.group_id, results_json = excluded.results_json`,
    );
    this.getCard = db.prepare(`SELECT * FROM qa_scorecards WHERE call_id = ?`);
    this.between = db.prepare(`SELECT * FROM qa_scorecards WHERE call_started_at >= ? AND call_started_at < ? ORDER BY call_started_at`);
  }

  /** The operator's current rule set, or null when the defaults apply. */
  currentRuleSet(): StoredRuleSet | null {
    const row = this.currentRules.get();
    return row === undefined
      ? null
      : { version: row.version, rules: parseJson<QaRule[]>(row.rules_json, []), author: row.author, createdAt: row.created_at };
  }

  saveRuleSet(rules: readonly QaRule[], author: string, at: number): number {
    return this.write('qa.rules', () => Number(this.insertRules.run(JSON.stringify(rules), author, at).lastInsertRowid));
  }

  /** Store (or re-store, when re-scored) a call's scorecard. */
  saveScorecard(c: ScorecardRecord): void {
    this.write('qa.scorecard', () =>
      this.upsertCard.run({
        callId: c.callId,
        scoredAt: c.scoredAt,
        callStartedAt: c.callStartedAt,
        rulesVersion: c.rulesVersion,
        score: c.score,
        passed: c.passed === null ? null : c.passed ? 1 : 0,
        agentLabel: c.agentLabel,
        groupId: c.groupId,
        resultsJson: JSON.stringify(c.results),
      }),
    );
  }

  scorecard(callId: string): ScorecardRecord | undefined {
    const row = this.getCard.get(callId);
    return row === undefined ? undefined : toRecord(row);
  }

  list(query: {
    limit: number;
    before?: number | undefined;
    agentLabel?: string | undefined;
    groupId?: string | undefined;
    passed?: boolean | undefined;
  }): ScorecardRecord[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.before !== undefined) {
      where.push('scored_at < ?');
      params.push(query.before);
    }
    if (query.agentLabel !== undefined) {
      where.push('agent_label = ?');
      params.push(query.agentLabel);
    }
    if (query.groupId !== undefined) {
      where.push('group_id = ?');
      params.push(query.groupId);
    }
    if (query.passed !== undefined) {
      where.push('passed = ?');
      params.push(query.passed ? 1 : 0);
    }
    const sql = `SELECT * FROM qa_scorecards ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY scored_at DESC, call_id LIMIT ?`;
    return (this.db.prepare(sql).all(...params, query.limit) as ScoreRow[]).map(toRecord);
  }

  /** Scorecards of calls that started in [fromMs, toMs). */
  startedBetween(fromMs: number, toMs: number): ScorecardRecord[] {
    return this.between.all(fromMs, toMs).map(toRecord);
  }

  /** Per-agent-label or per-group aggregates over calls started in [fromMs, toMs). */
  summary(by: 'agent' | 'group', fromMs: number, toMs: number): QaSummaryRow[] {
    const groups = new Map<string | null, ScorecardRecord[]>();
    for (const c of this.startedBetween(fromMs, toMs)) {
      const key = by === 'agent' ? c.agentLabel : c.groupId;
      let list = groups.get(key);
      if (list === undefined) groups.set(key, (list = []));
      list.push(c);
    }
    return [...groups.entries()].map(([key, cards]) => summarise(key, cards)).sort((a, b) => (a.key ?? '').localeCompare(b.key ?? ''));
  }
}

export function summarise(key: string | null, cards: readonly ScorecardRecord[]): QaSummaryRow {
  const scored = cards.filter((c) => c.score !== null);
  const passed = scored.filter((c) => c.passed === true).length;
  const rules: QaSummaryRow['rules'] = {};
  for (const c of cards) {
    for (const r of c.results) {
      if (r.outcome === 'na') continue;
      const slot = (rules[r.ruleId] ??= { applicable: 0, passed: 0 });
      slot.applicable++;
      if (r.outcome === 'pass') slot.passed++;
    }
  }
  return {
    key,
    calls: cards.length,
    scored: scored.length,
    passed,
    passRate: scored.length === 0 ? null : passed / scored.length,
    meanScore: scored.length === 0 ? null : Math.round((10 * scored.reduce((a, c) => a + c.score!, 0)) / scored.length) / 10,
    rules,
  };
}

function toRecord(r: ScoreRow): ScorecardRecord {
  return {
    callId: r.call_id,
    scoredAt: r.scored_at,
    callStartedAt: r.call_started_at,
    rulesVersion: r.rules_version,
    score: r.score,
    passed: r.passed === null ? null : r.passed === 1,
    agentLabel: r.agent_label,
    groupId: r.group_id,
    results: parseJson<RuleResult[]>(r.results_json, []),
  };
}
