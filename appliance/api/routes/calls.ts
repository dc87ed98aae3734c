/**
 * Calls API: recent and active calls (paged), one call with its legs, utterances and post-call
 * summary (summary/summaryService.ts; null until the call has ended), and one call's mood over
 * time (acoustic emotion and text sentiment apart, and combined: analysis/callMood.ts).
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { callMood } from '../../analysis/callMood.js';
import { evxError } from '../../errors.js';
import type { Store } from '../../store/database.js';
import { SummaryRepo } from '../../summary/summaryRepo.js';

const ListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    before: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Only calls that started before this unix ms (use nextBefore of the previous page)' }),
    ),
    state: Type.Optional(Type.Union([Type.Literal('ringing'), Type.Literal('active'), Type.Literal('ended')])),
    language: Type.Optional(
      Type.Union([Type.Literal('en'), Type.Literal('zh')], {
        description: 'Only calls in this language (en, zh): the one asked for, or the one auto decided',
      }),
    ),
  },
  { additionalProperties: false },
);

export function registerCallRoutes(app: FastifyInstance, deps: { store: Store }): void {
  const summaries = new SummaryRepo(deps.store.db, (op, fn) => deps.store.write(op, fn));
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/api/v1/calls',
    { schema: { summary: 'Recent and active calls, newest first, keyset-paged', querystring: ListQuery } },
    async (request) => {
      const { limit, before, state, language } = request.query;
      const calls = deps.store.calls.list({ limit, beforeStartedAt: before, state, language });
      const last = calls[calls.length - 1];
      return { calls, nextBefore: calls.length === limit && last ? last.startedAt : null };
    },
  );
  app.get<{ Params: { id: string } }>(
    '/api/v1/calls/:id',
    {
      schema: {
        summary:
          'One call with its legs, utterances (each with its language; Mandarin ones with their pinyin) and post-call summary (null until summarised)',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }),
      },
    },
    async (request) => {
      const call = deps.store.calls.get(request.params.id);
      if (call === undefined) throw evxError('EVX_ERR_NOT_FOUND', 'no such call', { details: { resource: 'call' } });
      return { ...call, utterances: deps.store.utterances.listByCall(call.id), summary: summaries.get(call.id)?.summary ?? null };
    },
  );
  app.get<{ Params: { id: string } }>(
    '/api/v1/calls/:id/mood',
    {
      schema: {
        summary:
          "One call's mood per utterance and speaker: acoustic emotion and text sentiment as separate series, a combined distress figure, and each one's trend",
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }),
      },
    },
    async (request) => {
      const call = deps.store.calls.get(request.params.id);
      if (call === undefined) throw evxError('EVX_ERR_NOT_FOUND', 'no such call', { details: { resource: 'call' } });
      return { callId: call.id, ...callMood(deps.store.utterances.listByCall(call.id)) };
    },
  );
}
