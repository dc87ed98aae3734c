/**
 * Starts routing: the routing service on its repository (with the transfer targets callers may be
 * sent to), its HTTP routes, the SIP transfer hook, the decision webhook (`routing.webhook.url`, in
 * both acd modes), and — once profiles exist — the call router that turns analysed utterances into
 * routing decisions.
 */
import type { AnalysisRuntime } from '../analysis/loader.js';
import { registerRoutingRoutes } from '../api/routes/routing.js';
import type { EdgeVoxConfig } from '../config/schema.js';
import { isEdgeVoxError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { SecretBox } from '../privacy/secrets.js';
import type { ProfileService } from '../profiles/profileService.js';
import { CallRouter } from '../routing/callRouter.js';
import { RoutingRepo } from '../routing/repo.js';
import { RoutingService } from '../routing/routingService.js';
import { attachSipTransfer } from '../routing/sipTransfer.js';
import { RoutingWebhook } from '../routing/webhook.js';
import type { SipServer } from '../telephony/sip-server.js';
import { transferPolicyOf } from '../telephony/transferTargets.js';
import type { CapabilityDeps, Started } from './capability.js';

export interface StartedRouting extends Started {
  readonly service: RoutingService;
  readonly repo: RoutingRepo;
  /** Transfer routed SIP calls with REFER through this server; returns the detach function. */
  attachSip(sip: SipServer): () => void;
  /** Decisions POSTed to `routing.webhook.url`; null when it is off. `counters()` for the metrics. */
  readonly webhook: RoutingWebhook | null;
}

/** `secrets` seals agents' SIP passwords (without it, agent accounts with a password are refused). */
export function startRouting(deps: CapabilityDeps & { readonly secrets?: SecretBox }): StartedRouting {
  const { config, store, bus, logger } = deps;
  const repo = new RoutingRepo(store.db, store.write.bind(store));
  const service = new RoutingService({
    repo,
    bus,
    logger,
    transfer: config.routing.transfer,
    targets: transferPolicyOf(config.sip),
    ...(deps.secrets === undefined ? {} : { secrets: deps.secrets }),
  });
  const webhook = startWebhook(config, logger);
  webhook?.attach(bus);
  return {
    service,
    repo,
    webhook,
    routes: (app) => registerRoutingRoutes(app, { service, repo }),
    attachSip: (sip) => attachSipTransfer(sip, service),
    close: async () => {
      // the webhook stops taking decisions first, then gets its bounded grace for requests in flight
      const closing = webhook?.close();
      service.close();
      await closing;
    },
  };
}

/**
 * The decision webhook when `routing.webhook.url` is set. A configuration it cannot run with (no
 * or too short a secret) leaves it off with an error in the log, rather than keeping the box from
 * starting; the URL itself is checked when the configuration is loaded.
 */
function startWebhook(config: EdgeVoxConfig, logger: Logger): RoutingWebhook | null {
  const wc = config.routing.webhook;
  if (wc.url === '') return null;
  try {
    const webhook = new RoutingWebhook({
      url: wc.url,
      secret: wc.secret,
      timeoutMs: wc.timeoutMs,
      maxAttempts: wc.maxAttempts,
      maxPending: wc.maxPending,
      siteId: config.site.id,
      logger,
    });
    logger.info({ target: new URL(wc.url).origin, mode: config.acd.mode }, 'routing webhook on');
    return webhook;
  } catch (err) {
    if (!isEdgeVoxError(err)) throw err;
    logger.error({ code: err.code, key: err.details['key'], reason: err.message }, 'routing webhook off: configuration refused');
    return null;
  }
}

/** The call router: routes each call from its analysed utterances and the caller's profile. */
export function startCallRouter(
  deps: CapabilityDeps & { routing: RoutingService; profiles: ProfileService; analysis: AnalysisRuntime | null },
): Started & { readonly router: CallRouter } {
  const rc = deps.config.routing;
  const router = new CallRouter({
    bus: deps.bus,
    service: deps.routing,
    profileOf: (callId) => deps.profiles.routeProfileOfCall(callId),
    logger: deps.logger,
    options: {
      speakers: ['caller'],
      emotionSpeakers: deps.analysis?.emotion ? rc.emotionSpeakers : [],
      minEmotionAudioMs: rc.minEmotionAudioMs,
      emotionWaitMs: rc.emotionWaitMs,
      maxUtterancesBeforeDefault: rc.maxUtterancesBeforeDefault,
    },
  });
  if (!rc.enabled) router.close();
  return { router, close: () => router.close() };
}
