/**
 * The HTTP server (fastify): health, readiness, system inventory, metrics, OpenAPI, and the routes
 * other capabilities register through `ApiDeps`. Route modules get their dependencies explicitly;
 * nothing reaches for globals.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { SECURITY_SCHEMES, openapiTransform } from './openapi.js';
import { VERSION } from '../buildInfo.js';
import { installAccessGuard, type RouteAccessEntry } from '../auth/guard.js';
import { installAuditTrail } from '../auth/auditTrail.js';
import type { ApiDeps, RouteRegistrar } from './deps.js';
import { ErrorBodySchema, installErrorHandling } from './errors.js';
import { installFiniteNumbers } from './finiteNumbers.js';
import { registerClusterRoutes } from './routes/cluster.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerSystemRoutes } from './routes/system.js';
import { registerMetricsRoute } from './routes/metrics.js';

export type { ApiDeps, RouteRegistrar } from './deps.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route the router was given, with the access the guard applies to it. */
    accessTable: readonly RouteAccessEntry[];
  }
}

export async function createHttpServer(deps: ApiDeps, registrars: readonly RouteRegistrar[] = []): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: 1024 * 1024,
    // Forwarded headers count only from the site's own reverse proxies; from anyone else they are
    // the client's word and ignored, so no client can pick the address it is throttled under.
    trustProxy: deps.config.http.trustedProxies.length > 0 ? [...deps.config.http.trustedProxies] : false,
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
  installFiniteNumbers(app);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'EdgeVox appliance API',
        version: VERSION,
        description: 'On-premise voice appliance: calls, transcripts, routing, operations.',
      },
      servers: [{ url: '/' }],
      components: { securitySchemes: SECURITY_SCHEMES },
    },
    transform: openapiTransform,
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
  registerClusterRoutes(app, { frontRpcUrl: deps.config.cluster.frontRpcUrl });
  registerMetricsRoute(app, deps);
  for (const register of registrars) await register(app);
  app.get('/api/v1/openapi.json', { schema: { hide: true }, config: { public: true } }, async () => app.swagger());
  await app.ready();
  return app;
}
