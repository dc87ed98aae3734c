/**
 * Hold and resume carried by UPDATE (RFC 3311: an SDP offer inside the dialog without a new INVITE
 * transaction; the box lists UPDATE in Allow): the offer is answered in the 200 like a re-INVITE's,
 * the call is held (`call.held`: nothing sent to the caller, no media timeout) and resumed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseSdp } from '../../../appliance/sdp/sdp.js';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import type { CallStartedEvent, TelephonyEvents } from '../../../appliance/telephony/types.js';
import { TestUac } from './uac.js';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

describe('UPDATE with an SDP offer', () => {
  it('holds with a=sendonly (answered recvonly) and resumes with a=sendrecv', async () => {
    const base = 46000 + 2 * Math.floor(Math.random() * 4000);
    const server = new SipServer({ port: 0, rtpPortMin: base, rtpPortMax: base + 9 });
    const events: string[] = [];
    for (const type of ['call.held', 'call.resumed'] as const)
      server.events.on(type, (_e: TelephonyEvents[typeof type]) => events.push(type));
    const started = new Promise<CallStartedEvent>((r) => server.events.on('call.started', r));
    const port = await server.listen();
    open.push(server);
    const uac = await new TestUac(port).open();
    open.push(uac);
    await uac.call(30000);
    await started;

    uac.sendRaw(uac.request('UPDATE', { body: uac.sdp(30000, ['a=sendonly']) }));
    const held = await uac.waitResponse('UPDATE', 200, uac.cseq - 1);
    expect(held.headers.get('content-type')).toBe('application/sdp');
    const answer = parseSdp(held.body);
    expect(held.body.toString()).toContain('a=recvonly');
    expect(answer.origin.sessionVersion).toBe('2');
    expect(events).toEqual(['call.held']);

    uac.sendRaw(uac.request('UPDATE', { body: uac.sdp(30000, ['a=sendrecv']) }));
    const resumed = await uac.waitResponse('UPDATE', 200, uac.cseq - 1);
    expect(resumed.body.toString()).toContain('a=sendrecv');
    expect(events).toEqual(['call.held', 'call.resumed']);

    // an UPDATE without a body only refreshes the session: 200 without SDP
    uac.sendRaw(uac.request('UPDATE'));
    const plain = await uac.waitResponse('UPDATE', 200, uac.cseq - 1);
    expect(plain.body.length).toBe(0);
  });
});
