/** What the HTTP server and its own routes are built from, and how other capabilities add routes. */
import type { FastifyInstance } from 'fastify';
import type { Authenticator } from '../auth/guard.js';
import type { EdgeVoxConfig } from '../config/schema.js';
import type { Readiness } from '../lifecycle/readiness.js';
import type { Logger } from '../log/logger.js';
import type { ApplianceMetrics } from '../metrics/metrics.js';
import type { ModelStore } from '../modelstore/modelStore.js';
import type { Store } from '../store/database.js';

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
