/**
 * Starts agents as endpoints: their state machine (acd/agentPresence.ts), which from now on owns
 * routing's agent states, and — when SIP and `sip.registrar.enabled` are on — the registrar their
 * phones REGISTER with, its accounts the agents' SIP accounts in the routing configuration. Its
 * registrations drive the agents' states; its counts are metrics; GET /api/v1/agents* serves both.
 *
 * Order: started after routing and the ACD figures (it reports to both) and before the SIP server,
 * which is built with the registrar; so it is closed after the SIP server and before routing.
 */
import { AgentPresence } from '../acd/agentPresence.js';
import { DispositionRepo, Dispositions } from '../acd/dispositions.js';
import type { AcdFactSink } from '../acd/kpis.js';
import { registerAgentRoutes } from '../api/routes/agents.js';
import { isEdgeVoxError } from '../errors.js';
import type { ApplianceMetrics } from '../metrics/metrics.js';
import type { RoutingRepo } from '../routing/repo.js';
import type { RoutingService } from '../routing/routingService.js';
import { Registrar } from '../telephony/registrar.js';
import type { CapabilityDeps, Started } from './capability.js';

export interface StartedAgents extends Started {
  readonly presence: AgentPresence;
  /** The registrar to build the SIP server with, or null when SIP or the registrar is off. */
  readonly registrar: Registrar | null;
}

export function startAgents(
  deps: CapabilityDeps & {
    readonly routing: RoutingService;
    readonly routingRepo: RoutingRepo;
    readonly facts: AcdFactSink | null;
    readonly metrics: ApplianceMetrics;
  },
): StartedAgents {
  const { config, bus, logger, routing } = deps;
  const presence = new AgentPresence({
    routing,
    choices: deps.routingRepo,
    bus,
    logger,
    facts: deps.facts,
    // read at each step: agents.* changes through the console apply to the next call
    policy: () => ({ wrapUpMs: config.agents.wrapUpS * 1000, maxNoAnswers: config.agents.noAnswerAwayAfter }),
  });
  const reg = config.sip.registrar;
  let registrar: Registrar | null = null;
  if (config.sip.enabled && reg.enabled) {
    registrar = new Registrar({
      lookup: (username) => {
        try {
          return routing.sipAccount(username);
        } catch (err) {
          // the registrar answers 500; the reason (a store key that changed) belongs in the log
          logger.error({ code: isEdgeVoxError(err) ? err.code : 'error' }, 'agent SIP password cannot be opened');
          throw err;
        }
      },
      realm: reg.realm || config.sip.realm,
      challengeAlgorithms: reg.algorithms,
      minExpiresSec: reg.minExpiresSec,
      defaultExpiresSec: reg.defaultExpiresSec,
      maxExpiresSec: reg.maxExpiresSec,
      maxContactsPerAgent: reg.maxContactsPerAgent,
      maxAuthFailures: reg.maxAuthFailures,
    });
    // agent ids only: the address of record and the source address stay out of the log
    registrar.events.on('registration.changed', (e) => {
      presence.registrationChanged(e);
      if (e.reason !== 'refreshed')
        logger.info({ agentId: e.agentId, contacts: e.contacts, reason: e.reason }, 'agent registration changed');
    });
    deps.metrics.bindAgentRegistrations(registrar);
  }
  const dispositions = new Dispositions({
    repo: new DispositionRepo(deps.store.db, deps.store.write.bind(deps.store)),
    bus,
    codes: () => config.agents.dispositionCodes,
    hasAgent: (id) => routing.hasAgent(id),
    agentWasOn: (callId) => deps.store.calls.get(callId)?.legs.some((l) => l.label === 'agent'),
    now: () => Date.now(),
  });
  logger.info({ agents: routing.agentList().length, registrar: registrar !== null }, 'agent states started');
  const r = registrar;
  return {
    presence,
    registrar,
    routes: (app) => registerAgentRoutes(app, { presence, registrar: r, routing, dispositions }),
    close: () => {
      r?.close();
      presence.close();
    },
  };
}
