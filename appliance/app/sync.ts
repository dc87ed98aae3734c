/** Starts the upload of anonymised aggregates upstream (when configured) and the sync audit API. */
import { registerSyncRoutes } from '../api/routes/sync.js';
import { SyncService } from '../sync/syncService.js';
import type { CapabilityDeps, Started } from './capability.js';

export function startSync(deps: CapabilityDeps & { dataDir: string }): Started & { readonly service: SyncService | null } {
  const { config, store, logger, now } = deps;
  const service = SyncService.fromConfig({ config, dataDir: deps.dataDir, store, logger, ...(now ? { now } : {}) });
  service?.start();
  return { service, routes: (app) => registerSyncRoutes(app, { sync: service }), close: async () => service?.close() };
}
