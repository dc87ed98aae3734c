/** Supervisor alerts: list (newest first) and acknowledge. */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { evxError } from '../../errors.js';
import type { AlertsRepo } from '../../alerts/repo.js';

const ListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    kind: Type.Optional(Type.String({ pattern: '^[a-z_]{1,64}$' })),
    callId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    before: Type.Optional(Type.Integer({ minimum: 1 })),
    unacknowledged: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const AckBody = Type.Object({ by: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false });

export function registerAlertRoutes(app: FastifyInstance, deps: { repo: AlertsRepo; now?: () => number }): void {
  const tags = ['alerts'];
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/api/v1/alerts',
    { schema: { tags, summary: 'Alerts (angry/escalating callers, queue waits, intent spikes), newest first', querystring: ListQuery } },
    async (request) => {
      const q = request.query;
      const alerts = deps.repo.list({
        limit: q.limit,
        kind: q.kind,
        callId: q.callId,
        beforeId: q.before,
        unacknowledged: q.unacknowledged,
      });
      const last = alerts[alerts.length - 1];
      return { alerts, nextBefore: alerts.length === q.limit && last ? last.id : null };
    },
  );
  app.post<{ Params: { id: number }; Body: Static<typeof AckBody> }>(
    '/api/v1/alerts/:id/ack',
    { schema: { tags, summary: 'Acknowledge an alert', params: Type.Object({ id: Type.Integer({ minimum: 1 }) }), body: AckBody } },
    async (request) => {
      const existing = deps.repo.get(request.params.id);
      if (existing === undefined) throw evxError('EVX_ERR_NOT_FOUND', 'no such alert', { details: { resource: 'alert' } });
      deps.repo.acknowledge(request.params.id, (deps.now ?? Date.now)(), request.body.by);
      return deps.repo.get(request.params.id);
    },
  );
}
