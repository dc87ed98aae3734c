/**
 * Supervisors' overrides of a scorecard, for any channel: a call's (qaService.ts) and a chat's or
 * e-mail case's (conversations/conversationAnalysis.ts) go through the same checks, the same effective
 * score and the same audit entry; each caller keeps its own table of overrides.
 */
import type { AuditRepo } from '../store/repos/audit.js';
import { evxError } from '../errors.js';
import { scoreOf, type RuleOutcome, type RuleResult } from './engine.js';

/** A rule result as it stands after overrides: `original` is the engine's outcome when a supervisor changed it. */
export type EffectiveResult = RuleResult & { original?: RuleOutcome };

export interface EffectiveCard {
  score: number | null;
  passed: boolean | null;
  results: EffectiveResult[];
}

/** What a supervisor asks for: a rule's outcome, or the result (ruleId null, pass or fail only). */
export interface OverrideChange {
  ruleId: string | null;
  outcome: RuleOutcome;
  reason: string;
}

/** A scorecard as it stands after overrides (oldest first: the latest per rule and for the result win). */
export function effectiveCard(
  results: readonly RuleResult[],
  overrides: readonly { ruleId: string | null; outcome: RuleOutcome }[],
  passScore: number,
): EffectiveCard {
  const byRule = new Map<string, RuleOutcome>();
  let result: RuleOutcome | undefined;
  for (const o of overrides) {
    if (o.ruleId === null) result = o.outcome;
    else byRule.set(o.ruleId, o.outcome);
  }
  const effective: EffectiveResult[] = results.map((r) => {
    const o = byRule.get(r.ruleId);
    return o === undefined || o === r.outcome ? r : { ...r, outcome: o, original: r.outcome };
  });
  const computed = scoreOf(effective, passScore);
  return { score: computed.score, passed: result === undefined ? computed.passed : result === 'pass', results: effective };
}

/** Where one scorecard's overrides live, and what was scored. */
export interface OverrideTarget<O> {
  /** 'call' or 'conversation': the words of refusals and the audit target (`call:<id>`). */
  kind: 'call' | 'conversation';
  id: string;
  card: { score: number | null; passed: boolean | null; results: readonly RuleResult[] };
  /** The stored overrides, oldest first. */
  list(): O[];
  add(o: { ruleId: string | null; outcome: RuleOutcome; reason: string; author: string; at: number }): void;
  /** Store the effective score and result beside the original. */
  setEffective(eff: EffectiveCard): void;
}

/** Check, store and audit a supervisor's override; the original score stays. Throws the refusals (400, 404). */
export function applyOverride<O extends { ruleId: string | null; outcome: RuleOutcome }>(
  target: OverrideTarget<O>,
  change: OverrideChange,
  author: string,
  deps: { passScore: number; audit: Pick<AuditRepo, 'record'>; at: number },
): { effective: EffectiveCard; overrides: O[] } {
  const { kind, card } = target;
  const reason = change.reason.trim();
  if (reason.length < 3)
    throw evxError('EVX_ERR_BAD_REQUEST', 'An override needs a reason of a few words.', { details: { field: 'reason' } });
  if (change.ruleId !== null && !card.results.some((r) => r.ruleId === change.ruleId))
    throw evxError('EVX_ERR_NOT_FOUND', `This ${kind} was not scored on a rule "${change.ruleId}".`, { details: { resource: 'rule' } });
  if (change.ruleId === null && change.outcome === 'na')
    throw evxError('EVX_ERR_BAD_REQUEST', `A ${kind}'s result can only be overridden to pass or fail.`, { details: { field: 'outcome' } });
  const before = effectiveCard(card.results, target.list(), deps.passScore);
  target.add({ ruleId: change.ruleId, outcome: change.outcome, reason, author, at: deps.at });
  const overrides = target.list();
  const effective = effectiveCard(card.results, overrides, deps.passScore);
  target.setEffective(effective);
  deps.audit.record(
    author,
    'qa.override',
    `${kind}:${target.id}`,
    {
      rule: change.ruleId,
      outcome: change.outcome,
      reason,
      before: { score: before.score, passed: before.passed },
      after: { score: effective.score, passed: effective.passed },
      original: { score: card.score, passed: card.passed },
    },
    deps.at,
  );
  return { effective, overrides };
}
