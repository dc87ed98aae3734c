/**
 * The console's one registrar: console API routes, TLS listener and the static front end at `/`.
 * app.ts mounts it with `consoleRegistrar(deps)`; the access guard is the HTTP server's own.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import type { AuthService, AuthSettings } from '../auth/authService.js';
import type { RouteRegistrar } from '../api/server.js';
import type { CallManager } from '../calls/callManager.js';
import { CallerHasher } from '../calls/callerHash.js';
import type { EdgeVoxConfig } from '../config/schema.js';
import { evxError } from '../errors.js';
import type { EventBus } from '../events/appEvents.js';
import type { Readiness } from '../lifecycle/readiness.js';
import type { Logger } from '../log/logger.js';
import type { ModelStore } from '../modelstore/modelStore.js';
import type { Store } from '../store/database.js';
import { ConsoleStatsRepo } from './statsRepo.js';
import type { SipServer } from '../telephony/sip-server.js';
import { ConfigService } from './configService.js';
import { RecentErrors, type ConsoleContext } from './context.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerConfigRoutes } from './routes/config.js';
import { registerOpsRoutes } from './routes/ops.js';
import { HttpsListener, ensureCertificate } from './tls.js';

export interface ConsoleDeps {
  config: EdgeVoxConfig;
  logger: Logger;
  store: Store;
  models: ModelStore;
  bus: EventBus;
  calls: CallManager;
  sip: SipServer | null;
  readiness: Readiness;
  repoRoot: string;
  /** Accounts, sessions and tokens (built by the composition root: the access guard uses it too). */
  auth: AuthService;
  /** The auth service's live settings: changed in place when the console's settings change. */
  authSettings: AuthSettings;
  /** Built front end (default: <repo>/dist/console). */
  staticDir?: string;
}

export function consoleStaticDir(repoRoot: string): string {
  return join(repoRoot, 'dist', 'console');
}

const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
};

/**
 * The built front end at `/`, public (it is the sign-in page; everything it shows comes from the
 * API). Source maps (*.map) are never served, to anyone: they carry the front end's whole source
 * and help nobody but a developer, who has them in the build on the box.
 */
export async function registerConsolePages(app: FastifyInstance, staticDir: string): Promise<void> {
  await app.register(async (pages) => {
    pages.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true };
    });
    await pages.register(fastifyStatic, {
      root: staticDir,
      prefix: '/',
      index: ['index.html'],
      wildcard: true,
      cacheControl: false,
      allowedPath: (pathName) => !pathName.toLowerCase().endsWith('.map'),
    });
  });
}

/** Build the console's services and return the registrar that mounts them. */
export function consoleRegistrar(deps: ConsoleDeps): RouteRegistrar {
  return async (app: FastifyInstance) => {
    const dataDir = resolve(deps.config.dataDir);
    const auth = deps.auth;
    const errors = new RecentErrors();
    const configs = new ConfigService({
      store: deps.store,
      running: deps.config,
      logger: deps.logger,
      onLiveChange: (next) =>
        Object.assign(deps.authSettings, {
          sessionTtlMs: next.console.sessionTtlMs,
          lockoutThreshold: next.console.lockoutThreshold,
          lockoutMs: next.console.lockoutMs,
          loginBackoffAfter: next.console.loginBackoffAfter,
        }),
    });
    const ctx: ConsoleContext = {
      config: deps.config,
      dataDir,
      logger: deps.logger,
      store: deps.store,
      models: deps.models,
      bus: deps.bus,
      calls: deps.calls,
      sip: deps.sip,
      readiness: deps.readiness,
      hasher: CallerHasher.fromDataDir(dataDir),
      auth,
      configs,
      stats: new ConsoleStatsRepo(deps.store.db),
      errors,
      https: { listener: null },
      repoRoot: deps.repoRoot,
    };

    // Recent errors come from the places that already report them; codes and static text only.
    for (const m of deps.models.status())
      if (m.error) errors.add({ at: Date.now(), source: `model:${m.name}`, code: m.error.code, message: m.error.message });
    const offWrite = deps.store.events.on('writeError', (e) =>
      errors.add({ at: Date.now(), source: 'store', code: 'EVX_ERR_STORE_WRITE', message: `${e.operation}: ${e.sqliteCode}` }),
    );
    const offBus = deps.bus.subscribe((e) => {
      if (e.type === 'alert' && e.severity !== 'info')
        errors.add({ at: e.at, source: `alert:${e.kind}`, code: e.severity, message: e.kind });
    });
    app.addHook('onResponse', (request, reply, done) => {
      if (reply.statusCode >= 500)
        errors.add({
          at: Date.now(),
          source: 'http',
          code: String(reply.statusCode),
          message: `${request.method} ${request.routeOptions.url ?? 'unmatched'}`,
        });
      done();
    });
    app.addHook('onSend', (_request, reply, payload, done) => {
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) if (!reply.hasHeader(k)) void reply.header(k, v);
      done(null, payload);
    });

    registerAuthRoutes(app, ctx);
    registerConfigRoutes(app, ctx);
    registerOpsRoutes(app, ctx);

    const staticDir = deps.staticDir ?? consoleStaticDir(deps.repoRoot);
    if (existsSync(join(staticDir, 'index.html'))) {
      await registerConsolePages(app, staticDir);
    } else {
      deps.logger.warn({ staticDir }, 'console front end not built (make console-build); serving the API only');
      app.get('/', { schema: { hide: true }, config: { public: true } }, async (_req, reply) =>
        reply.type('text/plain').send('EdgeVox console is not built: run `make console-build` (the API is under /api/v1).\n'),
      );
    }

    auth.ensureSetupToken();

    if (deps.config.console.httpsPort >= 0) {
      const host = deps.config.console.httpsHost || deps.config.http.host;
      const { material, created } = ensureCertificate(dataDir, `edgevox-${deps.config.site.id}`, [host, deps.config.sip.rtpHost]);
      if (created) deps.logger.info({ dir: join(dataDir, 'tls') }, 'self-signed console certificate created');
      const listener = new HttpsListener(app, material);
      ctx.https.listener = listener;
      // a certificate renewed in the store (the box's own, renewed before it ends) is served without a restart
      listener.follow(dataDir, (reason) => deps.logger.warn({ reason }, 'console https certificate not reloaded'));
      app.addHook('onReady', async () => {
        try {
          const port = await listener.listen(host, deps.config.console.httpsPort);
          deps.logger.info({ port }, 'console https listening');
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          throw evxError(
            'EVX_ERR_PORT_IN_USE',
            `cannot listen on https ${host}:${deps.config.console.httpsPort} (${code ?? 'error'}); key 'console.httpsPort'`,
            {
              cause: err,
              details: { key: 'console.httpsPort', reason: code },
            },
          );
        }
      });
    }
    app.addHook('onClose', async () => {
      offWrite();
      offBus();
      await ctx.https.listener?.close();
    });
  };
}
