/**
 * TypeBox schemas of the routing configuration (groups, agents, rules, scripts), shared by the API
 * (request validation, OpenAPI) and the service (cross-reference checks before anything is stored).
 */
import { Type, type Static } from '@sinclair/typebox';
import { evxError } from '../errors.js';
import type { RoutingRules } from './types.js';

const Id = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$', description: 'Identifier (letters, digits, _ . -)' });
const SipUri = Type.String({ pattern: '^sips?:[^\\s<>]+$', maxLength: 256, description: 'SIP URI (sip: or sips:)' });

export const OverflowRuleSchema = Type.Object(
  {
    maxWaitMs: Type.Integer({ minimum: 0, maximum: 86_400_000, description: 'Estimated wait above which the overflow action applies' }),
    action: Type.Union([Type.Literal('adjacent'), Type.Literal('callback'), Type.Literal('self-service'), Type.Literal('none')]),
    selfServiceUri: Type.Optional(SipUri),
  },
  { additionalProperties: false },
);

export const SkillGroupSchema = Type.Object(
  {
    id: Id,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    intents: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 500 }),
    adjacent: Type.Array(Id, { maxItems: 20, default: [] }),
    overflow: OverflowRuleSchema,
  },
  { additionalProperties: false },
);
export type SkillGroupInput = Static<typeof SkillGroupSchema>;

export const AgentInputSchema = Type.Object(
  {
    id: Id,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    sipUri: SipUri,
    skills: Type.Array(Type.Object({ group: Id, level: Type.Integer({ minimum: 1, maximum: 5 }) }, { additionalProperties: false }), {
      maxItems: 50,
    }),
    senior: Type.Boolean({ default: false }),
    state: Type.Optional(Type.Union([Type.Literal('available'), Type.Literal('busy'), Type.Literal('wrap-up'), Type.Literal('offline')])),
  },
  { additionalProperties: false },
);
export type AgentInput = Static<typeof AgentInputSchema>;

export const AgentStateSchema = Type.Object(
  { state: Type.Union([Type.Literal('available'), Type.Literal('busy'), Type.Literal('wrap-up'), Type.Literal('offline')]) },
  { additionalProperties: false },
);

export const RulesSchema = Type.Object(
  {
    defaultGroup: Id,
    minIntentConfidence: Type.Number({ minimum: 0, maximum: 1 }),
    groupMassThreshold: Type.Number({ minimum: 0, maximum: 1 }),
    seniorLevel: Type.Integer({ minimum: 1, maximum: 5 }),
    seniorRequired: Type.Boolean(),
    angerThreshold: Type.Number({ minimum: 0, maximum: 1 }),
    complaintIntents: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 500 }),
    churnRiskThreshold: Type.Number({ minimum: 0, maximum: 1 }),
    priority: Type.Object(
      {
        vip: Type.Number({ minimum: 0, maximum: 1000 }),
        repeatCaller: Type.Number({ minimum: 0, maximum: 1000 }),
        complaintRisk: Type.Number({ minimum: 0, maximum: 1000 }),
        angry: Type.Number({ minimum: 0, maximum: 1000 }),
        escalating: Type.Number({ minimum: 0, maximum: 1000 }),
      },
      { additionalProperties: false },
    ),
    avgHandleMs: Type.Integer({ minimum: 1000, maximum: 86_400_000 }),
    vipNeverSelfService: Type.Boolean(),
    queueAlertWaitMs: Type.Integer({ minimum: 1000, maximum: 86_400_000 }),
  },
  { additionalProperties: false },
);
/** Rules as accepted by PUT: any subset, merged over the current rules. */
export const RulesPatchSchema = Type.Partial(RulesSchema, { additionalProperties: false });

export const ScriptSchema = Type.Object(
  {
    id: Id,
    title: Type.String({ minLength: 1, maxLength: 200 }),
    /** When it applies; an empty condition matches every alert of the kinds listed. */
    when: Type.Object(
      {
        alertKinds: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 10 }),
        groups: Type.Optional(Type.Array(Id, { maxItems: 50 })),
        intents: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 200 })),
      },
      { additionalProperties: false },
    ),
    steps: Type.Array(Type.String({ minLength: 1, maxLength: 500 }), { minItems: 1, maxItems: 20 }),
  },
  { additionalProperties: false },
);
export type Script = Static<typeof ScriptSchema>;

export const RoutingConfigSchema = Type.Object(
  {
    groups: Type.Array(SkillGroupSchema, { maxItems: 500 }),
    agents: Type.Array(AgentInputSchema, { maxItems: 5000 }),
    rules: Type.Optional(RulesPatchSchema),
    scripts: Type.Optional(Type.Array(ScriptSchema, { maxItems: 500 })),
  },
  { additionalProperties: false },
);
export type RoutingConfigInput = Static<typeof RoutingConfigSchema>;

/**
 * Cross-reference checks a schema cannot express: unique ids, an intent in at most one group,
 * adjacent groups and agent skills that name existing groups. Throws EVX_ERR_ROUTING_CONFIG.
 */
export function checkRoutingConfig(
  groups: readonly {
    readonly id: string;
    readonly intents: readonly string[];
    readonly adjacent: readonly string[];
    readonly overflow: { readonly action: string; readonly selfServiceUri?: string | undefined };
  }[],
  agents: readonly { readonly id: string; readonly skills: readonly { readonly group: string }[] }[],
  rules: Pick<RoutingRules, 'defaultGroup'>,
): void {
  const bad = (message: string, details: Record<string, unknown>): never => {
    throw evxError('EVX_ERR_ROUTING_CONFIG', message, { details });
  };
  const ids = new Set<string>();
  const owner = new Map<string, string>();
  for (const g of groups) {
    if (ids.has(g.id)) bad(`duplicate group id ${g.id}`, { group: g.id });
    ids.add(g.id);
    for (const intent of g.intents) {
      const prev = owner.get(intent);
      if (prev !== undefined) bad(`intent ${intent} is in groups ${prev} and ${g.id}`, { intent, groups: [prev, g.id] });
      owner.set(intent, g.id);
    }
  }
  for (const g of groups) {
    for (const a of g.adjacent) {
      if (!ids.has(a)) bad(`group ${g.id}: adjacent group ${a} does not exist`, { group: g.id, adjacent: a });
      if (a === g.id) bad(`group ${g.id} is adjacent to itself`, { group: g.id });
    }
    if (g.overflow.action === 'self-service' && !g.overflow.selfServiceUri)
      bad(`group ${g.id}: self-service overflow needs selfServiceUri`, { group: g.id });
  }
  if (groups.length > 0 && !ids.has(rules.defaultGroup))
    bad(`default group ${rules.defaultGroup} does not exist`, { defaultGroup: rules.defaultGroup });
  const agentIds = new Set<string>();
  for (const a of agents) {
    if (agentIds.has(a.id)) bad(`duplicate agent id ${a.id}`, { agent: a.id });
    agentIds.add(a.id);
    for (const s of a.skills)
      if (!ids.has(s.group)) bad(`agent ${a.id}: skill group ${s.group} does not exist`, { agent: a.id, group: s.group });
  }
}
