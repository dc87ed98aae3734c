/**
 * Starts the ACD (acd.mode = acd): the box answers calls, queues them and rings agents' phones
 * (acd/acdCalls.ts) on the SIP server, with routing's decisions, the agents' states and registered
 * phones, the queue view and KPI facts, the callback requests, the prompt store, and the telephony
 * bridge that transcribes the agent leg with the caller's call. Pushed after the SIP server: closed before it, so calls
 * still ringing agents are cancelled while the transports are up.
 */
import { AcdCalls } from '../acd/acdCalls.js';
import type { AcdSoftphones } from '../acd/agentRing.js';
import type { AgentPresence } from '../acd/agentPresence.js';
import type { TelephonyBridge } from '../calls/telephonyBridge.js';
import type { ApplianceMetrics } from '../metrics/metrics.js';
import type { PromptStore } from '../prompts/promptStore.js';
import type { RoutingService } from '../routing/routingService.js';
import type { Registrar } from '../telephony/registrar.js';
import type { SipServer } from '../telephony/sip-server.js';
import type { StartedAcd } from './acd.js';
import type { CapabilityDeps, Started } from './capability.js';

export interface StartedAcdCalls extends Started {
  readonly calls: AcdCalls;
}

export function startAcdCalls(
  deps: CapabilityDeps & {
    readonly sip: SipServer;
    readonly telephony: TelephonyBridge;
    readonly routing: RoutingService;
    readonly presence: AgentPresence;
    readonly registrar: Registrar | null;
    readonly acd: StartedAcd;
    readonly prompts: PromptStore;
    /** Agents' browser softphones (app/acdSoftphones.ts), when WebRTC is on. */
    readonly softphones?: AcdSoftphones | undefined;
    readonly metrics: ApplianceMetrics;
  },
): StartedAcdCalls {
  const { config, bus, logger } = deps;
  const registrar = deps.registrar;
  const calls = new AcdCalls({
    sip: deps.sip,
    routing: deps.routing,
    bus,
    agents: deps.presence,
    contactsOf: (agentId) => registrar?.contactsOf(agentId) ?? [],
    ...(deps.softphones === undefined ? {} : { softphones: deps.softphones }),
    facts: deps.acd.facts,
    queues: deps.acd.queues,
    prompt: (lang, name, rateHz) => deps.prompts.get(lang, name, { rateHz }),
    agentSink: (callerCallId) => deps.telephony.agentSinkFactory(callerCallId),
    callbacks: deps.acd.callbacks,
    logger,
    now: () => Date.now(),
    options: {
      ringTimeoutMs: config.acd.ringTimeoutS * 1000,
      routeTimeoutMs: config.acd.routeTimeoutS * 1000,
      lang: config.acd.promptLanguage,
      callbackOfferMs: config.acd.callbackOfferS * 1000,
    },
  });
  deps.metrics.bindAcdCalls(calls.events);
  if (registrar === null) logger.warn({}, 'ACD mode without the registrar (sip.registrar.enabled): no agent phone can be rung');
  logger.info({ ringTimeoutS: config.acd.ringTimeoutS, lang: config.acd.promptLanguage }, 'ACD started: the box answers and queues calls');
  return { calls, close: () => calls.close() };
}
