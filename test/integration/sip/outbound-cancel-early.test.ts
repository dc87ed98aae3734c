/**
 * Giving up an outbound call before the phone sent any provisional response: RFC 3261 §9.1 forbids
 * the CANCEL until one comes, but the caller-facing side must not wait for it. The call fails at
 * once (admission slot and ports released); the INVITE is CANCELled when a provisional does come,
 * and a 2xx that comes instead is ACKed and ended with BYE. Before, cancel() and the ring timeout
 * held the slot and the outcome until Timer B (64·T1, 32 s) for a phone that never answered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SipRequest } from '../../../appliance/sip/message.js';
import { buildResponse, serializeSipMessage } from '../../../appliance/sip/serialize.js';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import { TestUac } from './uac.js';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

/** The server and a silent phone: it receives the INVITE and answers nothing until told to. */
async function start(): Promise<{ server: SipServer; phone: TestUac }> {
  const base = 46000 + 2 * Math.floor(Math.random() * 4000);
  const server = new SipServer({ port: 0, rtpPortMin: base, rtpPortMax: base + 9 });
  const port = await server.listen();
  open.push(server);
  const phone = await new TestUac(port).open();
  open.push(phone);
  return { server, phone };
}

function answer(phone: TestUac, req: SipRequest, status: number, body?: string): void {
  const res = buildResponse(req, status, {
    toTag: 'ph1',
    ...(body === undefined ? {} : { body: Buffer.from(body), contentType: 'application/sdp' }),
    ...(status < 300 && req.method === 'INVITE' ? { headers: { contact: `<sip:agent@127.0.0.1:${phone.port}>` } } : {}),
  });
  phone.sendRaw(serializeSipMessage(res));
}

describe('outbound call given up before any provisional', () => {
  it('fails at once on cancel(), releasing its slot and ports, and CANCELs when the 180 comes', async () => {
    const { server, phone } = await start();
    const oc = server.placeCall({ target: { uri: `sip:agent@127.0.0.1:${phone.port}` }, ringTimeoutMs: 20_000 });
    const invite = await phone.waitRequest('INVITE');
    expect(server.resources()).toMatchObject({ pendingInvites: 1, rtpPortPairs: 1 });

    const outcome = oc.cancel();
    // settled now, not at Timer B
    expect(oc.state).toBe('failed');
    expect(server.resources()).toMatchObject({ pendingInvites: 0, rtpPortPairs: 0 });
    expect(await outcome).toMatchObject({ type: 'failed', reason: 'cancelled', status: undefined });
    expect(phone.received.some((m) => m.kind === 'request' && m.method === 'CANCEL')).toBe(false);

    // the phone rings after all: now the CANCEL may go (§9.1), and the 487 is ACKed
    answer(phone, invite, 180);
    const cancel = await phone.waitRequest('CANCEL');
    expect(cancel.headers.get('call-id')).toBe(invite.headers.get('call-id'));
    answer(phone, cancel, 200);
    answer(phone, invite, 487);
    const ack = await phone.waitRequest('ACK');
    expect(ack.headers.get('cseq')).toMatch(/ ACK$/);
    expect(server.activeCalls).toBe(0);
  });

  it('fails at the ring timeout without waiting for Timer B, and ends a 200 that comes afterwards with ACK and BYE', async () => {
    const { server, phone } = await start();
    const oc = server.placeCall({ target: { uri: `sip:agent@127.0.0.1:${phone.port}` }, ringTimeoutMs: 100 });
    const invite = await phone.waitRequest('INVITE');
    // Timer B is 32 s here (T1 500 ms): a few seconds is ample for a 100 ms ring timeout
    const outcome = await Promise.race([oc.result, new Promise((r) => setTimeout(() => r('still pending'), 3000).unref())]);
    expect(outcome).toMatchObject({ type: 'failed', reason: 'ring_timeout', status: undefined });
    expect(server.resources()).toMatchObject({ pendingInvites: 0, rtpPortPairs: 0 });

    // the phone answers late, with no provisional first: the 2xx is taken and the dialog ended
    answer(phone, invite, 200, phone.sdp(30000));
    const ack = await phone.waitRequest('ACK');
    expect(ack.headers.get('cseq')).toMatch(/ ACK$/);
    const bye = await phone.waitRequest('BYE');
    answer(phone, bye, 200);
    expect(phone.received.some((m) => m.kind === 'request' && m.method === 'CANCEL')).toBe(false);
    expect(server.activeCalls).toBe(0);
  });
});
