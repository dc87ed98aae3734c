/**
 * Starts supervision of the ACD's calls bridged to agents' SIP phones (acd/supervision.ts): a
 * supervisor's registered phone is rung into a call to listen, whisper or barge, driven by the API
 * under /api/v1/acd/calls/:callId/supervision, with its Prometheus series. Pushed after the ACD
 * calls: closed before them (supervisors' legs hung up while the calls they joined are still up).
 */
import type { AcdCalls } from '../acd/acdCalls.js';
import { Supervisions } from '../acd/supervision.js';
import { registerSupervisionRoutes } from '../api/routes/supervision.js';
import type { ApplianceMetrics } from '../metrics/metrics.js';
import type { Registrar } from '../telephony/registrar.js';
import type { SipServer } from '../telephony/sip-server.js';
import type { CapabilityDeps, Started } from './capability.js';

/** How long a supervisor's phones ring: they asked for the call a moment ago, at their desk. */
const SUPERVISOR_RING_TIMEOUT_MS = 15_000;

export interface StartedSupervision extends Started {
  readonly supervisions: Supervisions;
}

export function startSupervision(
  deps: CapabilityDeps & {
    readonly sip: SipServer;
    readonly calls: Pick<AcdCalls, 'bridged'>;
    readonly registrar: Registrar | null;
    readonly metrics: ApplianceMetrics;
  },
): StartedSupervision {
  const registrar = deps.registrar;
  const supervisions = new Supervisions({
    sip: deps.sip,
    calls: deps.calls,
    contactsOf: (agentId) => registrar?.contactsOf(agentId) ?? [],
    bus: deps.bus,
    logger: deps.logger,
    now: () => Date.now(),
    ringTimeoutMs: SUPERVISOR_RING_TIMEOUT_MS,
  });
  deps.metrics.bindSupervision(supervisions.events);
  return {
    supervisions,
    routes: (app) => registerSupervisionRoutes(app, { supervisions }),
    close: () => supervisions.close(),
  };
}
