/**
 * The media bridge of a B2BUA call: a caller's inbound call (TestUac) bridged to a call the box
 * placed to an agent's phone (scripted answer). Audio and RFC 4733 events cross byte for byte when
 * the codecs match, are transcoded when they differ (PCMU caller, G.722 agent), the caller's own
 * sink keeps receiving, unbridge/rebridge hand the legs back to idle media and take them again,
 * the counters and delay figures fill, and hanging up either call closes the bridge and, with the
 * other call, releases every RTP port.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeMulaw, encodeMulaw } from '../../../appliance/codecs/g711.js';
import { G722Decoder, G722Encoder } from '../../../appliance/codecs/g722.js';
import { encodeTelephoneEvent } from '../../../appliance/rtp/dtmf.js';
import { generateMasterKey, SrtpSession } from '../../../appliance/rtp/srtp.js';
import { formatCryptoAttribute, parseCryptoAttribute } from '../../../appliance/sdp/crypto.js';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import type { Call } from '../../../appliance/telephony/call.js';
import type { CallStartedEvent, TelephonyEvents } from '../../../appliance/telephony/types.js';
import type { BridgeStats } from '../../../appliance/rtp/bridge.js';
import { udpPortsHeldHere } from '../../e2e/sip/harness.js';
import { silencePayload } from '../../../appliance/rtp/idleMedia.js';
import { answerInvite, phoneRequest, phoneSdp, RtpPeer, type ReceivedRtp } from './phone.js';
import { TestUac } from './uac.js';

const RTP_PAIRS = 10;
const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

const tick = (ms = 50): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await tick(20);
  }
}

interface Setup {
  server: SipServer;
  rtpBase: number;
  caller: TestUac;
  callerRtp: RtpPeer;
  inbound: CallStartedEvent;
  phone: TestUac;
  phoneRtp: RtpPeer;
  agent: Call;
  /** The phone's `a=crypto` value when its leg is SRTP. */
  phoneCrypto: string | undefined;
  /** Frames the caller leg's own sink received. */
  callerFrames: number[];
  dtmf: Array<TelephonyEvents['dtmf']>;
  ended: Array<TelephonyEvents['call.ended']>;
}

/** A caller calls in (PCMU); the box calls the agent's phone, which answers with `agentCodec`. */
async function setup(agentCodec: 'PCMU' | 'G722', opts: { srtpAgent?: boolean } = {}): Promise<Setup> {
  const rtpBase = 30000 + 2 * Math.floor(Math.random() * 5000);
  const callerFrames: number[] = [];
  const server = new SipServer({
    port: 0,
    rtpPortMin: rtpBase,
    rtpPortMax: rtpBase + 2 * RTP_PAIRS - 1,
    sinkFactory: () => ({ onFrame: (pcm) => callerFrames.push(pcm.length), close: () => undefined }),
  });
  const dtmf: Setup['dtmf'] = [];
  const ended: Setup['ended'] = [];
  server.events.on('dtmf', (e) => dtmf.push(e));
  server.events.on('call.ended', (e) => ended.push(e));
  const started = new Promise<CallStartedEvent>((r) => server.events.on('call.started', r));
  await server.listen();
  open.push(server);

  const callerRtp = await RtpPeer.open();
  open.push(callerRtp);
  const caller = await new TestUac(server.port).open();
  open.push(caller);
  await caller.call(callerRtp.port);
  const inbound = await started;

  const phone = await new TestUac(server.port).open();
  open.push(phone);
  const oc = server.placeCall({ target: { uri: `sip:agent7@127.0.0.1:${phone.port}` }, ringTimeoutMs: 5000, codecs: ['PCMU', 'G722'] });
  let phoneRtp: RtpPeer;
  let phoneCrypto: string | undefined;
  if (opts.srtpAgent === true) {
    // the phone takes our first SDES line and answers with its own key
    const invite = await phone.waitRequest('INVITE');
    const ours = parseCryptoAttribute(/a=crypto:(.*)/.exec(invite.body.toString())![1]!)!;
    const mine = generateMasterKey('AES_CM_128_HMAC_SHA1_80');
    phoneRtp = await RtpPeer.open({
      send: new SrtpSession('AES_CM_128_HMAC_SHA1_80', mine.key, mine.salt),
      receive: new SrtpSession('AES_CM_128_HMAC_SHA1_80', ours.keyParams[0]!.key, ours.keyParams[0]!.salt),
    });
    phoneCrypto = formatCryptoAttribute(ours.tag, 'AES_CM_128_HMAC_SHA1_80', mine.key, mine.salt);
    await answerInvite(phone, phoneSdp(phoneRtp.port, agentCodec, phoneCrypto)); // takes the INVITE already received
  } else {
    phoneRtp = await RtpPeer.open();
    await answerInvite(phone, phoneSdp(phoneRtp.port, agentCodec));
  }
  open.push(phoneRtp);
  const outcome = await oc.result;
  if (outcome.type !== 'answered') throw new Error(`agent call not answered: ${outcome.reason}`);
  return { server, rtpBase, caller, callerRtp, inbound, phone, phoneRtp, phoneCrypto, agent: outcome.call, callerFrames, dtmf, ended };
}

/** Distinct, non-silent 20 ms PCMU payloads. */
function patterned(n: number, seed: number): Buffer[] {
  return Array.from({ length: n }, (_, k) => Buffer.from(Array.from({ length: 160 }, (_, i) => (seed + k * 31 + i * 7) % 0xfe)));
}

function tone(freqHz: number, rateHz: number, samples: number, phase0 = 0): Int16Array {
  return Int16Array.from({ length: samples }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * freqHz * (phase0 + i)) / rateHz)));
}

function frequencyHz(pcm: Int16Array, rateHz: number): number {
  let crossings = 0;
  for (let i = 1; i < pcm.length; i++) if (pcm[i - 1]! < 0 !== pcm[i]! < 0) crossings++;
  return (crossings / 2) * (rateHz / pcm.length);
}

function rms(pcm: Int16Array): number {
  let e = 0;
  for (const s of pcm) e += s * s;
  return Math.sqrt(e / Math.max(1, pcm.length));
}

const payloadsOf = (pkts: readonly ReceivedRtp[]): string[] => pkts.map((p) => p.payload.toString('hex'));

/** No socket of this process is bound to any RTP port of the range: no call left one open. */
function rtpRangeFree(s: Setup): boolean {
  return udpPortsHeldHere(s.rtpBase, s.rtpBase + 2 * RTP_PAIRS - 1).length === 0;
}

function report(name: string, st: BridgeStats): void {
  // the figures quoted in the change's report
  console.log(`[bridge delay] ${name}: ${JSON.stringify({ forwarded: st.packetsForwarded, dropped: st.packetsDropped, ...st.delay })}`);
}

describe('MediaBridge between an inbound caller and a placed agent call', () => {
  it('relays audio and DTMF byte for byte both ways (same codec), keeps the sink fed, unbridges, rebridges and closes with a call', async () => {
    const s = await setup('PCMU');
    const callerLeg = s.inbound.legs[0]!.localRtpPort;
    const agentLeg = s.agent.legs[0]!;
    const bridge = s.server.bridge(s.inbound.callId, s.agent.id);
    expect(bridge.state).toBe('bridged');
    expect(bridge.transcoding).toBe(false);
    const closed: string[] = [];
    bridge.events.on('closed', (e) => closed.push(e.reason));

    // caller -> agent: the same payloads, in order, on the agent leg's own stream (SSRC, sequence)
    const toAgent = patterned(40, 1);
    const framesBefore = s.callerFrames.length;
    await s.callerRtp.stream(callerLeg, 0, toAgent);
    await until(() => payloadsOf(s.phoneRtp.received).includes(toAgent.at(-1)!.toString('hex')));
    const relayed = s.phoneRtp.received.filter((p) => toAgent.some((x) => x.equals(p.payload)));
    expect(payloadsOf(relayed)).toEqual(toAgent.map((x) => x.toString('hex')));
    expect(new Set(relayed.map((p) => p.ssrc))).toEqual(new Set([agentLeg.rtp.ssrc]));
    expect(relayed.every((p) => p.payloadType === 0)).toBe(true);
    // one sequence space: no gap from the first relayed packet to the last. The leg's idle fill may
    // come in between when the test's own sending stalls for three frames (a loaded machine), and
    // takes its numbers from the same space, so continuity is checked over everything the leg sent.
    const own = s.phoneRtp.received.filter((p) => p.ssrc === agentLeg.rtp.ssrc);
    const span = own.slice(own.indexOf(relayed[0]!), own.indexOf(relayed.at(-1)!) + 1);
    expect(span.length).toBeGreaterThanOrEqual(relayed.length);
    for (let i = 1; i < span.length; i++) expect(span[i]!.sequence).toBe((span[i - 1]!.sequence + 1) & 0xffff);
    // the caller leg's own sink (the transcriber) still got every frame
    await until(() => s.callerFrames.length - framesBefore >= 40);

    // agent -> caller
    const toCaller = patterned(40, 77);
    await s.phoneRtp.stream(agentLeg.info.localRtpPort, 0, toCaller);
    await until(() => payloadsOf(s.callerRtp.received).includes(toCaller.at(-1)!.toString('hex')));
    expect(payloadsOf(s.callerRtp.received.filter((p) => toCaller.some((x) => x.equals(p.payload))))).toEqual(
      toCaller.map((x) => x.toString('hex')),
    );

    // DTMF '5' from the caller: one event (start, update, three ends) under the agent's event type, one timestamp
    const ev = [
      encodeTelephoneEvent(5, false, 10, 160),
      encodeTelephoneEvent(5, false, 10, 480),
      ...[0, 1, 2].map(() => encodeTelephoneEvent(5, true, 10, 800)),
    ];
    ev.forEach((p, i) => s.callerRtp.send(callerLeg, 101, p, { marker: i === 0, timestampStep: 0 }));
    await until(() => s.phoneRtp.received.filter((p) => p.payloadType === 101).length === 5);
    const events = s.phoneRtp.received.filter((p) => p.payloadType === 101);
    expect(events.map((p) => p.payload.toString('hex'))).toEqual(ev.map((p) => Buffer.from(p).toString('hex')));
    expect(new Set(events.map((p) => p.timestamp)).size).toBe(1);
    await until(() => s.dtmf.length === 1); // still reported on the caller leg
    expect(s.dtmf[0]).toMatchObject({ callId: s.inbound.callId, digit: '5' });

    const st = bridge.stats();
    report('same codec (PCMU <-> PCMU)', st);
    expect(st.aToB).toEqual({ forwarded: 45, transcoded: 0, events: 5, dropped: 0 });
    expect(st.bToA).toEqual({ forwarded: 40, transcoded: 0, events: 0, dropped: 0 });
    expect(st.packetsForwarded).toBe(85);
    expect(st.delay.samples).toBe(85);
    expect(st.delay.p50Ms).toBeGreaterThan(0);
    expect(st.delay.p95Ms).toBeGreaterThanOrEqual(st.delay.p50Ms);
    expect(st.delay.maxMs).toBeGreaterThanOrEqual(st.delay.p95Ms);
    expect(st.delay.p50Ms).toBeLessThan(5); // relayed from the socket handler: no buffering on the way

    // unbridged: nothing crosses; the agent gets idle silence from its own leg again
    bridge.unbridge();
    expect(bridge.state).toBe('unbridged');
    const quiet = patterned(10, 150);
    const mark = s.phoneRtp.received.length;
    await s.callerRtp.stream(callerLeg, 0, quiet);
    await tick(100);
    const during = s.phoneRtp.received.slice(mark);
    expect(during.filter((p) => quiet.some((x) => x.equals(p.payload)))).toEqual([]);
    expect(during.filter((p) => p.payload.every((b) => b === 0xff)).length).toBeGreaterThan(3); // mu-law silence
    expect(bridge.stats().aToB.forwarded).toBe(45);

    // bridged again
    bridge.bridge();
    const again = patterned(5, 200);
    await s.callerRtp.stream(callerLeg, 0, again);
    await until(() => payloadsOf(s.phoneRtp.received).includes(again.at(-1)!.toString('hex')));
    expect(bridge.stats().aToB.forwarded).toBe(50);

    // the agent's call ends (we hang up): the bridge closes once, the caller gets idle media again
    await Promise.all([s.server.hangup(s.agent.id), s.phone.waitRequest('BYE').then((bye) => s.phone.reply(bye, 200))]);
    expect(bridge.state).toBe('closed');
    expect(closed).toEqual(['leg_closed']);
    bridge.close();
    bridge.unbridge();
    expect(closed).toEqual(['leg_closed']);
    expect(() => bridge.bridge()).toThrow(expect.objectContaining({ code: 'EVX_ERR_SIP_CLOSED' }));
    const callerMark = s.callerRtp.received.length;
    await tick(150);
    expect(s.callerRtp.received.slice(callerMark).filter((p) => p.payload.every((b) => b === 0xff)).length).toBeGreaterThan(3);

    // the caller hangs up too: every socket is gone
    s.caller.sendRaw(s.caller.request('BYE'));
    await s.caller.waitResponse('BYE', 200);
    await tick();
    expect(s.ended.map((e) => [e.direction, e.reason])).toEqual([
      ['outbound', 'local_hangup'],
      ['inbound', 'remote_bye'],
    ]);
    expect(s.server.resources()).toMatchObject({ calls: 0, pendingInvites: 0, rtpPortPairs: 0 });
    expect(rtpRangeFree(s)).toBe(true);
  });

  it('transcodes a PCMU caller to a G.722 agent and back, and closes when the caller hangs up', async () => {
    const s = await setup('G722');
    expect(s.agent.legs[0]!.info.codec).toBe('G722');
    const callerLeg = s.inbound.legs[0]!.localRtpPort;
    const bridge = s.server.bridge(s.inbound.callId, s.agent.id);
    expect(bridge.transcoding).toBe(true);

    // caller: 1 s of 1 kHz as PCMU -> agent: G.722 (PT 9, 160 bytes per 20 ms) carrying 1 kHz
    const pcm8 = tone(1000, 8000, 8000);
    const ulaw = Array.from({ length: 50 }, (_, k) => {
      const out = Buffer.alloc(160);
      encodeMulaw(pcm8.subarray(k * 160, (k + 1) * 160), out);
      return out;
    });
    const mark = s.phoneRtp.received.length;
    await s.callerRtp.stream(callerLeg, 0, ulaw);
    await until(() => bridge.stats().aToB.transcoded === 50);
    await tick(60);
    // the relayed packets (idle frames before them are G.722 silence)
    const g722Silence = Buffer.from(silencePayload('G722', 20));
    const relayed = s.phoneRtp.received.slice(mark).filter((p) => !p.payload.equals(g722Silence));
    expect(relayed).toHaveLength(50);
    expect(relayed.every((p) => p.payloadType === 9 && p.payload.length === 160)).toBe(true);
    const heard = decodeG722(relayed);
    expect(frequencyHz(heard.subarray(3200, 16000), 16000)).toBeGreaterThan(950);
    expect(frequencyHz(heard.subarray(3200, 16000), 16000)).toBeLessThan(1050);
    expect(rms(heard.subarray(3200, 16000))).toBeGreaterThan(3000);

    // agent: 1 s of 700 Hz as G.722 -> caller: PCMU carrying 700 Hz
    const enc = new G722Encoder();
    const pcm16 = tone(700, 16000, 16000);
    const g = Array.from({ length: 50 }, (_, k) => {
      const out = Buffer.alloc(160);
      enc.encode(pcm16.subarray(k * 320, (k + 1) * 320), out);
      return out;
    });
    const cmark = s.callerRtp.received.length;
    await s.phoneRtp.stream(s.agent.legs[0]!.info.localRtpPort, 9, g);
    await until(() => bridge.stats().bToA.transcoded === 50);
    await tick(60);
    const back = s.callerRtp.received.slice(cmark).filter((p) => p.payloadType === 0 && !p.payload.every((b) => b === 0xff));
    expect(back.length).toBeGreaterThanOrEqual(48);
    const heardBack = new Int16Array(back.length * 160);
    back.forEach((p, i) => decodeMulaw(p.payload, heardBack.subarray(i * 160)));
    expect(frequencyHz(heardBack.subarray(1600), 8000)).toBeGreaterThan(670);
    expect(frequencyHz(heardBack.subarray(1600), 8000)).toBeLessThan(730);

    const st = bridge.stats();
    report('transcoding (PCMU <-> G.722)', st);
    expect(st.aToB).toMatchObject({ forwarded: 50, transcoded: 50, dropped: 0 });
    expect(st.bToA).toMatchObject({ forwarded: 50, transcoded: 50, dropped: 0 });
    expect(st.delay.p50Ms).toBeGreaterThan(0);
    expect(st.delay.p50Ms).toBeLessThan(5);

    // the caller hangs up: the bridge closes, the agent call stays until we end it
    s.caller.sendRaw(s.caller.request('BYE'));
    await s.caller.waitResponse('BYE', 200);
    expect(bridge.state).toBe('closed');
    expect(s.server.activeCalls).toBe(1);
    await Promise.all([s.server.hangup(s.agent.id), s.phone.waitRequest('BYE').then((bye) => s.phone.reply(bye, 200))]);
    await tick();
    expect(s.server.resources()).toMatchObject({ calls: 0, pendingInvites: 0, rtpPortPairs: 0 });
    expect(rtpRangeFree(s)).toBe(true);
  });

  it('relays into an SRTP agent leg (our SDES offer, the phone answers with its key) and drops while the agent holds', async () => {
    const s = await setup('PCMU', { srtpAgent: true });
    expect(s.agent.legs[0]!.rtp.encrypted).toBe(true);
    const callerLeg = s.inbound.legs[0]!.localRtpPort;
    const bridge = s.server.bridge(s.inbound.callId, s.agent.id);
    const toAgent = patterned(20, 9);
    await s.callerRtp.stream(callerLeg, 0, toAgent);
    // the phone decrypts with the key of our offer: the caller's bytes, unchanged
    await until(() => payloadsOf(s.phoneRtp.received).includes(toAgent.at(-1)!.toString('hex')));
    expect(payloadsOf(s.phoneRtp.received.filter((p) => toAgent.some((x) => x.equals(p.payload))))).toEqual(
      toAgent.map((x) => x.toString('hex')),
    );
    report('SRTP agent leg (PCMU -> PCMU, AES_CM_128_HMAC_SHA1_80)', bridge.stats());

    // the agent holds (re-INVITE sendonly, same key): nothing may go to it; relayed packets count as dropped
    const ack = await s.phone.waitRequest('ACK');
    const held = new Promise<void>((r) => s.server.events.on('call.held', () => r()));
    s.phone.sendRaw(phoneRequest(s.phone, ack, 'INVITE', 10, phoneSdp(s.phoneRtp.port, 'PCMU', s.phoneCrypto, 'sendonly')));
    await held;
    const ok = await s.phone.waitResponse('INVITE', 200, 10);
    expect(ok.body.toString()).toContain('a=recvonly');
    s.phone.sendRaw(phoneRequest(s.phone, ack, 'ACK', 10));
    const mark = s.phoneRtp.received.length;
    await s.callerRtp.stream(callerLeg, 0, patterned(10, 99));
    await tick(100);
    expect(s.phoneRtp.received.length).toBe(mark);
    expect(bridge.stats().aToB).toMatchObject({ forwarded: 20, dropped: 10 });
    expect(bridge.state).toBe('bridged');

    // the agent hangs up (its BYE): the bridge closes with its call
    s.phone.sendRaw(phoneRequest(s.phone, ack, 'BYE', 11));
    await s.phone.waitResponse('BYE', 200, 11);
    expect(bridge.state).toBe('closed');
    expect(s.ended.map((e) => [e.direction, e.reason])).toEqual([['outbound', 'remote_bye']]);
  });
});

function decodeG722(pkts: readonly ReceivedRtp[]): Int16Array {
  const dec = new G722Decoder();
  const out = new Int16Array(pkts.length * 320);
  pkts.forEach((p, i) => dec.decode(p.payload, out.subarray(i * 320)));
  return out;
}
