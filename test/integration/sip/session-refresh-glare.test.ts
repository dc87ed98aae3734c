/**
 * Our session refresh (refresher=uas: we re-INVITE at SE/2) crossing the caller's own re-INVITE
 * (a hold, a transfer's media change): both get 491 (RFC 3261 §14.1). The caller retries its
 * re-INVITE; so must we, after a random 0-2 s (we do not own the Call-ID), or the session is never
 * refreshed again and a caller that enforces the timer drops the call at expiry.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SipRequest } from '../../../appliance/sip/message.js';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import type { CallEndedEvent } from '../../../appliance/telephony/types.js';
import { TestUac } from './uac.js';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

const isReInvite = (m: { kind: string }): boolean => m.kind === 'request' && (m as SipRequest).method === 'INVITE';

describe('session refresh glare', () => {
  it('retries a refresh re-INVITE answered 491 instead of letting the session lapse', async () => {
    const base = 46000 + 2 * Math.floor(Math.random() * 4000);
    const server = new SipServer({ port: 0, rtpPortMin: base, rtpPortMax: base + 9, minSessionExpiresSec: 2, sessionExpiresSec: 2 });
    const ended: CallEndedEvent[] = [];
    server.events.on('call.ended', (e) => ended.push(e));
    const port = await server.listen();
    open.push(server);
    const uac = await new TestUac(port).open();
    open.push(uac);
    const ok = await uac.call(30000, ['Supported: timer', 'Session-Expires: 2;refresher=uas']);
    expect(ok.headers.get('session-expires')).toBe('2;refresher=uas');

    // our refresh at SE/2 meets the caller's own re-INVITE: the caller answers ours 491
    const first = await uac.waitRequest('INVITE');
    uac.reply(first, 491);
    await uac.waitFor(
      (m) =>
        m.kind === 'request' &&
        m.method === 'ACK' &&
        m.headers.get('cseq')?.startsWith(`${first.headers.get('cseq')!.split(' ')[0]} `) === true,
    );
    // ... and we retry it, 0-2 s later (we answered the call, so the caller owns the Call-ID)
    const retried = (await uac.waitFor((m) => isReInvite(m) && uac.received.filter(isReInvite).length === 2, 5000)) as SipRequest;
    expect(Number(retried.headers.get('cseq')!.split(' ')[0])).toBeGreaterThan(Number(first.headers.get('cseq')!.split(' ')[0]));
    uac.reply(retried, 200, { body: uac.sdp(30000) });
    await uac.waitFor(
      (m) => m.kind === 'request' && m.method === 'ACK' && m.headers.get('cseq') === `${retried.headers.get('cseq')!.split(' ')[0]} ACK`,
    );
    expect(ended).toEqual([]);
    expect(server.activeCalls).toBe(1);
  });
});
