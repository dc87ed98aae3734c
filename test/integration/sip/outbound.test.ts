/**
 * Calls the SipServer places (outbound INVITE) to sipp playing the agent's phone: answered (with
 * audio reaching the agent leg's sink), hung up from either side, busy (486), never answered (ring
 * timeout -> CANCEL -> 487), answered as the CANCEL crossed (ACK then BYE), admission limits,
 * target checks, and the session timer a 2xx sets (scripted phone). Every sipp scenario fails unless each ACK/BYE/CANCEL it expects arrives, and every
 * test ends with all RTP ports of the range bindable again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeMulaw } from '../../../appliance/codecs/g711.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import type { SipRequest } from '../../../appliance/sip/message.js';
import { buildResponse, serializeSipMessage } from '../../../appliance/sip/serialize.js';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import type { CallEndedEvent, CallOutboundEvent, LegInfo, SipServerOptions } from '../../../appliance/telephony/types.js';
import { udpPortFree, udpPortsHeldHere } from '../../e2e/sip/harness.js';
import { startSippUas, type SippUas } from '../../helpers/sipp.js';
import { answerInvite, phoneSdp, RtpPeer } from './phone.js';
import { TestUac } from './uac.js';

const RTP_PAIRS = 10;
const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

interface Ctx {
  server: SipServer;
  rtpBase: number;
  ended: CallEndedEvent[];
  outbound: CallOutboundEvent[];
  started: number;
}

async function start(opts: SipServerOptions = {}): Promise<Ctx> {
  const rtpBase = 30000 + 2 * Math.floor(Math.random() * 5000);
  const server = new SipServer({ port: 0, rtpPortMin: rtpBase, rtpPortMax: rtpBase + 2 * RTP_PAIRS - 1, ...opts });
  const ctx: Ctx = { server, rtpBase, ended: [], outbound: [], started: 0 };
  server.events.on('call.ended', (e) => ctx.ended.push(e));
  server.events.on('call.outbound', (e) => ctx.outbound.push(e));
  server.events.on('call.started', () => ctx.started++);
  await server.listen();
  open.push(server);
  return ctx;
}

async function sipp(scenario: string, opts: Parameters<typeof startSippUas>[1] = {}): Promise<SippUas> {
  const s = await startSippUas(scenario, opts);
  open.push({ close: () => (s.kill(), s.cleanup()) });
  return s;
}

/** No socket of this process is bound to any RTP port of the range: no call left one open. */
function rtpRangeFree(ctx: Ctx): boolean {
  return udpPortsHeldHere(ctx.rtpBase, ctx.rtpBase + 2 * RTP_PAIRS - 1).length === 0;
}

/** A sine as raw mu-law (sipp's rtp_stream format). */
function toneUlaw(freqHz: number, seconds: number): Buffer {
  const pcm = Int16Array.from({ length: 8000 * seconds }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * freqHz * i) / 8000)));
  const out = new Uint8Array(pcm.length);
  encodeMulaw(pcm, out);
  return Buffer.from(out);
}

/** Frequency estimate from zero crossings. */
function frequencyHz(pcm: Int16Array, rateHz: number): number {
  let crossings = 0;
  for (let i = 1; i < pcm.length; i++) if (pcm[i - 1]! < 0 !== pcm[i]! < 0) crossings++;
  return (crossings / 2) * (rateHz / pcm.length);
}

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const tick = (ms = 50): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('SipServer.placeCall (outbound INVITE, sipp as the phone)', () => {
  it('rings, is answered, carries the phone audio to the agent leg, ends with our BYE and releases every port', async () => {
    const ctx = await start();
    const phone = await sipp('uas-answer.xml', { files: { 'tone.ulaw': toneUlaw(1000, 1) } });
    const frames: Int16Array[] = [];
    const legs: LegInfo[] = [];
    const closes: string[] = [];
    const oc = ctx.server.placeCall({
      target: { uri: `sip:agent7@127.0.0.1:${phone.port}` },
      fromUser: 'queue-sales',
      fromDisplayName: '+1 555 0100',
      ringTimeoutMs: 5000,
      sinkFactory: (leg) => {
        legs.push(leg);
        return { onFrame: (pcm) => frames.push(Int16Array.from(pcm)), close: (reason) => closes.push(reason) };
      },
    });
    const ringing: number[] = [];
    oc.events.on('ringing', (e) => ringing.push(e.status));
    const outcome = await oc.result;
    if (outcome.type !== 'answered') throw new Error(`not answered: ${outcome.reason} ${outcome.status}`);
    const call = outcome.call;
    expect(ringing).toEqual([180]);
    expect(oc.state).toBe('answered');
    expect(call.id).toBe(oc.id);
    expect(call.direction).toBe('outbound');
    expect(call.state).toBe('active');
    expect(legs).toEqual([expect.objectContaining({ callId: call.id, label: 'agent', codec: 'PCMU', sampleRateHz: 8000 })]);
    expect(ctx.server.activeCalls).toBe(1);
    expect(ctx.server.resources()).toMatchObject({ calls: 1, pendingInvites: 0, rtpPortPairs: 1 });
    expect(ctx.outbound.map((e) => e.state)).toEqual(['ringing', 'answered']);
    expect(ctx.started).toBe(0); // the app placed it: no call.started

    // the phone streams 1 s of a 1 kHz tone: it reaches the agent leg's sink
    await until(() => frames.reduce((n, f) => n + f.length, 0) >= 6400);
    const got = Int16Array.from(frames.flatMap((f) => [...f]));
    expect(frequencyHz(got.subarray(800, 6400), 8000)).toBeGreaterThan(950);
    expect(frequencyHz(got.subarray(800, 6400), 8000)).toBeLessThan(1050);

    // our BYE: sipp answers it (its scenario fails without the BYE)
    const port = legs[0]!.localRtpPort;
    await ctx.server.hangup(call.id);
    const r = await phone.done;
    expect(r.code, r.output).toBe(0);
    expect(ctx.ended).toEqual([expect.objectContaining({ callId: call.id, direction: 'outbound', reason: 'local_hangup' })]);
    expect(closes).toEqual(['local_hangup']);
    await tick();
    expect(ctx.server.resources()).toMatchObject({ calls: 0, pendingInvites: 0, rtpPortPairs: 0 });
    expect(await udpPortFree(port)).toBe(true);
    expect(await udpPortFree(port + 1)).toBe(true);
    expect(rtpRangeFree(ctx)).toBe(true);
  });

  it('calls a registered contact over its flow; the phone hangs up (its BYE) and every port is released', async () => {
    const ctx = await start();
    const phone = await sipp('uas-answer-hangup.xml', { args: ['-d', '300'] });
    // a binding behind NAT: the Contact names a private address, requests go to the flow
    const oc = ctx.server.placeCall({
      target: { target: { transport: 'udp', address: '127.0.0.1', port: phone.port }, contact: 'sip:agent7@192.168.77.10:5060' },
      ringTimeoutMs: 5000,
    });
    const outcome = await oc.result;
    expect(outcome.type).toBe('answered');
    expect(ctx.server.resources()).toMatchObject({ calls: 1, rtpPortPairs: 1 });
    const r = await phone.done;
    expect(r.code, r.output).toBe(0);
    // the Request-URI was the Contact URI, sent to the flow
    expect(r.output).toContain('INVITE sip:agent7@192.168.77.10:5060 SIP/2.0');
    await until(() => ctx.ended.length === 1);
    expect(ctx.ended[0]).toMatchObject({ direction: 'outbound', reason: 'remote_bye' });
    await tick();
    expect(ctx.server.resources()).toMatchObject({ calls: 0, pendingInvites: 0, rtpPortPairs: 0 });
    expect(rtpRangeFree(ctx)).toBe(true);
  });

  it('reports a busy phone (486, ACKed) as rejected and releases its ports', async () => {
    const ctx = await start();
    const phone = await sipp('uas-busy.xml');
    const oc = ctx.server.placeCall({ target: { uri: `sip:agent7@127.0.0.1:${phone.port}` }, ringTimeoutMs: 5000 });
    const outcome = await oc.result;
    expect(outcome).toMatchObject({ type: 'failed', reason: 'rejected', status: 486 });
    if (outcome.type === 'failed') expect(isEdgeVoxError(outcome.error, 'EVX_ERR_SIP_REQUEST_FAILED')).toBe(true);
    expect(oc.state).toBe('failed');
    const r = await phone.done;
    expect(r.code, r.output).toBe(0); // the 486 was ACKed
    expect(ctx.outbound.map((e) => [e.state, e.status, e.reason])).toEqual([['failed', 486, 'rejected']]);
    expect(ctx.server.resources()).toMatchObject({ calls: 0, pendingInvites: 0, rtpPortPairs: 0 });
    expect(rtpRangeFree(ctx)).toBe(true);
    expect(ctx.ended).toEqual([]);
  });

  it('CANCELs a phone that rings past the ring timeout, ACKs the 487, and frees the ports at the CANCEL', async () => {
    const ctx = await start();
    const phone = await sipp('uas-no-answer.xml');
    const t0 = performance.now();
    const oc = ctx.server.placeCall({ target: { uri: `sip:agent7@127.0.0.1:${phone.port}` }, ringTimeoutMs: 800 });
    await new Promise<void>((r) => oc.events.on('ringing', () => r()));
    // while it rings the call holds a port pair and an admission slot
    expect(ctx.server.resources()).toMatchObject({ pendingInvites: 1, rtpPortPairs: 1 });
    const outcome = await oc.result;
    expect(performance.now() - t0).toBeGreaterThanOrEqual(790);
    expect(outcome).toMatchObject({ type: 'failed', reason: 'ring_timeout', status: 487 });
    const r = await phone.done;
    expect(r.code, r.output).toBe(0); // CANCEL came, the 487 was ACKed
    expect(ctx.server.resources()).toMatchObject({ calls: 0, pendingInvites: 0, rtpPortPairs: 0 });
    expect(rtpRangeFree(ctx)).toBe(true);
  });

  it('takes a 200 that crosses its CANCEL: ACK, then BYE; the call never starts', async () => {
    const ctx = await start();
    const phone = await sipp('uas-answer-after-cancel.xml');
    const oc = ctx.server.placeCall({ target: { uri: `sip:agent7@127.0.0.1:${phone.port}` }, ringTimeoutMs: 10_000 });
    await new Promise<void>((r) => oc.events.on('ringing', () => r()));
    const outcome = await oc.cancel();
    expect(outcome).toMatchObject({ type: 'failed', reason: 'cancelled', status: 200 });
    const r = await phone.done;
    expect(r.code, r.output).toBe(0); // the 200 was ACKed and the dialog ended with BYE
    expect(ctx.ended).toEqual([]);
    expect(ctx.server.activeCalls).toBe(0);
    expect(ctx.server.resources()).toMatchObject({ calls: 0, pendingInvites: 0, rtpPortPairs: 0 });
    expect(rtpRangeFree(ctx)).toBe(true);
  });

  it('counts placed calls in the admission limit, both ways', async () => {
    const ctx = await start({ maxCalls: 1 });
    // a ringing outbound call takes the one slot: an inbound INVITE gets 503
    const phone = await sipp('uas-no-answer.xml');
    const oc = ctx.server.placeCall({ target: { uri: `sip:agent7@127.0.0.1:${phone.port}` }, ringTimeoutMs: 10_000 });
    await new Promise<void>((r) => oc.events.on('ringing', () => r()));
    const caller = await new TestUac(ctx.server.port).open();
    open.push(caller);
    caller.sendRaw(caller.request('INVITE', { body: caller.sdp(40000), noToTag: true }));
    await caller.waitResponse('INVITE', 503);
    expect(await oc.cancel()).toMatchObject({ type: 'failed', reason: 'cancelled', status: 487 });
    expect((await phone.done).code).toBe(0);

    // an answered inbound call takes it: a new outbound call fails at once, nothing is sent
    const second = await new TestUac(ctx.server.port).open();
    open.push(second);
    await second.call(40002);
    const refused = await ctx.server.placeCall({ target: { uri: 'sip:agent8@127.0.0.1:9' }, ringTimeoutMs: 1000 }).result;
    expect(refused).toMatchObject({ type: 'failed', reason: 'capacity', status: undefined });
    expect(ctx.server.resources()).toMatchObject({ calls: 1, pendingInvites: 0, rtpPortPairs: 1 });
  });

  it('refuses targets it may not call before sending anything, and reports shutdown for calls still ringing', async () => {
    const ctx = await start();
    const place = (uri: string): unknown => ctx.server.placeCall({ target: { uri }, ringTimeoutMs: 1000 });
    // outside sip.transferTargets (default: this host), a host name (no DNS), not SIP at all
    for (const uri of ['sip:agent@10.1.2.3', 'sip:agent@pbx.example.com', 'tel:+15550100']) {
      expect(() => place(uri), uri).toThrow(expect.objectContaining({ code: 'EVX_ERR_TRANSFER_TARGET' }));
    }
    expect(() => place('sip:agent@127.0.0.1;transport=tls')).toThrow(expect.objectContaining({ code: 'EVX_ERR_SIP_TRANSPORT' }));
    expect(() => ctx.server.placeCall({ target: { uri: 'sip:agent@127.0.0.1' }, ringTimeoutMs: 0 })).toThrow(
      expect.objectContaining({ code: 'EVX_ERR_BAD_REQUEST' }),
    );

    const phone = await sipp('uas-no-answer.xml');
    const oc = ctx.server.placeCall({ target: { uri: `sip:agent7@127.0.0.1:${phone.port}` }, ringTimeoutMs: 10_000 });
    await new Promise<void>((r) => oc.events.on('ringing', () => r()));
    await ctx.server.close();
    expect(await oc.result).toMatchObject({ type: 'failed', reason: 'shutdown' });
    expect(ctx.server.resources()).toMatchObject({ calls: 0, pendingInvites: 0, rtpPortPairs: 0, clientTransactions: 0 });
    expect(rtpRangeFree(ctx)).toBe(true);
    expect(() => place('sip:agent@127.0.0.1')).toThrow(expect.objectContaining({ code: 'EVX_ERR_SIP_CLOSED' }));
  });

  it('runs the session timer the 2xx sets, as for inbound calls: refresher=uac is us (re-INVITE), refresher=uas must refresh or the call ends', async () => {
    const ctx = await start();
    const media = await RtpPeer.open();
    open.push(media);
    const place = async (sessionExpires: string): Promise<TestUac> => {
      const phone = await new TestUac(ctx.server.port).open();
      open.push(phone);
      const oc = ctx.server.placeCall({ target: { uri: `sip:agent7@127.0.0.1:${phone.port}` }, ringTimeoutMs: 5000 });
      await answerInvite(phone, phoneSdp(media.port, 'PCMU'), { 'session-expires': sessionExpires, require: 'timer' });
      expect((await oc.result).type).toBe('answered');
      return phone;
    };

    // we are the refresher: a re-INVITE at SE/2 with our SDP, ACKed once answered
    const refreshed = await place('2;refresher=uac');
    const reinvite = (await refreshed.waitFor(
      (m) => m.kind === 'request' && m.method === 'INVITE' && m.headers.get('to')!.includes('tag=p1'),
      3000,
    )) as SipRequest;
    expect(reinvite.headers.get('session-expires')).toBe('2;refresher=uac');
    expect(Number(reinvite.headers.get('cseq')!.split(' ')[0])).toBeGreaterThan(1);
    refreshed.reply(reinvite, 200, { body: phoneSdp(media.port, 'PCMU') });
    await refreshed.waitFor(
      (m) => m.kind === 'request' && m.method === 'ACK' && m.headers.get('cseq') === `${reinvite.headers.get('cseq')!.split(' ')[0]} ACK`,
    );

    // the phone was to refresh and does not: we end the call (BYE) at SE - SE/3
    const silent = await place('3;refresher=uas');
    const bye = (await silent.waitFor((m) => m.kind === 'request' && m.method === 'BYE', 4000)) as SipRequest;
    silent.reply(bye, 200);
    await until(() => ctx.ended.some((e) => e.reason === 'session_timer_expired'));
    expect(ctx.ended.map((e) => [e.direction, e.reason])).toEqual([['outbound', 'session_timer_expired']]);
  });

  it('keeps ringing past Timer B (64·T1): the INVITE transaction waits for its final answer, a late 200 answers, a ring timeout CANCELs', async () => {
    // T1 = 20 ms: Timer B would be 1.28 s; a 1xx stops it (RFC 3261 §17.1.1.2), the ring timeout decides
    const ctx = await start({ timers: { t1Ms: 20, t2Ms: 160, t4Ms: 200 } });
    const media = await RtpPeer.open();
    open.push(media);
    const phone = await new TestUac(ctx.server.port).open();
    open.push(phone);
    const late = ctx.server.placeCall({ target: { uri: `sip:agent7@127.0.0.1:${phone.port}` }, ringTimeoutMs: 5000 });
    const invite = await phone.waitRequest('INVITE');
    phone.sendRaw(serializeSipMessage(buildResponse(invite, 180, { toTag: 'p1' })));
    await tick(1600);
    expect(ctx.server.resources().clientTransactions).toBe(1); // still ringing in its transaction
    expect(late.state).toBe('ringing');
    phone.sendRaw(serializeSipMessage(buildResponse(invite, 200, { toTag: 'p1', body: Buffer.from(phoneSdp(media.port, 'PCMU')) })));
    expect((await late.result).type).toBe('answered');
    await phone.waitRequest('ACK');
    expect(ctx.server.resources().clientTransactions).toBe(0);
    // its retransmitted 200 gets the same ACK again (the call repeats it)
    phone.sendRaw(serializeSipMessage(buildResponse(invite, 200, { toTag: 'p1', body: Buffer.from(phoneSdp(media.port, 'PCMU')) })));
    await until(() => phone.received.filter((m) => m.kind === 'request' && m.method === 'ACK').length === 2);

    // sipp rings past Timer B; the ring timeout CANCELs; its 487 ends the INVITE transaction, which ACKs it
    const sippPhone = await sipp('uas-no-answer.xml');
    const cancelled = ctx.server.placeCall({ target: { uri: `sip:agent8@127.0.0.1:${sippPhone.port}` }, ringTimeoutMs: 2000 });
    expect(await cancelled.result).toMatchObject({ type: 'failed', reason: 'ring_timeout', status: 487 });
    const r = await sippPhone.done;
    expect(r.code, r.output).toBe(0);
    expect(ctx.server.resources()).toMatchObject({ calls: 1, pendingInvites: 0, rtpPortPairs: 1 });
  });

  it('ACKs and ends (BYE) a 2xx whose SDP answer is unusable, reports bad_answer and releases its ports', async () => {
    const ctx = await start();
    const phone = await new TestUac(ctx.server.port).open();
    open.push(phone);
    const oc = ctx.server.placeCall({ target: { uri: `sip:agent7@127.0.0.1:${phone.port}` }, ringTimeoutMs: 5000 });
    const invite = await phone.waitRequest('INVITE');
    const g729 = phoneSdp(40000, 'PCMU').replace('RTP/AVP 0 101', 'RTP/AVP 18').replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:18 G729/8000');
    phone.sendRaw(serializeSipMessage(buildResponse(invite, 200, { toTag: 'p1', body: Buffer.from(g729) })));
    const outcome = await oc.result;
    expect(outcome).toMatchObject({ type: 'failed', reason: 'bad_answer', status: 200 });
    if (outcome.type === 'failed') expect(outcome.error.code).toBe('EVX_ERR_SDP_NO_COMMON_CODEC');
    await phone.waitRequest('ACK');
    const bye = await phone.waitRequest('BYE');
    expect(bye.headers.get('to')).toContain('tag=p1');
    phone.reply(bye, 200);
    expect(ctx.ended).toEqual([]);
    expect(ctx.server.resources()).toMatchObject({ calls: 0, pendingInvites: 0, rtpPortPairs: 0 });
    expect(rtpRangeFree(ctx)).toBe(true);
  });
});
