/**
 * Cards during the call (assist/cardService.ts): the knowledge and next-best-action cards a call's
 * agent was pushed, with the feedback on each, and the feedback itself from the console (the
 * agent's softphone sends it on its signalling socket). Reading is for every console role from
 * viewer up; feedback takes a supervisor.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { CardService } from '../../assist/cardService.js';
import { evxError } from '../../errors.js';
import type { Store } from '../../store/database.js';

const CallParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
const CardParams = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 200 }), cardId: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);
const FeedbackBody = Type.Object({ useful: Type.Boolean() }, { additionalProperties: false });
const ShownCard = Type.Object(
  {
    callId: Type.String(),
    cardId: Type.String({ description: 'article:<article id> or action:<script id>' }),
    kind: Type.Union([Type.Literal('article'), Type.Literal('action')]),
    refId: Type.String(),
    version: Type.Union([Type.Integer(), Type.Null()]),
    title: Type.String(),
    snippet: Type.String({ description: "The article's sentence that matched ('' for actions)" }),
    steps: Type.Array(Type.String(), { description: "An action's steps ([] for articles)" }),
    intent: Type.Union([Type.String(), Type.Null()]),
    emotion: Type.Union([Type.String(), Type.Null()]),
    rank: Type.Integer({ description: 'Place in its push, 0 = top' }),
    score: Type.Number(),
    shownAt: Type.Integer(),
    latencyMs: Type.Integer({ description: "From the caller's final to the push" }),
    feedback: Type.Union([Type.Literal('useful'), Type.Literal('not_useful'), Type.Null()]),
    feedbackBy: Type.Union([Type.String(), Type.Null()]),
    feedbackAt: Type.Union([Type.Integer(), Type.Null()]),
  },
  { additionalProperties: false },
);

const userOf = (request: FastifyRequest): string => request.principal?.username ?? 'unknown';

export function registerAssistCardRoutes(app: FastifyInstance, deps: { store: Store; cards: CardService }): void {
  const callOrNotFound = (id: string): void => {
    if (deps.store.calls.get(id) === undefined) throw evxError('EVX_ERR_NOT_FOUND', 'no such call', { details: { resource: 'call' } });
  };
  app.get<{ Params: Static<typeof CallParams> }>(
    '/api/v1/calls/:id/cards',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: "The knowledge and next-best-action cards pushed to the call's agent, in order, with the feedback on each",
        params: CallParams,
        response: { 200: Type.Object({ callId: Type.String(), cards: Type.Array(ShownCard) }, { additionalProperties: false }) },
      },
    },
    async (request) => {
      callOrNotFound(request.params.id);
      return { callId: request.params.id, cards: deps.cards.list(request.params.id) };
    },
  );
  app.post<{ Params: Static<typeof CardParams>; Body: Static<typeof FeedbackBody> }>(
    '/api/v1/calls/:id/cards/:cardId/feedback',
    {
      config: { minRole: 'supervisor' },
      schema: {
        summary: 'Mark a card the call was shown useful or not useful (ranks the card on later calls; a second verdict replaces the first)',
        params: CardParams,
        body: FeedbackBody,
        response: { 200: ShownCard },
      },
    },
    async (request) => {
      callOrNotFound(request.params.id);
      return deps.cards.feedback(request.params.id, request.params.cardId, request.body.useful, userOf(request));
    },
  );
}
