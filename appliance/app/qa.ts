/** Starts QA scoring of every call (when `qa.enabled`) and its HTTP routes. */
import { registerQaRoutes } from '../api/routes/qa.js';
import { QaService } from '../qa/qaService.js';
import type { CapabilityDeps, Started } from './capability.js';

export function startQa(deps: CapabilityDeps): Started {
  const { config, store, bus, logger, now } = deps;
  if (!config.qa.enabled) return { close: () => {} };
  const qa = new QaService({ store, bus, logger, passScore: config.qa.passScore, ...(now ? { now } : {}) });
  return { routes: (app) => registerQaRoutes(app, { qa }), close: () => qa.close() };
}
