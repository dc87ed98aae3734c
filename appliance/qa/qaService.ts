/**
 * Scores 100% of calls: on every `call.ended` the call's stored (redacted) utterances are scored
 * against the current rule set, the scorecard is stored and a `qa.scored` event is published.
 * Scoring runs off the publishing stack (setImmediate) so the call path never waits for it.
 * Semantic rules need sentence vectors: the call's texts are embedded in one batch by the embedding
 * worker thread (model loaded once, when a rule set first has a semantic rule), so the event loop
 * only waits on a message; without the model those rules fall back to exact phrases (logged).
 */
import type { EventBus } from '../events/appEvents.js';
import type { Logger } from '../log/logger.js';
import type { Store } from '../store/database.js';
import { evxError, isEdgeVoxError } from '../errors.js';
import { scoreCall, semanticTexts, type QaCall, type RuleOutcome, type Scorecard, type SemanticVectors } from './engine.js';
import { applyOverride, effectiveCard, type EffectiveCard, type OverrideChange } from './overrides.js';
import { SentenceEmbedder } from './sentenceEmbedder.js';
import { QaRepo, type QaOverride, type ScorecardRecord } from './repo.js';
import { DEFAULT_RULES, validateRuleSet, type QaRule } from './rules.js';

/** One day of a trend: calls scored and passed (per agent), or calls the rule applied to and passed (per rule). */
export interface TrendPoint {
  day: string;
  count: number;
  passed: number;
  passRate: number | null;
  meanScore?: number | null;
}

const DAY_MS = 86_400_000;
/** Trends span at most this many days; dry runs score at most MAX_DRY_RUN_CALLS calls. */
export const MAX_TREND_DAYS = 92;
export const MAX_DRY_RUN_CALLS = 1000;
/** With a semantic rule each call's utterances are embedded (tens of ms each): dry runs score fewer calls. */
export const MAX_SEMANTIC_DRY_RUN_CALLS = 50;

export interface QaServiceDeps {
  store: Store;
  bus: EventBus;
  logger: Logger;
  passScore: number;
  now?: () => number;
  /** Sentence embeddings for semantic rules (default: a worker-thread Universal Sentence Encoder lite). */
  embedder?: SentenceEmbedder;
}

/** Routing facts remembered per active call (from route.decision events); bounded. */
const MAX_TRACKED_CALLS = 10_000;

export class QaService {
  readonly repo: QaRepo;
  private readonly unsubscribe: () => void;
  private readonly routing = new Map<string, { groupId: string | null; agentId: string | null }>();
  private readonly pending = new Set<Promise<void>>();
  private closed = false;
  readonly counters = { scored: 0, passed: 0, failed: 0, errors: 0, semanticFallbacks: 0 };
  readonly embedder: SentenceEmbedder;

  constructor(private readonly deps: QaServiceDeps) {
    this.repo = new QaRepo(deps.store.db, (op, fn) => deps.store.write(op, fn));
    this.embedder = deps.embedder ?? new SentenceEmbedder();
    // Rules in force with a semantic rule: load the model now, in its thread, not at the first call's end.
    if (this.rules().rules.some((r) => r.kind === 'semantic')) this.warmEmbedder();
    this.unsubscribe = deps.bus.subscribe((e) => {
      if (e.type === 'route.decision') {
        if (this.routing.size >= MAX_TRACKED_CALLS && !this.routing.has(e.callId)) this.routing.delete(this.routing.keys().next().value!);
        const prev = this.routing.get(e.callId);
        this.routing.set(e.callId, { groupId: e.groupId ?? prev?.groupId ?? null, agentId: e.agentId ?? prev?.agentId ?? null });
      } else if (e.type === 'call.ended' && !this.closed) {
        const job = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
          if (!this.closed) await this.scoreAndPublish(e.callId);
        });
        this.pending.add(job);
        void job.finally(() => this.pending.delete(job));
      }
    });
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** The rules in force and their version (0 = built-in defaults). */
  rules(): { version: number; rules: QaRule[] } {
    const current = this.repo.currentRuleSet();
    return current === null ? { version: 0, rules: [...DEFAULT_RULES] } : { version: current.version, rules: current.rules };
  }

  /** Replace the rule set (validated); returns the new version. */
  setRules(input: unknown, author: string): { version: number; rules: QaRule[] } {
    const set = validateRuleSet(input);
    const version = this.repo.saveRuleSet(set.rules, author, this.now());
    this.deps.store.audit.record(author, 'qa.rules.update', `v${version}`, { rules: set.rules.length }, this.now());
    if (set.rules.some((r) => r.kind === 'semantic')) this.warmEmbedder();
    return { version, rules: set.rules };
  }

  /** A stored call as the engine reads it (utterances in store order: hits' `index` refers to it). */
  private qaCall(callId: string): (QaCall & { meta: Record<string, unknown>; agentLeg: boolean }) | undefined {
    const call = this.deps.store.calls.get(callId);
    if (call === undefined) return undefined;
    const utterances = this.deps.store.utterances.listByCall(callId);
    return {
      callId,
      startedAt: call.startedAt,
      answeredAt: call.answeredAt,
      endedAt: call.endedAt ?? this.now(),
      legs: call.legs.map((l) => ({ id: l.id, label: l.label, startedAt: l.startedAt })),
      utterances: utterances.map((u) => ({
        id: u.id,
        legId: u.legId,
        speaker: u.speaker,
        startMs: u.startMs,
        endMs: u.endMs,
        text: u.text,
        language: u.language,
      })),
      meta: call.meta,
      agentLeg: call.legs.some((l) => l.label === 'agent'),
    };
  }

  /** Load the embedding model in the background (errors are logged; semantic rules then fall back). */
  private warmEmbedder(): void {
    this.embedder.load().catch((err: unknown) => {
      this.deps.logger.warn({ code: isEdgeVoxError(err) ? err.code : 'unknown' }, 'qa embedding model not loaded');
    });
  }

  /** Sentence vectors for the call's semantic rules (one batch); undefined when none are needed or the model is unavailable. */
  private async vectorsFor(call: Pick<QaCall, 'utterances'>, rules: readonly QaRule[]): Promise<SemanticVectors | undefined> {
    const texts = semanticTexts(call, rules);
    if (texts.length === 0) return undefined;
    try {
      const vectors = await this.embedder.embed(texts);
      return new Map(texts.map((t, i) => [t, vectors[i]!]));
    } catch (err) {
      this.counters.semanticFallbacks++;
      this.deps.logger.warn({ code: isEdgeVoxError(err) ? err.code : 'unknown' }, 'semantic qa rules matched on exact phrases');
      return undefined;
    }
  }

  /** Score a stored call now (also used to re-score); undefined when the call does not exist. */
  async scoreCall(callId: string): Promise<ScorecardRecord | undefined> {
    const call = this.qaCall(callId);
    if (call === undefined) return undefined;
    const { version, rules } = this.rules();
    const vectors = await this.vectorsFor(call, rules);
    const card: Scorecard = scoreCall(call, rules, this.deps.passScore, vectors);
    const routed = this.routing.get(callId);
    const meta = call.meta;
    const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
    const record: ScorecardRecord = {
      callId,
      scoredAt: this.now(),
      callStartedAt: call.startedAt,
      rulesVersion: version,
      score: card.score,
      passed: card.passed,
      agentLabel: str(meta['agentLabel']) ?? routed?.agentId ?? str(meta['agentId']) ?? (call.agentLeg ? 'agent' : null),
      groupId: str(meta['groupId']) ?? routed?.groupId ?? null,
      results: card.results,
    };
    this.repo.saveScorecard(record);
    // A re-scored call keeps its supervisors' overrides.
    const overrides = this.repo.overrides(callId);
    if (overrides.length > 0) {
      const eff = this.effective(record, overrides);
      this.repo.setEffective(callId, eff.score, eff.passed, true);
    }
    return this.repo.scorecard(callId) ?? record;
  }

  /** A scorecard as it stands after overrides (the latest per rule and for the call win). */
  effective(card: ScorecardRecord, overrides: readonly QaOverride[]): EffectiveCard {
    return effectiveCard(card.results, overrides, this.deps.passScore);
  }

  /** A supervisor changes a call's result (ruleId null) or one rule's outcome; the original score stays. */
  override(
    callId: string,
    change: OverrideChange,
    author: string,
  ): { scorecard: ScorecardRecord; effective: EffectiveCard; overrides: QaOverride[] } {
    const card = this.repo.scorecard(callId);
    if (card === undefined) throw evxError('EVX_ERR_NOT_FOUND', 'no scorecard for this call', { details: { resource: 'scorecard' } });
    const { effective, overrides } = applyOverride(
      {
        kind: 'call',
        id: callId,
        card,
        list: () => this.repo.overrides(callId),
        add: (o) => this.repo.addOverride({ callId, ...o }),
        setEffective: (eff) => this.repo.setEffective(callId, eff.score, eff.passed, true),
      },
      change,
      author,
      { passScore: this.deps.passScore, audit: this.deps.store.audit, at: this.now() },
    );
    return { scorecard: this.repo.scorecard(callId)!, effective, overrides };
  }

  /** A call's scorecard with its transcript (stored, redacted text) and overrides; undefined when not scored. */
  detail(callId: string):
    | {
        scorecard: ScorecardRecord;
        effective: EffectiveCard;
        overrides: QaOverride[];
        transcript: { id: number; index: number; speaker: string; startMs: number; endMs: number; text: string }[];
      }
    | undefined {
    const scorecard = this.repo.scorecard(callId);
    if (scorecard === undefined) return undefined;
    const overrides = this.repo.overrides(callId);
    const transcript = this.deps.store.utterances
      .listByCall(callId)
      .map((u, index) => ({ id: u.id, index, speaker: u.speaker, startMs: u.startMs, endMs: u.endMs, text: u.text }));
    return { scorecard, effective: this.effective(scorecard, overrides), overrides, transcript };
  }

  /** Per day (UTC) over calls started in [fromMs, toMs): per agent label, or per rule; overrides applied. */
  trends(by: 'agent' | 'rule', fromMs: number, toMs: number): { days: string[]; series: { key: string | null; points: TrendPoint[] }[] } {
    if (toMs <= fromMs)
      throw evxError('EVX_ERR_BAD_REQUEST', 'The end of the range must come after its start.', { details: { field: 'to' } });
    if (toMs - fromMs > MAX_TREND_DAYS * DAY_MS)
      throw evxError('EVX_ERR_BAD_REQUEST', `A trend covers at most ${MAX_TREND_DAYS} days.`, { details: { field: 'from' } });
    const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const days: string[] = [];
    for (let d = Math.floor(fromMs / DAY_MS) * DAY_MS; d < toMs; d += DAY_MS) days.push(dayOf(d));
    const overrides = new Map<string, QaOverride[]>();
    for (const o of this.repo.overridesStartedBetween(fromMs, toMs)) {
      const list = overrides.get(o.callId);
      if (list === undefined) overrides.set(o.callId, [o]);
      else list.push(o);
    }
    type Acc = { count: number; passed: number; scoreSum: number; scored: number };
    const acc = new Map<string | null, Map<string, Acc>>();
    const add = (key: string | null, day: string, pass: boolean, score: number | null) => {
      let perDay = acc.get(key);
      if (perDay === undefined) acc.set(key, (perDay = new Map<string, Acc>()));
      const a = perDay.get(day) ?? { count: 0, passed: 0, scoreSum: 0, scored: 0 };
      a.count++;
      if (pass) a.passed++;
      if (score !== null) {
        a.scoreSum += score;
        a.scored++;
      }
      perDay.set(day, a);
    };
    for (const card of this.repo.startedBetween(fromMs, toMs)) {
      const day = dayOf(card.callStartedAt);
      const eff = this.effective(card, overrides.get(card.callId) ?? []);
      if (by === 'agent') {
        if (eff.passed !== null) add(card.agentLabel, day, eff.passed, eff.score);
      } else for (const r of eff.results) if (r.outcome !== 'na') add(r.ruleId, day, r.outcome === 'pass', null);
    }
    const series = [...acc.entries()]
      .sort(([a], [b]) => (a ?? '').localeCompare(b ?? ''))
      .map(([key, perDay]) => ({
        key,
        points: days.map((day): TrendPoint => {
          const a = perDay.get(day);
          const point: TrendPoint = {
            day,
            count: a?.count ?? 0,
            passed: a?.passed ?? 0,
            passRate: a && a.count > 0 ? a.passed / a.count : null,
          };
          if (by === 'agent') point.meanScore = a && a.scored > 0 ? Math.round((10 * a.scoreSum) / a.scored) / 10 : null;
          return point;
        }),
      }));
    return { days, series };
  }

  /** Add one rule to the set in force (a new version). */
  addRule(rule: unknown, author: string): { version: number; rules: QaRule[] } {
    return this.setRules({ rules: [...this.rules().rules, rule] }, author);
  }

  /** Replace the rule called `ruleId` (it may be renamed); 404 when there is none. */
  updateRule(ruleId: string, rule: unknown, author: string): { version: number; rules: QaRule[] } {
    const { rules } = this.rules();
    const at = rules.findIndex((r) => r.id === ruleId);
    if (at < 0) throw evxError('EVX_ERR_NOT_FOUND', `There is no rule "${ruleId}".`, { details: { resource: 'rule' } });
    return this.setRules({ rules: rules.map((r, i) => (i === at ? rule : r)) }, author);
  }

  deleteRule(ruleId: string, author: string): { version: number; rules: QaRule[] } {
    const { rules } = this.rules();
    if (!rules.some((r) => r.id === ruleId))
      throw evxError('EVX_ERR_NOT_FOUND', `There is no rule "${ruleId}".`, { details: { resource: 'rule' } });
    return this.setRules({ rules: rules.filter((r) => r.id !== ruleId) }, author);
  }

  /** Score stored calls of [fromMs, toMs) with a proposed rule set; stores nothing. */
  async dryRun(
    input: unknown,
    fromMs: number,
    toMs: number,
    limit: number,
  ): Promise<{
    scanned: number;
    truncated: boolean;
    calls: {
      callId: string;
      startedAt: number;
      current: { score: number | null; passed: boolean | null } | null;
      proposed: { score: number | null; passed: boolean | null };
      results: { ruleId: string; outcome: RuleOutcome; value: number | null; hits: number }[];
    }[];
    rules: { ruleId: string; pass: number; fail: number; na: number }[];
  }> {
    const set = validateRuleSet(input);
    if (toMs <= fromMs)
      throw evxError('EVX_ERR_BAD_REQUEST', 'The end of the range must come after its start.', { details: { field: 'to' } });
    const cap = Math.min(limit, set.rules.some((r) => r.kind === 'semantic') ? MAX_SEMANTIC_DRY_RUN_CALLS : MAX_DRY_RUN_CALLS);
    const ids = this.repo.endedCallIds(fromMs, toMs, cap + 1);
    const perRule = new Map(set.rules.map((r) => [r.id, { ruleId: r.id, pass: 0, fail: 0, na: 0 }]));
    const calls = [];
    for (const callId of ids.slice(0, cap)) {
      const call = this.qaCall(callId);
      if (call === undefined) continue;
      const card = scoreCall(call, set.rules, this.deps.passScore, await this.vectorsFor(call, set.rules));
      for (const r of card.results) perRule.get(r.ruleId)![r.outcome]++;
      const stored = this.repo.scorecard(callId);
      calls.push({
        callId,
        startedAt: call.startedAt,
        current:
          stored === undefined ? null : { score: stored.effectiveScore ?? stored.score, passed: stored.effectivePassed ?? stored.passed },
        proposed: { score: card.score, passed: card.passed },
        results: card.results.map((r) => ({ ruleId: r.ruleId, outcome: r.outcome, value: r.value, hits: r.hits.length })),
      });
    }
    return { scanned: calls.length, truncated: ids.length > cap, calls, rules: [...perRule.values()] };
  }

  private async scoreAndPublish(callId: string): Promise<void> {
    try {
      const record = await this.scoreCall(callId);
      this.routing.delete(callId);
      if (record === undefined) return;
      this.counters.scored++;
      if (record.passed === true) this.counters.passed++;
      else if (record.passed === false) this.counters.failed++;
      this.deps.bus.publish({
        type: 'qa.scored',
        at: record.scoredAt,
        callId,
        score: record.score,
        passed: record.passed,
        rulesVersion: record.rulesVersion,
        failedRules: record.results.filter((r) => r.outcome === 'fail').map((r) => r.ruleId),
        agentLabel: record.agentLabel,
        groupId: record.groupId,
      });
    } catch (err) {
      this.counters.errors++;
      if (!isEdgeVoxError(err)) this.deps.logger.error({ reason: err instanceof Error ? err.message : String(err) }, 'qa scoring failed');
      else this.deps.logger.warn({ code: err.code }, 'qa scorecard not stored');
    }
  }

  /** Wait for scorings in flight (tests, drain). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.unsubscribe();
    await this.idle();
    this.closed = true;
    this.routing.clear();
    if (this.deps.embedder === undefined) await this.embedder.close();
  }
}
