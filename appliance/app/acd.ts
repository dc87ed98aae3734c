/**
 * Starts the contact-centre side of the ACD: the KPI service (engine, fact sink, intervals restored
 * from and saved to the store), its API (GET /api/v1/acd/kpis, /api/v1/acd/kpis/intervals), its
 * Prometheus series, the wallboard event every acd.publishS, and the queue view the ACD orchestrator
 * decides admissions and announcements from. The orchestrator reports to `facts`, and keeps the
 * callers' callback requests in `callbacks` (numbers sealed with the store's SecretBox; supervisors
 * list and cancel them under /api/v1/acd/callbacks; `edgevox_acd_callbacks_pending`).
 * Its close saves the intervals once more, so it is pushed after `routing` (closed before it and the store).
 */
import { registerAcdRoutes } from '../api/routes/acd.js';
import { ChannelKpis } from '../conversations/channelKpis.js';
import { registerCallbackRoutes } from '../api/routes/callbacks.js';
import { CallbackRepo } from '../acd/callbackRepo.js';
import { Callbacks } from '../acd/callbacks.js';
import { siteTimeZone } from '../acd/businessHours.js';
import type { AcdFactSink } from '../acd/kpis.js';
import { KpiService } from '../acd/kpiService.js';
import { AcdQueues } from '../acd/queueView.js';
import { AcdRepo } from '../acd/repo.js';
import { resolveThresholds } from '../acd/wallboardThresholds.js';
import type { ApplianceMetrics } from '../metrics/metrics.js';
import type { SecretBox } from '../privacy/secrets.js';
import type { RoutingService } from '../routing/routingService.js';
import type { CapabilityDeps, Started } from './capability.js';

export interface StartedAcd extends Started {
  readonly kpis: KpiService;
  /** What the ACD orchestrator reports offers, answers, abandons, overflows, talk/wrap-up ends and agent states to. */
  readonly facts: AcdFactSink;
  /** Queue state and queued calls' places, for acd/queuePolicy.ts and acd/announcements.ts. */
  readonly queues: AcdQueues;
  /** The site's IANA zone (acd.timeZone, or the system's). */
  readonly timeZone: string;
  /** Callers' callback requests (kept in the store; the ACD orchestrator adds them). */
  readonly callbacks: Callbacks;
}

/** How often intervals are saved when no wallboard events are sent. */
const PERSIST_TICK_MS = 60_000;
/** A fact reaches the wallboard within this (a burst of facts makes one event). */
const FACT_PUBLISH_MS = 200;

export function startAcd(
  deps: CapabilityDeps & { readonly routing: RoutingService; readonly metrics: ApplianceMetrics; readonly secrets: SecretBox },
): StartedAcd {
  const { config, store, bus, logger, routing, metrics } = deps;
  const acd = config.acd;
  const timeZone = siteTimeZone(acd.timeZone);
  const kpis = new KpiService(
    { repo: new AcdRepo(store.db, store.write.bind(store)), bus, logger, groups: () => routing.groupList() },
    {
      serviceLevelS: acd.serviceLevelS,
      shortAbandonS: acd.shortAbandonS,
      intervalMs: acd.intervalMinutes * 60_000,
      factPublishMs: acd.publishS > 0 ? FACT_PUBLISH_MS : 0,
    },
  );
  const queues = new AcdQueues({ routing, kpis, serviceLevelS: acd.serviceLevelS, timeZone });
  metrics.bindAcd(kpis);
  // Text channels: read from the conversations table, so the figures hold whichever channel writes it.
  const channels = new ChannelKpis(store.db);
  metrics.bindChannels(channels);
  const callbacks = new Callbacks({
    repo: new CallbackRepo(store.db, store.write.bind(store)),
    box: deps.secrets,
    bus,
    now: () => Date.now(),
  });
  metrics.bindAcdCallbacks(callbacks);
  const publish = acd.publishS > 0;
  const timer = setInterval(
    () => {
      try {
        kpis.tick(publish);
      } catch (err) {
        logger.error({ reason: err instanceof Error ? err.message : String(err) }, 'contact-centre figures not updated');
      }
    },
    publish ? acd.publishS * 1000 : PERSIST_TICK_MS,
  );
  timer.unref();
  logger.info({ intervalMinutes: acd.intervalMinutes, serviceLevelS: acd.serviceLevelS, timeZone }, 'contact-centre KPIs started');
  return {
    kpis,
    facts: kpis.facts,
    queues,
    timeZone,
    callbacks,
    routes: (app) => {
      registerAcdRoutes(app, {
        kpis,
        channels,
        thresholds: () =>
          resolveThresholds(
            acd,
            routing.groupList().map((g) => g.id),
          ),
      });
      registerCallbackRoutes(app, { callbacks });
    },
    close: () => {
      clearInterval(timer);
      kpis.close();
    },
  };
}
