/**
 * A caller hanging up while the box rings (answerDelayMs, the 180 carries the early dialog's To
 * tag): the 487 that ends the INVITE carries the same tag as the 180 (RFC 3261 §8.2.6.2: one tag
 * for every response to a request), so the caller, and any proxy tracking the early dialog, sees
 * that dialog end rather than a second, unknown one.
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
