/**
 * A caller hanging up while the box rings (answerDelayMs, the 180 carries the early dialog's To
 * tag): the 487 that ends the INVITE carries the same tag as the 180 (RFC 3261 §8.2.6.2: one tag
 * for every response to a request), so the caller, and any proxy tracking the early dialog, sees
 * that dialog end rather than a second, unknown one. The CANCEL also ends the answer delay at
 * once: the caller's place under maxCalls and its RTP ports are not held for the rest of it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { tagOf } from '../../../appliance/sip/serialize.js';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import { TestUac } from './uac.js';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

describe('CANCEL of a ringing INVITE', () => {
  it('answers 487 with the To tag of the early dialog the 180 opened', async () => {
    const base = 46000 + 2 * Math.floor(Math.random() * 4000);
    const server = new SipServer({ port: 0, rtpPortMin: base, rtpPortMax: base + 9, answerDelayMs: 2000 });
    const port = await server.listen();
    open.push(server);
    const uac = await new TestUac(port).open();
    open.push(uac);
    const branch = uac.branch();
    uac.sendRaw(uac.request('INVITE', { body: uac.sdp(30000), noToTag: true, cseq: 1, branch }));
    const ringing = await uac.waitResponse('INVITE', 180, 1);
    const early = tagOf(ringing.headers.get('to'));
    expect(early).toBeDefined();
    uac.sendRaw(uac.request('CANCEL', { cseq: 1, branch, noToTag: true }));
    await uac.waitResponse('CANCEL', 200, 1);
    const terminated = await uac.waitResponse('INVITE', 487, 1);
    expect(tagOf(terminated.headers.get('to'))).toBe(early);
  });
});

describe('a caller hanging up while the box rings', () => {
  it('gives its place under maxCalls and its ports back at once, not when the answer delay ends', async () => {
    const base = 46000 + 2 * Math.floor(Math.random() * 4000);
    const server = new SipServer({ port: 0, rtpPortMin: base, rtpPortMax: base + 9, answerDelayMs: 5000, maxCalls: 1 });
    const port = await server.listen();
    open.push(server);
    const uac = await new TestUac(port).open();
    open.push(uac);
    const branch = uac.branch();
    uac.sendRaw(uac.request('INVITE', { body: uac.sdp(30000), noToTag: true, cseq: 1, branch }));
    await uac.waitResponse('INVITE', 180, 1);
    uac.sendRaw(uac.request('CANCEL', { cseq: 1, branch, noToTag: true }));
    await uac.waitResponse('INVITE', 487, 1);
    // the next caller, at once: rung, not refused for a place the first one no longer holds
    const next = await new TestUac(port).open();
    open.push(next);
    next.sendRaw(next.request('INVITE', { body: next.sdp(30002), noToTag: true, cseq: 1 }));
    const r = await next.waitFor((m) => m.kind === 'response' && m.status > 100);
    expect(r.kind === 'response' && r.status).toBe(180);
    expect(server.counters.rejectedCapacity).toBe(0);
    // only the ringing next call holds anything
    expect(server.resources()).toMatchObject({ pendingInvites: 1, rtpPortPairs: 1 });
  });
});
