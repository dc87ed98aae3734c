/**
 * Starts the ACD (acd.mode = acd): the box answers calls, queues them and rings agents' phones
 * (acd/acdCalls.ts) on the SIP server, with routing's decisions, the agents' states and registered
 * phones, the queue view and KPI facts, the callback requests, the prompt store, and the telephony
 * bridge that transcribes the agent leg with the caller's call; agents' consult calls (acd/consultCalls.ts: an
 * agent's phone dialling another agent, then handed over by a REFER with Replaces). Pushed after the SIP server: closed before it, so calls
 * still ringing agents are cancelled while the transports are up.
 */
import { networkInterfaces } from 'node:os';
import { AcdCalls } from '../acd/acdCalls.js';
import { phoneRinger, type AcdSoftphones } from '../acd/agentRing.js';
import { CallbackDialer, type CallbackTrunk } from '../acd/callbackDialer.js';
import { ConsultCalls } from '../acd/consultCalls.js';
import type { CallManager } from '../calls/callManager.js';
import type { AgentPresence } from '../acd/agentPresence.js';
import type { TelephonyBridge } from '../calls/telephonyBridge.js';
import type { ApplianceMetrics } from '../metrics/metrics.js';
import type { PromptStore } from '../prompts/promptStore.js';
import type { RoutingService } from '../routing/routingService.js';
import type { Registrar } from '../telephony/registrar.js';
import type { SipServer } from '../telephony/sip-server.js';
import { transferPolicyOf } from '../telephony/transferTargets.js';
import type { StartedAcd } from './acd.js';
import type { CapabilityDeps, Started } from './capability.js';

export interface StartedAcdCalls extends Started {
  readonly calls: AcdCalls;
  readonly callbacks: CallbackDialer;
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
    /** The live calls (callback attempts are interactions of their own). */
    readonly liveCalls: CallManager;
    /** Where callbacks are dialled (the trunk dialer); null when no trunk has outbound calls enabled. */
    readonly trunk: CallbackTrunk | null;
    /** The dialable number of a caller's URI. */
    readonly dialable: (uri: string) => string | null;
    /** Keep the call router from routing a call from its words (agents' consult calls). */
    readonly doNotRoute?: (callId: string) => void;
    /** The dialler starts once this settles: the partner told which callbacks it adopted (cluster/callbackHandover.ts). */
    readonly callbacksReady?: Promise<unknown>;
  },
): StartedAcdCalls {
  const { config, bus, logger } = deps;
  const registrar = deps.registrar;
  const transferPolicy = transferPolicyOf(config.sip);
  const hosts = boxHosts(config.sip.host);
  // an agent's phone dialling another agent at the box: a consult call (attended transfers)
  const consults = new ConsultCalls({
    sip: deps.sip,
    agents: deps.presence,
    agentIds: () => deps.routing.agentList().map((a) => a.id),
    contactsOf: (agentId) => registrar?.contactsOf(agentId) ?? [],
    boxHosts: hosts,
    agentSink: (callerCallId) => deps.telephony.placedLegSinkFactory(callerCallId),
    ...(deps.doNotRoute === undefined ? {} : { doNotRoute: deps.doNotRoute }),
    logger,
    ringTimeoutMs: config.acd.ringTimeoutS * 1000,
  });
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
    agentSink: (callerCallId) => deps.telephony.placedLegSinkFactory(callerCallId),
    callbacks: deps.acd.callbacks,
    transfers: { boxHosts: hosts, problem: (uri) => transferPolicy.problem(uri) },
    consults,
    audit: (actor, action, target, details) => void deps.store.audit.record(actor, action, target, details),
    logger,
    now: () => Date.now(),
    options: {
      ringTimeoutMs: config.acd.ringTimeoutS * 1000,
      routeTimeoutMs: config.acd.routeTimeoutS * 1000,
      lang: config.acd.promptLanguage,
      callbackOfferMs: config.acd.callbackOfferS * 1000,
    },
  });
  const cb = config.acd.callbacks;
  const dialer = new CallbackDialer({
    callbacks: deps.acd.callbacks,
    routing: deps.routing,
    groupIds: () => deps.routing.groupList().map((g) => g.id),
    bus,
    agents: deps.presence,
    ringer: phoneRinger(deps.sip, (agentId) => registrar?.contactsOf(agentId) ?? [], logger),
    trunk: deps.trunk,
    dialable: deps.dialable,
    sip: deps.sip,
    interactions: {
      open: (callId, meta) => {
        deps.liveCalls.startCall({
          callId,
          source: 'sip',
          direction: 'outbound',
          meta: { callback: meta.callbackId, groupId: meta.groupId },
        });
      },
      answered: (callId) => deps.liveCalls.get(callId)?.answer(),
      legSink: (callId, label) => deps.telephony.placedLegSinkFactory(callId, label),
      end: (callId, reason) => void deps.liveCalls.get(callId)?.end(reason),
    },
    prompt: (lang, name, rateHz) => deps.prompts.get(lang, name, { rateHz }),
    logger,
    now: () => Date.now(),
    options: {
      ringTimeoutMs: config.acd.ringTimeoutS * 1000,
      customerRingTimeoutMs: cb.ringS * 1000,
      maxAttempts: cb.maxAttempts,
      retryMs: cb.retryS * 1000,
      maxRetryMs: cb.maxRetryS * 1000,
      maxQueued: cb.maxQueued,
      pollMs: 5000,
      lang: config.acd.promptLanguage,
      trunk: cb.trunk,
    },
  });
  let stopped = false;
  if (deps.callbacksReady === undefined) dialer.start();
  else
    // a store error while closing adopted requests leaves the dialler stopped rather than risk a second call
    void deps.callbacksReady.then(
      () => {
        if (!stopped) dialer.start();
      },
      (err: unknown) =>
        logger.error({ reason: err instanceof Error ? err.message : String(err) }, 'callbacks not placed: hand-over check failed'),
    );
  // transfers asked by agents' phones (REFER on their legs) are the ACD's to decide
  deps.sip.setReferralHandler(
    (callId, uri) => calls.referral(callId, uri),
    (callId) => calls.ownsReferral(callId),
  );
  deps.metrics.bindAcdCalls(calls.events);
  if (registrar === null) logger.warn({}, 'ACD mode without the registrar (sip.registrar.enabled): no agent phone can be rung');
  logger.info({ ringTimeoutS: config.acd.ringTimeoutS, lang: config.acd.promptLanguage }, 'ACD started: the box answers and queues calls');
  return {
    calls,
    callbacks: dialer,
    close: () => {
      deps.sip.setReferralHandler(undefined);
      stopped = true;
      dialer.close();
      calls.close();
      consults.close();
    },
  };
}

/** How agents' phones address the box in a transfer: sip.host, or every local IPv4 address when it listens on all. */
function boxHosts(sipHost: string): string[] {
  if (sipHost !== '0.0.0.0') return [sipHost.toLowerCase()];
  const out: string[] = [];
  for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) if (a.family === 'IPv4') out.push(a.address);
  return out;
}
