/**
 * Starts routing: the routing service on its repository (with the transfer targets callers may be
 * sent to), its HTTP routes, the SIP transfer hook, and — once profiles exist — the call router
 * that turns analysed utterances into routing decisions.
 */
import type { AnalysisRuntime } from '../analysis/loader.js';
import { registerRoutingRoutes } from '../api/routes/routing.js';
import type { SecretBox } from '../privacy/secrets.js';
import type { ProfileService } from '../profiles/profileService.js';
import { CallRouter } from '../routing/callRouter.js';
import { RoutingRepo } from '../routing/repo.js';
import { RoutingService } from '../routing/routingService.js';
import { attachSipTransfer } from '../routing/sipTransfer.js';
import type { SipServer } from '../telephony/sip-server.js';
import { transferPolicyOf } from '../telephony/transferTargets.js';
import type { CapabilityDeps, Started } from './capability.js';

export interface StartedRouting extends Started {
  readonly service: RoutingService;
  readonly repo: RoutingRepo;
  /** Transfer routed SIP calls with REFER through this server; returns the detach function. */
  attachSip(sip: SipServer): () => void;
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
  return {
    service,
    repo,
    routes: (app) => registerRoutingRoutes(app, { service, repo }),
    attachSip: (sip) => attachSipTransfer(sip, service),
    close: () => service.close(),
  };
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
