/** Prometheus exposition for central ops. */
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../deps.js';

export function registerMetricsRoute(app: FastifyInstance, deps: ApiDeps): void {
  // Public on purpose: Prometheus scrapes it without a session, and it carries no personal data
  // (no transcript, number or name is ever a label or a value).
  app.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics (text exposition format)', hide: false }, config: { public: true } },
    async (_request, reply) => {
      const { contentType, body } = await deps.metrics.exposition();
      return reply.type(contentType).send(body);
    },
  );
}
