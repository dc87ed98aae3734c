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
import { registerOverrideRoute } from './qa.js';

const ListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    from: Type.Optional(Type.Integer({ minimum: 0, description: 'Analysed at or after this unix ms (default: 7 days ago)' })),
  },
  { additionalProperties: false },
);
const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });

export function registerConversationAnalysisRoutes(
  app: FastifyInstance,
  deps: { analysis: ConversationAnalysis; repo: ConversationAnalysisRepo; now?: () => number },
): void {
  const now = deps.now ?? Date.now;
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/api/v1/qa/conversations',
    { schema: { summary: 'QA scorecards of closed conversations (chats), newest first, with their channel', querystring: ListQuery } },
    async (request) => {
      const from = request.query.from ?? now() - 7 * 86_400_000;
      return { conversations: deps.repo.qaList(from, request.query.limit) };
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
