/** System inventory: hardware, OS, versions, GPUs, inference providers, models. */
import type { FastifyInstance } from 'fastify';
import { roleAtLeast } from '../../auth/authService.js';
import type { ModelStatus } from '../../modelstore/modelStore.js';
import { collectInventory, withoutPaths, type SystemInventory } from '../../system/inventory.js';
import type { ApiDeps } from '../deps.js';

/** What stands in for a filesystem path shown to a role below technician. */
const OMITTED = '(omitted)';

export function registerSystemRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get(
    '/api/v1/system',
    {
      schema: {
        summary:
          "System inventory (CPU, memory, data disk, OS, versions, GPUs, execution providers, models); the box's filesystem paths only for technicians",
      },
    },
    async (request) => {
      const inventory = await collectInventory({
        dataDir: deps.config.dataDir,
        configuredProviders: deps.config.inference.providers,
        repoRoot: deps.repoRoot,
      });
      const models = deps.models.status();
      const body = { site: deps.config.site, ...inventory, models, store: { schemaVersion: deps.store.schemaVersion() } };
      // Where the data, the models and their sources lie on the box is the technicians' business.
      return request.principal !== null && roleAtLeast(request.principal.role, 'technician')
        ? body
        : { ...body, dataDisk: dataDiskWithoutPaths(inventory.dataDisk), models: models.map(modelWithoutPaths) };
    },
  );
}

function dataDiskWithoutPaths(disk: SystemInventory['dataDisk']): SystemInventory['dataDisk'] {
  return disk === null ? null : { ...disk, path: OMITTED, mount: OMITTED };
}

/** As the diagnostics' model check shows it: installed or not, and the error without the paths in its message. */
function modelWithoutPaths(m: ModelStatus): ModelStatus {
  return {
    ...m,
    dir: m.dir === null ? null : 'installed',
    error: m.error === null ? null : { code: m.error.code, message: withoutPaths(m.error.message) },
  };
}
