/**
 * QA API: the rule set (GET/PUT, versioned; one rule at a time; a dry run against stored calls),
 * per-call scorecards (paged, filterable), a call's scorecard with its transcript and where each rule
 * matched, supervisor overrides with a reason (audited; the original score kept), per-agent / per-group
 * summaries and per-agent / per-rule trends. Reads need a viewer, changes a supervisor. Scorecard
 * lists carry outcomes, configured phrases and character offsets, never transcript text; only the
 * per-call view returns the stored (redacted) transcript.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { evxError } from '../../errors.js';
import type { OverrideChange } from '../../qa/overrides.js';
import type { QaService } from '../../qa/qaService.js';
import { QaRuleSet } from '../../qa/rules.js';

/** The query keys of a QA list (calls' scorecards, conversations'): filters and keyset paging. */
export function qaListQuery(what: 'calls' | 'conversations') {
  const noun = what === 'calls' ? 'Calls' : 'Conversations';
  return {
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    before: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: Number.MAX_SAFE_INTEGER,
        description: 'Keyset paging: nextBefore of the previous page. Alone: only those scored before this unix ms',
      }),
    ),
    beforeId: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: `Keyset paging, with before: nextBeforeId of the previous page (${what === 'calls' ? 'a call' : 'a conversation'} id), so that those scored in the same millisecond after it come too`,
      }),
    ),
    agent: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    group: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    passed: Type.Optional(Type.Boolean({ description: 'Pass or fail after overrides' })),
    rule: Type.Optional(Type.String({ minLength: 1, maxLength: 63, description: `Only ${what} where this rule had ruleOutcome` })),
    ruleOutcome: Type.Union([Type.Literal('pass'), Type.Literal('fail'), Type.Literal('na')], { default: 'fail' }),
    from: Type.Optional(Type.Integer({ minimum: 0, description: `${noun} started at or after this unix ms` })),
    to: Type.Optional(Type.Integer({ minimum: 0, description: `${noun} started before this unix ms` })),
  };
}

/**
 * A QA list query as the repositories take it; a `beforeId` without its `before` is refused. (An
 * infinite `before` never gets here: the server refuses non-finite numbers, api/finiteNumbers.ts.)
 */
export function qaListFilters(q: Static<typeof ScorecardQuery>) {
  if (q.beforeId !== undefined && q.before === undefined)
    throw evxError('EVX_ERR_BAD_REQUEST', 'beforeId pages on only with before (nextBefore and nextBeforeId of the previous page)', {
      details: { field: 'before' },
    });
  return {
    limit: q.limit,
    before: q.before,
    beforeId: q.beforeId,
    agentLabel: q.agent,
    groupId: q.group,
    passed: q.passed,
    rule: q.rule,
    ruleOutcome: q.ruleOutcome,
    from: q.from,
    to: q.to,
  };
}

/**
 * A page of a QA list and the cursor of the next one, its last row's (when scored, id): both null on
 * the last page. Rows scored in one millisecond are ordered by id, so the pair names one place in
 * the list and the next page starts right after it.
 */
export function qaPage<T>(
  rows: T[],
  limit: number,
  scoredAt: (row: T) => number,
  id: (row: T) => string,
): { rows: T[]; nextBefore: number | null; nextBeforeId: string | null } {
  const last = rows.length === limit ? rows[rows.length - 1] : undefined;
  return { rows, nextBefore: last === undefined ? null : scoredAt(last), nextBeforeId: last === undefined ? null : id(last) };
}

const ScorecardQuery = Type.Object(qaListQuery('calls'), { additionalProperties: false });
const CallParams = Type.Object({ callId: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
const RuleParams = Type.Object({ ruleId: Type.String({ minLength: 1, maxLength: 63 }) }, { additionalProperties: false });
const Override = Type.Object(
  {
    ruleId: Type.Optional(Type.String({ minLength: 1, maxLength: 63, description: 'The rule whose outcome changes; absent: the result' })),
    outcome: Type.Union([Type.Literal('pass'), Type.Literal('fail'), Type.Literal('na')]),
    reason: Type.String({ minLength: 3, maxLength: 1000, description: 'Why (kept in the audit log)' }),
  },
  { additionalProperties: false },
);
const TrendsQuery = Type.Object(
  {
    by: Type.Union([Type.Literal('agent'), Type.Literal('rule')], { default: 'agent' }),
    from: Type.Optional(Type.Integer({ minimum: 0, description: 'Calls started at or after this unix ms (default: 14 days ago)' })),
    to: Type.Optional(Type.Integer({ minimum: 0, description: 'Calls started before this unix ms (default: now); at most 92 days' })),
  },
  { additionalProperties: false },
);
const DryRun = Type.Object(
  {
    rules: Type.Unknown({ description: 'A proposed rule set: { rules: [...] }' }),
    from: Type.Optional(Type.Integer({ minimum: 0, description: 'Calls started at or after this unix ms (default: 7 days ago)' })),
    to: Type.Optional(Type.Integer({ minimum: 0, description: 'Calls started before this unix ms (default: now)' })),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 200, description: 'Newest calls of the period scored, at most' }),
  },
  { additionalProperties: false },
);
/** Bodies that are rules are checked by validateRuleSet (every issue, in plain words), not by ajv. */
const passThrough = { validatorCompiler: () => (data: unknown) => ({ value: data }) };
/** The acting user: the signed-in principal (an API token's principal is named token:<name>), never a body field. */
const userOf = (request: FastifyRequest): string => request.principal?.username ?? 'unknown';
const SummaryQuery = Type.Object(
  {
    by: Type.Union([Type.Literal('agent'), Type.Literal('group')], { default: 'agent' }),
    from: Type.Optional(Type.Integer({ minimum: 0, description: 'Calls started at or after this unix ms (default: 24 h ago)' })),
    to: Type.Optional(Type.Integer({ minimum: 0, description: 'Calls started before this unix ms (default: now)' })),
  },
  { additionalProperties: false },
);

/**
 * A supervisor's override of one scorecard, with a reason: a call's (here) or a conversation's
 * (routes/conversationAnalysis.ts). `apply` checks, stores and audits it; 201 with what stands now.
 */
export function registerOverrideRoute<P extends TSchema>(
  app: FastifyInstance,
  url: string,
  params: P,
  summary: string,
  apply: (params: Static<P>, change: OverrideChange, author: string) => unknown,
): void {
  app.post<{ Params: Static<P>; Body: Static<typeof Override> }>(
    url,
    { schema: { summary, params, body: Override }, config: { minRole: 'supervisor' } },
    async (request, reply) => {
      const { ruleId, outcome, reason } = request.body;
      return reply.code(201).send(apply(request.params, { ruleId: ruleId ?? null, outcome, reason }, userOf(request)));
    },
  );
}

export function registerQaRoutes(app: FastifyInstance, deps: { qa: QaService; now?: () => number }): void {
  const now = deps.now ?? Date.now;
  app.get('/api/v1/qa/rules', { schema: { summary: 'The QA rules in force (version 0 = built-in defaults)' } }, async () =>
    deps.qa.rules(),
  );

  app.put<{ Body: Static<typeof QaRuleSet> }>(
    '/api/v1/qa/rules',
    {
      schema: { summary: 'Replace the QA rule set; calls ending from now on are scored with it', body: QaRuleSet },
      config: { minRole: 'supervisor' },
      // Validated by validateRuleSet (EVX_ERR_QA_RULES with the failing path): ajv's removeAdditional
      // would strip keys from a union member it tried first and corrupt the rules.
      validatorCompiler: () => (data: unknown) => ({ value: data }),
    },
    async (request) => {
      return deps.qa.setRules(request.body, userOf(request));
    },
  );

  app.get<{ Querystring: Static<typeof ScorecardQuery> }>(
    '/api/v1/qa/scorecards',
    { schema: { summary: 'Per-call QA scorecards, newest first, keyset-paged', querystring: ScorecardQuery } },
    async (request) => {
      const page = qaPage(
        deps.qa.repo.list(qaListFilters(request.query)),
        request.query.limit,
        (c) => c.scoredAt,
        (c) => c.callId,
      );
      return { scorecards: page.rows, nextBefore: page.nextBefore, nextBeforeId: page.nextBeforeId };
    },
  );

  app.get<{ Params: { callId: string } }>(
    '/api/v1/qa/scorecards/:callId',
    { schema: { summary: "One call's QA scorecard", params: CallParams } },
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

  app.get<{ Params: Static<typeof CallParams> }>(
    '/api/v1/qa/calls/:callId',
    {
      schema: {
        summary: "A call's scorecard as it stands after overrides, with its (redacted) transcript and where each rule matched",
        params: CallParams,
      },
    },
    async (request) => {
      const detail = deps.qa.detail(request.params.callId);
      if (detail === undefined) throw evxError('EVX_ERR_NOT_FOUND', 'no scorecard for this call', { details: { resource: 'scorecard' } });
      return detail;
    },
  );

  registerOverrideRoute(
    app,
    '/api/v1/qa/calls/:callId/overrides',
    CallParams,
    "Override a call's result or one rule's outcome, with a reason (audited; the original score is kept)",
    (params, change, author) => deps.qa.override(params.callId, change, author),
  );

  app.get<{ Querystring: Static<typeof TrendsQuery> }>(
    '/api/v1/qa/trends',
    { schema: { summary: 'Per day (UTC): pass rate per agent label or per rule, overrides applied', querystring: TrendsQuery } },
    async (request) => {
      const to = request.query.to ?? now();
      const from = request.query.from ?? to - 14 * 86_400_000;
      return { by: request.query.by, from, to, ...deps.qa.trends(request.query.by, from, to) };
    },
  );

  app.post(
    '/api/v1/qa/rules/items',
    { schema: { summary: 'Add one rule to the rule set in force (a new version)' }, config: { minRole: 'supervisor' }, ...passThrough },
    async (request, reply) => reply.code(201).send(deps.qa.addRule(request.body, userOf(request))),
  );

  app.put<{ Params: Static<typeof RuleParams> }>(
    '/api/v1/qa/rules/items/:ruleId',
    { schema: { summary: 'Replace one rule (a new version)', params: RuleParams }, config: { minRole: 'supervisor' }, ...passThrough },
    async (request) => deps.qa.updateRule(request.params.ruleId, request.body, userOf(request)),
  );

  app.delete<{ Params: Static<typeof RuleParams> }>(
    '/api/v1/qa/rules/items/:ruleId',
    { schema: { summary: 'Remove one rule (a new version)', params: RuleParams }, config: { minRole: 'supervisor' } },
    async (request) => deps.qa.deleteRule(request.params.ruleId, userOf(request)),
  );

  app.post<{ Body: Static<typeof DryRun> }>(
    '/api/v1/qa/rules/dry-run',
    {
      schema: { summary: 'Score stored calls of a period with a proposed rule set; stores nothing', body: DryRun },
      config: { minRole: 'supervisor' },
    },
    async (request) => {
      const to = request.body.to ?? now();
      const from = request.body.from ?? to - 7 * 86_400_000;
      return { from, to, ...(await deps.qa.dryRun(request.body.rules, from, to, request.body.limit)) };
    },
  );
}
