/**
 * Starts the supervision of the configured SIP trunks (sip.trunks) on the running SIP server:
 * keep-alive and registration (telephony/trunks.ts), their metrics, info logs on trunk up/down
 * and registration changes, and GET /api/v1/sip/trunks. Its close removes registrations and
 * must run before the SIP server's: the composition root pushes it after `sip`.
 *
 * Where a trunk has `outbound.enabled`, it also builds the trunk dialer (telephony/trunkDialer.ts),
 * the one way calls leave through a trunk: it takes the SIP server's trunk line, audits into the
 * store, counts into the metrics and logs refusals (trunk, purpose, reason; never the number).
 * `dialer` is null when no trunk calls out.
 */
import { isIP } from 'node:net';
import { registerTrunkRoutes } from '../api/routes/trunks.js';
import type { EdgeVoxConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { ApplianceMetrics } from '../metrics/metrics.js';
import { AllowList } from '../sip/guard.js';
import type { Store } from '../store/database.js';
import type { SipServer } from '../telephony/sip-server.js';
import { callingTrunks, TrunkDialer } from '../telephony/trunkDialer.js';
import { TrunkSupervisor } from '../telephony/trunks.js';
import { trunkPort } from '../telephony/trunkTypes.js';
import type { Started } from './capability.js';

export interface TrunkDeps {
  readonly config: EdgeVoxConfig;
  readonly logger: Logger;
  /** The listening SIP server, or null when SIP is off (then no trunk is watched). */
  readonly sip: SipServer | null;
  readonly metrics: ApplianceMetrics;
  /** Where placed and refused calls out are audited. */
  readonly store: Store;
}

export interface StartedTrunks extends Started {
  readonly supervisor: TrunkSupervisor | null;
  /** The one way calls leave through a trunk; null when SIP is off or no trunk has outbound.enabled. */
  readonly dialer: TrunkDialer | null;
}

export function startTrunks(deps: TrunkDeps): StartedTrunks {
  const { config, logger, sip, metrics } = deps;
  const trunks = config.sip.trunks;
  if (sip === null || trunks.length === 0) {
    return { supervisor: null, dialer: null, routes: (app) => registerTrunkRoutes(app, { trunks: null }), close: () => {} };
  }
  const allowList = new AllowList(config.sip.allowList);
  for (const t of trunks) {
    if (!config.sip.transports.includes(t.transport))
      logger.warn({ trunk: t.name, transport: t.transport }, 'trunk transport is not in sip.transports: the trunk cannot be reached');
    // trunks given by address join the allow-list (sipPolicy.ts); one given by name must be in it
    if (isIP(t.host) === 0 && config.sip.allowList.length > 0 && !allowList.allows(t.host))
      logger.warn({ trunk: t.name }, 'trunk host is a name: add its addresses to sip.allowList, or its answers are dropped');
  }
  const supervisor = new TrunkSupervisor({ trunks, signalling: sip });
  // Names are operator-chosen labels; the registrar's user name and password are never logged.
  supervisor.events.on('trunk.state', (e) => {
    if (e.state === 'unknown') return;
    logger.info({ trunk: e.trunk, reason: e.reason, rttMs: e.rttMs }, e.state === 'up' ? 'trunk up' : 'trunk down');
  });
  supervisor.events.on('trunk.registration', (e) => {
    const fields = { trunk: e.trunk, reason: e.reason, expiresSec: e.expiresSec };
    if (e.state === 'registered') logger.info(fields, 'trunk registered');
    else if (e.state === 'failed') logger.warn(fields, 'trunk registration failed');
    else logger.info(fields, 'trunk unregistered');
  });
  metrics.bindTrunks(supervisor);
  supervisor.start();
  logger.info({ trunks: trunks.map((t) => t.name) }, 'sip trunks supervised');
  const dialer = startDialer(deps, sip);
  return {
    supervisor,
    dialer,
    routes: (app) => registerTrunkRoutes(app, { trunks: supervisor }),
    close: async () => {
      dialer?.close();
      await supervisor.close();
    },
  };
}

/** The trunk dialer over the SIP server's trunk line, when a trunk calls out. */
function startDialer(deps: TrunkDeps, sip: SipServer): TrunkDialer | null {
  const { config, logger, metrics, store } = deps;
  const calling = callingTrunks(config.sip.trunks);
  if (calling.length === 0) return null;
  const dialer = new TrunkDialer({
    trunks: config.sip.trunks,
    line: sip.claimTrunkLine(calling.map((t) => ({ address: t.host, port: trunkPort(t) }))),
    onCallEnded: (listener) => sip.events.on('call.ended', (e) => listener(e.callId)),
    audit: (action, target, details) => store.audit.record('system', action, target, details),
  });
  metrics.bindTrunkDialer(dialer.events);
  dialer.events.on('outbound.refused', (e) =>
    logger.warn({ trunk: e.trunk, purpose: e.purpose, reason: e.reason }, 'outbound call refused'),
  );
  dialer.events.on('outbound.audit_failed', (e) => logger.error({ trunk: e.trunk }, 'outbound call not audited: store write failed'));
  logger.info({ trunks: dialer.trunks }, 'sip trunks call out');
  return dialer;
}
