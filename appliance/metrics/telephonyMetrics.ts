/**
 * Telephony metrics (metrics.ts binds them): SIP messages and refusals, RTP quality per ended leg,
 * the SIP trunks' state, and calls out through them. Labels carry reasons and trunk names, never a
 * number or a call id.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { TypedEmitter } from '../events/typedEmitter.js';
import type { SipServer } from '../telephony/sip-server.js';
import type { TrunkDialerEvents } from '../telephony/trunkDialer.js';
import type { TrunkStatus } from '../telephony/trunkTypes.js';

/** SIP messages and refusals (mirrored from the server's counters) and per-leg RTP quality at the end of each call. */
export function bindSip(registry: Registry, sip: SipServer): void {
  const registers = [registry];
  const counters = sip.counters;
  const mirror = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  mirror('edgevox_sip_messages_received_total', 'SIP messages received', () => counters.received);
  mirror(
    'edgevox_sip_messages_malformed_total',
    'SIP messages that failed to parse (answered 400 where addressable)',
    () => counters.malformed,
  );
  mirror('edgevox_sip_send_failures_total', 'SIP messages that could not be sent', () => counters.sendFailures);
  new Counter({
    name: 'edgevox_sip_rejected_total',
    help: 'SIP requests refused, by reason',
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset();
      this.inc({ reason: 'allow_list' }, counters.rejectedAllowList);
      this.inc({ reason: 'rate_limit' }, counters.rejectedRateLimit);
      this.inc({ reason: 'auth' }, counters.rejectedAuth);
      this.inc({ reason: 'capacity' }, counters.rejectedCapacity);
      this.inc({ reason: 'tls' }, counters.rejectedTls);
      this.inc({ reason: 'scanner' }, counters.rejectedScanner);
      this.inc({ reason: 'other' }, counters.rejectedOther);
    },
  });
  const packets = new Counter({
    name: 'edgevox_rtp_packets_received_total',
    help: 'RTP packets received on call legs (ended legs)',
    registers,
  });
  const lost = new Counter({ name: 'edgevox_rtp_packets_lost_total', help: 'RTP packets lost on call legs (ended legs)', registers });
  const jitter = new Histogram({
    name: 'edgevox_rtp_jitter_seconds',
    help: 'Interarrival jitter per leg at the end of the call',
    buckets: [0.001, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2],
    registers,
  });
  const concealed = new Counter({
    name: 'edgevox_rtp_frames_concealed_total',
    help: 'Audio frames concealed (lost or late) on call legs (ended legs)',
    registers,
  });
  const mos = new Histogram({
    name: 'edgevox_rtp_mos',
    help: 'Estimated MOS (E-model) per leg at the end of the call',
    buckets: [1, 2, 2.5, 3, 3.5, 4, 4.2, 4.4, 5],
    registers,
  });
  sip.events.on('call.ended', (e) => {
    for (const leg of e.legs) {
      packets.inc(leg.packetsReceived);
      if (leg.packetsLost > 0) lost.inc(leg.packetsLost);
      if (leg.concealedFrames > 0) concealed.inc(leg.concealedFrames);
      if (leg.packetsReceived > 0) {
        jitter.observe(leg.jitterMs / 1000);
        mos.observe(leg.mos);
      }
    }
  });
}

/** Configured SIP trunks: reachability, registration and OPTIONS round trip, read at each scrape. Label: trunk name only. */
export function bindTrunks(registry: Registry, trunks: { status(): readonly TrunkStatus[] }): void {
  const registers = [registry];
  new Gauge({
    name: 'edgevox_sip_trunk_up',
    help: 'SIP trunk answers OPTIONS keep-alives (1 up, 0 down or unknown)',
    labelNames: ['trunk'],
    registers,
    collect() {
      this.reset();
      for (const t of trunks.status()) this.set({ trunk: t.name }, t.state === 'up' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'edgevox_sip_trunk_registered',
    help: 'SIP trunk registration with the provider holds (1 registered, 0 not); trunks that do not register are absent',
    labelNames: ['trunk'],
    registers,
    collect() {
      this.reset();
      for (const t of trunks.status())
        if (t.registration !== null) this.set({ trunk: t.name }, t.registration.state === 'registered' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'edgevox_sip_trunk_options_rtt_seconds',
    help: 'Round trip of the last answered OPTIONS keep-alive per SIP trunk (absent while down or not probed)',
    labelNames: ['trunk'],
    registers,
    collect() {
      this.reset();
      for (const t of trunks.status()) if (t.rttMs !== null) this.set({ trunk: t.name }, t.rttMs / 1000);
    },
  });
}

/**
 * Calls out through the SIP trunks (telephony/trunkDialer.ts): placed, and refused before
 * anything was sent, by trunk, purpose and reason. Never a number.
 */
export function bindTrunkDialer(registry: Registry, source: TypedEmitter<TrunkDialerEvents>): void {
  const registers = [registry];
  const placed = new Counter({
    name: 'edgevox_sip_trunk_outbound_placed_total',
    help: 'Calls placed out through a SIP trunk, by trunk and purpose (callback, transfer)',
    labelNames: ['trunk', 'purpose'],
    registers,
  });
  const refused = new Counter({
    name: 'edgevox_sip_trunk_outbound_refused_total',
    help: 'Calls out refused before anything was sent, by trunk (empty: none calls out under the name asked for), purpose and reason (no-trunk, invalid-number, not-allowed, hourly-cap, concurrent-cap)',
    labelNames: ['trunk', 'purpose', 'reason'],
    registers,
  });
  source.on('outbound.placed', (e) => placed.inc({ trunk: e.trunk, purpose: e.purpose }));
  source.on('outbound.refused', (e) => refused.inc({ trunk: e.trunk, purpose: e.purpose, reason: e.reason }));
}
