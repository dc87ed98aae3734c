/**
 * The HTTP server (fastify): health, readiness, system inventory, metrics, OpenAPI, and the routes
 * other capabilities register through `ApiDeps`. Route modules get their dependencies explicitly;
 * nothing reaches for globals.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type { EdgeVoxConfig } from '../config/schema.js';
import type { Readiness } from '../lifecycle/readiness.js';
import type { Logger } from '../log/logger.js';
import type { ApplianceMetrics } from '../metrics/metrics.js';
import type { ModelStore } from '../modelstore/modelStore.js';
import type { Store } from '../store/database.js';
import { VERSION } from '../buildInfo.js';
import { installAccessGuard, type Authenticator, type RouteAccessEntry } from '../auth/guard.js';
import { installAuditTrail } from '../auth/auditTrail.js';
import { ErrorBodySchema, installErrorHandling } from './errors.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerSystemRoutes } from './routes/system.js';
import { registerMetricsRoute } from './routes/metrics.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route the router was given, with the access the guard applies to it. */
    accessTable: readonly RouteAccessEntry[];
  }
}

export interface ApiDeps {
  config: EdgeVoxConfig;
  logger: Logger;
  store: Store;
  models: ModelStore;
  readiness: Readiness;
  metrics: ApplianceMetrics;
  repoRoot: string;
  /** Who may call what: every route needs a principal from here unless it declares itself public. */
  auth: Authenticator;
}

/** Additional route plugins (calls, events, console, signalling) mounted by the composition root. */
export type RouteRegistrar = (app: FastifyInstance) => Promise<void> | void;

export async function createHttpServer(deps: ApiDeps, registrars: readonly RouteRegistrar[] = []): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: 1024 * 1024,
    // Our own request ids keep logs joinable without leaking anything about the caller.
    genReqId: (() => {
      let n = 0;
      return () => `r${(++n).toString(36)}`;
    })(),
  });
  // The access guard and the audit trail come first: plugin contexts copy the root's hooks when
  // they are created, so anything registered before them would be outside their reach.
  const accessTable = installAccessGuard(app, deps.auth, (reason) => deps.metrics.httpAccessDenied.inc({ reason }));
  app.decorate('accessTable', accessTable);
  installAuditTrail(app, deps.store.audit);
  app.addSchema(ErrorBodySchema);
  installErrorHandling(app, deps.logger);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'EdgeVox appliance API',
        version: VERSION,
        description: 'On-premise voice appliance: calls, transcripts, routing, operations.',
      },
      servers: [{ url: '/' }],
    },
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route };
    deps.metrics.httpRequests.inc({ ...labels, status_class: `${Math.floor(reply.statusCode / 100)}xx` });
    deps.metrics.httpRequestSeconds.observe(labels, reply.elapsedTime / 1000);
    done();
  });
  registerHealthRoutes(app, deps);
  registerSystemRoutes(app, deps);
  registerMetricsRoute(app, deps);
  for (const register of registrars) await register(app);
  app.get('/api/v1/openapi.json', { schema: { hide: true }, config: { public: true } }, async () => app.swagger());
  await app.ready();
  return app;
}
