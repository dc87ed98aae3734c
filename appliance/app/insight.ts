/** Starts contact-reason insight: the rising-topic watch (alerts) and its HTTP routes. */
import type { AlertsRepo } from '../alerts/repo.js';
import { registerInsightRoutes } from '../api/routes/insight.js';
import { ContactReasonsRepo } from '../insight/contactReasons.js';
import { TopicWatch } from '../insight/topicWatch.js';
import type { CapabilityDeps, Started } from './capability.js';

/** How often the rising-topic watch looks at the store. */
const CHECK_MS = 5 * 60_000;

export function startInsight(deps: CapabilityDeps & { alertsRepo: AlertsRepo }): Started & { readonly watch: TopicWatch } {
  const { config, store, bus, logger, now } = deps;
  const reasons = new ContactReasonsRepo(store.db);
  const first = store.db.prepare(`SELECT MIN(started_at) AS t FROM calls`);
  const watch = new TopicWatch({
    reasons,
    dataSince: () => (first.get() as { t: number | null }).t,
    alerts: deps.alertsRepo,
    bus,
    logger,
    checkMs: CHECK_MS,
    ...(now ? { now } : {}),
  });
  return {
    watch,
    routes: (app) =>
      registerInsightRoutes(app, {
        reasons,
        watch,
        // a repeat caller as caller profiles count one (routing.profiles.repeatWindowDays); the API takes any N
        repeatDays: config.routing.profiles.repeatWindowDays,
        ...(now ? { now } : {}),
      }),
    close: () => watch.close(),
  };
}
