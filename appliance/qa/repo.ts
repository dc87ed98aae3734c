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
  /** After supervisor overrides (equal to score/passed when there are none); the original stays in score/passed. */
  effectiveScore?: number | null;
  effectivePassed?: boolean | null;
  overridden?: boolean;
}

/** A supervisor's change of a call's result (ruleId null) or of one rule's outcome. */
export interface QaOverride {
  id: number;
  callId: string;
  ruleId: string | null;
  outcome: 'pass' | 'fail' | 'na';
  reason: string;
  author: string;
  at: number;
}

interface OverrideRow {
  id: number;
  call_id: string;
  rule_id: string | null;
  outcome: 'pass' | 'fail' | 'na';
  reason: string;
  author: string;
  at: number;
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
  effective_score: number | null;
  effective_passed: number | null;
  overridden: number;
}

export class QaRepo {
  private readonly insertRules: Statement;
  private readonly currentRules: Statement<[], { version: number; rules_json: string; author: string; created_at: number }>;
  private readonly upsertCard: Statement;
  private readonly getCard: Statement<[string], ScoreRow>;
  private readonly between: Statement<[number, number], ScoreRow>;
  private readonly insertOverride: Statement;
  private readonly overridesOfCall: Statement<[string], OverrideRow>;
  private readonly overridesStarted: Statement<[number, number], OverrideRow>;
  private readonly setEffectiveStmt: Statement;
  private readonly endedCalls: Statement<[number, number, number], { id: string }>;

  constructor(
    private readonly db: Database,
    private readonly write: Writer,
  ) {
    this.insertRules = db.prepare(`INSERT INTO qa_rule_sets (rules_json, author, created_at) VALUES (?, ?, ?)`);
    this.currentRules = db.prepare(`SELECT * FROM qa_rule_sets ORDER BY version DESC LIMIT 1`);
    this.upsertCard = db.prepare(
      `INSERT INTO qa_scorecards (call_id, scored_at, call_started_at, rules_version, score, passed, agent_label, group_id, results_json,
         effective_score, effective_passed)
       VALUES (@callId, @scoredAt, @callStartedAt, @rulesVersion, @score, @passed, @agentLabel, @groupId, @resultsJson, @score, @passed)
       ON CONFLICT (call_id) DO UPDATE SET scored_at = excluded.scored_at, rules_version = excluded.rules_version, score = excluded.score,
         passed = excluded.passed, agent_label = excluded.agent_label, group_id = excluded.group_id, results_json = excluded.results_json,
         effective_score = excluded.score, effective_passed = excluded.passed, overridden = 0`,
    );
    this.insertOverride = db.prepare(
      `INSERT INTO qa_overrides (call_id, rule_id, outcome, reason, author, at) VALUES (@callId, @ruleId, @outcome, @reason, @author, @at)`,
    );
    this.overridesOfCall = db.prepare(`SELECT * FROM qa_overrides WHERE call_id = ? ORDER BY id`);
    this.overridesStarted = db.prepare(
      `SELECT o.* FROM qa_overrides o JOIN qa_scorecards s ON s.call_id = o.call_id
       WHERE s.call_started_at >= ? AND s.call_started_at < ? ORDER BY o.id`,
    );
    this.setEffectiveStmt = db.prepare(
      `UPDATE qa_scorecards SET effective_score = ?, effective_passed = ?, overridden = ? WHERE call_id = ?`,
    );
    this.endedCalls = db.prepare(
      `SELECT id FROM calls WHERE started_at >= ? AND started_at < ? AND ended_at IS NOT NULL ORDER BY started_at DESC, id LIMIT ?`,
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

  /** Record an override (the scorecard's effective columns are set by the caller in the same breath). */
  addOverride(o: Omit<QaOverride, 'id'>): number {
    return this.write('qa.override', () => Number(this.insertOverride.run(o).lastInsertRowid));
  }

  overrides(callId: string): QaOverride[] {
    return this.overridesOfCall.all(callId).map(toOverride);
  }

  /** Overrides of calls that started in [fromMs, toMs), oldest first. */
  overridesStartedBetween(fromMs: number, toMs: number): QaOverride[] {
    return this.overridesStarted.all(fromMs, toMs).map(toOverride);
  }

  setEffective(callId: string, score: number | null, passed: boolean | null, overridden: boolean): void {
    this.write('qa.scorecard', () => this.setEffectiveStmt.run(score, passed === null ? null : passed ? 1 : 0, overridden ? 1 : 0, callId));
  }

  /** Ids of ended calls that started in [fromMs, toMs), newest first, at most `limit`. */
  endedCallIds(fromMs: number, toMs: number, limit: number): string[] {
    return this.endedCalls.all(fromMs, toMs, limit).map((r) => r.id);
  }

  scorecard(callId: string): ScorecardRecord | undefined {
    const row = this.getCard.get(callId);
    return row === undefined ? undefined : toRecord(row);
  }

  /**
   * Scorecards matching `query`, newest scored first (then by call id), keyset-paged: `before` and
   * `beforeId` are the last row of the previous page (scoredAt, callId); `before` alone (older
   * clients) lists those scored strictly earlier, skipping the rest of that millisecond.
   */
  list(query: {
    limit: number;
    before?: number | undefined;
    /** With `before`: page on after this call among those scored in that very millisecond. */
    beforeId?: string | undefined;
    agentLabel?: string | undefined;
    groupId?: string | undefined;
    passed?: boolean | undefined;
    /** Calls where this rule had `ruleOutcome` (default fail) when scored. */
    rule?: string | undefined;
    ruleOutcome?: 'pass' | 'fail' | 'na' | undefined;
    /** Calls started in [from, to). */
    from?: number | undefined;
    to?: number | undefined;
  }): ScorecardRecord[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.before !== undefined && query.beforeId !== undefined) {
      // The ORDER BY's tie-break (call_id ascending) continued past the cursor row.
      where.push('(scored_at < ? OR (scored_at = ? AND call_id > ?))');
      params.push(query.before, query.before, query.beforeId);
    } else if (query.before !== undefined) {
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
      where.push('effective_passed = ?');
      params.push(query.passed ? 1 : 0);
    }
    if (query.rule !== undefined) {
      where.push(
        `EXISTS (SELECT 1 FROM json_each(results_json) WHERE json_extract(value, '$.ruleId') = ? AND json_extract(value, '$.outcome') = ?)`,
      );
      params.push(query.rule, query.ruleOutcome ?? 'fail');
    }
    if (query.from !== undefined) {
      where.push('call_started_at >= ?');
      params.push(query.from);
    }
    if (query.to !== undefined) {
      where.push('call_started_at < ?');
      params.push(query.to);
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
    effectiveScore: r.effective_score,
    effectivePassed: r.effective_passed === null ? null : r.effective_passed === 1,
    overridden: r.overridden === 1,
  };
}

function toOverride(r: OverrideRow): QaOverride {
  return { id: r.id, callId: r.call_id, ruleId: r.rule_id, outcome: r.outcome, reason: r.reason, author: r.author, at: r.at };
}
