/**
 * Callback requests API (supervisors): the callers who asked to be called back, and withdrawing a
 * request. Numbers are masked (`••••••42`): the number in clear never leaves the box over HTTP;
 * replies are declared schemas, so nothing else can slip out.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { CALLBACK_STATES, MAX_CALLBACK_LIST, type CallbackEntry, type CallbackState } from '../../acd/callbacks.js';

const State = Type.Union(
  CALLBACK_STATES.map((s) => Type.Literal(s)),
  { description: 'pending: waiting to be called back; cancelled: withdrawn by a supervisor; done: called back' },
);

const CallbackView = Type.Object(
  {
    id: Type.String(),
    callId: Type.Union([Type.String(), Type.Null()], { description: 'The call it was asked in; null once that call record is deleted' }),
    groupId: Type.String({ description: 'The skill group that offered the callback' }),
    number: Type.String({ description: "The caller's number, masked: only its last two characters" }),
    requestedAt: Type.Integer({ description: 'Unix ms' }),
    state: State,
    updatedAt: Type.Integer({ description: 'Unix ms of the last change' }),
  },
  { additionalProperties: false },
);

const ListQuery = Type.Object(
  {
    state: Type.Optional(State),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_CALLBACK_LIST, description: `At most this many (default ${MAX_CALLBACK_LIST})` }),
    ),
  },
  { additionalProperties: false },
);

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export interface CallbackRoutesDeps {
  readonly callbacks: {
    list(opts: { readonly state?: CallbackState; readonly limit?: number }): CallbackEntry[];
    cancel(id: string): CallbackEntry;
  };
}

export function registerCallbackRoutes(app: FastifyInstance, deps: CallbackRoutesDeps): void {
  const tags = ['acd'];
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/api/v1/acd/callbacks',
    {
      schema: {
        tags,
        summary: 'Callback requests, oldest first (numbers masked); ?state=pending for those still to call back',
        querystring: ListQuery,
        response: { 200: Type.Object({ callbacks: Type.Array(CallbackView) }, { additionalProperties: false }) },
      },
      config: { minRole: 'supervisor' },
    },
    async (request) => ({
      callbacks: deps.callbacks.list({
        ...(request.query.state === undefined ? {} : { state: request.query.state }),
        ...(request.query.limit === undefined ? {} : { limit: request.query.limit }),
      }),
    }),
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/api/v1/acd/callbacks/:id',
    {
      schema: {
        tags,
        summary: 'Cancel a pending callback request (404 unknown, 409 no longer pending)',
        params: IdParams,
        response: { 200: CallbackView },
      },
      config: { minRole: 'supervisor' },
    },
    async (request) => deps.callbacks.cancel(request.params.id),
  );
}
