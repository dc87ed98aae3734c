/**
 * The SIP server closing while a call it places is still binding its RTP ports (an agent being
 * rung, a callback dialled at the moment of a restart): the call is reported `shutdown` and the
 * port pair it was getting is released, not left bound after close (a bound UDP socket keeps the
 * process from exiting and the port from the next start).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import { udpPortsHeldHere } from '../../e2e/sip/harness.js';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

describe('outbound call and server shutdown', () => {
  it('releases the RTP ports of a call placed just before close()', async () => {
    const rtpBase = 30000 + 2 * Math.floor(Math.random() * 5000);
    const server = new SipServer({ port: 0, rtpPortMin: rtpBase, rtpPortMax: rtpBase + 9 });
    const port = await server.listen();
    open.push(server);
    const call = server.placeCall({ target: { uri: `sip:agent@127.0.0.1:${port + 1}` }, ringTimeoutMs: 5000 });
    // the call is binding its RTP ports (placeCall returned, the INVITE not sent yet)
    await server.close();
    const outcome = await call.result;
    expect(outcome).toMatchObject({ type: 'failed', reason: 'shutdown' });
    // the binding may still be finishing: wait for the pair to be let go (never, before the fix)
    const released = await waitUntil(() => server.resources().rtpPortPairs === 0);
    expect(released).toBe(true);
    expect(udpPortsHeldHere(rtpBase, rtpBase + 9)).toEqual([]);
  });
});

/** Check a condition on each turn of the event loop, at most about `maxTurns` ms (not a fixed sleep). */
async function waitUntil(cond: () => boolean, maxTurns = 2000): Promise<boolean> {
  for (let i = 0; i < maxTurns; i++) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 1));
  }
  return cond();
}
