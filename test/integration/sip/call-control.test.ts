/**
 * In-call behaviour with a scripted UAC: re-INVITE hold/resume, REFER both ways, session timers
 * (422 and expiry), UPDATE, INFO and RFC 4733 DTMF, symmetric-RTP latching with a paced prompt,
 * contained sink errors, media timeout, and close() hanging up active calls.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { G722Encoder } from '../../../appliance/codecs/g722.js';
import { encodeTelephoneEvent } from '../../../appliance/rtp/dtmf.js';
import { parseRtp, writeRtp, type RtpPacket } from '../../../appliance/rtp/packet.js';
import { playPcm } from '../../../appliance/rtp/player.js';
import { parseSdp } from '../../../appliance/sdp/sdp.js';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import type { CallStartedEvent, SipServerOptions, TelephonyEvents } from '../../../appliance/telephony/types.js';
import type { SipRequest } from '../../../appliance/sip/message.js';
import { buildRtcpReport } from '../../../appliance/rtp/rtcp.js';
import { tagOf } from '../../../appliance/sip/serialize.js';
import { TestUac } from './uac.js';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

interface Ctx {
  server: SipServer;
  uac: TestUac;
  events: Array<{ type: string; e: unknown }>;
  started: Promise<CallStartedEvent>;
}

async function start(opts: SipServerOptions = {}): Promise<Ctx> {
  const base = 46000 + 2 * Math.floor(Math.random() * 4000);
  const server = new SipServer({ port: 0, rtpPortMin: base, rtpPortMax: base + 39, ...opts });
  const events: Ctx['events'] = [];
  for (const type of ['call.ended', 'call.held', 'call.resumed', 'dtmf', 'call.transfer'] as const) {
    server.events.on(type, (e: TelephonyEvents[typeof type]) => events.push({ type, e }));
  }
  const started = new Promise<CallStartedEvent>((r) => server.events.on('call.started', r));
  const port = await server.listen();
  open.push(server);
  const uac = await new TestUac(port).open();
  open.push(uac);
  return { server, uac, events, started };
}

const tick = (ms = 50): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function udpSocket(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  open.push({ close: () => s.close() });
  return s;
}

describe('SipServer call control', () => {
  it('re-INVITE with sendonly puts the call on hold (answer recvonly), sendrecv resumes', async () => {
    const { uac, events, started } = await start();
    await uac.call(30000);
    await started;
    uac.sendRaw(uac.request('INVITE', { body: uac.sdp(30000, ['a=sendonly']) }));
    const held = await uac.waitFor((m) => m.kind === 'response' && m.status === 200 && m.body.includes('a=recvonly'));
    expect(parseSdp(held.body).origin.sessionVersion).toBe('2');
    uac.sendRaw(uac.request('ACK', { cseq: uac.cseq - 1 }));
    uac.sendRaw(uac.request('INVITE', { body: uac.sdp(30000, ['a=sendrecv']) }));
    await uac.waitFor(
      (m) =>
        m.kind === 'response' &&
        m.status === 200 &&
        m.body.includes('a=sendrecv') &&
        (m.headers.get('cseq') ?? '').startsWith(`${uac.cseq - 1} `),
    );
    expect(events.map((x) => x.type)).toEqual(['call.held', 'call.resumed']);
    // out-of-order CSeq is refused (§12.2.2)
    uac.sendRaw(uac.request('UPDATE', { cseq: 1 }));
    await uac.waitResponse('UPDATE', 500);
  });

  it('transfers the caller with REFER, and hangs up when the NOTIFY reports success', async () => {
    const { server, uac, events, started } = await start();
    await uac.call(30000);
    const s = await started;
    const result = server.transfer(s.callId, 'sip:agent7@127.0.0.1');
    const refer = await uac.waitRequest('REFER');
    expect(refer.headers.get('refer-to')).toBe('<sip:agent7@127.0.0.1>');
    uac.reply(refer, 202);
    expect(await result).toBe(202);
    uac.sendRaw(
      uac.request('NOTIFY', {
        body: 'SIP/2.0 200 OK\r\n',
        contentType: 'message/sipfrag;version=2.0',
        extra: ['Event: refer', 'Subscription-State: terminated;reason=noresource'],
      }),
    );
    await uac.waitResponse('NOTIFY', 200);
    const bye = await uac.waitRequest('BYE');
    uac.reply(bye, 200);
    await tick();
    const kinds = events.map((x) => (x.type === 'call.transfer' ? `transfer:${(x.e as { state: string }).state}` : x.type));
    expect(kinds).toEqual(['transfer:requested', 'transfer:accepted', 'transfer:completed', 'call.ended']);
    expect((events.at(-1)!.e as { reason: string }).reason).toBe('transferred');
    expect(server.resources()).toMatchObject({ calls: 0, rtpPortPairs: 0 });
  });

  it('a refer NOTIFY the box asked for by no REFER (or after a refused one) is 481 and ends nothing', async () => {
    const { server, uac, events, started } = await start();
    await uac.call(30000);
    const s = await started;
    const forged = () =>
      uac.sendRaw(
        uac.request('NOTIFY', {
          body: 'SIP/2.0 200 OK\r\n',
          contentType: 'message/sipfrag;version=2.0',
          extra: ['Event: refer', 'Subscription-State: terminated;reason=noresource'],
        }),
      );
    forged();
    await uac.waitResponse('NOTIFY', 481);
    // a REFER the caller's side refused leaves no subscription either
    const result = server.transfer(s.callId, 'sip:agent7@127.0.0.1');
    uac.reply(await uac.waitRequest('REFER'), 603);
    expect(await result).toBe(603);
    forged();
    await uac.waitResponse('NOTIFY', 481, uac.cseq - 1);
    await tick(100);
    expect(events.map((x) => x.type)).not.toContain('call.ended');
    expect(server.resources()).toMatchObject({ calls: 1 });
    const kinds = events.filter((x) => x.type === 'call.transfer').map((x) => (x.e as { state: string }).state);
    expect(kinds).toEqual(['requested', 'failed']);
  });

  it('answers every REFER from the caller with one final NOTIFY: carried out, declined, or refused for its target', async () => {
    const { server, uac, events, started } = await start();
    await uac.call(30000);
    const s = await started;
    const referAndFinal = async (target: string): Promise<string> => {
      uac.sendRaw(uac.request('REFER', { extra: [`Refer-To: <${target}>`] }));
      await uac.waitResponse('REFER', 202);
      const seen = uac.received.length;
      const notifies: string[] = [];
      for (;;) {
        const n = (await uac.waitFor(
          (m) =>
            uac.received.indexOf(m) >= seen && m.kind === 'request' && m.method === 'NOTIFY' && !notifies.includes(m.headers.get('cseq')!),
        )) as SipRequest;
        notifies.push(n.headers.get('cseq')!);
        uac.reply(n, 200);
        if ((n.headers.get('subscription-state') ?? '').startsWith('terminated')) return n.body.toString().trim();
        expect(n.body.toString()).toBe('SIP/2.0 100 Trying\r\n');
      }
    };
    // nobody takes transfers on: declined, not left hanging
    expect(await referAndFinal('sip:+15550199@127.0.0.1')).toBe('SIP/2.0 603 Decline');
    // a target off the allowed networks is refused whoever would carry it out
    server.setReferralHandler(async () => 200);
    expect(await referAndFinal('sip:agent@203.0.113.9')).toBe('SIP/2.0 403 Forbidden');
    // carried out
    const asked: string[] = [];
    server.setReferralHandler(async (callId, target) => {
      asked.push(`${callId === s.callId}:${target}`);
      return 200;
    });
    expect(await referAndFinal('sip:agent7@127.0.0.1')).toBe('SIP/2.0 200 OK');
    expect(asked).toEqual(['true:sip:agent7@127.0.0.1']);
    const states = events.filter((x) => x.type === 'call.transfer').map((x) => (x.e as { state: string; status?: number }).state);
    expect(states).toEqual(['requested', 'failed', 'requested', 'failed', 'requested', 'completed']);
    expect(events.find((x) => x.type === 'call.transfer')?.e).toMatchObject({
      direction: 'inbound',
      pii: { target: 'sip:+15550199@127.0.0.1' },
    });
    // a handler that owns the call's referrals (the ACD's agent legs) decides them in full, the policy its own
    const owned: string[] = [];
    server.setReferralHandler(
      async (_callId, target) => {
        owned.push(target);
        return 404;
      },
      (callId) => callId === s.callId,
    );
    expect(await referAndFinal('sip:agent@203.0.113.9')).toBe('SIP/2.0 404 Not Found');
    expect(owned).toEqual(['sip:agent@203.0.113.9']);
    server.setReferralHandler(
      async () => 200,
      () => false,
    );
    expect(await referAndFinal('sip:agent@203.0.113.9')).toBe('SIP/2.0 403 Forbidden');
  });

  it('session timers: 422 below Min-SE; BYE when the refresher (uac) stays silent; UPDATE refreshes', async () => {
    const { uac, events } = await start({ minSessionExpiresSec: 2, sessionExpiresSec: 2 });
    uac.sendRaw(uac.request('INVITE', { body: uac.sdp(30000), noToTag: true, cseq: 1, extra: ['Supported: timer', 'Session-Expires: 1'] }));
    const tooSmall = await uac.waitResponse('INVITE', 422, 1);
    expect(tooSmall.headers.get('min-se')).toBe('2');
    const ok = await uac.call(30000, ['Supported: timer', 'Session-Expires: 2;refresher=uac']);
    expect(ok.headers.get('session-expires')).toBe('2;refresher=uac');
    expect(ok.headers.getAll('require')).toContain('timer');
    // expiry fires at SE - min(32, SE/3) = 1.33 s; refresh once at ~0.8 s to prove UPDATE resets it
    await tick(800);
    uac.sendRaw(uac.request('UPDATE', { extra: ['Session-Expires: 2;refresher=uac'] }));
    await uac.waitResponse('UPDATE', 200);
    await tick(900);
    expect(events.filter((x) => x.type === 'call.ended')).toHaveLength(0);
    const bye = await uac.waitRequest('BYE');
    uac.reply(bye, 200);
    await tick();
    expect(events.find((x) => x.type === 'call.ended')?.e).toMatchObject({ reason: 'session_timer_expired' });
  });

  it('session timers: refresher=uas when the peer lacks timer support — we re-INVITE at SE/2 and ACK the 2xx', async () => {
    const { uac, events } = await start({ minSessionExpiresSec: 2, sessionExpiresSec: 2 });
    const ok = await uac.call(30000, ['Session-Expires: 2']);
    expect(ok.headers.get('session-expires')).toBe('2;refresher=uas');
    expect(ok.headers.getAll('require')).not.toContain('timer');
    const reinvite = await uac.waitRequest('INVITE');
    expect(reinvite.headers.get('session-expires')).toBe('2;refresher=uas');
    expect(parseSdp(reinvite.body).origin.sessionVersion).toBe('2');
    uac.reply(reinvite, 200, { body: uac.sdp(30000) });
    const ack = await uac.waitRequest('ACK');
    expect(ack.headers.get('cseq')).toBe(`${(reinvite.headers.get('cseq') ?? '').split(' ')[0]} ACK`);
    uac.reply(reinvite, 200, { body: uac.sdp(30000) }); // retransmitted 2xx: ACK again
    await uac.waitFor(
      (m) =>
        m.kind === 'request' && m.method === 'ACK' && uac.received.filter((x) => x.kind === 'request' && x.method === 'ACK').length === 2,
    );
    expect(events.filter((x) => x.type === 'call.ended')).toHaveLength(0);
  });

  it('stops resending the 2xx of a re-INVITE once it is ACKed (hold and resume)', async () => {
    const { uac, started } = await start({ timers: { t1Ms: 20, t2Ms: 160, t4Ms: 200 } });
    await uac.call(30000);
    await started;
    for (const direction of ['a=sendonly', 'a=sendrecv']) {
      uac.sendRaw(uac.request('INVITE', { body: uac.sdp(30000, [direction]) }));
      const cseq = uac.cseq - 1;
      await uac.waitResponse('INVITE', 200, cseq);
      uac.sendRaw(uac.request('ACK', { cseq }));
      const oks = () =>
        uac.received.filter((m) => m.kind === 'response' && m.status === 200 && m.headers.get('cseq') === `${cseq} INVITE`).length;
      // Once the ACK is in (well within 500 ms), nothing more: before the fix the 2xx kept coming every
      // 160 ms (T2) for 32 s. Judged on what arrives after the ACK had time to land, not on timing.
      await tick(500);
      const settled = oks();
      await tick(800);
      expect(oks(), direction).toBe(settled);
    }
  });

  it('sends each shutdown BYE once when it is answered, and still refuses new requests while closing', async () => {
    const { server, uac, started } = await start();
    await uac.call(30000);
    await started;
    const closing = server.close();
    const bye = await uac.waitRequest('BYE');
    uac.reply(bye, 200);
    uac.sendRaw(uac.request('OPTIONS', { cseq: 90 }));
    // An answered BYE is not resent (the old code dropped the answer while closing: a second BYE
    // followed at T1 = 500 ms, and close() waited its full second).
    await tick(800);
    expect(uac.received.filter((m) => m.kind === 'request' && m.method === 'BYE')).toHaveLength(1);
    expect(uac.received.filter((m) => m.kind === 'response' && m.headers.get('cseq') === '90 OPTIONS')).toHaveLength(0);
    await closing;
  });

  it('retransmits the 2xx until ACK and hangs up (ack_timeout) when the ACK never comes', async () => {
    const { uac, events } = await start({ timers: { t1Ms: 20, t2Ms: 160, t4Ms: 200 } });
    uac.sendRaw(uac.request('INVITE', { body: uac.sdp(30000), noToTag: true, cseq: 1 }));
    await uac.waitResponse('INVITE', 200, 1);
    const bye = await uac.waitRequest('BYE'); // Timer L = 64*T1 = 1.28 s
    uac.reply(bye, 200);
    await tick();
    const oks = uac.received.filter((m) => m.kind === 'response' && m.status === 200 && (m.headers.get('cseq') ?? '') === '1 INVITE');
    expect(oks.length).toBeGreaterThan(5); // 20, 40, 80, 160, 160, ... ms
    expect(events.find((x) => x.type === 'call.ended')?.e).toMatchObject({ reason: 'ack_timeout' });
  });

  it('decodes RFC 4733 and SIP INFO DTMF into dtmf events', async () => {
    const { uac, events, started } = await start();
    const ok = await uac.call(30000);
    await started;
    const port = parseSdp(ok.body).media[0]!.port;
    const rtp = await udpSocket();
    let seq = 100;
    for (const [end, dur] of [
      [false, 160],
      [false, 320],
      [true, 640],
      [true, 640],
      [true, 640],
    ] as const) {
      const buf = Buffer.alloc(16); // one buffer per datagram: dgram sends asynchronously
      const n = writeRtp(
        buf,
        { marker: seq === 100, payloadType: 101, sequence: seq++, timestamp: 8000, ssrc: 7 },
        encodeTelephoneEvent(3, end, 10, dur),
      );
      rtp.send(buf.subarray(0, n), port, '127.0.0.1');
    }
    uac.sendRaw(uac.request('INFO', { body: 'Signal=#\r\nDuration=160\r\n', contentType: 'application/dtmf-relay' }));
    await uac.waitResponse('INFO', 200);
    await tick(100);
    const dtmf = events.filter((x) => x.type === 'dtmf').map((x) => x.e as { digit: string; source: string; durationMs: number });
    expect(dtmf).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ digit: '3', source: 'rfc4733', durationMs: 80 }),
        expect.objectContaining({ digit: '#', source: 'info', durationMs: 160 }),
      ]),
    );
    expect(dtmf).toHaveLength(2);
  });

  it('sends silence to a caller it only listens to, none while the caller holds, and keeps one clean stream around a prompt', async () => {
    const rtp = await udpSocket();
    const got: RtpPacket[] = [];
    rtp.on('message', (m) => {
      const p = parseRtp(m);
      if (typeof p !== 'string') got.push({ ...p, payload: Uint8Array.from(p.payload) });
    });
    const { server, uac, started } = await start();
    await uac.call(rtp.address().port);
    const s = await started;
    await tick(300);
    // the caller sent nothing: the box still sends 20 ms silence frames (PCMU silence is 0xFF)
    expect(got.length).toBeGreaterThanOrEqual(10);
    expect(got.every((p) => p.payloadType === 0 && p.payload.length === 160 && p.payload.every((b) => b === 0xff))).toBe(true);
    // every packet counted as sent arrives (a packet may still be in flight when counted: wait for it)
    const received = got.length;
    const sent = server.callQuality(s.callId)[0]!.packetsSent;
    expect(sent).toBeGreaterThanOrEqual(received);
    for (let i = 0; i < 50 && got.length < sent; i++) await tick(10);
    expect(got.length).toBeGreaterThanOrEqual(sent);
    // a prompt takes over and silence follows it, all in one sequence space with a marker at each start
    const pcm = new Int16Array(8000 / 10).map((_, i) => Math.round(5000 * Math.sin(i / 3))); // 100 ms
    await playPcm(server.leg(s.callId, 'leg0').rtp, 'PCMU', pcm);
    await tick(200);
    for (let i = 1; i < got.length; i++) expect((got[i]!.sequence - got[i - 1]!.sequence) & 0xffff).toBe(1);
    const spoken = got.filter((p) => !p.payload.every((b) => b === 0xff));
    expect(spoken.length).toBe(5);
    expect(spoken[0]!.marker).toBe(true);
    expect(got.filter((p) => p.marker).length).toBe(3); // silence, prompt, silence again
    for (let i = 1; i < got.length; i++) expect(((got[i]!.timestamp - got[i - 1]!.timestamp) | 0) > 0).toBe(true);
    // hold (the caller goes sendonly: our answer is recvonly): nothing is sent
    uac.sendRaw(uac.request('INVITE', { body: uac.sdp(rtp.address().port, ['a=sendonly']) }));
    await uac.waitFor((m) => m.kind === 'response' && m.status === 200 && m.body.includes('a=recvonly'));
    uac.sendRaw(uac.request('ACK', { cseq: uac.cseq - 1 }));
    await tick(60);
    const atHold = got.length;
    await tick(300);
    expect(got.length).toBe(atHold);
    uac.sendRaw(uac.request('INVITE', { body: uac.sdp(rtp.address().port, ['a=sendrecv']) }));
    await uac.waitFor((m) => m.kind === 'response' && m.status === 200 && m.body.includes('a=sendrecv'));
    uac.sendRaw(uac.request('ACK', { cseq: uac.cseq - 1 }));
    await tick(300);
    expect(got.length).toBeGreaterThan(atHold + 5);
  });

  it('sends nothing to a caller holding with the legacy c=0.0.0.0 (RFC 3264 §8.4), and resumes afterwards', async () => {
    const rtp = await udpSocket();
    const { server, uac, events, started } = await start();
    await uac.call(rtp.address().port);
    const s = await started;
    const sent = () => server.callQuality(s.callId)[0]!.packetsSent;
    await tick(100);
    expect(sent()).toBeGreaterThan(0);
    // no direction attribute: sendrecv, but there is no address to send to (0.0.0.0 is this host itself)
    uac.sendRaw(uac.request('INVITE', { body: uac.sdp(rtp.address().port).replace('c=IN IP4 127.0.0.1', 'c=IN IP4 0.0.0.0') }));
    await uac.waitResponse('INVITE', 200, uac.cseq - 1);
    uac.sendRaw(uac.request('ACK', { cseq: uac.cseq - 1 }));
    expect(events.map((x) => x.type)).toEqual(['call.held']);
    await tick(60);
    const atHold = sent();
    await tick(200);
    expect(sent()).toBe(atHold);
    uac.sendRaw(uac.request('INVITE', { body: uac.sdp(rtp.address().port) }));
    await uac.waitResponse('INVITE', 200, uac.cseq - 1);
    uac.sendRaw(uac.request('ACK', { cseq: uac.cseq - 1 }));
    await tick(200);
    expect(sent()).toBeGreaterThan(atHold + 3);
  });

  it('multiplexes RTCP on the RTP port when offered (RFC 5761): answer, reports out and in', async () => {
    const rtp = await udpSocket();
    const rtcpSeen: Buffer[] = [];
    rtp.on('message', (m: Buffer) => {
      if (m[1]! >= 200 && m[1]! <= 204) rtcpSeen.push(m);
    });
    const plain = await start({ rtcpIntervalMs: 100, idleMedia: 'off' });
    // the plain offer (no a=rtcp-mux) is answered with a=rtcp: RTCP goes to port+1
    expect((await plain.uac.call(rtp.address().port)).body.toString()).toContain('a=rtcp:');
    await tick(300);
    expect(rtcpSeen).toHaveLength(0);
    const muxed = await start({ rtcpIntervalMs: 100, idleMedia: 'off' });
    const cseq = muxed.uac.cseq;
    muxed.uac.sendRaw(muxed.uac.request('INVITE', { body: muxed.uac.sdp(rtp.address().port, ['a=rtcp-mux']), noToTag: true }));
    const answer = (await muxed.uac.waitResponse('INVITE', 200, cseq)).body.toString();
    expect(answer).toContain('a=rtcp-mux');
    expect(answer).not.toContain('a=rtcp:');
    const call = await muxed.started;
    const boxPort = parseSdp(Buffer.from(answer)).media[0]!.port;
    // the caller's RR on the RTP port is read as RTCP, not as a malformed RTP packet
    rtp.send(buildRtcpReport(0x1234, 'caller', [], undefined), boxPort, '127.0.0.1');
    await tick(400);
    expect(rtcpSeen.length).toBeGreaterThanOrEqual(1);
    const leg = muxed.server.leg(call.callId, 'leg0');
    expect(leg.rtp.counters.rtcpReceived).toBe(1);
    expect(leg.rtp.counters.malformedPackets).toBe(0);
  });

  it('takes a late offer: our offer in the 200, the answer in the ACK starts the call; no answer ends it with BYE', async () => {
    const rtp = await udpSocket();
    const got: RtpPacket[] = [];
    rtp.on('message', (m) => {
      const p = parseRtp(m);
      if (typeof p !== 'string') got.push(p);
    });
    const { uac, started } = await start();
    const cseq = uac.cseq;
    uac.sendRaw(uac.request('INVITE', { noToTag: true }));
    const ok = await uac.waitResponse('INVITE', 200, cseq);
    const offer = parseSdp(ok.body);
    expect(offer.media[0]!.formats).toEqual(['0', '8', '9', '101']);
    uac.remoteTag = tagOf(ok.headers.get('to'));
    const answer = uac
      .sdp(rtp.address().port)
      .replace('RTP/AVP 0 101', 'RTP/AVP 8 101')
      .replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000');
    uac.sendRaw(uac.request('ACK', { cseq, body: answer }));
    const s = await started;
    expect(s.legs[0]!.codec).toBe('PCMA');
    await tick(200);
    expect(got.length).toBeGreaterThan(3);
    expect(got.every((p) => p.payloadType === 8)).toBe(true);
    // the 2xx was ACKed: no retransmission of it
    const oks = uac.received.filter((m) => m.kind === 'response' && m.status === 200 && (m.headers.get('cseq') ?? '') === `${cseq} INVITE`);
    expect(oks).toHaveLength(1);

    const second = await new TestUac(uac.serverPort).open();
    open.push(second);
    const c2 = second.cseq;
    second.sendRaw(second.request('INVITE', { noToTag: true }));
    const ok2 = await second.waitResponse('INVITE', 200, c2);
    second.remoteTag = tagOf(ok2.headers.get('to'));
    second.sendRaw(second.request('ACK', { cseq: c2 })); // no answer
    const bye = await second.waitRequest('BYE');
    second.reply(bye, 200);
  });

  it('sends ringing reliably to a caller that supports 100rel, until its PRACK; a required one never PRACKed gets 504', async () => {
    const { uac, started } = await start({ answerDelayMs: 1200 });
    const cseq = uac.cseq;
    uac.sendRaw(uac.request('INVITE', { body: uac.sdp(30000), noToTag: true, extra: ['Supported: 100rel, timer'] }));
    const ringing = await uac.waitResponse('INVITE', 180, cseq);
    expect(ringing.headers.get('require')).toBe('100rel');
    expect(ringing.headers.get('rseq')).toBe('1');
    // not PRACKed yet: it comes again after T1
    await uac.waitFor((m) => m !== ringing && m.kind === 'response' && m.status === 180, 1500);
    uac.remoteTag = tagOf(ringing.headers.get('to'));
    uac.sendRaw(uac.request('PRACK', { extra: [`RAck: 1 ${cseq} INVITE`] }));
    await uac.waitResponse('PRACK', 200);
    const ok = await uac.waitResponse('INVITE', 200, cseq);
    expect(tagOf(ok.headers.get('to'))).toBe(uac.remoteTag); // one dialog from the 180 to the 200
    uac.sendRaw(uac.request('ACK', { cseq }));
    await started;
    const after = uac.received.filter((m) => m.kind === 'response' && m.status === 180).length;
    await tick(700);
    expect(uac.received.filter((m) => m.kind === 'response' && m.status === 180).length).toBe(after);

    const fast = await start({ answerDelayMs: 50, timers: { t1Ms: 10, t2Ms: 40, t4Ms: 50 } });
    const c2 = fast.uac.cseq;
    fast.uac.sendRaw(fast.uac.request('INVITE', { body: fast.uac.sdp(30002), noToTag: true, extra: ['Require: 100rel'] }));
    await fast.uac.waitResponse('INVITE', 504, c2);
    expect(fast.server.resources()).toMatchObject({ calls: 0, rtpPortPairs: 0 });
  });

  it('sends RFC 3389 comfort noise instead when configured and offered', async () => {
    const rtp = await udpSocket();
    const got: RtpPacket[] = [];
    rtp.on('message', (m) => {
      const p = parseRtp(m);
      if (typeof p !== 'string') got.push({ ...p, payload: Uint8Array.from(p.payload) });
    });
    const { uac, started } = await start({ idleMedia: 'comfort-noise' });
    const body = uac
      .sdp(rtp.address().port)
      .replace('RTP/AVP 0 101', 'RTP/AVP 0 101 13')
      .replace('a=rtpmap:101', 'a=rtpmap:13 CN/8000\r\na=rtpmap:101');
    const cseq = uac.cseq;
    uac.sendRaw(uac.request('INVITE', { body, noToTag: true }));
    const ok = await uac.waitResponse('INVITE', 200, cseq);
    expect(ok.body.toString()).toContain('a=rtpmap:13 CN/8000');
    await started;
    await tick(500);
    expect(got.length).toBeGreaterThanOrEqual(2);
    expect(got.every((p) => p.payloadType === 13 && p.payload.length === 1)).toBe(true);
  });

  it('latches to the real RTP source and plays a prompt there, paced in 20 ms packets', async () => {
    const { server, uac, started } = await start({ idleMedia: 'off' });
    const ok = await uac.call(39998); // SDP says 39998: nobody listens there (a NAT'ed peer)
    const s = await started;
    const serverPort = parseSdp(ok.body).media[0]!.port;
    const rtp = await udpSocket();
    const got: RtpPacket[] = [];
    rtp.on('message', (m) => {
      const p = parseRtp(m);
      if (typeof p !== 'string') got.push({ ...p, payload: Uint8Array.from(p.payload) });
    });
    const buf = Buffer.alloc(172);
    const n = writeRtp(buf, { marker: true, payloadType: 0, sequence: 1, timestamp: 0, ssrc: 9 }, new Uint8Array(160).fill(0xff));
    rtp.send(buf.subarray(0, n), serverPort, '127.0.0.1');
    await tick(100);
    const leg = server.leg(s.callId, 'leg0');
    expect(leg.rtp.isLatched).toBe(true);
    expect(leg.rtp.remoteEndpoint.port).toBe(rtp.address().port);
    const pcm = new Int16Array(8000 / 5).map((_, i) => Math.round(5000 * Math.sin(i / 3))); // 200 ms
    const r = await playPcm(leg.rtp, 'PCMU', pcm);
    await tick(100);
    expect(r).toMatchObject({ framesSent: 10, durationMs: 200, cancelled: false });
    expect(got).toHaveLength(10);
    expect(got[0]!.marker).toBe(true);
    for (let i = 1; i < got.length; i++) {
      expect((got[i]!.sequence - got[i - 1]!.sequence) & 0xffff).toBe(1);
      expect((got[i]!.timestamp - got[i - 1]!.timestamp) >>> 0).toBe(160);
      expect(got[i]!.payload.length).toBe(160);
    }
    // a foreign source is ignored once latched
    const other = await udpSocket();
    other.send(buf.subarray(0, n), serverPort, '127.0.0.1');
    await tick(50);
    expect(leg.rtp.counters.foreignPackets).toBe(1);
  });

  it('negotiates G.722 when offered first and delivers 16 kHz wideband audio to the sink', async () => {
    const frames: Int16Array[] = [];
    const { server, uac, started } = await start({
      sinkFactory: () => ({ onFrame: (pcm) => frames.push(Int16Array.from(pcm)), close: () => {} }),
    });
    const sdp = uac.sdp(30000).replace('RTP/AVP 0 101', 'RTP/AVP 9 0 101').replace('a=rtpmap:0', 'a=rtpmap:9 G722/8000\r\na=rtpmap:0');
    uac.sendRaw(uac.request('INVITE', { body: sdp, noToTag: true, cseq: 1 }));
    const ok = await uac.waitResponse('INVITE', 200, 1);
    expect(ok.body.toString()).toContain('a=rtpmap:9 G722/8000');
    const s = await started;
    expect(s.legs[0]).toMatchObject({ codec: 'G722', sampleRateHz: 16000 });
    // 500 ms of a 5 kHz tone: only representable at 16 kHz (above the 4 kHz narrowband limit)
    const pcm = new Int16Array(8000).map((_, i) => Math.round(6000 * Math.sin((2 * Math.PI * 5000 * i) / 16000)));
    const enc = new G722Encoder();
    const coded = new Uint8Array(4000);
    enc.encode(pcm, coded);
    const rtp = await udpSocket();
    for (let k = 0; k < 25; k++) {
      const buf = Buffer.alloc(172); // one buffer per datagram: dgram sends asynchronously
      const n = writeRtp(
        buf,
        { marker: k === 0, payloadType: 9, sequence: k, timestamp: k * 160, ssrc: 3 },
        coded.subarray(k * 160, (k + 1) * 160),
      );
      rtp.send(buf.subarray(0, n), s.legs[0]!.localRtpPort, '127.0.0.1');
      if (k % 5 === 4) await tick(5);
    }
    await tick(150);
    expect({ ...server.callQuality(s.callId)[0], n: frames.length }).toMatchObject({
      packetsReceived: 25,
      packetsLost: 0,
      framesDelivered: 25,
      n: 25,
    });
    expect(frames).toHaveLength(25);
    expect(frames[0]!.length).toBe(320);
    const all = new Int16Array(8000);
    frames.forEach((f, k) => all.set(f, k * 320));
    // Goertzel power at 5 kHz vs 1 kHz: the tone survived the wideband path
    const power = (f: number): number => {
      let re = 0;
      let im = 0;
      for (let i = 1000; i < 8000; i++) {
        re += all[i]! * Math.cos((2 * Math.PI * f * i) / 16000);
        im += all[i]! * Math.sin((2 * Math.PI * f * i) / 16000);
      }
      return re * re + im * im;
    };
    expect(power(5000)).toBeGreaterThan(100 * power(1000));
  });

  it('contains sink exceptions, ends calls on media timeout, and close() hangs up what is left', async () => {
    const closes: string[] = [];
    const { server, uac, events, started } = await start({
      rtpTimeoutMs: 300,
      qualityIntervalMs: 100,
      sinkFactory: () => ({
        onFrame: () => {
          throw new Error('ASR exploded');
        },
        close: (reason) => closes.push(reason),
      }),
    });
    const ok = await uac.call(30000);
    await started;
    const rtp = await udpSocket();
    const port = parseSdp(ok.body).media[0]!.port;
    for (let i = 0; i < 5; i++) {
      const buf = Buffer.alloc(172); // one buffer per datagram: dgram sends asynchronously
      const n = writeRtp(
        buf,
        { marker: i === 0, payloadType: 0, sequence: i, timestamp: i * 160, ssrc: 5 },
        new Uint8Array(160).fill(0x7f),
      );
      rtp.send(buf.subarray(0, n), port, '127.0.0.1');
    }
    const bye = await uac.waitRequest('BYE');
    uac.reply(bye, 200);
    await tick();
    expect(events.find((x) => x.type === 'call.ended')?.e).toMatchObject({ reason: 'media_timeout', legs: [{ packetsReceived: 5 }] });
    expect(closes).toEqual(['media_timeout']);

    // a second call still up when the server closes: BYE 'shutdown'
    const second = await new TestUac(uac.serverPort).open();
    open.push(second);
    await second.call(30002);
    await tick();
    const closing = server.close();
    const bye2 = await second.waitRequest('BYE');
    second.reply(bye2, 200);
    await closing;
    expect(events.filter((x) => x.type === 'call.ended').map((x) => (x.e as { reason: string }).reason)).toEqual([
      'media_timeout',
      'shutdown',
    ]);
    expect(server.resources()).toEqual({
      calls: 0,
      pendingInvites: 0,
      rtpPortPairs: 0,
      serverTransactions: 0,
      clientTransactions: 0,
      tcpConnections: 0,
    });
  });
});
