/**
 * Contact-reason insight API (supervisors): calls per reason per hour or day, reasons rising above
 * their own baseline, repeat callers for the same reason within N days, and a summary for the
 * wallboard tile. Only intent labels and counts: no call ids, caller hashes or text.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { evxError } from '../../errors.js';
import { DAY_MS, type ContactReasonsRepo } from '../../insight/contactReasons.js';
import type { TopicWatch } from '../../insight/topicWatch.js';

const MAX_RANGE_MS = 92 * DAY_MS;
const Range = {
  from: Type.Optional(Type.Integer({ minimum: 0, description: 'Calls started at or after this unix ms (default: see each route)' })),
  to: Type.Optional(Type.Integer({ minimum: 0, description: 'Calls started before this unix ms (default: now); at most 92 days' })),
};
const ReasonsQuery = Type.Object(
  {
    bucket: Type.Union([Type.Literal('hour'), Type.Literal('day')], { default: 'hour' }),
    top: Type.Integer({ minimum: 1, maximum: 50, default: 5, description: 'Reasons listed per bucket' }),
    ...Range,
  },
  { additionalProperties: false },
);
const RepeatQuery = Type.Object(
  {
    days: Type.Integer({ minimum: 1, maximum: 90, default: 7, description: 'A repeat: same caller, same reason within this many days' }),
    ...Range,
  },
  { additionalProperties: false },
);
const RisingQuery = Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }) }, { additionalProperties: false });

export interface InsightRouteDeps {
  reasons: ContactReasonsRepo;
  watch: TopicWatch;
  /** Repeat window of the summary (days). */
  repeatDays: number;
  now?: () => number;
}

export function registerInsightRoutes(app: FastifyInstance, deps: InsightRouteDeps): void {
  const now = deps.now ?? Date.now;
  const range = (q: { from?: number | undefined; to?: number | undefined }, defaultMs: number): { from: number; to: number } => {
    const to = q.to ?? now();
    const from = q.from ?? to - defaultMs;
    if (from >= to || to - from > MAX_RANGE_MS)
      throw evxError('EVX_ERR_BAD_REQUEST', 'from must be before to, at most 92 days apart', { details: { from, to } });
    return { from, to };
  };
  const supervisor = { minRole: 'supervisor' as const };

  app.get<{ Querystring: Static<typeof ReasonsQuery> }>(
    '/api/v1/insight/contact-reasons',
    {
      schema: {
        summary: 'Calls per contact reason (intent) per hour or day, and the top reasons of the period (default: 24 h, or 14 days by day)',
        querystring: ReasonsQuery,
      },
      config: supervisor,
    },
    async (request) => {
      const q = request.query;
      const { from, to } = range(q, q.bucket === 'day' ? 14 * DAY_MS : DAY_MS);
      return {
        bucket: q.bucket,
        from,
        to,
        top: deps.reasons.top(from, to, 10),
        buckets: deps.reasons.perBucket(from, to, q.bucket, q.top),
      };
    },
  );

  app.get<{ Querystring: Static<typeof RisingQuery> }>(
    '/api/v1/insight/rising',
    {
      schema: {
        summary: 'Contact reasons of the last window scored against the same window of the previous days (rising = alert)',
        querystring: RisingQuery,
      },
      config: supervisor,
    },
    async (request) => {
      const at = now();
      const o = deps.watch.options;
      return {
        at,
        method: {
          windowMs: o.windowMs,
          baselineDays: o.baselineDays,
          minBaselineDays: o.minBaselineDays,
          alpha: o.alpha,
          minCount: o.minCount,
        },
        topics: deps.watch.scores(at).slice(0, request.query.limit),
      };
    },
  );

  app.get<{ Querystring: Static<typeof RepeatQuery> }>(
    '/api/v1/insight/repeat-callers',
    {
      schema: {
        summary: 'Calls whose caller called for the same reason within N days before (default period: 7 days); counts only',
        querystring: RepeatQuery,
      },
      config: supervisor,
    },
    async (request) => {
      const { from, to } = range(request.query, 7 * DAY_MS);
      return { from, to, days: request.query.days, ...deps.reasons.repeats(from, to, request.query.days * DAY_MS) };
    },
  );

  app.get(
    '/api/v1/insight/summary',
    {
      schema: { summary: 'For the wallboard: top reasons of the last 24 h, reasons rising now, repeat calls of the last 24 h' },
      config: supervisor,
    },
    async () => {
      const to = now();
      const from = to - DAY_MS;
      const repeats = deps.reasons.repeats(from, to, deps.repeatDays * DAY_MS);
      return {
        at: to,
        top: deps.reasons.top(from, to, 5),
        rising: deps.watch
          .scores(to)
          .filter((s) => s.rising)
          .map(({ intent, count, expected, z }) => ({ intent, count, expected, z })),
        repeats: { days: deps.repeatDays, calls: repeats.calls, repeatCalls: repeats.repeatCalls, top: repeats.byIntent.slice(0, 3) },
      };
    },
  );
}
