/**
 * Chat analysis in the store (migration 24): each message's sentiment, and a conversation's analysis at
 * close; supervisors' overrides of its QA scorecard and the effective score beside the original (migration 26).
 */
import type { Database, Statement } from 'better-sqlite3';
import type { SentimentLabel } from '../analysis/textSentiment.js';
import type { RuleOutcome, Scorecard } from '../qa/engine.js';
import { parseJson, type Writer } from '../store/repos/writer.js';
import type { CallSummary } from '../summary/summariser.js';

/** The customer's side of a closed conversation, as analysed (conversationAnalysis.ts) and stored here. */
export interface ConversationSentiment {
  /** Label of the customer's mean compound; null when no customer message was scored. */
  label: SentimentLabel | null;
  /** Mean VADER compound of the customer's scored messages. */
  compound: number | null;
  /** Label of the customer's last scored message (where the conversation ended up). */
  last: SentimentLabel | null;
  counts: Record<SentimentLabel, number>;
  scored: number;
}

export interface ConversationAnalysisResult {
  sentiment: ConversationSentiment;
  qa: Scorecard;
  qaRulesVersion: number;
  summary: CallSummary;
}

export interface MessageSentiment {
  seq: number;
  /** Who wrote the message (visitor, agent): the side only, never the text. */
  sender: string;
  label: SentimentLabel;
  compound: number;
}

export interface StoredConversationAnalysis {
  conversationId: string;
  channel: string;
  createdAt: number;
  sentiment: ConversationSentiment;
  qa: Scorecard;
  qaRulesVersion: number;
  summary: CallSummary;
}

/** One row of the QA list: a conversation's score next to calls' (channel shown). */
export interface ConversationQaRow {
  conversationId: string;
  channel: string;
  score: number | null;
  passed: boolean | null;
  /** After supervisors' overrides (equal to score/passed when there are none); the original stays in score/passed. */
  effectiveScore: number | null;
  effectivePassed: boolean | null;
  overridden: boolean;
  /** When the analysis was stored (the conversation closed). */
  createdAt: number;
  /** When the conversation started (the calls' list shows calls' starts). */
  startedAt: number;
  /** The agent who held it and the skill group it was routed to (null: none). */
  agentId: string | null;
  groupId: string | null;
  /** Ids of the rules it failed (ids only, never the matched words). */
  failedRules: string[];
}

/** A supervisor's change of a conversation's result (ruleId null) or of one rule's outcome. */
export interface ConversationQaOverride {
  id: number;
  conversationId: string;
  ruleId: string | null;
  outcome: RuleOutcome;
  reason: string;
  author: string;
  at: number;
}

interface OverrideRow {
  id: number;
  conversation_id: string;
  rule_id: string | null;
  outcome: RuleOutcome;
  reason: string;
  author: string;
  at: number;
}

interface ListRow {
  conversation_id: string;
  channel: string;
  qa_score: number | null;
  qa_passed: number | null;
  effective_score: number | null;
  effective_passed: number | null;
  overridden: number;
  created_at: number;
  started_at: number | null;
  agent_id: string | null;
  group_id: string | null;
  qa_json: string;
}

/** What the QA list of conversations is filtered by (as the calls' scorecards list). */
export interface ConversationQaQuery {
  readonly limit: number;
  /** Analysed before this unix ms (keyset paging). */
  readonly before?: number | undefined;
  /**
   * With `before`: the previous page's last conversation, so that those analysed in that same
   * millisecond after it (by id, the list's tie-break) come too; without it, `before` is strict.
   */
  readonly beforeId?: string | undefined;
  readonly channel?: string | undefined;
  /** The agent who held it (as the calls' agent label). */
  readonly agentLabel?: string | undefined;
  readonly groupId?: string | undefined;
  /** Pass or fail after overrides. */
  readonly passed?: boolean | undefined;
  /** Conversations where this rule had `ruleOutcome` (default fail) when scored. */
  readonly rule?: string | undefined;
  readonly ruleOutcome?: 'pass' | 'fail' | 'na' | undefined;
  /** Conversations started in [from, to). */
  readonly from?: number | undefined;
  readonly to?: number | undefined;
}

interface Row {
  conversation_id: string;
  channel: string;
  created_at: number;
  sentiment_json: string;
  qa_json: string;
  qa_rules_version: number;
  summary_json: string;
}

export class ConversationAnalysisRepo {
  private readonly sentimentStmt: Statement;
  private readonly sentimentsStmt: Statement<[string], MessageSentiment>;
  private readonly upsertStmt: Statement;
  private readonly getStmt: Statement<[string], Row>;
  private readonly insertOverrideStmt: Statement;
  private readonly overridesStmt: Statement<[string], OverrideRow>;
  private readonly setEffectiveStmt: Statement;

  constructor(
    private readonly db: Database,
    private readonly write: Writer,
  ) {
    this.sentimentStmt = db.prepare(
      `INSERT INTO conversation_message_sentiment (conversation_id, seq, label, compound) VALUES (?, ?, ?, ?)
       ON CONFLICT (conversation_id, seq) DO UPDATE SET label = excluded.label, compound = excluded.compound`,
    );
    this.sentimentsStmt = db.prepare(
      `SELECT s.seq, m.sender, s.label, s.compound FROM conversation_message_sentiment s
       JOIN conversation_messages m ON m.conversation_id = s.conversation_id AND m.seq = s.seq
       WHERE s.conversation_id = ? ORDER BY s.seq`,
    );
    this.upsertStmt = db.prepare(
      `INSERT INTO conversation_analysis (conversation_id, channel, sentiment_label, sentiment_json, qa_score, qa_passed, qa_rules_version,
         qa_json, summary_outcome, summary_json, created_at, effective_score, effective_passed)
       VALUES (@id, @channel, @sentimentLabel, @sentimentJson, @qaScore, @qaPassed, @rulesVersion, @qaJson, @outcome, @summaryJson, @createdAt,
         @qaScore, @qaPassed)
       ON CONFLICT (conversation_id) DO UPDATE SET sentiment_label = excluded.sentiment_label, sentiment_json = excluded.sentiment_json,
         qa_score = excluded.qa_score, qa_passed = excluded.qa_passed, qa_rules_version = excluded.qa_rules_version, qa_json = excluded.qa_json,
         summary_outcome = excluded.summary_outcome, summary_json = excluded.summary_json, created_at = excluded.created_at,
         effective_score = excluded.qa_score, effective_passed = excluded.qa_passed, overridden = 0`,
    );
    this.getStmt = db.prepare(
      `SELECT conversation_id, channel, created_at, sentiment_json, qa_json, qa_rules_version, summary_json
       FROM conversation_analysis WHERE conversation_id = ?`,
    );
    this.insertOverrideStmt = db.prepare(
      `INSERT INTO conversation_qa_overrides (conversation_id, rule_id, outcome, reason, author, at)
       VALUES (@conversationId, @ruleId, @outcome, @reason, @author, @at)`,
    );
    this.overridesStmt = db.prepare(`SELECT * FROM conversation_qa_overrides WHERE conversation_id = ? ORDER BY id`);
    this.setEffectiveStmt = db.prepare(
      `UPDATE conversation_analysis SET effective_score = ?, effective_passed = ?, overridden = ? WHERE conversation_id = ?`,
    );
  }

  saveMessageSentiment(conversationId: string, seq: number, label: SentimentLabel, compound: number): void {
    this.write('conversations.sentiment', () => this.sentimentStmt.run(conversationId, seq, label, compound));
  }

  messageSentiments(conversationId: string): MessageSentiment[] {
    return this.sentimentsStmt.all(conversationId);
  }

  save(conversationId: string, channel: string, r: ConversationAnalysisResult, createdAt: number): void {
    this.write('conversations.analysis', () =>
      this.upsertStmt.run({
        id: conversationId,
        channel,
        sentimentLabel: r.sentiment.label,
        sentimentJson: JSON.stringify(r.sentiment),
        qaScore: r.qa.score,
        qaPassed: r.qa.passed === null ? null : r.qa.passed ? 1 : 0,
        rulesVersion: r.qaRulesVersion,
        qaJson: JSON.stringify(r.qa),
        outcome: r.summary.outcome,
        summaryJson: JSON.stringify(r.summary),
        createdAt,
      }),
    );
  }

  get(conversationId: string): StoredConversationAnalysis | undefined {
    const row = this.getStmt.get(conversationId);
    if (row === undefined) return undefined;
    return {
      conversationId: row.conversation_id,
      channel: row.channel,
      createdAt: row.created_at,
      sentiment: parseJson<ConversationSentiment>(row.sentiment_json, null as unknown as ConversationSentiment),
      qa: parseJson<Scorecard>(row.qa_json, null as unknown as Scorecard),
      qaRulesVersion: row.qa_rules_version,
      summary: parseJson<CallSummary>(row.summary_json, null as unknown as CallSummary),
    };
  }

  /** Scored conversations matching `q`, newest analysed first, then by id (keyset-paged by `before`, `beforeId`). */
  qaList(q: ConversationQaQuery): ConversationQaRow[] {
    const cursor: [string, (string | number)[]] | undefined =
      q.before === undefined
        ? undefined
        : q.beforeId === undefined
          ? ['a.created_at < ?', [q.before]]
          : // The ORDER BY's tie-break (conversation_id ascending) continued past the cursor row.
            ['(a.created_at < ? OR (a.created_at = ? AND a.conversation_id > ?))', [q.before, q.before, q.beforeId]];
    const conditions: [string, string | number | undefined][] = [
      ['a.channel = ?', q.channel],
      ['c.agent_id = ?', q.agentLabel],
      ['c.group_id = ?', q.groupId],
      ['a.effective_passed = ?', q.passed === undefined ? undefined : Number(q.passed)],
      ['c.created_at >= ?', q.from],
      ['c.created_at < ?', q.to],
    ];
    const used = conditions.filter(([, v]) => v !== undefined);
    const where = used.map(([sql]) => sql);
    const params = used.map(([, v]) => v as string | number);
    if (cursor !== undefined) {
      where.unshift(cursor[0]);
      params.unshift(...cursor[1]);
    }
    if (q.rule !== undefined) {
      where.push(
        `EXISTS (SELECT 1 FROM json_each(a.qa_json, '$.results') WHERE json_extract(value, '$.ruleId') = ? AND json_extract(value, '$.outcome') = ?)`,
      );
      params.push(q.rule, q.ruleOutcome ?? 'fail');
    }
    const rows = this.db
      .prepare<(string | number)[], ListRow>(
        `SELECT a.conversation_id, a.channel, a.qa_score, a.qa_passed, a.effective_score, a.effective_passed, a.overridden, a.created_at, a.qa_json,
           c.created_at AS started_at, c.agent_id, c.group_id
         FROM conversation_analysis a LEFT JOIN conversations c ON c.id = a.conversation_id
         ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY a.created_at DESC, a.conversation_id LIMIT ?`,
      )
      .all(...params, q.limit);
    return rows.map((r) => ({
      conversationId: r.conversation_id,
      channel: r.channel,
      score: r.qa_score,
      passed: r.qa_passed === null ? null : r.qa_passed === 1,
      effectiveScore: r.effective_score,
      effectivePassed: r.effective_passed === null ? null : r.effective_passed === 1,
      overridden: r.overridden === 1,
      createdAt: r.created_at,
      startedAt: r.started_at ?? r.created_at,
      agentId: r.agent_id,
      groupId: r.group_id,
      failedRules: (parseJson<Partial<Pick<Scorecard, 'results'>> | null>(r.qa_json, null)?.results ?? [])
        .filter((x) => x.outcome === 'fail')
        .map((x) => x.ruleId),
    }));
  }

  /** Record an override (the analysis's effective columns are set by the caller in the same breath). */
  addOverride(o: Omit<ConversationQaOverride, 'id'>): number {
    return this.write('conversations.qaOverride', () => Number(this.insertOverrideStmt.run(o).lastInsertRowid));
  }

  /** A conversation's overrides, oldest first. */
  overrides(conversationId: string): ConversationQaOverride[] {
    return this.overridesStmt.all(conversationId).map((r) => ({
      id: r.id,
      conversationId: r.conversation_id,
      ruleId: r.rule_id,
      outcome: r.outcome,
      reason: r.reason,
      author: r.author,
      at: r.at,
    }));
  }

  setEffective(conversationId: string, score: number | null, passed: boolean | null, overridden: boolean): void {
    this.write('conversations.analysis', () =>
      this.setEffectiveStmt.run(score, passed === null ? null : passed ? 1 : 0, overridden ? 1 : 0, conversationId),
    );
  }
}
