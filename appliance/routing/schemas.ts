/**
 * TypeBox schemas of the routing configuration (groups, agents, rules, scripts), shared by the API
 * (request validation, OpenAPI) and the service (cross-reference checks before anything is stored).
 */
import { Type, type Static } from '@sinclair/typebox';
import { evxError } from '../errors.js';
import type { QueuePolicy, RoutingRules } from './types.js';

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

const Clock = Type.String({
  pattern: '^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$',
  description: "Time of day on the site's clock (acd.timeZone), HH:MM; 24:00 is the end of the day",
});
const OpeningIntervalSchema = Type.Object({ from: Clock, to: Clock }, { additionalProperties: false });
const DayHours = Type.Array(OpeningIntervalSchema, { maxItems: 12, description: 'Opening intervals of the day (none: closed)' });

export const BusinessHoursSchema = Type.Object(
  {
    weekly: Type.Object(
      {
        mon: Type.Optional(DayHours),
        tue: Type.Optional(DayHours),
        wed: Type.Optional(DayHours),
        thu: Type.Optional(DayHours),
        fri: Type.Optional(DayHours),
        sat: Type.Optional(DayHours),
        sun: Type.Optional(DayHours),
      },
      { additionalProperties: false, description: 'Opening intervals per weekday; a day left out is closed' },
    ),
    holidays: Type.Optional(
      Type.Array(
        Type.Object(
          {
            date: Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: "The site's calendar date, YYYY-MM-DD" }),
            name: Type.Optional(Type.String({ maxLength: 100 })),
            open: Type.Optional(
              Type.Array(OpeningIntervalSchema, { maxItems: 12, description: 'Partial day: open only in these; absent: closed' }),
            ),
          },
          { additionalProperties: false },
        ),
        { maxItems: 400 },
      ),
    ),
  },
  { additionalProperties: false },
);

export const QueuePolicySchema = Type.Object(
  {
    hours: Type.Optional(BusinessHoursSchema),
    whenClosed: Type.Optional(
      Type.Union([Type.Literal('message'), Type.Literal('callback')], {
        description: 'Closed: the closed prompt then hang up (message, the default), or a callback offer',
      }),
    ),
    maxQueued: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 10_000, description: "Most calls waiting; the next one gets the group's overflow rule" }),
    ),
    maxWaitS: Type.Optional(
      Type.Integer({
        minimum: 10,
        maximum: 86_400,
        description:
          'Longest actual wait before maxWaitAction; a call the action cannot move (no group can take an overflow) keeps waiting and is checked again maxWaitS later',
      }),
    ),
    maxWaitAction: Type.Optional(
      Type.Union([Type.Literal('overflow'), Type.Literal('callback'), Type.Literal('message')], {
        description:
          'After maxWaitS: another group (maxWaitGroup or an adjacent one), a callback offer, or "please call later" and hang up',
      }),
    ),
    maxWaitGroup: Type.Optional(Id),
    serviceLevelS: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 3600, description: 'Service-level threshold T (default acd.serviceLevelS)' }),
    ),
    announceIntervalS: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 3600,
        description: 'Seconds between position and expected-wait announcements (0: none; default 30)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type QueuePolicyInput = Static<typeof QueuePolicySchema>;

export const SkillGroupSchema = Type.Object(
  {
    id: Id,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    intents: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 500 }),
    adjacent: Type.Array(Id, { maxItems: 20, default: [] }),
    overflow: OverflowRuleSchema,
    queue: Type.Optional(QueuePolicySchema),
    language: Type.Optional(
      Type.Union([Type.Literal('en'), Type.Literal('zh'), Type.Literal('auto')], {
        description: 'Speech language of calls to the numbers this group serves (sip.dids queue): en, zh or auto',
      }),
    ),
  },
  { additionalProperties: false },
);
export type SkillGroupInput = Static<typeof SkillGroupSchema>;

/** An agent's SIP account as written: the password is sealed when stored and never read back. */
export const AgentSipInputSchema = Type.Object(
  {
    username: Type.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$',
      description: "The user part the agent's phones register with (letters, digits, _ . + -); unique among agents",
    }),
    password: Type.Optional(
      Type.String({
        minLength: 8,
        maxLength: 128,
        pattern: '^[\\x21-\\x7e]+$',
        description: 'Digest password (8-128 printable characters, no spaces); absent: keep the stored one',
      }),
    ),
  },
  { additionalProperties: false, description: 'SIP account for registering phones with the box; absent: none' },
);
export type AgentSipInput = Static<typeof AgentSipInputSchema>;

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
    sip: Type.Optional(AgentSipInputSchema),
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
        /** The caller's latest emotion category (e.g. angry): next-best-action cards (assist/nextBestActions.ts). */
        emotions: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 20 })),
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
 * adjacent groups and agent skills that name existing groups. Throws EVX_ERR_ROUTING_CONFIG: the
 * first problem's message and details as before, and every problem in details.issues (key such as
 * agents.1.skills.0.group or groups.2.adjacent, code, message, params), the shape configuration
 * issues have.
 */
export function checkRoutingConfig(
  groups: readonly {
    readonly id: string;
    readonly intents: readonly string[];
    readonly adjacent: readonly string[];
    readonly overflow: { readonly action: string; readonly selfServiceUri?: string | undefined };
    readonly queue?: QueuePolicy | undefined;
  }[],
  agents: readonly {
    readonly id: string;
    readonly skills: readonly { readonly group: string }[];
    readonly sip?: { readonly username: string } | undefined;
  }[],
  rules: Pick<RoutingRules, 'defaultGroup'>,
): void {
  const found: { message: string; details: Record<string, unknown>; issue: RoutingIssue }[] = [];
  const note =
    (key: string) =>
    (message: string, details: Record<string, unknown>, code: RoutingIssue['code'] = /does not exist/.test(message) ? 'ref' : 'rule') => {
      const field = typeof details['field'] === 'string' && !key.startsWith('agents.') ? `.${details['field']}` : '';
      const params: Record<string, string | number> = {};
      for (const [k, v] of Object.entries(details)) if (typeof v === 'string' || typeof v === 'number') params[k] = v;
      found.push({ message, details, issue: { key: `${key}${field}`, code, message, params } });
    };
  const ids = new Set<string>();
  const owner = new Map<string, string>();
  groups.forEach((g, gi) => {
    const bad = note(`groups.${gi}`);
    if (ids.has(g.id)) bad(`duplicate group id ${g.id}`, { group: g.id }, 'unique');
    ids.add(g.id);
    for (const intent of g.intents) {
      const prev = owner.get(intent);
      if (prev !== undefined) bad(`intent ${intent} is in groups ${prev} and ${g.id}`, { intent, groups: [prev, g.id] }, 'unique');
      owner.set(intent, g.id);
    }
  });
  groups.forEach((g, gi) => {
    for (const a of g.adjacent) {
      if (!ids.has(a)) note(`groups.${gi}.adjacent`)(`group ${g.id}: adjacent group ${a} does not exist`, { group: g.id, adjacent: a });
      if (a === g.id) note(`groups.${gi}.adjacent`)(`group ${g.id} is adjacent to itself`, { group: g.id });
    }
    if (g.overflow.action === 'self-service' && !g.overflow.selfServiceUri)
      note(`groups.${gi}.overflow.selfServiceUri`)(
        `group ${g.id}: self-service overflow needs selfServiceUri`,
        { group: g.id },
        'required',
      );
    if (g.queue !== undefined)
      checkQueuePolicy(g.id, g.queue, g.adjacent, ids, (message, details) => note(`groups.${gi}.queue`)(message, details));
  });
  if (groups.length > 0 && !ids.has(rules.defaultGroup))
    note('rules.defaultGroup')(`default group ${rules.defaultGroup} does not exist`, { defaultGroup: rules.defaultGroup });
  // agent errors name the agent and the field (relative to the agent) so a form can show them next to it
  const agentIds = new Set<string>();
  const usernames = new Map<string, string>();
  agents.forEach((a, ai) => {
    if (agentIds.has(a.id)) note(`agents.${ai}.id`)(`duplicate agent id ${a.id}`, { agent: a.id, field: 'id' }, 'unique');
    agentIds.add(a.id);
    a.skills.forEach((s, i) => {
      if (!ids.has(s.group))
        note(`agents.${ai}.skills.${i}.group`)(`agent ${a.id}: skill group ${s.group} does not exist`, {
          agent: a.id,
          field: `skills.${i}.group`,
          group: s.group,
        });
    });
    if (a.sip === undefined) return;
    // SIP user parts compare case-sensitively, but two that differ only in case are one mistake waiting to happen
    const key = a.sip.username.toLowerCase();
    const other = usernames.get(key);
    if (other !== undefined)
      note(`agents.${ai}.sip.username`)(
        `agent ${a.id}: SIP username ${a.sip.username} is already agent ${other}'s`,
        { agent: a.id, field: 'sip.username', other },
        'unique',
      );
    usernames.set(key, a.id);
  });
  const first = found[0];
  if (first !== undefined)
    throw evxError('EVX_ERR_ROUTING_CONFIG', first.message, { details: { ...first.details, issues: found.map((f) => f.issue) } });
}

/** One problem of the routing configuration, in the shape of a configuration issue (config/validate.ts). */
export interface RoutingIssue {
  key: string;
  code: 'ref' | 'unique' | 'required' | 'rule';
  message: string;
  params: Record<string, string | number>;
}

/** HH:MM (24:00 included) as minutes since midnight. */
export function clockMinutes(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

function isCalendarDate(date: string): boolean {
  const d = new Date(`${date}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === date;
}

/** What the queue policy schema cannot say: intervals that run forward, real and unique holiday dates, an overflow target. */
function checkQueuePolicy(
  groupId: string,
  q: QueuePolicy,
  adjacent: readonly string[],
  ids: ReadonlySet<string>,
  bad: (message: string, details: Record<string, unknown>) => void,
): void {
  const intervals = (where: string, list: readonly { from: string; to: string }[] | undefined) => {
    for (const i of list ?? [])
      if (clockMinutes(i.from) >= clockMinutes(i.to))
        bad(`group ${groupId}: ${where} interval ${i.from}-${i.to} does not run forward`, { group: groupId, field: where });
  };
  for (const [day, list] of Object.entries(q.hours?.weekly ?? {})) intervals(`hours.weekly.${day}`, list);
  const dates = new Set<string>();
  for (const h of q.hours?.holidays ?? []) {
    if (!isCalendarDate(h.date))
      bad(`group ${groupId}: holiday ${h.date} is not a calendar date`, { group: groupId, field: 'hours.holidays' });
    if (dates.has(h.date)) bad(`group ${groupId}: holiday ${h.date} is listed twice`, { group: groupId, field: 'hours.holidays' });
    dates.add(h.date);
    intervals(`holiday ${h.date}`, h.open);
  }
  if (q.announceIntervalS !== undefined && q.announceIntervalS > 0 && q.announceIntervalS < 10)
    bad(`group ${groupId}: announceIntervalS must be 0 (off) or at least 10`, { group: groupId, field: 'announceIntervalS' });
  if (q.maxWaitGroup !== undefined) {
    if (!ids.has(q.maxWaitGroup))
      bad(`group ${groupId}: maxWaitGroup ${q.maxWaitGroup} does not exist`, { group: groupId, maxWaitGroup: q.maxWaitGroup });
    if (q.maxWaitGroup === groupId) bad(`group ${groupId}: maxWaitGroup is the group itself`, { group: groupId });
  }
  if (q.maxWaitAction === 'overflow' && q.maxWaitGroup === undefined && adjacent.length === 0)
    bad(`group ${groupId}: maxWaitAction overflow needs maxWaitGroup or an adjacent group`, { group: groupId, field: 'maxWaitAction' });
}
