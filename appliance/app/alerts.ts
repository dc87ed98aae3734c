/** Starts supervisor alerts (anger, escalation, intent spikes, long queues), their lifecycle and HTTP routes. */
import { AlertService } from '../alerts/alertService.js';
import { AlertLifecycle } from '../alerts/lifecycle.js';
import { AlertPush } from '../alerts/push/alertPush.js';
import { AlertsRepo } from '../alerts/repo.js';
import { registerAlertRoutes } from '../api/routes/alerts.js';
import { ConsoleAuthRepo } from '../auth/repo.js';
import type { RoutingService } from '../routing/routingService.js';
import type { CapabilityDeps, Started } from './capability.js';

/** History entries shown with one alert. */
const HISTORY_LIMIT = 100;

export function startAlerts(
  deps: CapabilityDeps & { routing: RoutingService },
): Started & { readonly repo: AlertsRepo; readonly push: AlertPush | null } {
  const { config, store, bus, logger, routing } = deps;
  const alerts = config.routing.alerts;
  const repo = new AlertsRepo(store.db, store.write.bind(store));
  const users = new ConsoleAuthRepo(store.db, (op, fn) => store.write(op, fn));
  const lifecycle = new AlertLifecycle({ repo, bus, audit: store.audit, userExists: (u) => users.getUser(u) !== undefined });
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
  // Push (webhook, e-mail) when configured; a configuration it cannot run with fails the start.
  const { webhook, email } = alerts;
  const push = new AlertPush({
    site: { id: config.site.id, name: config.site.name },
    logger,
    counts: () => repo.counts(),
    webhook: webhook.url === '' ? null : webhook,
    email: email.host === '' ? null : email,
  });
  if (push.enabled) push.attach(bus);
  return {
    repo,
    push: push.enabled ? push : null,
    routes: (app) =>
      registerAlertRoutes(app, {
        repo,
        lifecycle,
        history: (id) => store.audit.forTarget(`alert:${id}`, HISTORY_LIMIT),
        assignees: () => users.listUsers().map((u) => ({ username: u.username, role: u.role })),
      }),
    close: () => {
      service.close();
      push.close();
    },
  };
}
