/**
 * Contact-centre KPIs API (supervisors and technicians): the real-time figures per skill group and
 * overall, and the per-interval figures of a range (docs/kpis.md has the definitions). Aggregates
 * only: no call ids, agent ids, names or numbers — except the per-agent report (supervisors), whose
 * rows are per agent id (staff identifiers, kept on the box).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { evxError } from '../../errors.js';
import type { IntervalKpis, KpiSnapshot, RangeAgentKpis } from '../../acd/kpis.js';
import type { ResolvedThresholds } from '../../acd/wallboardThresholds.js';
import { agentKpiCsv, kpiCsv } from '../../acd/kpiCsv.js';
import type { ChannelKpiSnapshot } from '../../conversations/channelKpis.js';

const Nullable = (description: string) => Type.Union([Type.Number(), Type.Null()], { description });

const QueueKpisView = Type.Object(
  {
    offered: Type.Integer(),
    answered: Type.Integer(),
    answeredWithinThreshold: Type.Integer(),
    abandoned: Type.Integer({ description: 'All abandons, short ones included' }),
    shortAbandoned: Type.Integer(),
    overflowedOut: Type.Integer({ description: 'Left this group for another (0 overall)' }),
    transferred: Type.Integer({ description: 'Transfers by agents of answered calls (to another agent or a queue)' }),
    handled: Type.Integer({ description: 'Answered calls whose wrap-up has ended' }),
    serviceLevel: Nullable('Answered within T / (answered + abandoned − short abandoned); null with no such calls'),
    averageSpeedOfAnswerS: Nullable('ASA, seconds'),
    averageAbandonTimeS: Nullable('Mean wait of abandons that are not short, seconds'),
    averageHandleTimeS: Nullable('AHT: (talk + hold + wrap-up) / handled, seconds'),
    talkS: Type.Number(),
    holdS: Type.Number(),
    wrapUpS: Type.Number(),
    agentTimeS: Type.Object(
      { available: Type.Number(), ringing: Type.Number(), onCall: Type.Number(), wrapUp: Type.Number(), away: Type.Number() },
      { additionalProperties: false },
    ),
    occupancy: Nullable('(on call + wrap-up) / (on call + wrap-up + available + ringing)'),
  },
  { additionalProperties: false },
);

const RealTimeView = Type.Object(
  {
    waiting: Type.Integer({ description: 'Calls waiting now' }),
    longestWaitingS: Nullable('Wait of the oldest waiting call; null when nobody waits'),
    agents: Type.Object(
      { available: Type.Integer(), ringing: Type.Integer(), 'on-call': Type.Integer(), 'wrap-up': Type.Integer(), away: Type.Integer() },
      { additionalProperties: false, description: 'Logged-in agents by state' },
    ),
    currentInterval: QueueKpisView,
  },
  { additionalProperties: false },
);

const Span = Type.Object({ start: Type.Integer(), end: Type.Integer() }, { additionalProperties: false });

const ChannelView = Type.Object(
  {
    waiting: Type.Integer({ description: 'Conversations waiting for an agent (offered or not yet routed, not accepted)' }),
    longestWaitingS: Nullable('Oldest current wait; null when none waits'),
    active: Type.Integer({ description: 'Conversations an agent holds' }),
    open: Type.Integer({ description: 'waiting + active (for e-mail: open cases)' }),
    firstResponse: Type.Object(
      { count: Type.Integer(), p50S: Nullable('median, seconds'), p95S: Nullable('95th percentile, seconds') },
      {
        additionalProperties: false,
        description: "Customer's first message to the agent's first reply, conversations started in the window",
      },
    ),
  },
  { additionalProperties: false },
);

const ChannelsView = Type.Object(
  {
    at: Type.Integer(),
    windowS: Type.Number({ description: 'first-response window, seconds' }),
    channels: Type.Object({ chat: ChannelView, email: ChannelView }, { additionalProperties: false }),
    groups: Type.Object(
      { chat: Type.Record(Type.String(), ChannelView), email: Type.Record(Type.String(), ChannelView) },
      { additionalProperties: false, description: 'Per skill group (`unrouted`: no group yet)' },
    ),
  },
  { additionalProperties: false, description: 'Text channels (chat, e-mail) from the conversations table' },
);

const KpisReply = Type.Object(
  {
    at: Type.Integer({ description: 'unix ms of the figures' }),
    interval: Span,
    groups: Type.Record(Type.String(), RealTimeView),
    overall: RealTimeView,
    channels: Type.Optional(ChannelsView),
  },
  { additionalProperties: false },
);

const IntervalView = Type.Object(
  { start: Type.Integer(), end: Type.Integer(), groups: Type.Record(Type.String(), QueueKpisView), overall: QueueKpisView },
  { additionalProperties: false },
);

/** The last millisecond of the year 9999: a report's bounds stay dates (the CSV's file name and columns are ISO dates). */
const MAX_TIME_MS = 253_402_300_799_999;

const IntervalsQuery = Type.Object(
  {
    from: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_TIME_MS,
        description: 'unix ms, rounded down to an interval start (default: 24 h before to)',
      }),
    ),
    to: Type.Optional(
      Type.Integer({ minimum: 0, maximum: MAX_TIME_MS, description: 'unix ms, rounded up to an interval end (default: now)' }),
    ),
  },
  { additionalProperties: false },
);

const IntervalsReply = Type.Object(
  {
    from: Type.Integer(),
    to: Type.Integer(),
    intervalMs: Type.Integer(),
    intervals: Type.Array(IntervalView, { description: 'Kept intervals (the last 24 h) overlapping the range, oldest first' }),
  },
  { additionalProperties: false },
);

const ThresholdView = Type.Object(
  { amber: Type.Number(), red: Type.Number(), higherIsBetter: Type.Boolean() },
  { additionalProperties: false },
);
const ThresholdSet = Type.Object(
  {
    waiting: ThresholdView,
    longestWaitingS: ThresholdView,
    serviceLevel: ThresholdView,
    averageSpeedOfAnswerS: ThresholdView,
    abandonRate: ThresholdView,
    averageHandleTimeS: ThresholdView,
  },
  { additionalProperties: false },
);
const ThresholdsReply = Type.Object(
  { overall: ThresholdSet, groups: Type.Record(Type.String(), ThresholdSet) },
  { additionalProperties: false },
);

const CsvQuery = Type.Object(
  {
    from: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_TIME_MS, description: 'unix ms (default: 24 h before to)' })),
    to: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_TIME_MS, description: 'unix ms (default: now)' })),
    group: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "One view only: 'overall' or a skill group id" })),
  },
  { additionalProperties: false },
);

const AgentKpisView = Type.Object(
  {
    agentId: Type.String(),
    rung: Type.Integer({ description: 'Rings of the agent (calls offered to them)' }),
    answered: Type.Integer({ description: 'Calls answered from the queue (first answers, as in the group figures)' }),
    notAnswered: Type.Integer({ description: 'Rings that ended unanswered: no answer, rejected, caller gone' }),
    transferred: Type.Integer({ description: 'Calls the agent handed on' }),
    handled: Type.Integer(),
    talkS: Type.Number(),
    holdS: Type.Number(),
    wrapUpS: Type.Number(),
    handleTimeS: Type.Number({ description: 'talk + hold + wrap-up, seconds' }),
    averageHandleTimeS: Nullable('AHT: (talk + hold + wrap-up) / handled, seconds'),
    averageAnswerTimeS: Nullable('Mean ring time of the answered rings, seconds'),
  },
  { additionalProperties: false },
);

const AgentsReply = Type.Object(
  {
    from: Type.Integer(),
    to: Type.Integer(),
    group: Type.String({ description: "'overall' or the skill group id" }),
    agents: Type.Array(AgentKpisView, { description: 'Agents with figures in the range, by id' }),
  },
  { additionalProperties: false },
);

/** A report's range: `to` defaults to now, `from` to a day before it; from must be before to. */
function reportRange(query: { from?: number; to?: number }, now: number): { from: number; to: number } {
  const to = query.to ?? now;
  const from = query.from ?? to - 86_400_000;
  if (from >= to) throw evxError('EVX_ERR_BAD_REQUEST', 'from must be before to', { details: { field: 'from' } });
  return { from, to };
}

function agentRange(query: Static<typeof CsvQuery>, now: number): { from: number; to: number; group: string | undefined } {
  return { ...reportRange(query, now), group: query.group === undefined || query.group === 'overall' ? undefined : query.group };
}

/** A report as a CSV download named after its kind and the range's start. */
function sendCsv(reply: FastifyReply, kind: string, from: number, csv: string): FastifyReply {
  const name = `edgevox-${kind}-${new Date(from).toISOString().slice(0, 16).replace(/\D/g, '')}.csv`;
  return reply
    .header('content-type', 'text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${name}"`)
    .header('cache-control', 'no-store')
    .send(csv);
}

export interface AcdRoutesDeps {
  /** The wallboard's configured tile limits (acd.wallboard, acd.serviceLevelTarget) overall and per skill group. */
  readonly thresholds: () => ResolvedThresholds;
  readonly kpis: {
    readonly intervalMs: number;
    snapshot(): KpiSnapshot;
    intervals(from: number, to: number): IntervalKpis[];
    agentFigures(from: number, to: number, group?: string): RangeAgentKpis;
    now(): number;
  };
  /** The text channels' figures (chat, e-mail), served with the voice snapshot. */
  readonly channels?: { snapshot(): ChannelKpiSnapshot };
}

export function registerAcdRoutes(app: FastifyInstance, deps: AcdRoutesDeps): void {
  const tags = ['acd'];
  app.get(
    '/api/v1/acd/kpis',
    {
      schema: {
        tags,
        summary: 'Contact-centre figures now, per skill group and overall: waiting, longest wait, agents by state, the current interval',
        response: { 200: KpisReply },
      },
      // the wallboard's figures (aggregates only): every signed-in role, a wall TV's kiosk sign-in included
      config: { minRole: 'kiosk' },
    },
    async (): Promise<Static<typeof KpisReply>> =>
      deps.channels === undefined ? deps.kpis.snapshot() : { ...deps.kpis.snapshot(), channels: deps.channels.snapshot() },
  );

  app.get<{ Querystring: Static<typeof IntervalsQuery> }>(
    '/api/v1/acd/kpis/intervals',
    {
      schema: {
        tags,
        summary: 'Contact-centre figures per interval (15 min by default) of a range, per skill group and overall',
        querystring: IntervalsQuery,
        response: { 200: IntervalsReply },
      },
      config: { minRole: 'supervisor' },
    },
    async (request): Promise<Static<typeof IntervalsReply>> => {
      const { from, to } = reportRange(request.query, deps.kpis.now());
      const step = deps.kpis.intervalMs;
      const intervals = deps.kpis.intervals(from, to);
      return { from: Math.floor(from / step) * step, to: Math.ceil(to / step) * step, intervalMs: step, intervals };
    },
  );

  app.get<{ Querystring: Static<typeof CsvQuery> }>(
    '/api/v1/acd/kpis/intervals.csv',
    {
      schema: {
        tags,
        summary:
          'The per-interval figures of a range as CSV (a row per interval and view: overall, then each skill group), for spreadsheets',
        querystring: CsvQuery,
        produces: ['text/csv'],
      },
      config: { minRole: 'supervisor' },
    },
    async (request, reply) => {
      const { from, to } = reportRange(request.query, deps.kpis.now());
      return sendCsv(reply, 'kpis', from, kpiCsv(deps.kpis.intervals(from, to), request.query.group));
    },
  );

  app.get<{ Querystring: Static<typeof CsvQuery> }>(
    '/api/v1/acd/kpis/agents',
    {
      schema: {
        tags,
        summary: 'Contact-centre figures per agent over a range (kept intervals, the last 24 h), overall or for one skill group',
        querystring: CsvQuery,
        response: { 200: AgentsReply },
      },
      config: { minRole: 'supervisor' },
    },
    async (request): Promise<Static<typeof AgentsReply>> => {
      const { from, to, group } = agentRange(request.query, deps.kpis.now());
      const r = deps.kpis.agentFigures(from, to, group);
      return { from: r.from, to: r.to, group: group ?? 'overall', agents: [...r.agents] };
    },
  );

  app.get<{ Querystring: Static<typeof CsvQuery> }>(
    '/api/v1/acd/kpis/agents.csv',
    {
      schema: {
        tags,
        summary: 'The per-agent figures of a range as CSV (a row per agent), for spreadsheets',
        querystring: CsvQuery,
        produces: ['text/csv'],
      },
      config: { minRole: 'supervisor' },
    },
    async (request, reply) => {
      const { from, to, group } = agentRange(request.query, deps.kpis.now());
      return sendCsv(reply, 'agents', from, agentKpiCsv(deps.kpis.agentFigures(from, to, group), group));
    },
  );

  app.get(
    '/api/v1/acd/wallboard/thresholds',
    {
      schema: {
        tags,
        summary: 'Wallboard tile colours: amber and red limits of each figure overall and per skill group (acd.wallboard)',
        response: { 200: ThresholdsReply },
      },
      config: { minRole: 'kiosk' },
    },
    async (): Promise<Static<typeof ThresholdsReply>> => deps.thresholds(),
  );
}
