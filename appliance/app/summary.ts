/** Starts the post-call summary of every call (summary/summaryService.ts); the calls API serves it. */
import { SummaryService } from '../summary/summaryService.js';
import type { CapabilityDeps, Started } from './capability.js';

export function startSummaries(deps: CapabilityDeps): Started & { service: SummaryService } {
  const { store, bus, logger, now } = deps;
  const service = new SummaryService({ store, bus, logger, ...(now ? { now } : {}) });
  return { service, close: () => service.close() };
}
