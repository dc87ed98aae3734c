/**
 * Scores 100% of calls: on every `call.ended` the call's stored (redacted) utterances are scored
 * against the current rule set, the scorecard is stored and a `qa.scored` event is published.
 * Scoring runs off the publishing stack (setImmediate) so the call path never waits for it.
 */
import type { EventBus } from '../events/appEvents.js';
import type { Logger } from '../log/logger.js';
import type { Store } from '../store/database.js';
import { isEdgeVoxError } from '../errors.js';
import { scoreCall, type Scorecard } from './engine.js';
import { QaRepo, type ScorecardRecord } from './repo.js';
import { DEFAULT_RULES, validateRuleSet, type QaRule } from './rules.js';

export interface QaServiceDeps {
  store: Store;
  bus: EventBus;
  logger: Logger;
  passScore: number;
  now?: () => number;
}

/** Routing facts remembered per active call (from route.decision events); bounded. */
const MAX_TRACKED_CALLS = 10_000;

export class QaService {
  readonly repo: QaRepo;
  private readonly unsubscribe: () => void;
  private readonly routing = new Map<string, { groupId: string | null; agentId: string | null }>();
  private readonly pending = new Set<Promise<void>>();
  private closed = false;
  readonly counters = { scored: 0, passed: 0, failed: 0, errors: 0 };

  constructor(private readonly deps: QaServiceDeps) {
    this.repo = new QaRepo(deps.store.db, (op, fn) => deps.store.write(op, fn));
    this.unsubscribe = deps.bus.subscribe((e) => {
      if (e.type === 'route.decision') {
        if (this.routing.size >= MAX_TRACKED_CALLS && !this.routing.has(e.callId)) this.routing.delete(this.routing.keys().next().value!);
        const prev = this.routing.get(e.callId);
        this.routing.set(e.callId, { groupId: e.groupId ?? prev?.groupId ?? null, agentId: e.agentId ?? prev?.agentId ?? null });
      } else if (e.type === 'call.ended' && !this.closed) {
        const job = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
          if (!this.closed) this.scoreAndPublish(e.callId);
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
    return { version, rules: set.rules };
  }

  /** Score a stored call now (also used to re-score); undefined when the call does not exist. */
  scoreCall(callId: string): ScorecardRecord | undefined {
    const call = this.deps.store.calls.get(callId);
    if (call === undefined) return undefined;
    const { version, rules } = this.rules();
    const utterances = this.deps.store.utterances.listByCall(callId);
    const card: Scorecard = scoreCall(
      {
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
        })),
      },
      rules,
      this.deps.passScore,
    );
    const routed = this.routing.get(callId);
    const meta = call.meta;
    const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
    const agentLeg = call.legs.find((l) => l.label === 'agent');
    const record: ScorecardRecord = {
      callId,
      scoredAt: this.now(),
      callStartedAt: call.startedAt,
      rulesVersion: version,
      score: card.score,
      passed: card.passed,
      agentLabel: str(meta['agentLabel']) ?? routed?.agentId ?? str(meta['agentId']) ?? (agentLeg ? agentLeg.label : null),
      groupId: str(meta['groupId']) ?? routed?.groupId ?? null,
      results: card.results,
    };
    this.repo.saveScorecard(record);
    return record;
  }

  private scoreAndPublish(callId: string): void {
    try {
      const record = this.scoreCall(callId);
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
  }
}
