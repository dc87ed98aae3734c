/** System inventory: hardware, OS, versions, GPUs, inference providers, models. */
import type { FastifyInstance } from 'fastify';
import { collectInventory } from '../../system/inventory.js';
import type { ApiDeps } from '../deps.js';

export function registerSystemRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get(
    '/api/v1/system',
    { schema: { summary: 'System inventory (CPU, memory, data disk, OS, versions, GPUs, execution providers, models)' } },
    async () => {
      const inventory = await collectInventory({
        dataDir: deps.config.dataDir,
        configuredProviders: deps.config.inference.providers,
        repoRoot: deps.repoRoot,
      });
      return {
        site: deps.config.site,
        ...inventory,
        models: deps.models.status(),
        store: { schemaVersion: deps.store.schemaVersion() },
      };
    },
  );
}
