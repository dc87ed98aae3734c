/**
 * Forecasting and staffing API (supervisors): interval history per skill group, forecast vs actual
 * for 1-28 days, agents needed per interval (Erlang C and Erlang A), the export of both as CSV, the
 * site's special days and the forecast settings (targets, shrinkage, the scale-up alert). Counts and
 * times per group only: no call ids, caller hashes or agent names. Changes are audited with the
 * signed-in principal as the actor.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { evxError } from '../../errors.js';
import { forecastCsv } from '../../forecast/forecastCsv.js';
import { ALL_GROUPS } from '../../forecast/historyRepo.js';
import { DAY_MS, MAX_FORECAST_DAYS, type ForecastService } from '../../forecast/forecastService.js';
import { isCalendarDate, type ForecastPlanRepo, type SpecialDayInput } from '../../forecast/planRepo.js';
import { ForecastSettingsSchema, type ForecastSettings } from '../../forecast/settings.js';
import type { AuditRepo } from '../../store/repos/audit.js';

/** The all-groups view in `group` (a skill group id starts with a letter or digit, so it cannot clash). */
export const ALL_GROUPS_PARAM = '_all';
const GROUP = Type.String({
  pattern: '^(_all|[A-Za-z0-9][A-Za-z0-9_.-]{0,63})$',
  default: ALL_GROUPS_PARAM,
  description: 'A skill group id, or _all for all groups (each call once)',
});
const INTERVAL = Type.Optional(
  Type.Integer({
    minimum: 1,
    maximum: 60,
    description: "Interval length in minutes: the ACD's (15 by default) or 2 or 4 times it, up to 60",
  }),
);
const MAX_HISTORY_RANGE_MS = 92 * DAY_MS;

const HistoryQuery = Type.Object(
  {
    group: GROUP,
    interval: INTERVAL,
    from: Type.Optional(Type.Integer({ minimum: 0, description: 'unix ms (default: 7 days before to)' })),
    to: Type.Optional(Type.Integer({ minimum: 0, description: 'unix ms (default: now); at most 92 days after from' })),
  },
  { additionalProperties: false },
);
const ForecastQuery = Type.Object(
  {
    group: GROUP,
    interval: INTERVAL,
    days: Type.Integer({ minimum: 1, maximum: MAX_FORECAST_DAYS, default: 1, description: 'Site-local days from today (1-28)' }),
  },
  { additionalProperties: false },
);
const DayBody = Type.Object(
  {
    date: Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: "The site's calendar date, YYYY-MM-DD" }),
    group: Type.Optional(
      Type.String({
        pattern: '^(_all|[A-Za-z0-9][A-Za-z0-9_.-]{0,63})$',
        description: 'A skill group id, or _all (default) for every group',
      }),
    ),
    factor: Type.Number({ minimum: 0, maximum: 10, description: 'Expected volume × factor: 1.3 = +30 %, 0.5 = half, 0 = closed' }),
    label: Type.String({ minLength: 1, maxLength: 80, description: 'What the day is (e.g. "Spring sale"); shown to supervisors' }),
  },
  { additionalProperties: false },
);
const DayList = Type.Object(
  {
    from: Type.Optional(Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' })),
    to: Type.Optional(Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' })),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });

export interface ForecastRouteDeps {
  readonly forecast: ForecastService;
  readonly plan: ForecastPlanRepo;
  readonly audit: AuditRepo;
}

function actor(request: FastifyRequest): string {
  return request.principal?.username ?? 'unknown';
}

export function registerForecastRoutes(app: FastifyInstance, deps: ForecastRouteDeps): void {
  const tags = ['forecast'];
  const supervisor = { minRole: 'supervisor' as const };
  const f = deps.forecast;
  /** The stored group id of a `group` parameter; a group neither configured nor in the history is 404. */
  const groupOf = (group: string): string => {
    if (group === ALL_GROUPS_PARAM) return ALL_GROUPS;
    if (!f.groupIds().includes(group))
      throw evxError('EVX_ERR_NOT_FOUND', 'no such skill group', { details: { resource: 'group', group } });
    return group;
  };
  const intervalOf = (minutes: number | undefined): number => (minutes === undefined ? f.intervalMs : minutes * 60_000);
  const dayInput = (body: Static<typeof DayBody>): SpecialDayInput => {
    if (!isCalendarDate(body.date)) throw evxError('EVX_ERR_BAD_REQUEST', 'date is not a calendar date', { details: { field: 'date' } });
    const label = body.label.trim();
    if (label === '') throw evxError('EVX_ERR_BAD_REQUEST', 'label must not be blank', { details: { field: 'label' } });
    return { date: body.date, groupId: groupOf(body.group ?? ALL_GROUPS_PARAM), factor: body.factor, label };
  };
  const dayView = <T extends { groupId: string }>(d: T) => ({ ...d, group: d.groupId === ALL_GROUPS ? ALL_GROUPS_PARAM : d.groupId });

  app.get(
    '/api/v1/forecast/groups',
    {
      schema: { tags, summary: 'Skill groups with a forecast, the interval lengths on offer and the time zone days are counted in' },
      config: supervisor,
    },
    async () => ({
      groups: [ALL_GROUPS_PARAM, ...f.groupIds()],
      intervalsMinutes: f.allowedIntervals().map((ms) => ms / 60_000),
      timeZone: f.timeZone,
      maxDays: MAX_FORECAST_DAYS,
    }),
  );

  app.get<{ Querystring: Static<typeof HistoryQuery> }>(
    '/api/v1/forecast/history',
    {
      schema: {
        tags,
        summary:
          'Interval history of a skill group: offered, answered, abandoned, handled and average handle time per interval (default: the last 7 days)',
        querystring: HistoryQuery,
      },
      config: supervisor,
    },
    async (request) => {
      const q = request.query;
      const to = q.to ?? f.now();
      const from = q.from ?? to - 7 * DAY_MS;
      if (from >= to || to - from > MAX_HISTORY_RANGE_MS)
        throw evxError('EVX_ERR_BAD_REQUEST', 'from must be before to, at most 92 days apart', { details: { field: 'from' } });
      const intervalMs = intervalOf(q.interval);
      return { group: q.group, intervalMs, from, to, intervals: f.history(groupOf(q.group), intervalMs, from, to) };
    },
  );

  app.get<{ Querystring: Static<typeof ForecastQuery> }>(
    '/api/v1/forecast',
    {
      schema: {
        tags,
        summary:
          "Forecast of offered calls and handle time per interval from today's midnight for 1-28 days, with the actuals so far and today's re-forecast",
        querystring: ForecastQuery,
      },
      config: supervisor,
    },
    async (request) => {
      const q = request.query;
      return { ...f.forecast(groupOf(q.group), q.days, intervalOf(q.interval)), group: q.group };
    },
  );

  app.get<{ Querystring: Static<typeof ForecastQuery> }>(
    '/api/v1/forecast/staffing',
    {
      schema: {
        tags,
        summary: 'Agents needed per interval for the service-level and ASA targets, by Erlang C and Erlang A, with shrinkage (scheduled)',
        querystring: ForecastQuery,
      },
      config: supervisor,
    },
    async (request) => {
      const q = request.query;
      return { ...f.staffing(groupOf(q.group), q.days, intervalOf(q.interval)), group: q.group };
    },
  );

  app.get<{ Querystring: Static<typeof ForecastQuery> }>(
    '/api/v1/forecast/export.csv',
    {
      schema: {
        tags,
        summary: 'The forecast, actuals and staffing of a skill group as CSV (a row per interval), for spreadsheets and rostering tools',
        querystring: ForecastQuery,
        produces: ['text/csv'],
      },
      config: supervisor,
    },
    async (request, reply) => {
      const q = request.query;
      const groupId = groupOf(q.group);
      const intervalMs = intervalOf(q.interval);
      const forecast = f.forecast(groupId, q.days, intervalMs);
      const csv = forecastCsv(forecast, f.staffing(groupId, q.days, intervalMs), q.group);
      return sendCsv(reply, `forecast-${q.group}`, forecast.from, csv);
    },
  );

  app.get<{ Querystring: Static<typeof DayList> }>(
    '/api/v1/forecast/special-days',
    {
      schema: { tags, summary: 'Special days (holidays, campaigns) and their expected effect on volume, by date', querystring: DayList },
      config: supervisor,
    },
    async (request) => ({ days: deps.plan.specialDays(request.query.from, request.query.to).map(dayView) }),
  );

  app.post<{ Body: Static<typeof DayBody> }>(
    '/api/v1/forecast/special-days',
    { schema: { tags, summary: 'Add a special day (one per date and group)', body: DayBody }, config: supervisor },
    async (request, reply) => {
      const day = deps.plan.addSpecialDay(dayInput(request.body), actor(request), f.now());
      deps.audit.record(actor(request), 'forecast.specialDay.add', `forecast-day:${day.id}`, {
        date: day.date,
        groupId: day.groupId,
        factor: day.factor,
      });
      f.specialDaysChanged();
      return reply.code(201).send(dayView(day));
    },
  );

  app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof DayBody> }>(
    '/api/v1/forecast/special-days/:id',
    { schema: { tags, summary: 'Change a special day', params: IdParams, body: DayBody }, config: supervisor },
    async (request) => {
      const day = deps.plan.updateSpecialDay(request.params.id, dayInput(request.body), actor(request), f.now());
      if (day === undefined) throw evxError('EVX_ERR_NOT_FOUND', 'no such special day', { details: { resource: 'special-day' } });
      deps.audit.record(actor(request), 'forecast.specialDay.update', `forecast-day:${day.id}`, {
        date: day.date,
        groupId: day.groupId,
        factor: day.factor,
      });
      f.specialDaysChanged();
      return dayView(day);
    },
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/api/v1/forecast/special-days/:id',
    { schema: { tags, summary: 'Delete a special day', params: IdParams }, config: supervisor },
    async (request) => {
      if (!deps.plan.deleteSpecialDay(request.params.id))
        throw evxError('EVX_ERR_NOT_FOUND', 'no such special day', { details: { resource: 'special-day' } });
      deps.audit.record(actor(request), 'forecast.specialDay.delete', `forecast-day:${request.params.id}`);
      f.specialDaysChanged();
      return { deleted: request.params.id };
    },
  );

  app.get(
    '/api/v1/forecast/settings',
    {
      schema: { tags, summary: 'Forecast and staffing settings: targets, shrinkage, patience, model, history, the scale-up alert' },
      config: supervisor,
    },
    async () => f.settings(),
  );

  app.put<{ Body: ForecastSettings }>(
    '/api/v1/forecast/settings',
    {
      schema: { tags, summary: 'Replace the forecast and staffing settings (every field)', body: ForecastSettingsSchema },
      config: supervisor,
    },
    async (request) => {
      const saved = f.saveSettings(request.body, actor(request));
      deps.audit.record(actor(request), 'forecast.settings', 'forecast-settings', saved);
      return saved;
    },
  );
}

/** A CSV download named after its kind and the first day. */
function sendCsv(reply: FastifyReply, kind: string, from: number, csv: string): FastifyReply {
  const name = `edgevox-${kind}-${new Date(from).toISOString().slice(0, 10)}.csv`;
  return reply
    .header('content-type', 'text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${name}"`)
    .header('cache-control', 'no-store')
    .send(csv);
}
