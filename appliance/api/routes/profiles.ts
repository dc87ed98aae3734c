/** Caller profiles (by salted caller hash) and the per-call screen-pop for the agent. */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { evxError } from '../../errors.js';
import type { ProfileService } from '../../profiles/profileService.js';
import { buildScreenPop } from '../../customers/screenPop.js';
import { profileTags } from '../../profiles/profile.js';
import type { Store } from '../../store/database.js';
import type { AlertsRepo } from '../../alerts/repo.js';
import type { ProfilesRepo } from '../../profiles/repo.js';
import type { RoutingRepo } from '../../routing/repo.js';
import type { CustomerService } from '../../customers/customerService.js';

const HashParams = Type.Object({ hash: Type.String({ pattern: '^[0-9a-f]{32}$' }) });
type HashParams = Static<typeof HashParams>;
const TagsBody = Type.Object(
  {
    vip: Type.Optional(Type.Boolean()),
    tags: Type.Optional(Type.Array(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,31}$' }), { maxItems: 20 })),
  },
  { additionalProperties: false },
);
const ListQuery = Type.Object(
  { limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }), minChurnRisk: Type.Number({ minimum: 0, maximum: 1, default: 0 }) },
  { additionalProperties: false },
);

export function registerProfileRoutes(
  app: FastifyInstance,
  deps: {
    store: Store;
    profiles: ProfileService;
    profilesRepo: ProfilesRepo;
    routingRepo: RoutingRepo;
    alertsRepo: AlertsRepo;
    /** The caller's customer across channels (open chats and e-mail cases first, churn over all channels). */
    customers?: CustomerService;
    now?: () => number;
  },
): void {
  const now = deps.now ?? Date.now;
  const tags = ['profiles'];
  const view = (hash: string) => {
    const p = deps.profilesRepo.get(hash);
    if (p === undefined) throw evxError('EVX_ERR_NOT_FOUND', 'no such caller profile', { details: { resource: 'profile' } });
    return { ...p, derivedTags: profileTags(p, now(), deps.profiles.settings) };
  };

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/api/v1/profiles',
    { schema: { tags, summary: 'Caller profiles, most recent caller first (filter by churn risk)', querystring: ListQuery } },
    async (request) => ({ profiles: deps.profilesRepo.list(request.query.limit, request.query.minChurnRisk) }),
  );
  app.get<{ Params: HashParams }>(
    '/api/v1/profiles/:hash',
    { schema: { tags, summary: 'One caller profile by salted caller hash', params: HashParams } },
    async (request) => view(request.params.hash),
  );
  app.put<{ Params: HashParams; Body: Static<typeof TagsBody> }>(
    '/api/v1/profiles/:hash/tags',
    { schema: { tags, summary: 'Set the VIP flag and manual tags of a caller', params: HashParams, body: TagsBody } },
    async (request) => {
      deps.profiles.setTags(request.params.hash, request.body);
      return view(request.params.hash);
    },
  );
  app.post<{ Params: HashParams }>(
    '/api/v1/profiles/:hash/resolved',
    { schema: { tags, summary: "Mark the caller's issue resolved (clears unresolved repeats)", params: HashParams } },
    async (request) => {
      if (deps.profiles.markResolved(request.params.hash) === undefined)
        throw evxError('EVX_ERR_NOT_FOUND', 'no such caller profile', { details: { resource: 'profile' } });
      return view(request.params.hash);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/calls/:id/screen-pop',
    {
      schema: {
        tags,
        summary:
          "The agent's screen-pop for a call: caller profile, current intent and emotion, route explanation, open alerts, the customer's open chats and e-mail cases first, then their timeline",
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }),
      },
    },
    async (request) => {
      const call = deps.store.calls.get(request.params.id);
      if (call === undefined) throw evxError('EVX_ERR_NOT_FOUND', 'no such call', { details: { resource: 'call' } });
      const profile = call.callerHash === null ? null : (deps.profilesRepo.get(call.callerHash) ?? null);
      return buildScreenPop({
        call,
        utterances: deps.store.utterances.listByCall(call.id),
        profile,
        decision: deps.routingRepo.decisions({ callId: call.id, limit: 1 })[0] ?? null,
        alerts: deps.alertsRepo.list({ callId: call.id, limit: 20 }),
        settings: deps.profiles.settings,
        nowMs: now(),
        customer: deps.customers?.ofCall(call) ?? null,
      });
    },
  );
}
