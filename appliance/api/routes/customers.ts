/** One customer across calls, chats and e-mail cases: the timeline, and agents' merges and unmerges (audited). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { CustomerService } from '../../customers/customerService.js';
import type { MergeRecord } from '../../customers/customerRepo.js';

const Uuid = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' });
const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false });
const MergeBody = Type.Union([
  Type.Object({ into: Uuid, from: Uuid }, { additionalProperties: false }),
  Type.Object(
    { into: Uuid, conversationId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[0-9A-Za-z-]+$' }) },
    { additionalProperties: false },
  ),
]);
const UnmergeBody = Type.Object(
  { mergeId: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) },
  { additionalProperties: false },
);

const userOf = (request: FastifyRequest): string => request.principal?.username ?? 'unknown';
const mergeView = (m: MergeRecord) => ({ ...m, moved: { identifiers: m.moved.identifiers.length, conversations: m.moved.conversations } });

export function registerCustomerRoutes(app: FastifyInstance, deps: { customers: CustomerService }): void {
  const tags = ['customers'];
  app.get<{ Params: Static<typeof IdParams> }>(
    '/api/v1/customers/:id/timeline',
    {
      schema: {
        tags,
        summary: "A customer's open chats and e-mail cases, then calls, chats and e-mail cases newest first, and churn over all channels",
        params: IdParams,
      },
    },
    async (request) => {
      const v = deps.customers.view(request.params.id);
      return {
        id: v.id,
        openCases: v.openCases,
        timeline: v.timeline,
        churnRisk: v.churn.churnRisk,
        churnFactors: v.churn.churnFactors,
        tags: v.churn.tags,
      };
    },
  );
  app.post<{ Body: Static<typeof MergeBody> }>(
    '/api/v1/customers/merge',
    {
      config: { minRole: 'supervisor' },
      schema: {
        tags,
        summary:
          'Merge customer `from` into `into`, or attach a chat or e-mail case (`conversationId`) to customer `into` (audited; undo with unmerge)',
        body: MergeBody,
      },
    },
    async (request) => {
      const b = request.body;
      const m =
        'from' in b
          ? deps.customers.merge(b.from, b.into, userOf(request))
          : deps.customers.attach(b.conversationId, b.into, userOf(request));
      return mergeView(m);
    },
  );
  app.post<{ Body: Static<typeof UnmergeBody> }>(
    '/api/v1/customers/unmerge',
    {
      config: { minRole: 'supervisor' },
      schema: { tags, summary: 'Undo exactly one merge or attach (refused when a later merge moved its items)', body: UnmergeBody },
    },
    async (request) => mergeView(deps.customers.unmerge(request.body.mergeId, userOf(request))),
  );
}
