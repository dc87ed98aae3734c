/**
 * A BYE that overtakes the ACK of our 2xx (the caller hung up at once, its ACK lost or late) ends
 * the dialog, and with it the 2xx retransmissions (RFC 3261 §13.3.1.4 resends the 2xx to set up a
 * dialog; once it is over there is nobody to reach). Before, they went on for 64·T1 over UDP.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SipMessage } from '../../../appliance/sip/message.js';
import { tagOf } from '../../../appliance/sip/serialize.js';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import { TestUac } from './uac.js';

const T1_MS = 20;
const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function start(): Promise<{ server: SipServer; uac: TestUac }> {
  const base = 46000 + 2 * Math.floor(Math.random() * 4000);
  const server = new SipServer({
    port: 0,
    rtpPortMin: base,
    rtpPortMax: base + 9,
    timers: { t1Ms: T1_MS, t2Ms: 8 * T1_MS, t4Ms: 10 * T1_MS },
  });
  const port = await server.listen();
  open.push(server);
  const uac = await new TestUac(port).open();
  open.push(uac);
  return { server, uac };
}

function okTo(cseq: number): (m: SipMessage) => boolean {
  return (m) => m.kind === 'response' && m.status === 200 && (m.headers.get('cseq') ?? '') === `${cseq} INVITE`;
}

/** Let the 2xx retransmission timer run through several of its intervals (T1, 2·T1, 4·T1, 8·T1). */
function severalRetransmitIntervals(): Promise<void> {
  return new Promise((r) => setTimeout(r, 20 * T1_MS));
}

describe('BYE before the ACK of our 2xx', () => {
  it('stops retransmitting the 2xx to the INVITE once the BYE ended the dialog', async () => {
    const { server, uac } = await start();
    const cseq = uac.cseq;
    uac.sendRaw(uac.request('INVITE', { body: uac.sdp(30000), noToTag: true }));
    const ok = await uac.waitResponse('INVITE', 200, cseq);
    uac.remoteTag = tagOf(ok.headers.get('to'));
    // the caller hangs up at once; its ACK never comes
    uac.sendRaw(uac.request('BYE'));
    await uac.waitResponse('BYE', 200);
    expect(server.resources()).toMatchObject({ calls: 0, rtpPortPairs: 0 });
    const sentByBye = uac.received.filter(okTo(cseq)).length;
    await severalRetransmitIntervals();
    expect(uac.received.filter(okTo(cseq)).length).toBe(sentByBye);
  });

  it('stops retransmitting the 2xx to a re-INVITE once a BYE overtook its ACK', async () => {
    const { uac } = await start();
    const first = await uac.call(30000);
    uac.remoteTag = tagOf(first.headers.get('to'));
    const cseq = uac.cseq;
    uac.sendRaw(uac.request('INVITE', { body: uac.sdp(30000, ['a=sendonly']) }));
    await uac.waitResponse('INVITE', 200, cseq);
    uac.sendRaw(uac.request('BYE'));
    await uac.waitResponse('BYE', 200);
    const sentByBye = uac.received.filter(okTo(cseq)).length;
    await severalRetransmitIntervals();
    expect(uac.received.filter(okTo(cseq)).length).toBe(sentByBye);
  });
});
