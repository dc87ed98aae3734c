/** Liveness and readiness probes (systemd, load balancers, the console's status light). */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ApiDeps } from '../deps.js';

const ReadinessSchema = Type.Object({
  ready: Type.Boolean(),
  phase: Type.String(),
  checks: Type.Array(Type.Object({ name: Type.String(), ok: Type.Boolean(), reason: Type.Optional(Type.String()) })),
});

export function registerHealthRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness: the process is up and its event loop answers',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
      config: { public: true },
    },
    async () => ({ status: 'ok' as const }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: 200 only when the store, models and media listeners are ready; 503 with the reasons otherwise',
        response: { 200: ReadinessSchema, 503: ReadinessSchema },
      },
      config: { public: true },
    },
    async (_request, reply) => {
      const report = deps.readiness.evaluate();
      return reply.code(report.ready ? 200 : 503).send(report);
    },
  );
}
