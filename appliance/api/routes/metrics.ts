/** Prometheus exposition for central ops. */
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../server.js';

export function registerMetricsRoute(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/metrics', { schema: { summary: 'Prometheus metrics (text exposition format)', hide: false } }, async (_request, reply) => {
    const { contentType, body } = await deps.metrics.exposition();
    return reply.type(contentType).send(body);
  });
}
