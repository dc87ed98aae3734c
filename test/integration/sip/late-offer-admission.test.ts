/**
 * A late-offer INVITE (no SDP: our offer goes in the 200, the caller's answer in the ACK) holds its
 * place under maxCalls from the INVITE until the ACK decides: a call answered and awaiting its ACK
 * is a call, and one more INVITE in that window must not push the box past its maximum. A BYE that
 * overtakes that ACK ends the dialog there and then.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { tagOf } from '../../../appliance/sip/serialize.js';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import type { SipServerOptions } from '../../../appliance/telephony/types.js';
import { TestUac } from './uac.js';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function start(opts: SipServerOptions): Promise<{ server: SipServer; uac: TestUac }> {
  const base = 46000 + 2 * Math.floor(Math.random() * 4000);
  const server = new SipServer({ port: 0, rtpPortMin: base, rtpPortMax: base + 19, ...opts });
  const port = await server.listen();
  open.push(server);
  const uac = await new TestUac(port).open();
  open.push(uac);
  return { server, uac };
}

describe('late offer and maxCalls', () => {
  it('counts a late-offer call awaiting its ACK against maxCalls, and frees the place on ACK timeout', async () => {
    const { server, uac } = await start({ maxCalls: 1, retryAfterSec: 7, timers: { t1Ms: 20, t2Ms: 160, t4Ms: 200 } });
    const cseq = uac.cseq;
    uac.sendRaw(uac.request('INVITE', { noToTag: true }));
    await uac.waitResponse('INVITE', 200, cseq);
    // the first call is answered (our offer in the 200); its ACK has not come yet
    const second = await new TestUac(uac.serverPort).open();
    open.push(second);
    second.sendRaw(second.request('INVITE', { body: second.sdp(30002), noToTag: true }));
    const r = await second.waitFor((m) => m.kind === 'response' && m.status >= 200);
    expect(r.kind === 'response' && r.status).toBe(503);
    expect(server.counters.rejectedCapacity).toBe(1);

    // no ACK ever comes (64·T1): the place is given back with the ports
    const freed = await waitUntil(() => server.resources().rtpPortPairs === 0);
    expect(freed).toBe(true);
    expect(server.resources()).toMatchObject({ calls: 0, pendingInvites: 0 });
    const third = await new TestUac(uac.serverPort).open();
    open.push(third);
    const ok = await third.call(30004);
    expect(tagOf(ok.headers.get('to'))).toBeDefined();
    expect(server.activeCalls).toBe(1);
  });
});

/** Poll a condition on each turn of the event loop, bounded by the transaction timers of the test (not a sleep). */
async function waitUntil(cond: () => boolean, maxTurns = 20_000): Promise<boolean> {
  for (let i = 0; i < maxTurns; i++) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 1));
  }
  return cond();
}

describe('late offer and an early hang-up', () => {
  it('takes a BYE that overtakes the ACK (200, ports and place released) and starts no call on the late ACK', async () => {
    const { server, uac } = await start({ maxCalls: 1 });
    let started = 0;
    server.events.on('call.started', () => started++);
    const cseq = uac.cseq;
    uac.sendRaw(uac.request('INVITE', { noToTag: true }));
    const ok = await uac.waitResponse('INVITE', 200, cseq);
    uac.remoteTag = tagOf(ok.headers.get('to'));
    // the caller hangs up at once: its ACK is lost, its BYE arrives first
    uac.sendRaw(uac.request('BYE'));
    await uac.waitResponse('BYE', 200);
    expect(server.resources()).toMatchObject({ calls: 0, pendingInvites: 0, rtpPortPairs: 0 });
    // the ACK retransmitted for the 2xx arrives late, with its answer: no call starts for it
    uac.sendRaw(uac.request('ACK', { cseq, body: uac.sdp(30000) }));
    uac.sendRaw(uac.request('OPTIONS', { noToTag: true, cseq: 50 }));
    await uac.waitResponse('OPTIONS', 200, 50); // the ACK before it was handled
    expect(started).toBe(0);
    expect(server.resources()).toMatchObject({ calls: 0, pendingInvites: 0, rtpPortPairs: 0 });
  });
});

describe('late offer never acknowledged', () => {
  it('ends the dialog with BYE after 64·T1 without the ACK (RFC 3261 §13.3.1.4), as for any answered call', async () => {
    const { server, uac } = await start({ timers: { t1Ms: 20, t2Ms: 160, t4Ms: 200 } });
    const cseq = uac.cseq;
    uac.sendRaw(uac.request('INVITE', { noToTag: true }));
    const ok = await uac.waitResponse('INVITE', 200, cseq);
    const bye = await uac.waitRequest('BYE');
    expect(bye.headers.get('call-id')).toBe(uac.callId);
    expect(tagOf(bye.headers.get('from'))).toBe(tagOf(ok.headers.get('to')));
    expect(tagOf(bye.headers.get('to'))).toBe('u1');
    uac.reply(bye, 200);
    expect(server.resources()).toMatchObject({ calls: 0, pendingInvites: 0, rtpPortPairs: 0 });
  });
});
