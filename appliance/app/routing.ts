/**
 * Builds the issue-5 runtime for the composition root, in order: intent/emotion analysers (on the
 * model store's active models) → routing service → caller profiles → alerts → call router; plus the
 * HTTP routes and the SIP transfer hook. `close()` undoes it in reverse, once.
 */
import type { FastifyInstance } from 'fastify';
import { startAnalysis, type AnalysisRuntime } from '../analysis/loader.js';
import { AlertService } from '../alerts/alertService.js';
import { registerAlertRoutes } from '../api/routes/alerts.js';
import { registerProfileRoutes } from '../api/routes/profiles.js';
import { registerRoutingRoutes } from '../api/routes/routing.js';
import type { UtteranceAnalyser } from '../calls/analysis.js';
import type { EdgeVoxConfig } from '../config/schema.js';
import type { EventBus } from '../events/appEvents.js';
import type { Logger } from '../log/logger.js';
import type { ModelStore } from '../modelstore/modelStore.js';
import { DEFAULT_PROFILE_SETTINGS, type ProfileSettings } from '../profiles/profile.js';
import { ProfileService } from '../profiles/profileService.js';
import type { Store } from '../store/database.js';
import { AlertsRepo } from '../alerts/repo.js';
import { ProfilesRepo } from '../profiles/repo.js';
import { RoutingRepo } from '../routing/repo.js';
import type { SipServer } from '../telephony/sip-server.js';
import { transferPolicyOf } from '../telephony/transferTargets.js';
import { CallRouter } from '../routing/callRouter.js';
import { RoutingService } from '../routing/routingService.js';
import { attachSipTransfer } from '../routing/sipTransfer.js';

const DAY_MS = 86_400_000;

export interface RoutingRuntime {
  readonly analysers: readonly UtteranceAnalyser[];
  readonly analysis: AnalysisRuntime | null;
  readonly routing: RoutingService;
  readonly profiles: ProfileService;
  readonly alerts: AlertService;
  readonly router: CallRouter;
  /** HTTP routes (routing, profiles, screen-pop, alerts) for `createHttpServer`. */
  readonly registerRoutes: (app: FastifyInstance) => void;
  /** Transfer routed SIP calls with REFER through this server; returns the detach function. */
  attachSip(sip: SipServer): () => void;
  close(): Promise<void>;
}

export async function startRoutingRuntime(deps: {
  config: EdgeVoxConfig;
  store: Store;
  models: ModelStore;
  bus: EventBus;
  logger: Logger;
}): Promise<RoutingRuntime> {
  const { config, store, bus, logger } = deps;
  const rc = config.routing;
  const writer = store.write.bind(store);
  const routingRepo = new RoutingRepo(store.db, writer);
  const profilesRepo = new ProfilesRepo(store.db, writer);
  const alertsRepo = new AlertsRepo(store.db, writer);

  const analysis = rc.enabled ? await startAnalysis({ models: deps.models, config, logger, publish: (e) => bus.publish(e) }) : null;
  // A call's emotion trend lives as long as the call (the tracker's own bound is only a backstop).
  const unsubscribeTrends = bus.subscribe((e) => {
    if (e.type === 'call.ended') analysis?.trends.forgetCall(e.callId);
  });
  const routing = new RoutingService({ repo: routingRepo, bus, logger, transfer: rc.transfer, targets: transferPolicyOf(config.sip) });
  const settings: ProfileSettings = {
    ...DEFAULT_PROFILE_SETTINGS,
    windowMs: rc.profiles.windowDays * DAY_MS,
    frequentCallerCalls: rc.profiles.frequentCallerCalls,
    repeatWindowMs: rc.profiles.repeatWindowDays * DAY_MS,
  };
  const profiles = new ProfileService({
    repo: profilesRepo,
    calls: store.calls,
    bus,
    logger,
    settings,
    angerThreshold: () => routing.rules().angerThreshold,
  });
  const alerts = new AlertService({
    repo: alertsRepo,
    bus,
    logger,
    rules: () => routing.rules(),
    scripts: () => routing.scripts(),
    queueWaits: () => routing.queueWaits(),
    spike: {
      bucketMs: rc.alerts.intentSpikeBucketMs,
      baselineBuckets: rc.alerts.intentSpikeBaselineBuckets,
      factor: rc.alerts.intentSpikeFactor,
      minCount: rc.alerts.intentSpikeMinCount,
    },
    queueCheckMs: rc.alerts.queueCheckMs,
  });
  const router = new CallRouter({
    bus,
    service: routing,
    profileOf: (callId) => profiles.routeProfileOfCall(callId),
    logger,
    options: {
      speakers: ['caller'],
      emotionSpeakers: analysis?.emotion ? rc.emotionSpeakers : [],
      minEmotionAudioMs: rc.minEmotionAudioMs,
      emotionWaitMs: rc.emotionWaitMs,
      maxUtterancesBeforeDefault: rc.maxUtterancesBeforeDefault,
    },
  });
  if (!rc.enabled) router.close();

  let closed: Promise<void> | undefined;
  return {
    analysers: analysis?.analysers ?? [],
    analysis,
    routing,
    profiles,
    alerts,
    router,
    registerRoutes: (app) => {
      registerRoutingRoutes(app, { service: routing, repo: routingRepo });
      registerProfileRoutes(app, { store, profiles, profilesRepo, routingRepo, alertsRepo });
      registerAlertRoutes(app, { repo: alertsRepo });
    },
    attachSip: (sip) => attachSipTransfer(sip, routing),
    close() {
      closed ??= (async () => {
        unsubscribeTrends();
        router.close();
        alerts.close();
        profiles.close();
        routing.close();
        await analysis?.close();
      })();
      return closed;
    },
  };
}
