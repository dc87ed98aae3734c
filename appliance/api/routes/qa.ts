/**
 * QA API: the rule set (GET/PUT, versioned), per-call scorecards (paged, filterable) and per-agent /
 * per-group summaries. Scorecards carry rule outcomes and configured phrases, never transcript text.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { evxError } from '../../errors.js';
import type { QaService } from '../../qa/qaService.js';
import { QaRuleSet } from '../../qa/rules.js';

const ScorecardQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    before: Type.Optional(Type.Integer({ minimum: 0, description: 'Only scorecards scored before this unix ms (keyset paging)' })),
    agent: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    group: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    passed: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const SummaryQuery = Type.Object(
  {
    by: Type.Union([Type.Literal('agent'), Type.Literal('group')], { default: 'agent' }),
    from: Type.Optional(Type.Integer({ minimum: 0, description: 'Calls started at or after this unix ms (default: 24 h ago)' })),
    to: Type.Optional(Type.Integer({ minimum: 0, description: 'Calls started before this unix ms (default: now)' })),
  },
  { additionalProperties: false },
);

export function registerQaRoutes(app: FastifyInstance, deps: { qa: QaService; now?: () => number }): void {
  const now = deps.now ?? Date.now;
  app.get('/api/v1/qa/rules', { schema: { summary: 'The QA rules in force (version 0 = built-in defaults)' } }, async () =>
    deps.qa.rules(),
  );

  app.put<{ Body: Static<typeof QaRuleSet> }>(
    '/api/v1/qa/rules',
    {
      schema: { summary: 'Replace the QA rule set; calls ending from now on are scored with it', body: QaRuleSet },
      // Validated by validateRuleSet (EVX_ERR_QA_RULES with the failing path): ajv's removeAdditional
      // would strip keys from a union member it tried first and corrupt the rules.
      validatorCompiler: () => (data: unknown) => ({ value: data }),
    },
    async (request) => {
      const user = (request as { user?: { username?: string } }).user?.username ?? 'api';
      return deps.qa.setRules(request.body, user);
    },
  );

  app.get<{ Querystring: Static<typeof ScorecardQuery> }>(
    '/api/v1/qa/scorecards',
    { schema: { summary: 'Per-call QA scorecards, newest first, keyset-paged', querystring: ScorecardQuery } },
    async (request) => {
      const q = request.query;
      const scorecards = deps.qa.repo.list({ limit: q.limit, before: q.before, agentLabel: q.agent, groupId: q.group, passed: q.passed });
      const last = scorecards[scorecards.length - 1];
      return { scorecards, nextBefore: scorecards.length === q.limit && last ? last.scoredAt : null };
    },
  );

  app.get<{ Params: { callId: string } }>(
    '/api/v1/qa/scorecards/:callId',
    { schema: { summary: "One call's QA scorecard", params: Type.Object({ callId: Type.String({ minLength: 1, maxLength: 200 }) }) } },
    async (request) => {
      const card = deps.qa.repo.scorecard(request.params.callId);
      if (card === undefined) throw evxError('EVX_ERR_NOT_FOUND', 'no scorecard for this call', { details: { resource: 'scorecard' } });
      return card;
    },
  );

  app.get<{ Querystring: Static<typeof SummaryQuery> }>(
    '/api/v1/qa/summary',
    { schema: { summary: 'QA pass rates and mean scores per agent label or per group', querystring: SummaryQuery } },
    async (request) => {
      const to = request.query.to ?? now();
      const from = request.query.from ?? to - 86_400_000;
      return { by: request.query.by, from, to, rows: deps.qa.repo.summary(request.query.by, from, to) };
    },
  );
}
