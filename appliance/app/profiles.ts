/**
 * Starts caller profiles (history, repeat and frequent callers, mood over time) and their HTTP
 * routes, including the agent's screen-pop, which also reads the routing decisions and alerts.
 */
import type { AlertsRepo } from '../alerts/repo.js';
import { registerCustomerRoutes } from '../api/routes/customers.js';
import { registerProfileRoutes } from '../api/routes/profiles.js';
import { CustomerRepo } from '../customers/customerRepo.js';
import { CustomerService } from '../customers/customerService.js';
import { DEFAULT_PROFILE_SETTINGS, type ProfileSettings } from '../profiles/profile.js';
import { ProfileService } from '../profiles/profileService.js';
import { ProfilesRepo } from '../profiles/repo.js';
import type { RoutingRepo } from '../routing/repo.js';
import type { RoutingService } from '../routing/routingService.js';
import type { CapabilityDeps, Started } from './capability.js';

const DAY_MS = 86_400_000;

export function startProfiles(
  deps: CapabilityDeps & { routing: RoutingService; routingRepo: RoutingRepo; alertsRepo: AlertsRepo },
): Started & { readonly service: ProfileService; readonly customers: CustomerService } {
  const { config, store, bus, logger } = deps;
  const rc = config.routing;
  const repo = new ProfilesRepo(store.db, store.write.bind(store));
  const settings: ProfileSettings = {
    ...DEFAULT_PROFILE_SETTINGS,
    windowMs: rc.profiles.windowDays * DAY_MS,
    frequentCallerCalls: rc.profiles.frequentCallerCalls,
    repeatWindowMs: rc.profiles.repeatWindowDays * DAY_MS,
  };
  const service = new ProfileService({
    repo,
    calls: store.calls,
    bus,
    logger,
    settings,
    angerThreshold: () => deps.routing.rules().angerThreshold,
  });
  // One customer across calls, chats and e-mail cases (customers/): the screen-pop's open cases and timeline.
  const customers = new CustomerService({
    repo: new CustomerRepo(store.db, store.write.bind(store)),
    db: store.db,
    profiles: repo,
    audit: store.audit,
    settings: () => service.settings,
  });
  return {
    service,
    customers,
    routes: (app) => {
      registerProfileRoutes(app, {
        store,
        profiles: service,
        profilesRepo: repo,
        routingRepo: deps.routingRepo,
        alertsRepo: deps.alertsRepo,
        customers,
      });
      registerCustomerRoutes(app, { customers });
    },
    close: () => service.close(),
  };
}
