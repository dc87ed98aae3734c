/**
 * Chat analysis API (conversations/conversationAnalysis.ts): the QA list of conversations next to the
 * calls' (channel shown; scores, outcomes and offsets only, never text), and one conversation's stored
 * analysis (customer sentiment, scorecard, summary) with each message's sentiment label; both show the
 * score after supervisors' overrides beside the original. Viewers read; supervisors override a
 * conversation's result or a rule's outcome with a reason, as for calls (audited; the original kept).
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { evxError } from '../../errors.js';
import type { ConversationAnalysis } from '../../conversations/conversationAnalysis.js';
import type { ConversationAnalysisRepo } from '../../conversations/conversationAnalysisRepo.js';
import { qaListFilters, qaListQuery, qaPage, registerOverrideRoute } from './qa.js';

const ListQuery = Type.Object(
  { ...qaListQuery('conversations'), channel: Type.Optional(Type.Union([Type.Literal('chat'), Type.Literal('email')])) },
  { additionalProperties: false },
);
const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });

export function registerConversationAnalysisRoutes(
  app: FastifyInstance,
  deps: { analysis: ConversationAnalysis; repo: ConversationAnalysisRepo },
): void {
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/api/v1/qa/conversations',
    {
      schema: {
        summary: "QA scorecards of closed chats and e-mail cases, newest analysed first, keyset-paged, filtered like the calls' scorecards",
        querystring: ListQuery,
      },
    },
    async (request) => {
      const q = request.query;
      const page = qaPage(
        deps.repo.qaList({ ...qaListFilters(q), channel: q.channel }),
        q.limit,
        (c) => c.createdAt,
        (c) => c.conversationId,
      );
      return { conversations: page.rows, nextBefore: page.nextBefore, nextBeforeId: page.nextBeforeId };
    },
  );
  app.get<{ Params: Static<typeof Params> }>(
    '/api/v1/conversations/:id/analysis',
    { schema: { summary: "A closed conversation's sentiment, QA scorecard and summary; each message's sentiment", params: Params } },
    async (request) => {
      const stored = deps.analysis.get(request.params.id);
      if (stored === undefined)
        throw evxError('EVX_ERR_NOT_FOUND', 'no analysis for this conversation (not closed, or unknown)', {
          details: { resource: 'conversation' },
        });
      return { ...stored, ...deps.analysis.qa(request.params.id), messages: deps.repo.messageSentiments(request.params.id) };
    },
  );
  registerOverrideRoute(
    app,
    '/api/v1/qa/conversations/:id/overrides',
    Params,
    "Override a conversation's result or one rule's outcome, with a reason (audited; the original score is kept)",
    (params, change, author) => deps.analysis.override(params.id, change, author),
  );
}
