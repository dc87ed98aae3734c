/**
 * Resume after hold by a re-INVITE without SDP (delayed offer, as PBXs and SBCs do it): the box
 * must make a fresh offer in the direction it wants (sendrecv, RFC 6337 §5.3), not repeat its last
 * answer (recvonly while held), and take the caller's answer from the ACK. Before, the call stayed
 * held: recvonly offered, the ACK's answer ignored, nothing sent to the caller again.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRtp } from '../../../appliance/rtp/packet.js';
import { parseSdp } from '../../../appliance/sdp/sdp.js';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import type { CallStartedEvent } from '../../../appliance/telephony/types.js';
import { TestUac } from './uac.js';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

/** A call from the test UAC, held by its re-INVITE (a=sendonly) and ACKed. */
async function heldCall() {
  const base = 46000 + 2 * Math.floor(Math.random() * 4000);
  const server = new SipServer({ port: 0, rtpPortMin: base, rtpPortMax: base + 9 });
  const events: string[] = [];
  server.events.on('call.held', () => events.push('held'));
  server.events.on('call.resumed', () => events.push('resumed'));
  const started = new Promise<CallStartedEvent>((r) => server.events.on('call.started', r));
  const port = await server.listen();
  open.push(server);
  const uac = await new TestUac(port).open();
  open.push(uac);
  const rtp = dgram.createSocket('udp4');
  await new Promise<void>((r) => rtp.bind(0, '127.0.0.1', () => r()));
  open.push({ close: () => rtp.close() });
  const rtpPort = rtp.address().port;
  await uac.call(rtpPort);
  await started;
  uac.sendRaw(uac.request('INVITE', { body: uac.sdp(rtpPort, ['a=sendonly']) }));
  const holdCseq = uac.cseq - 1;
  await uac.waitResponse('INVITE', 200, holdCseq);
  uac.sendRaw(uac.request('ACK', { cseq: holdCseq }));
  expect(events).toEqual(['held']);
  return { uac, rtp, rtpPort, events, holdCseq };
}

describe('re-INVITE without SDP', () => {
  it('resumes a held call: a sendrecv offer in the 200, the answer taken from the ACK', async () => {
    const { uac, rtp, rtpPort, events } = await heldCall();

    // resume, delayed offer: our offer comes in the 200
    uac.sendRaw(uac.request('INVITE'));
    const resumeCseq = uac.cseq - 1;
    const ok = await uac.waitResponse('INVITE', 200, resumeCseq);
    const offer = parseSdp(ok.body);
    const directions = offer.media[0]!.attributes.map((a) => a.name).filter((n) => /^(sendrecv|sendonly|recvonly|inactive)$/.test(n));
    expect(directions).toEqual(['sendrecv']);
    expect(Number(offer.origin.sessionVersion)).toBeGreaterThan(2);

    // the answer in the ACK: sendrecv, so media flows to the caller again
    const media = new Promise<void>((resolve) =>
      rtp.on('message', (m) => {
        if (typeof parseRtp(m) !== 'string') resolve();
      }),
    );
    uac.sendRaw(uac.request('ACK', { cseq: resumeCseq, body: uac.sdp(rtpPort, ['a=sendrecv']) }));
    await media;
    expect(events).toEqual(['held', 'resumed']);
  });
  it("a late retransmission of the hold's ACK does not take the place of the resume's ACK", async () => {
    const { uac, rtp, rtpPort, events, holdCseq } = await heldCall();
    uac.sendRaw(uac.request('INVITE'));
    const resumeCseq = uac.cseq - 1;
    await uac.waitResponse('INVITE', 200, resumeCseq);
    // the hold's ACK again (retransmitted, or delayed in the network): it acknowledges nothing now
    uac.sendRaw(uac.request('ACK', { cseq: holdCseq }));
    const media = new Promise<void>((resolve) =>
      rtp.on('message', (m) => {
        if (typeof parseRtp(m) !== 'string') resolve();
      }),
    );
    uac.sendRaw(uac.request('ACK', { cseq: resumeCseq, body: uac.sdp(rtpPort, ['a=sendrecv']) }));
    await media;
    expect(events).toEqual(['held', 'resumed']);
  }, 15_000);
});
