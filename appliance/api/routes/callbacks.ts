/**
 * Callback requests API (supervisors): the callers who asked to be called back, and withdrawing a
 * request. Numbers are masked (`••••••42`): the number in clear never leaves the box over HTTP;
 * replies are declared schemas, so nothing else can slip out.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { CallbackCounts } from '../../acd/callbackRepo.js';
import { CALLBACK_STATES, MAX_CALLBACK_LIST, type CallbackEntry, type CallbackState } from '../../acd/callbacks.js';
import { evxError } from '../../errors.js';

const State = Type.Union(
  CALLBACK_STATES.map((s) => Type.Literal(s)),
  {
    description:
      'pending: waiting to be called back (queued for an agent once its retry time came); dialing: an agent took it and the customer is being called; cancelled: withdrawn by a supervisor; done: the customer answered; failed: closed unanswered after the last attempt, or its number was refused',
  },
);

const CallbackView = Type.Object(
  {
    id: Type.String(),
    callId: Type.Union([Type.String(), Type.Null()], { description: 'The call it was asked in; null once that call record is deleted' }),
    groupId: Type.String({ description: 'The skill group that offered the callback' }),
    number: Type.String({ description: "The caller's number, masked: only its last two characters" }),
    requestedAt: Type.Integer({ description: 'Unix ms' }),
    state: State,
    attempts: Type.Integer({ minimum: 0, description: 'Calls to the customer that were not answered so far' }),
    nextAttemptAt: Type.Integer({ description: 'Unix ms: not offered to an agent before this' }),
    reason: Type.Union([Type.String(), Type.Null()], {
      description: 'Why the last attempt failed (no-answer, busy, failed, restart...) or why it was closed; null when nothing failed',
    }),
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

const KpiQuery = Type.Object(
  {
    from: Type.Optional(Type.Integer({ minimum: 0, description: 'Unix ms (default: 24 hours before `to`)' })),
    to: Type.Optional(Type.Integer({ minimum: 0, description: 'Unix ms, exclusive (default: now)' })),
  },
  { additionalProperties: false },
);

const Count = (description: string) => Type.Integer({ minimum: 0, description });
const CallbackKpis = Type.Object(
  {
    from: Type.Integer(),
    to: Type.Integer(),
    offered: Count('Callback offers started in the range (callers who heard "press one to be called back")'),
    accepted: Count('Offers the caller accepted (pressed 1)'),
    hungUp: Count('Offers the caller hung up on before answering'),
    noAnswer: Count('Offers the caller let pass without a key in time'),
    completed: Count('Requests whose callback the customer answered, in the range'),
    failed: Count('Requests closed unanswered after their last attempt, or refused by the trunk dialer, in the range'),
    cancelled: Count('Requests cancelled by a supervisor in the range'),
    pending: Count('Requests waiting to be called back now (pending or being dialled)'),
  },
  { additionalProperties: false },
);

const DAY_MS = 86_400_000;

export interface CallbackRoutesDeps {
  readonly callbacks: {
    list(opts: { readonly state?: CallbackState; readonly limit?: number }): CallbackEntry[];
    cancel(id: string): CallbackEntry;
    counts(from: number, to: number): CallbackCounts;
    pending(): number;
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

  app.get<{ Querystring: Static<typeof KpiQuery> }>(
    '/api/v1/acd/callbacks/kpis',
    {
      schema: {
        tags,
        summary:
          'Callbacks offered, accepted, hung up on, let pass unanswered, completed, failed and cancelled in a time range (default the last 24 hours), and pending now',
        querystring: KpiQuery,
        response: { 200: CallbackKpis },
      },
      config: { minRole: 'supervisor' },
    },
    async (request) => {
      const to = request.query.to ?? Date.now();
      const from = request.query.from ?? Math.max(0, to - DAY_MS);
      if (from > to) throw evxError('EVX_ERR_BAD_REQUEST', '`from` is after `to`', { details: { field: 'from' } });
      return { from, to, ...deps.callbacks.counts(from, to), pending: deps.callbacks.pending() };
    },
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
