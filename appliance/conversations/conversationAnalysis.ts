/**
 * Conversations through the call analysis pipeline: the sentiment of every message as it is stored
 * (analysis/textSentiment.ts, the transcripts' VADER lexicon; Mandarin gets none, as on the
 * transcript path), and when a conversation closes its sentiment, a QA scorecard (qa/engine.ts, the
 * rules in force; visitor messages are the caller's lines, agent messages the agent's) and a summary
 * (summary/summariser.ts). Everything reads the stored, redacted text. Rules about audio (silence,
 * talk-over) are 'na' for a text channel, never failed. Runs off the service's emitting stack.
 * Supervisors override the scorecard as they do a call's (qa/overrides.ts: same checks, effective
 * score and audit entry); analysing a conversation again (its scorecard stored anew) keeps them.
 */
import { isFileMessage } from './chatFiles.js';
import type { Logger } from '../log/logger.js';
import { evxError } from '../errors.js';
import { applyOverride, effectiveCard, type EffectiveCard, type OverrideChange } from '../qa/overrides.js';
import type { AuditRepo } from '../store/repos/audit.js';
import { scoreCall, scoreOf, type QaCall, type RuleResult, type Scorecard } from '../qa/engine.js';
import type { QaRule } from '../qa/rules.js';
import { summariseCall, type CallSummary, type SummaryUtterance } from '../summary/summariser.js';
import { SENTIMENT_THRESHOLD, textSentiment, type SentimentLabel } from '../analysis/textSentiment.js';
import type {
  ConversationAnalysisRepo,
  ConversationAnalysisResult,
  ConversationQaOverride,
  ConversationSentiment,
  StoredConversationAnalysis,
} from './conversationAnalysisRepo.js';
import type { ConversationService } from './conversationService.js';
import type { Conversation, ConversationMessage } from './types.js';

/** Rule kinds measured on audio: not applicable to a text channel. */
export const AUDIO_RULE_KINDS: ReadonlySet<QaRule['kind']> = new Set<QaRule['kind']>(['silence', 'talkOver']);

export interface ConversationAnalysisDeps {
  readonly service: ConversationService;
  readonly repo: ConversationAnalysisRepo;
  /** The QA rules in force and their version (qa/qaService.ts rules()). */
  readonly rules: () => { version: number; rules: readonly QaRule[] };
  /** qa.enabled: false stores an empty scorecard (no rules applied). */
  readonly qa: boolean;
  readonly passScore: number;
  /** Messages of a conversation in seq order. */
  readonly messages: (conversationId: string) => readonly ConversationMessage[];
  readonly logger: Logger;
  /** Where supervisors' overrides are recorded (action qa.override, target conversation:<id>). */
  readonly audit: Pick<AuditRepo, 'record'>;
  readonly now?: () => number;
}

/** The sentiment of a conversation from its messages' stored sentiments (customer's side). */
export function conversationSentiment(
  scores: readonly { sender: string; label: SentimentLabel; compound: number }[],
): ConversationSentiment {
  const mine = scores.filter((s) => s.sender === 'visitor');
  const counts: Record<SentimentLabel, number> = { positive: 0, neutral: 0, negative: 0 };
  for (const s of mine) counts[s.label]++;
  if (mine.length === 0) return { label: null, compound: null, last: null, counts, scored: 0 };
  const mean = Math.round((1000 * mine.reduce((a, s) => a + s.compound, 0)) / mine.length) / 1000;
  const label: SentimentLabel = mean >= SENTIMENT_THRESHOLD ? 'positive' : mean <= -SENTIMENT_THRESHOLD ? 'negative' : 'neutral';
  return { label, compound: mean, last: mine[mine.length - 1]!.label, counts, scored: mine.length };
}

/** What someone wrote: not the box's system lines, not a file (whose text is only its name). */
function isWrittenLine(m: ConversationMessage): boolean {
  return m.sender !== 'system' && !isFileMessage(m);
}

/** Score a conversation's messages as a call: audio rules are 'na', the rest read the lines. */
export function scoreConversation(
  c: Pick<Conversation, 'id' | 'createdAt' | 'closedAt' | 'updatedAt' | 'language'>,
  messages: readonly ConversationMessage[],
  rules: readonly QaRule[],
  passScore: number,
): Scorecard {
  const lines = messages.filter(isWrittenLine);
  const firstAgent = lines.find((m) => m.sender === 'agent');
  const call: QaCall = {
    callId: c.id,
    startedAt: c.createdAt,
    // The agent "answers" a chat with their first message: greeting timing counts from there.
    answeredAt: firstAgent?.at ?? null,
    endedAt: c.closedAt ?? c.updatedAt,
    legs: [
      { id: 'visitor', label: 'caller', startedAt: c.createdAt },
      ...(firstAgent !== undefined ? [{ id: 'agent', label: 'agent', startedAt: c.createdAt }] : []),
    ],
    utterances: lines.map((m) => ({
      id: m.seq,
      legId: m.sender === 'agent' ? 'agent' : 'visitor',
      speaker: m.sender === 'agent' ? 'agent' : 'caller',
      startMs: m.at - c.createdAt,
      endMs: m.at - c.createdAt,
      text: m.text,
      language: c.language,
    })),
  };
  const textRules = rules.filter((r) => !AUDIO_RULE_KINDS.has(r.kind));
  const scored = scoreCall(call, textRules, passScore);
  const byId = new Map(scored.results.map((r) => [r.ruleId, r]));
  const results: RuleResult[] = rules.map(
    (r) =>
      byId.get(r.id) ?? {
        ruleId: r.id,
        kind: r.kind,
        weight: r.weight,
        critical: r.critical ?? false,
        outcome: 'na',
        value: null,
        matched: [],
        hits: [],
      },
  );
  return { callId: c.id, ...scoreOf(results, passScore), results };
}

/** Summarise a conversation's messages as a call (visitor = caller; the routed intent is the reason). */
export function summariseConversation(c: Pick<Conversation, 'language'>, messages: readonly ConversationMessage[]): CallSummary {
  const utterances: SummaryUtterance[] = messages.filter(isWrittenLine).map((m) => ({
    speaker: m.sender === 'agent' ? 'agent' : 'caller',
    text: m.text,
    language: c.language,
    // Messages keep the intent label that routed them, not its confidence: a stored label passed routing's threshold.
    intent: m.sender === 'visitor' && m.intent !== null ? { intent: m.intent, confidence: 1, outOfScope: false } : null,
  }));
  return summariseCall(utterances, { language: c.language, transferred: false });
}

export class ConversationAnalysis {
  private readonly pending = new Set<Promise<void>>();
  private readonly offs: (() => void)[] = [];
  private closed = false;
  readonly counters = { messages: 0, analysed: 0, errors: 0 };

  constructor(private readonly deps: ConversationAnalysisDeps) {
    this.offs.push(
      deps.service.events.on('message', ({ conversation, message }) => this.onMessage(conversation, message)),
      deps.service.events.on('closed', ({ conversation }) => {
        if (this.closed) return;
        const job = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
          if (!this.closed) this.analyseAndStore(conversation.id);
        });
        this.pending.add(job);
        void job.finally(() => this.pending.delete(job));
      }),
    );
  }

  private onMessage(c: Conversation, m: ConversationMessage): void {
    if (!isWrittenLine(m)) return;
    const s = textSentiment(m.text, c.language);
    if (s === null) return;
    this.deps.repo.saveMessageSentiment(c.id, m.seq, s.label, s.compound);
    this.counters.messages++;
  }

  /** Analyse a conversation now from the store (also used to analyse again); undefined when it does not exist. */
  analyse(conversationId: string): ConversationAnalysisResult | undefined {
    const c = this.deps.service.find(conversationId);
    if (c === undefined) return undefined;
    const messages = this.deps.messages(conversationId);
    const stored = new Map(this.deps.repo.messageSentiments(conversationId).map((s) => [s.seq, s]));
    const scores = messages.flatMap((m) => {
      const s = stored.get(m.seq);
      return s === undefined ? [] : [{ sender: m.sender, label: s.label, compound: s.compound }];
    });
    const { version, rules } = this.deps.qa ? this.deps.rules() : { version: 0, rules: [] };
    return {
      sentiment: conversationSentiment(scores),
      qa: scoreConversation(c, messages, rules, this.deps.passScore),
      qaRulesVersion: version,
      summary: summariseConversation(c, messages),
    };
  }

  get(conversationId: string): StoredConversationAnalysis | undefined {
    return this.deps.repo.get(conversationId);
  }

  /** The stored scorecard as it stands after overrides, and the overrides; undefined when not analysed. */
  qa(conversationId: string): { effective: EffectiveCard; overrides: ConversationQaOverride[] } | undefined {
    const stored = this.deps.repo.get(conversationId);
    if (stored === undefined) return undefined;
    const overrides = this.deps.repo.overrides(conversationId);
    return { effective: effectiveCard(stored.qa.results, overrides, this.deps.passScore), overrides };
  }

  /** A supervisor changes a conversation's result (ruleId null) or one rule's outcome; the original score stays. */
  override(
    conversationId: string,
    change: OverrideChange,
    author: string,
  ): { conversationId: string; qa: StoredConversationAnalysis['qa']; effective: EffectiveCard; overrides: ConversationQaOverride[] } {
    const stored = this.deps.repo.get(conversationId);
    if (stored === undefined)
      throw evxError('EVX_ERR_NOT_FOUND', 'no scorecard for this conversation (not closed, or unknown)', {
        details: { resource: 'scorecard' },
      });
    const repo = this.deps.repo;
    const { effective, overrides } = applyOverride(
      {
        kind: 'conversation',
        id: conversationId,
        card: stored.qa,
        list: () => repo.overrides(conversationId),
        add: (o) => repo.addOverride({ conversationId, ...o }),
        setEffective: (eff) => repo.setEffective(conversationId, eff.score, eff.passed, true),
      },
      change,
      author,
      { passScore: this.deps.passScore, audit: this.deps.audit, at: (this.deps.now ?? Date.now)() },
    );
    return { conversationId, qa: stored.qa, effective, overrides };
  }

  private analyseAndStore(conversationId: string): void {
    try {
      const c = this.deps.service.find(conversationId);
      const result = this.analyse(conversationId);
      if (c === undefined || result === undefined) return;
      this.deps.repo.save(conversationId, c.channel, result, (this.deps.now ?? Date.now)());
      // Stored anew (the upsert resets the effective columns): overrides made before still stand, as for a re-scored call.
      const overrides = this.deps.repo.overrides(conversationId);
      if (overrides.length > 0) {
        const eff = effectiveCard(result.qa.results, overrides, this.deps.passScore);
        this.deps.repo.setEffective(conversationId, eff.score, eff.passed, true);
      }
      this.counters.analysed++;
    } catch (err) {
      this.counters.errors++;
      // Static message, no text: the error's code and the conversation id only.
      this.deps.logger.warn({ conversationId, code: (err as { code?: string }).code ?? 'unknown' }, 'conversation analysis failed');
    }
  }

  /** Wait for analyses in flight (tests, drain). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const off of this.offs) off();
    await this.idle();
    this.closed = true;
  }
}
