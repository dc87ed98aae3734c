/**
 * The data-governance services of the appliance (issue 8), built by the composition root after the
 * call manager: sealed secrets, retention sweeps, QA scoring of every call, and (when enabled) the
 * anonymised aggregates uploader. One close() for all of them, in reverse order of creation.
 */
import type { FastifyInstance } from 'fastify';
import type { EdgeVoxConfig } from '../config/schema.js';
import type { EventBus } from '../events/appEvents.js';
import type { Logger } from '../log/logger.js';
import type { Store } from '../store/database.js';
import { registerQaRoutes } from '../api/routes/qa.js';
import { registerSyncRoutes } from '../api/routes/sync.js';
import { QaService } from '../qa/qaService.js';
import { RetentionService } from '../retention/retention.js';
import { storeRetentionClasses } from '../retention/storeClasses.js';
import { SyncService } from '../sync/syncService.js';
import { SecretBox, SecretsRepo } from '../privacy/secrets.js';

export interface DataServicesDeps {
  config: EdgeVoxConfig;
  dataDir: string;
  store: Store;
  bus: EventBus;
  logger: Logger;
  now?: () => number;
}

export class DataServices {
  readonly secrets: SecretsRepo;
  readonly retention: RetentionService;
  readonly qa: QaService | null;
  readonly sync: SyncService | null;
  private closing: Promise<void> | undefined;

  private constructor(deps: DataServicesDeps) {
    const { config, store, logger } = deps;
    const writer = <T>(op: string, fn: () => T) => store.write(op, fn);
    this.secrets = new SecretsRepo(store.db, writer, SecretBox.fromDataDir(deps.dataDir));
    this.retention = new RetentionService({
      classes: storeRetentionClasses(store, config.privacy.retention),
      intervalMs: config.privacy.retention.sweepIntervalMs,
      logger,
      ...(deps.now ? { now: deps.now } : {}),
    });
    this.qa = config.qa.enabled
      ? new QaService({ store, bus: deps.bus, logger, passScore: config.qa.passScore, ...(deps.now ? { now: deps.now } : {}) })
      : null;
    this.sync = SyncService.fromConfig({ config, dataDir: deps.dataDir, store, logger, ...(deps.now ? { now: deps.now } : {}) });
  }

  static start(deps: DataServicesDeps): DataServices {
    const s = new DataServices(deps);
    s.retention.start();
    s.sync?.start();
    return s;
  }

  /** Mount the QA and sync audit API. */
  routes(app: FastifyInstance): void {
    if (this.qa !== null) registerQaRoutes(app, { qa: this.qa });
    registerSyncRoutes(app, { sync: this.sync });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.sync?.close();
      await this.qa?.close();
      this.retention.close();
    })();
    return this.closing;
  }
}
