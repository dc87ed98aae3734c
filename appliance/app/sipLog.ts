/**
 * What the SIP layer tells the operator's log at info level: each call's start and end (ids,
 * transport, codec, duration, end reason, media figures), hold, transfers, and refused traffic
 * (floods, scanners, capacity, TLS) summed per reason every few seconds, so a flood of ten
 * thousand messages is a handful of lines. Never a number, a name or a SIP URI: those stay under
 * the events' `pii` keys. Refused traffic names its busiest source address, which a firewall
 * rule needs.
 */
import type { Logger } from '../log/logger.js';
import type { SipServer } from '../telephony/sip-server.js';
import type { RejectReason } from '../telephony/types.js';

/** How often refusals are summed into one line per reason. */
const REFUSAL_WINDOW_MS = 10_000;

interface RefusalTally {
  count: number;
  readonly bySource: Map<string, number>;
  readonly methods: Set<string>;
}

/** Subscribe the log to the SIP server; returns the stop function (flushes what was counted). */
export function logSipActivity(sip: SipServer, logger: Logger, windowMs = REFUSAL_WINDOW_MS): () => void {
  const codecOf = new Map<string, string>();
  const refusals = new Map<RejectReason, RefusalTally>();
  const flush = (): void => {
    for (const [reason, t] of refusals) {
      if (t.count === 1) continue; // told when it came
      let top = '';
      let topCount = 0;
      for (const [source, n] of t.bySource) if (n > topCount) [top, topCount] = [source, n];
      logger.info(
        { reason, count: t.count, sources: t.bySource.size, topSource: top, topSourceCount: topCount, methods: [...t.methods].slice(0, 8) },
        'sip traffic refused',
      );
    }
    refusals.clear();
  };
  const timer = setInterval(flush, windowMs);
  timer.unref();
  const offs = [
    sip.events.on('call.started', (e) => {
      const codecs = [...new Set(e.legs.map((l) => l.codec))].join(',');
      codecOf.set(e.callId, codecs);
      logger.info({ callId: e.callId, mode: e.mode, transport: e.transport, codec: codecs, legs: e.legs.length }, 'call started');
    }),
    sip.events.on('call.ended', (e) => {
      const sum = (k: 'packetsReceived' | 'packetsLost' | 'packetsSent') => e.legs.reduce((a, l) => a + l[k], 0);
      const received = e.legs.filter((l) => l.packetsReceived > 0);
      logger.info(
        {
          callId: e.callId,
          reason: e.reason,
          codec: codecOf.get(e.callId) ?? null,
          durationMs: e.answeredAtMs > 0 ? e.endedAtMs - e.answeredAtMs : 0,
          packetsReceived: sum('packetsReceived'),
          packetsLost: sum('packetsLost'),
          packetsSent: sum('packetsSent'),
          mos: received.length === 0 ? null : Math.min(...received.map((l) => l.mos)),
        },
        'call ended',
      );
      codecOf.delete(e.callId);
    }),
    sip.events.on('call.held', (e) => logger.info({ callId: e.callId }, 'call held')),
    sip.events.on('call.resumed', (e) => logger.info({ callId: e.callId }, 'call resumed')),
    sip.events.on('call.transfer', (e) => {
      if (e.state === 'requested') return;
      logger.info({ callId: e.callId, direction: e.direction, state: e.state, status: e.status ?? null }, 'call transfer');
    }),
    sip.events.on('sip.rejected', (e) => {
      let t = refusals.get(e.reason);
      if (t === undefined) {
        t = { count: 0, bySource: new Map(), methods: new Set() };
        refusals.set(e.reason, t);
      }
      t.count++;
      // bounded: a spoofed-source flood cannot grow this without limit
      if (t.bySource.has(e.pii.source) || t.bySource.size < 1024) t.bySource.set(e.pii.source, (t.bySource.get(e.pii.source) ?? 0) + 1);
      if (e.method !== undefined && t.methods.size < 16) t.methods.add(e.method);
      // the first refusal of a kind in a window is told at once; the window's total follows
      if (t.count === 1)
        logger.info({ reason: e.reason, method: e.method ?? null, status: e.status ?? null, source: e.pii.source }, 'sip traffic refused');
    }),
  ];
  return () => {
    clearInterval(timer);
    for (const off of offs) off();
    flush();
  };
}
