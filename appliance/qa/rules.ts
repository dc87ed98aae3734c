/**
 * QA rules: what every call is scored against. A rule set is a list of typed rules, each with a
 * weight (its share of the score) and optionally `critical` (failing it fails the call whatever the
 * score). Rule sets are validated with TypeBox plus the checks a schema cannot express.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { evxError } from '../errors.js';

const Id = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$', description: 'Rule id (lower-case, digits, dashes)' });
const Weight = Type.Number({ minimum: 0, maximum: 100, description: 'Share of the score' });
const Critical = Type.Optional(Type.Boolean({ description: 'Failing this rule fails the call whatever the score' }));
const Phrase = Type.String({ minLength: 1, maxLength: 300 });
const Speaker = Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'Leg label the rule reads (default agent)' }));
const base = { id: Id, weight: Weight, critical: Critical, description: Type.Optional(Type.String({ maxLength: 300 })) };

export const GreetingRule = Type.Object(
  {
    ...base,
    kind: Type.Literal('greeting'),
    withinMs: Type.Integer({ minimum: 0, maximum: 600_000 }),
    phrases: Type.Array(Phrase, { minItems: 1, maxItems: 50 }),
    speaker: Speaker,
  },
  { additionalProperties: false, description: 'The agent says one of the phrases within withinMs of the call being answered' },
);
export const DisclosureRule = Type.Object(
  {
    ...base,
    kind: Type.Literal('disclosure'),
    phrases: Type.Array(Phrase, { minItems: 1, maxItems: 20, description: 'Accepted wordings of the disclosure' }),
    minSimilarity: Type.Number({
      minimum: 0.3,
      maximum: 1,
      description: 'Word-level similarity (1 - edit distance / phrase length) needed to count as read',
    }),
    withinMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000 })),
    speaker: Speaker,
  },
  { additionalProperties: false, description: 'The agent reads a disclosure (fuzzy phrase match, ASR errors tolerated)' },
);
export const ForbiddenRule = Type.Object(
  { ...base, kind: Type.Literal('forbidden'), phrases: Type.Array(Phrase, { minItems: 1, maxItems: 500 }), speaker: Speaker },
  { additionalProperties: false, description: 'The agent never says any of the phrases (over-promising, forbidden wording)' },
);
export const NegativeWordsRule = Type.Object(
  {
    ...base,
    kind: Type.Literal('negativeWords'),
    words: Type.Array(Phrase, { minItems: 1, maxItems: 500 }),
    maxCount: Type.Integer({ minimum: 0, maximum: 1000 }),
    speaker: Speaker,
  },
  { additionalProperties: false, description: 'The agent uses at most maxCount negative words or phrases' },
);
export const SilenceRule = Type.Object(
  { ...base, kind: Type.Literal('silence'), maxRatio: Type.Number({ minimum: 0, maximum: 1 }) },
  { additionalProperties: false, description: 'Time nobody speaks, as a share of the answered call, is at most maxRatio' },
);
export const TalkOverRule = Type.Object(
  {
    ...base,
    kind: Type.Literal('talkOver'),
    minOverlapMs: Type.Integer({ minimum: 0, maximum: 60_000, description: 'Overlaps shorter than this are back-channel, not talk-over' }),
    maxCount: Type.Integer({ minimum: 0, maximum: 1000 }),
  },
  { additionalProperties: false, description: 'Caller and agent speak over each other at most maxCount times' },
);

export const QaRule = Type.Union([GreetingRule, DisclosureRule, ForbiddenRule, NegativeWordsRule, SilenceRule, TalkOverRule]);
export type QaRule = Static<typeof QaRule>;
export const QaRuleSet = Type.Object({ rules: Type.Array(QaRule, { minItems: 1, maxItems: 200 }) }, { additionalProperties: false });
export type QaRuleSet = Static<typeof QaRuleSet>;

/** The rules a fresh appliance scores with until an operator sets its own. */
export const DEFAULT_RULES: readonly QaRule[] = [
  {
    id: 'greeting',
    kind: 'greeting',
    weight: 20,
    withinMs: 15_000,
    phrases: ['HELLO', 'GOOD MORNING', 'GOOD AFTERNOON', 'GOOD EVENING', 'THANK YOU FOR CALLING', 'WELCOME TO', 'HI'],
  },
  {
    id: 'disclosure',
    kind: 'disclosure',
    weight: 25,
    minSimilarity: 0.75,
    phrases: ['THIS CALL MAY BE RECORDED FOR QUALITY AND TRAINING PURPOSES'],
  },
  {
    id: 'no-over-promising',
    kind: 'forbidden',
    weight: 25,
    critical: true,
    phrases: ['GUARANTEED', 'GUARANTEE', 'I PROMISE YOU A REFUND', 'I PROMISE', 'ONE HUNDRED PERCENT', 'NO RISK', 'RISK FREE'],
  },
  { id: 'silence', kind: 'silence', weight: 10, maxRatio: 0.4 },
  { id: 'talk-over', kind: 'talkOver', weight: 10, minOverlapMs: 800, maxCount: 2 },
  {
    id: 'agent-negative-words',
    kind: 'negativeWords',
    weight: 10,
    maxCount: 0,
    words: ['STUPID', 'RIDICULOUS', 'WHATEVER', 'SHUT UP', 'NOT MY PROBLEM', 'CALM DOWN', 'IDIOT', 'DUMB'],
  },
];

/** Validate a rule set (schema, unique ids, some positive weight); throws EVX_ERR_QA_RULES. */
export function validateRuleSet(input: unknown): QaRuleSet {
  if (!Value.Check(QaRuleSet, input)) {
    const first = [...Value.Errors(QaRuleSet, input)][0];
    throw evxError('EVX_ERR_QA_RULES', `invalid QA rule set at ${first?.path ?? '/'}: ${first?.message ?? 'schema mismatch'}`, {
      details: { path: first?.path ?? '/' },
    });
  }
  const set = input;
  const ids = new Set<string>();
  for (const r of set.rules) {
    if (ids.has(r.id)) throw evxError('EVX_ERR_QA_RULES', `duplicate QA rule id ${r.id}`, { details: { rule: r.id } });
    ids.add(r.id);
  }
  if (!set.rules.some((r) => r.weight > 0))
    throw evxError('EVX_ERR_QA_RULES', 'a QA rule set needs at least one rule with a positive weight');
  return set;
}
