/**
 * We hang up an answered call whose 2xx has not been ACKed yet. RFC 3261 §15: the callee sends no
 * BYE until that ACK came or the transaction gave up on it (64·T1); the call still ends here at
 * once (slot, ports, `call.ended`). Before, the BYE went at once, ahead of the dialog's ACK.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SipMessage } from '../../../appliance/sip/message.js';
import { tagOf } from '../../../appliance/sip/serialize.js';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import type { CallEndedEvent, CallStartedEvent } from '../../../appliance/telephony/types.js';
import { TestUac } from './uac.js';

const T1_MS = 20;
const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A call answered by the server, its 2xx not yet ACKed; `cseq` is the INVITE's. */
async function answeredNotAcked(): Promise<{ server: SipServer; uac: TestUac; callId: string; cseq: number; ended: CallEndedEvent[] }> {
  const base = 42000 + 2 * Math.floor(Math.random() * 1000);
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
  const ended: CallEndedEvent[] = [];
  server.events.on('call.ended', (e) => ended.push(e));
  const started = new Promise<CallStartedEvent>((r) => server.events.on('call.started', r));
  const cseq = uac.cseq;
  uac.sendRaw(uac.request('INVITE', { body: uac.sdp(30000), noToTag: true }));
  const ok = await uac.waitResponse('INVITE', 200, cseq);
  uac.remoteTag = tagOf(ok.headers.get('to'));
  return { server, uac, callId: (await started).callId, cseq, ended };
}

const isBye = (m: SipMessage): boolean => m.kind === 'request' && m.method === 'BYE';
const okTo = (cseq: number) => (m: SipMessage) =>
  m.kind === 'response' && m.status === 200 && (m.headers.get('cseq') ?? '') === `${cseq} INVITE`;

describe('our hang-up before the ACK of our 2xx', () => {
  it('ends the call at once but sends its BYE only after the ACK', async () => {
    const { server, uac, callId, cseq, ended } = await answeredNotAcked();
    const hungUp = server.hangup(callId); // resolves when the BYE is answered
    expect(server.resources()).toMatchObject({ calls: 0, rtpPortPairs: 0 });
    expect(ended.map((e) => e.reason)).toEqual(['local_hangup']);
    const oks = uac.received.filter(okTo(cseq)).length;
    await tick(10 * T1_MS);
    expect(uac.received.filter(isBye)).toHaveLength(0);
    // the 2xx goes on being resent: the caller still needs it to ACK
    expect(uac.received.filter(okTo(cseq)).length).toBeGreaterThan(oks);
    uac.sendRaw(uac.request('ACK', { cseq }));
    const bye = await uac.waitRequest('BYE');
    uac.reply(bye, 200);
    await hungUp;
    const after = uac.received.filter(okTo(cseq)).length;
    await tick(10 * T1_MS);
    expect(uac.received.filter(okTo(cseq)).length).toBe(after);
    expect(ended).toHaveLength(1);
  });

  it('sends the BYE when the 2xx transaction gives up on its ACK (64·T1)', async () => {
    const { server, uac, callId } = await answeredNotAcked();
    const hungUpAt = performance.now();
    void server.hangup(callId);
    await tick(20 * T1_MS);
    expect(uac.received.filter(isBye)).toHaveLength(0);
    const bye = await uac.waitRequest('BYE');
    expect(performance.now() - hungUpAt).toBeGreaterThanOrEqual(60 * T1_MS);
    uac.reply(bye, 200);
  });

  it('sends no BYE when the caller hangs up too before its ACK', async () => {
    const { server, uac, callId, cseq } = await answeredNotAcked();
    const hungUp = server.hangup(callId);
    await tick(2 * T1_MS);
    uac.sendRaw(uac.request('BYE'));
    await uac.waitResponse('BYE', 200);
    const oks = uac.received.filter(okTo(cseq)).length;
    await tick(70 * T1_MS);
    expect(uac.received.filter(isBye)).toHaveLength(0);
    expect(uac.received.filter(okTo(cseq)).length).toBe(oks);
    await hungUp;
  });

  it('sends a waiting BYE at once when the server shuts down', async () => {
    const { server, uac, callId } = await answeredNotAcked();
    void server.hangup(callId);
    await tick(2 * T1_MS);
    const closed = server.close();
    const bye = await uac.waitRequest('BYE');
    uac.reply(bye, 200);
    await closed;
    expect(server.resources()).toMatchObject({ calls: 0, rtpPortPairs: 0 });
  });
});
