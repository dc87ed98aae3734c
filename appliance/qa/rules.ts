/**
 * QA rules: what every call is scored against. A rule set is a list of typed rules, each with a
 * weight (its share of the score) and optionally `critical` (failing it fails the call whatever the
 * score). Rule sets are validated with TypeBox plus the checks a schema cannot express.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import safeRegex from 'safe-regex2';
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

export const PatternRule = Type.Object(
  {
    ...base,
    kind: Type.Literal('pattern'),
    pattern: Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'A regular expression (Unicode; no nested repetition such as (a+)+, which could run for ever)',
    }),
    caseSensitive: Type.Optional(Type.Boolean({ description: 'Match letter case exactly (default: ignore case)' })),
    expect: Type.Union([Type.Literal('present'), Type.Literal('absent')], {
      description: 'present: the speaker must say something matching; absent: never',
    }),
    speaker: Speaker,
  },
  { additionalProperties: false, description: 'The speaker says (or never says) something matching a regular expression' },
);

/** Lowest and highest similarity a semantic rule may ask for (below 0.5 nearly everything matches). */
export const SEMANTIC_THRESHOLD = { min: 0.5, max: 0.99 } as const;

export const SemanticRule = Type.Object(
  {
    ...base,
    kind: Type.Literal('semantic'),
    phrases: Type.Array(Phrase, {
      minItems: 1,
      maxItems: 20,
      description:
        'What the speaker should (or should not) say, in any wording: English phrases are matched by meaning, Chinese ones by their exact words',
    }),
    threshold: Type.Number({
      minimum: SEMANTIC_THRESHOLD.min,
      maximum: SEMANTIC_THRESHOLD.max,
      description: 'Sentence-embedding cosine similarity a clause needs to count as saying a phrase',
    }),
    expect: Type.Union([Type.Literal('present'), Type.Literal('absent')], {
      description: 'present: the speaker must say it (in some wording); absent: never',
    }),
    speaker: Speaker,
  },
  {
    additionalProperties: false,
    description: 'The speaker says (or never says) something meaning one of the phrases; a negated wording does not count',
  },
);

export const QaRule = Type.Union([
  GreetingRule,
  DisclosureRule,
  ForbiddenRule,
  NegativeWordsRule,
  SilenceRule,
  TalkOverRule,
  PatternRule,
  SemanticRule,
]);
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
    phrases: [
      'HELLO',
      'GOOD MORNING',
      'GOOD AFTERNOON',
      'GOOD EVENING',
      'THANK YOU FOR CALLING',
      'WELCOME TO',
      'HI',
      // Mandarin calls: the same rule, the usual openings (Han characters match one by one).
      '您好',
      '你好',
      '欢迎致电',
      '感谢致电',
      '早上好',
      '下午好',
      '晚上好',
    ],
  },
  {
    id: 'disclosure',
    kind: 'disclosure',
    weight: 25,
    minSimilarity: 0.75,
    phrases: ['THIS CALL MAY BE RECORDED FOR QUALITY AND TRAINING PURPOSES', '为了保证服务质量本次通话可能会被录音'],
  },
  {
    id: 'no-over-promising',
    kind: 'forbidden',
    weight: 25,
    critical: true,
    phrases: [
      'GUARANTEED',
      'GUARANTEE',
      'I PROMISE YOU A REFUND',
      'I PROMISE',
      'ONE HUNDRED PERCENT',
      'NO RISK',
      'RISK FREE',
      '我保证',
      '保证退款',
      '百分之百',
      '绝对没问题',
      '零风险',
      '稳赚不赔',
    ],
  },
  { id: 'silence', kind: 'silence', weight: 10, maxRatio: 0.4 },
  { id: 'talk-over', kind: 'talkOver', weight: 10, minOverlapMs: 800, maxCount: 2 },
  {
    id: 'agent-negative-words',
    kind: 'negativeWords',
    weight: 10,
    maxCount: 0,
    words: [
      'STUPID',
      'RIDICULOUS',
      'WHATEVER',
      'SHUT UP',
      'NOT MY PROBLEM',
      'CALM DOWN',
      'IDIOT',
      'DUMB',
      // Multi-character on purpose: 烦 alone is in the polite 麻烦您.
      '笨蛋',
      '白痴',
      '闭嘴',
      '随便你',
      '不关我的事',
      '你烦不烦',
      '你冷静点',
    ],
  },
];

const RULE_SCHEMAS = {
  greeting: GreetingRule,
  disclosure: DisclosureRule,
  forbidden: ForbiddenRule,
  negativeWords: NegativeWordsRule,
  silence: SilenceRule,
  talkOver: TalkOverRule,
  pattern: PatternRule,
  semantic: SemanticRule,
} as const;
export const RULE_KINDS = Object.keys(RULE_SCHEMAS) as QaRule['kind'][];

/** One problem with a proposed rule set, in words a supervisor can act on. */
export interface RuleIssue {
  /** Position of the rule in the set (absent for problems of the whole set). */
  index?: number;
  rule?: string;
  field?: string;
  message: string;
}

/** Every problem with a proposed rule set (empty when it can be used). */
export function ruleSetIssues(input: unknown): RuleIssue[] {
  if (typeof input !== 'object' || input === null || !Array.isArray((input as { rules?: unknown }).rules))
    return [{ message: 'The rule set must be an object with a list of rules.' }];
  const rules = (input as { rules: unknown[] }).rules;
  const issues: RuleIssue[] = [];
  if (rules.length === 0) issues.push({ message: 'The rule set needs at least one rule.' });
  if (rules.length > 200) issues.push({ message: 'A rule set may hold at most 200 rules.' });
  const extra = Object.keys(input).filter((k) => k !== 'rules');
  if (extra.length > 0) issues.push({ message: `Unknown setting ${extra.map((k) => `"${k}"`).join(', ')} beside the rules.` });
  const seen = new Set<string>();
  rules.slice(0, 200).forEach((rule, index) => {
    for (const issue of ruleIssues(rule)) issues.push({ index, ...issue });
    const id = (rule as { id?: unknown } | null)?.id;
    if (typeof id === 'string') {
      if (seen.has(id)) issues.push({ index, rule: id, field: 'id', message: `Two rules are called "${id}"; each rule needs its own id.` });
      seen.add(id);
    }
  });
  if (issues.length === 0 && !(rules as QaRule[]).some((r) => r.weight > 0))
    issues.push({ message: 'At least one rule needs a weight above 0, or no call could be scored.' });
  return issues;
}

/** Problems with one rule (schema by kind, then what a schema cannot say: the regex). */
export function ruleIssues(rule: unknown): Omit<RuleIssue, 'index'>[] {
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) return [{ message: 'Each rule must be an object.' }];
  const r = rule as Record<string, unknown>;
  const id = typeof r['id'] === 'string' ? r['id'] : undefined;
  const at = (field: string | undefined, message: string) => ({
    ...(id !== undefined ? { rule: id } : {}),
    ...(field ? { field } : {}),
    message,
  });
  const kind = r['kind'];
  if (typeof kind !== 'string' || !Object.hasOwn(RULE_SCHEMAS, kind))
    return [at('kind', `Unknown kind of rule ${JSON.stringify(kind ?? null)}; choose one of ${RULE_KINDS.join(', ')}.`)];
  const schema = RULE_SCHEMAS[kind as QaRule['kind']];
  const issues = [...Value.Errors(schema, rule)].map((e) => at(fieldOf(e), plain(e)));
  if (issues.length === 0 && kind === 'pattern') {
    const problem = patternProblem(r['pattern'] as string);
    if (problem !== null) issues.push(at('pattern', problem));
  }
  return issues;
}

/** `\b` right before or after a Han/Kana literal: \b never holds there (it only sees [A-Za-z0-9_]). */
const BOUNDARY_BESIDE_CJK =
  /\\b[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]|[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]\\b/u;

/** Why a pattern cannot be used, or null. */
export function patternProblem(pattern: string): string | null {
  try {
    void new RegExp(pattern, 'giu'); // only checks the syntax
  } catch (err) {
    return `The pattern is not a valid regular expression (${err instanceof Error ? err.message : String(err)}).`;
  }
  if (!safeRegex(pattern, { limit: 25 }) || repeatsAlternation(pattern))
    return 'The pattern repeats a repetition (like (a+)+ or (x|xy)*), which can take minutes on one sentence; write it without nested repeats.';
  if (BOUNDARY_BESIDE_CJK.test(pattern))
    return 'The pattern puts \\b next to a Chinese or Japanese character, where it never matches (\\b only sees Latin letters and digits); leave the \\b out.';
  if (/\\[1-9]|\\k</.test(pattern))
    return 'The pattern refers back to an earlier group (\\1, \\k<name>), which can take minutes on one sentence.';
  return null;
}

/**
 * Whether a group holding alternatives is repeated ((a|ab)*, (x|y){2,}): overlapping alternatives
 * under a repeat backtrack exponentially, and safe-regex2's star-height check does not see them.
 */
function repeatsAlternation(pattern: string): boolean {
  const open: boolean[] = []; // per open group: has a top-level '|'
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') open.push(false);
    else if (c === '|' && open.length > 0) open[open.length - 1] = true;
    else if (c === ')') {
      const alternated = open.pop() ?? false;
      const next = pattern[i + 1];
      const repeated = next === '*' || next === '+' || (next === '{' && !/^\{[01](,[01])?\}/.test(pattern.slice(i + 1)));
      if (alternated && repeated) return true;
    }
  }
  return false;
}

function fieldOf(e: ValueError): string | undefined {
  const field = e.path.split('/').filter((p) => p !== '')[0];
  return field === undefined ? undefined : field;
}

/** TypeBox's error, said plainly, naming the field. */
function plain(e: ValueError): string {
  const parts = e.path.split('/').filter((p) => p !== '');
  const name = parts[0] === undefined ? 'The rule' : parts.length > 1 ? `Entry ${Number(parts[1]) + 1} of "${parts[0]}"` : `"${parts[0]}"`;
  const s = e.schema as {
    minimum?: number;
    maximum?: number;
    minLength?: number;
    maxLength?: number;
    minItems?: number;
    maxItems?: number;
  };
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return `${name} is missing.`;
    case ValueErrorType.ObjectAdditionalProperties:
      return `This kind of rule has no setting ${name}.`;
    case ValueErrorType.Number:
    case ValueErrorType.Integer:
      return e.type === ValueErrorType.Integer ? `${name} must be a whole number.` : `${name} must be a number.`;
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.IntegerMaximum:
      return `${name} must be between ${s.minimum ?? '-∞'} and ${s.maximum ?? '∞'}.`;
    case ValueErrorType.StringMinLength:
      return `${name} must not be empty.`;
    case ValueErrorType.StringMaxLength:
      return `${name} is too long (at most ${s.maxLength} characters).`;
    case ValueErrorType.StringPattern:
      return parts[0] === 'id'
        ? 'The id may use only lower-case letters, digits and dashes (1 to 63, not starting with a dash).'
        : `${name} has the wrong form.`;
    case ValueErrorType.ArrayMinItems:
      return `${name} needs at least ${s.minItems} entr${s.minItems === 1 ? 'y' : 'ies'}.`;
    case ValueErrorType.ArrayMaxItems:
      return `${name} may hold at most ${s.maxItems} entries.`;
    case ValueErrorType.Array:
      return `${name} must be a list.`;
    case ValueErrorType.String:
      return `${name} must be text.`;
    case ValueErrorType.Boolean:
      return `${name} must be yes or no (true or false).`;
    case ValueErrorType.Literal:
    case ValueErrorType.Union:
      return `${name} has a value this rule does not know.`;
    default:
      return `${name}: ${e.message}.`;
  }
}

/** Validate a rule set; throws EVX_ERR_QA_RULES whose details carry every issue in plain language. */
export function validateRuleSet(input: unknown): QaRuleSet {
  const issues = ruleSetIssues(input);
  if (issues.length > 0 || !Value.Check(QaRuleSet, input)) {
    const first = issues[0];
    const where = first?.rule !== undefined ? `rule "${first.rule}": ` : first?.index !== undefined ? `rule ${first.index + 1}: ` : '';
    throw evxError('EVX_ERR_QA_RULES', `The QA rules cannot be used: ${where}${first?.message ?? 'they do not match the schema.'}`, {
      details: { issues },
    });
  }
  return input;
}
