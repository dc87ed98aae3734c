/** Starts supervisor alerts (anger, escalation, intent spikes, long queues) and their HTTP routes. */
import { AlertService } from '../alerts/alertService.js';
import { AlertsRepo } from '../alerts/repo.js';
import { registerAlertRoutes } from '../api/routes/alerts.js';
import type { RoutingService } from '../routing/routingService.js';
import type { CapabilityDeps, Started } from './capability.js';

export function startAlerts(deps: CapabilityDeps & { routing: RoutingService }): Started & { readonly repo: AlertsRepo } {
  const { config, store, bus, logger, routing } = deps;
  const alerts = config.routing.alerts;
  const repo = new AlertsRepo(store.db, store.write.bind(store));
  const service = new AlertService({
    repo,
    bus,
    logger,
    rules: () => routing.rules(),
    scripts: () => routing.scripts(),
    queueWaits: () => routing.queueWaits(),
    spike: {
      bucketMs: alerts.intentSpikeBucketMs,
      baselineBuckets: alerts.intentSpikeBaselineBuckets,
      factor: alerts.intentSpikeFactor,
      minCount: alerts.intentSpikeMinCount,
    },
    queueCheckMs: alerts.queueCheckMs,
  });
  return { repo, routes: (app) => registerAlertRoutes(app, { repo }), close: () => service.close() };
}
