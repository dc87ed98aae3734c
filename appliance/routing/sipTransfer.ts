/**
 * The transferer on the SIP server: a blind transfer with REFER (RFC 3515) to the chosen target.
 * The caller's UA then INVITEs the agent; its NOTIFY (sipfrag) reports the outcome, which the SIP
 * layer turns into `call.transfer` events that are forwarded to the routing service here.
 */
import type { SipServer } from '../telephony/sip-server.js';
import type { RoutingService, Transferer } from './routingService.js';

export function attachSipTransfer(sip: SipServer, service: RoutingService): () => void {
  const transferer: Transferer = { transfer: (callId, uri) => sip.transfer(callId, uri) };
  service.setTransferer(transferer);
  const off = sip.events.on('call.transfer', (e) => {
    if (e.direction !== 'outbound') return;
    // 'requested' and 'accepted' are reported by the service around the REFER itself.
    if (e.state === 'completed' || (e.state === 'failed' && e.status !== undefined && e.status >= 300 && e.status !== 0)) {
      service.transferProgress(e.callId, e.state, e.status ?? null);
    }
  });
  return () => {
    off();
    service.setTransferer(null);
  };
}
