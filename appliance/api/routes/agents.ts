/**
 * Agents API: each agent's state (the box's agent state machine), setting it by hand, and the
 * phones an agent has registered. Agents themselves (skills, SIP accounts) are configured under
 * /api/v1/routing. Replies are declared schemas, so nothing else (a password) can ever leave here.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { MANUAL_AWAY_REASONS, AWAY_REASONS } from '../../acd/agentState.js';
import type { AgentPresence } from '../../acd/agentPresence.js';
import type { Dispositions } from '../../acd/dispositions.js';
import { evxError } from '../../errors.js';
import type { RoutingService } from '../../routing/routingService.js';
import type { Registrar } from '../../telephony/registrar.js';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
type IdParams = Static<typeof IdParams>;

const StateName = Type.Union(
  ['available', 'ringing', 'on-call', 'wrap-up', 'away', 'logged-out'].map((s) => Type.Literal(s)),
  { description: 'What the agent is doing' },
);
const AwayReason = Type.Union(
  AWAY_REASONS.map((r) => Type.Literal(r)),
  { description: 'Why the agent is away (no-answer: set by the box after missed calls)' },
);

const AgentStateReply = Type.Object({
  agentId: Type.String(),
  state: StateName,
  since: Type.Integer({ description: 'Unix ms of the last change' }),
  awayReason: Type.Union([AwayReason, Type.Null()]),
  callId: Type.Union([Type.String(), Type.Null()], { description: 'The call ringing or on' }),
  held: Type.Boolean(),
  registeredContacts: Type.Integer({ description: 'SIP contacts registered now' }),
  softphones: Type.Integer({ description: 'WebRTC softphones connected now' }),
  missedOffers: Type.Integer({ description: 'Calls in a row the agent let ring out' }),
  wrapUpEndsAt: Type.Union([Type.Integer(), Type.Null()]),
  logoutAfterCall: Type.Boolean({ description: 'The last endpoint went during the call: logged out when it ends' }),
  choice: Type.Union(
    [Type.Object({ kind: Type.Literal('away'), reason: AwayReason }), Type.Object({ kind: Type.Literal('logged-out') }), Type.Null()],
    { description: "The agent's own away or logged-out choice, kept across log-outs and restarts" },
  ),
});

const SetStateBody = Type.Object(
  {
    state: Type.Union([Type.Literal('available'), Type.Literal('away'), Type.Literal('logged-out'), Type.Literal('wrap-up')], {
      description:
        'available (also ends a wrap-up early), away, logged-out; wrap-up or available also end a call that was transferred out to the agent',
    }),
    reason: Type.Optional(
      Type.Union(
        MANUAL_AWAY_REASONS.map((r) => Type.Literal(r)),
        { description: 'Why away (default other)' },
      ),
    ),
  },
  { additionalProperties: false },
);
type SetStateBody = Static<typeof SetStateBody>;

const RegistrationsReply = Type.Object({
  agentId: Type.String(),
  registrar: Type.Boolean({ description: 'Whether the registrar runs (sip.enabled and sip.registrar.enabled)' }),
  contacts: Type.Array(
    Type.Object({
      contact: Type.String({ description: 'The Contact URI as the phone sent it' }),
      transport: Type.String(),
      source: Type.String({ description: 'Address and port the registration came from' }),
      reach: Type.String({ description: 'flow: calls go back over the registration flow (NAT); contact: to the Contact URI' }),
      expiresAt: Type.Integer({ description: 'Unix ms' }),
      expiresInS: Type.Integer(),
      userAgent: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
});

export interface AgentRoutesDeps {
  readonly presence: AgentPresence;
  readonly registrar: Registrar | null;
  readonly routing: RoutingService;
  readonly dispositions: Dispositions;
}

const DispositionBody = Type.Object(
  {
    callId: Type.String({ minLength: 1, maxLength: 128, description: 'The call the agent handled' }),
    code: Type.String({ minLength: 1, maxLength: 32, description: 'One of agents.dispositionCodes' }),
    endWrapUp: Type.Optional(Type.Boolean({ description: 'Also end the agent’s wrap-up now (available again)' })),
  },
  { additionalProperties: false },
);
type DispositionBody = Static<typeof DispositionBody>;

const DispositionReply = Type.Object({
  callId: Type.String(),
  agentId: Type.String(),
  code: Type.String(),
  at: Type.Integer({ description: 'Unix ms' }),
});
const CallIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
type CallIdParams = Static<typeof CallIdParams>;

export function registerAgentRoutes(app: FastifyInstance, deps: AgentRoutesDeps): void {
  const { presence, registrar, routing, dispositions } = deps;
  const tags = ['agents'];
  const notFound = () => evxError('EVX_ERR_NOT_FOUND', 'no such agent', { details: { resource: 'agent' } });

  app.get(
    '/api/v1/agents',
    {
      schema: {
        tags,
        summary: "Every agent's state, with its endpoints and the call it is on",
        response: { 200: Type.Object({ agents: Type.Array(AgentStateReply) }) },
      },
    },
    async () => ({ agents: presence.list() }),
  );

  app.get<{ Params: IdParams }>(
    '/api/v1/agents/:id/state',
    { schema: { tags, summary: "An agent's state", params: IdParams, response: { 200: AgentStateReply } } },
    async (request) => {
      const view = presence.view(request.params.id);
      if (view === undefined) throw notFound();
      return view;
    },
  );

  app.put<{ Params: IdParams; Body: SetStateBody }>(
    '/api/v1/agents/:id/state',
    {
      schema: {
        tags,
        summary:
          'Set an agent available, away (with a reason), logged-out, or wrap-up after a transferred call (409 while ringing or on a call)',
        params: IdParams,
        body: SetStateBody,
        response: { 200: AgentStateReply },
      },
      // supervisors run the floor: they may set agents' states (and nothing else of the configuration)
      config: { minRole: 'supervisor' },
    },
    async (request) => presence.set(request.params.id, request.body.state, { reason: request.body.reason, by: 'supervisor' }),
  );

  app.put<{ Params: IdParams; Body: DispositionBody }>(
    '/api/v1/agents/:id/disposition',
    {
      schema: {
        tags,
        summary: 'Record the disposition code of a call the agent handled (the last one counts); optionally end the wrap-up',
        params: IdParams,
        body: DispositionBody,
        response: { 200: DispositionReply },
      },
      config: { minRole: 'supervisor' },
    },
    async (request) => {
      const { callId, code, endWrapUp } = request.body;
      const d = dispositions.set(request.params.id, callId, code);
      if (endWrapUp === true && presence.view(request.params.id)?.state === 'wrap-up')
        presence.set(request.params.id, 'available', { by: 'supervisor' });
      return d;
    },
  );

  app.get<{ Params: CallIdParams }>(
    '/api/v1/calls/:id/disposition',
    { schema: { tags, summary: "A call's disposition code, once set", params: CallIdParams, response: { 200: DispositionReply } } },
    async (request) => {
      const d = dispositions.get(request.params.id);
      if (d === undefined) throw evxError('EVX_ERR_NOT_FOUND', 'no disposition for this call', { details: { resource: 'disposition' } });
      return d;
    },
  );

  app.get<{ Params: IdParams }>(
    '/api/v1/agents/:id/registrations',
    {
      schema: {
        tags,
        summary: "The SIP contacts an agent's phones registered (user agent, expiry, transport); never credentials",
        params: IdParams,
        response: { 200: RegistrationsReply },
      },
      config: { minRole: 'supervisor' },
    },
    async (request): Promise<Static<typeof RegistrationsReply>> => {
      const agentId = request.params.id;
      if (!routing.hasAgent(agentId)) throw notFound();
      const now = Date.now();
      return {
        agentId,
        registrar: registrar !== null,
        contacts: (registrar?.contactsOf(agentId) ?? []).map((c) => ({
          contact: c.contact,
          transport: c.flow.transport,
          source: `${c.flow.address.includes(':') ? `[${c.flow.address}]` : c.flow.address}:${c.flow.port}`,
          reach: c.reach,
          expiresAt: c.expiresAt,
          expiresInS: Math.max(0, Math.ceil((c.expiresAt - now) / 1000)),
          userAgent: c.userAgent ?? null,
        })),
      };
    },
  );
}
