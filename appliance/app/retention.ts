/** Starts the retention sweeps that delete each class of stored data when its time is up. */
import { RetentionService } from '../retention/retention.js';
import { storeRetentionClasses } from '../retention/storeClasses.js';
import type { CapabilityDeps, Started } from './capability.js';

export function startRetention(deps: CapabilityDeps): Started {
  const { config, store, logger, now } = deps;
  const retention = new RetentionService({
    classes: storeRetentionClasses(store, config.privacy.retention),
    intervalMs: config.privacy.retention.sweepIntervalMs,
    logger,
    ...(now ? { now } : {}),
  });
  retention.start();
  return { close: () => retention.close() };
}
