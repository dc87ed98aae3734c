/**
 * SRTP on SIP legs, negotiated with SDES: RTP/SAVP and best-effort RTP/AVP + a=crypto are answered
 * encrypted, the policy refuses with a 488 whose Warning says why, media both ways is SRTP (our
 * packets open only with the key we answered; the peer's only with its own), forged and replayed
 * packets are dropped and counted, and a re-INVITE with a new key takes effect.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRtp, writeRtp } from '../../../appliance/rtp/packet.js';
import { generateMasterKey, SrtpSession, type SrtpSuite } from '../../../appliance/rtp/srtp.js';
import { formatCryptoAttribute, parseCryptoAttribute } from '../../../appliance/sdp/crypto.js';
import type { SrtpPolicy } from '../../../appliance/sdp/offer-answer.js';
import { parseSdp } from '../../../appliance/sdp/sdp.js';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import type { CallStartedEvent, SipServerOptions } from '../../../appliance/telephony/types.js';
import { SRTP_SUITE_PREFERENCE } from '../../../appliance/sdp/offer-answer.js';
import { TestUac } from './uac.js';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

const tick = (ms = 50): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Ctx {
  server: SipServer;
  uac: TestUac;
  rtp: dgram.Socket;
  received: Buffer[];
  frames: Int16Array[];
  started: Promise<CallStartedEvent>;
}

async function start(policy: SrtpPolicy = 'optional', opts: SipServerOptions = {}): Promise<Ctx> {
  const base = 34000 + 2 * Math.floor(Math.random() * 2000);
  const frames: Int16Array[] = [];
  const server = new SipServer({
    port: 0,
    rtpPortMin: base,
    rtpPortMax: base + 19,
    mediaSecurity: () => ({ policy, suites: SRTP_SUITE_PREFERENCE }),
    sinkFactory: () => ({ onFrame: (pcm) => frames.push(Int16Array.from(pcm)), close: () => {} }),
    ...opts,
  });
  const started = new Promise<CallStartedEvent>((r) => server.events.on('call.started', r));
  await server.listen();
  open.push(server);
  const uac = await new TestUac(server.port).open();
  open.push(uac);
  const rtp = dgram.createSocket('udp4');
  await new Promise<void>((r) => rtp.bind(0, '127.0.0.1', () => r()));
  open.push({ close: () => rtp.close() });
  const received: Buffer[] = [];
  rtp.on('message', (m: Buffer) => received.push(m));
  return { server, uac, rtp, received, frames, started };
}

function offer(uac: TestUac, port: number, proto: string, crypto: string[]): string {
  return uac
    .sdp(
      port,
      crypto.map((c) => `a=crypto:${c}`),
    )
    .replace('RTP/AVP 0 101', `${proto} 0 101`);
}

/** Send INVITE with `body`; returns the final response. */
async function invite(uac: TestUac, body: string): Promise<{ status: number; body: string; warning: string | undefined }> {
  const cseq = uac.cseq;
  uac.sendRaw(uac.request('INVITE', { body, noToTag: true }));
  const res = await uac.waitFor((m) => m.kind === 'response' && m.status >= 200 && (m.headers.get('cseq') ?? '') === `${cseq} INVITE`);
  if (res.kind !== 'response') throw new Error('not a response');
  if (res.status === 200) {
    uac.remoteTag = res.headers.get('to')!.match(/tag=([^;]+)/)![1];
  }
  uac.sendRaw(uac.request('ACK', { cseq }));
  return { status: res.status, body: res.body.toString(), warning: res.headers.get('warning') };
}

function answeredCrypto(body: string): { suite: SrtpSuite; key: Buffer; salt: Buffer; proto: string } {
  const sdp = parseSdp(Buffer.from(body));
  const m = sdp.media[0]!;
  const line = m.attributes.find((a) => a.name === 'crypto')!.value!;
  const c = parseCryptoAttribute(line)!;
  return { suite: c.suite as SrtpSuite, key: c.keyParams[0]!.key, salt: c.keyParams[0]!.salt, proto: m.proto };
}

/** RTP (not RTCP) packets arriving on `sock` from now on. */
function received(sock: dgram.Socket): Buffer[] {
  const out: Buffer[] = [];
  sock.on('message', (m: Buffer) => {
    if (m[1]! < 192 || m[1]! > 223) out.push(m);
  });
  return out;
}

const speech = new Uint8Array(160).map((_, i) => (i * 37) & 0x7f); // loud, non-silent mu-law

function srtpPacket(s: SrtpSession, seq: number): Buffer {
  const buf = Buffer.alloc(172);
  const n = writeRtp(buf, { marker: seq === 1, payloadType: 0, sequence: seq, timestamp: seq * 160, ssrc: 0x5eed }, speech);
  return s.protectRtp(buf.subarray(0, n));
}

describe('SRTP (SDES) on SIP legs', () => {
  it.each<[string, SrtpSuite]>([
    ['RTP/SAVP', 'AES_CM_128_HMAC_SHA1_80'],
    ['RTP/SAVP', 'AEAD_AES_128_GCM'],
    ['RTP/AVP', 'AES_CM_128_HMAC_SHA1_32'],
  ])('answers %s with %s encrypted, and media flows encrypted both ways', async (proto, suite) => {
    const { server, uac, rtp, received, frames, started } = await start();
    const ours = generateMasterKey(suite);
    const res = await invite(uac, offer(uac, rtp.address().port, proto, [formatCryptoAttribute(1, suite, ours.key, ours.salt)]));
    expect(res.status).toBe(200);
    const theirs = answeredCrypto(res.body);
    expect(theirs.proto).toBe(proto);
    expect(theirs.suite).toBe(suite);
    expect(theirs.key.equals(ours.key)).toBe(false); // the box sends with its own key
    const s = await started;
    const send = new SrtpSession(suite, ours.key, ours.salt);
    const boxPort = parseSdp(Buffer.from(res.body)).media[0]!.port;
    for (let seq = 1; seq <= 20; seq++) {
      rtp.send(srtpPacket(send, seq), boxPort, '127.0.0.1');
      await tick(20);
    }
    await tick(200);
    // our speech reached the sink, decrypted
    expect(frames.some((f) => f.some((x) => Math.abs(x) > 1000))).toBe(true);
    // what the box sent (silence while it listens) opens with the answered key, and is not plain RTP
    expect(received.length).toBeGreaterThan(5);
    const open = new SrtpSession(suite, theirs.key, theirs.salt);
    for (const pkt of received.filter((p) => p[1]! < 192 || p[1]! > 223)) {
      const clear = open.unprotectRtp(pkt);
      expect(typeof clear).not.toBe('string');
      const p = parseRtp(clear as Buffer);
      if (typeof p === 'string') throw new Error(p);
      expect(p.payload.every((b) => b === 0xff)).toBe(true);
      expect(pkt.subarray(12, 12 + 160).every((b) => b === 0xff)).toBe(false);
    }
    expect(server.callQuality(s.callId)[0]!.packetsReceived).toBe(20);
  });

  it('drops forged and replayed packets and counts them', async () => {
    const { server, uac, rtp, started } = await start();
    const ours = generateMasterKey('AES_CM_128_HMAC_SHA1_80');
    const res = await invite(
      uac,
      offer(uac, rtp.address().port, 'RTP/SAVP', [formatCryptoAttribute(1, 'AES_CM_128_HMAC_SHA1_80', ours.key, ours.salt)]),
    );
    const s = await started;
    const boxPort = parseSdp(Buffer.from(res.body)).media[0]!.port;
    const send = new SrtpSession('AES_CM_128_HMAC_SHA1_80', ours.key, ours.salt);
    const good = srtpPacket(send, 1);
    rtp.send(good, boxPort, '127.0.0.1');
    await tick(50);
    rtp.send(good, boxPort, '127.0.0.1'); // replayed
    const forged = Buffer.from(srtpPacket(send, 2));
    forged[20]! ^= 0x01;
    rtp.send(forged, boxPort, '127.0.0.1');
    const wrongKey = new SrtpSession('AES_CM_128_HMAC_SHA1_80', generateMasterKey('AES_CM_128_HMAC_SHA1_80').key, ours.salt);
    rtp.send(srtpPacket(wrongKey, 3), boxPort, '127.0.0.1');
    await tick(100);
    const c = server.leg(s.callId, 'leg0').rtp.counters;
    expect(c.rtpPacketsReceived).toBe(1);
    expect(c.srtpReplays).toBe(1);
    expect(c.srtpAuthFailures).toBe(2);
  });

  it.each<[SrtpPolicy, string, string[], RegExp]>([
    ['off', 'RTP/SAVP', ['1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz'], /SRTP is disabled/],
    ['required', 'RTP/AVP', [], /SRTP required/],
    ['optional', 'RTP/SAVP', ['1 F8_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz'], /no supported crypto suite/],
    ['optional', 'RTP/SAVP', ['1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4'], /MKI not supported/],
    ['optional', 'RTP/SAVP', [], /without a=crypto/],
  ])('policy %s, %s %j: 488 with a Warning saying why', async (policy, proto, crypto, why) => {
    const { server, uac } = await start(policy);
    const res = await invite(uac, offer(uac, 30000, proto, crypto));
    expect(res.status).toBe(488);
    expect(res.warning).toMatch(/^399 127\.0\.0\.1:\d+ "/);
    expect(res.warning).toMatch(why);
    expect(server.counters.rejectedSrtp).toBe(1);
    expect(server.resources().rtpPortPairs).toBe(0);
  });

  it('answers best-effort crypto with plain RTP when SRTP is off, and plain offers plainly when optional', async () => {
    const off = await start('off');
    const k = generateMasterKey('AES_CM_128_HMAC_SHA1_80');
    const r1 = await invite(
      off.uac,
      offer(off.uac, 30000, 'RTP/AVP', [formatCryptoAttribute(1, 'AES_CM_128_HMAC_SHA1_80', k.key, k.salt)]),
    );
    expect(r1.status).toBe(200);
    expect(r1.body).not.toContain('a=crypto');
    const opt = await start('optional');
    const r2 = await invite(opt.uac, opt.uac.sdp(30000));
    expect(r2.status).toBe(200);
    expect(r2.body).not.toContain('a=crypto');
  });

  it('takes a new key from a re-INVITE: packets under the new key are read, the old key no longer opens anything', async () => {
    const { server, uac, rtp, started } = await start();
    const first = generateMasterKey('AES_CM_128_HMAC_SHA1_80');
    const res = await invite(
      uac,
      offer(uac, rtp.address().port, 'RTP/SAVP', [formatCryptoAttribute(1, 'AES_CM_128_HMAC_SHA1_80', first.key, first.salt)]),
    );
    const boxKey = answeredCrypto(res.body);
    const s = await started;
    const boxPort = parseSdp(Buffer.from(res.body)).media[0]!.port;
    const oldSend = new SrtpSession('AES_CM_128_HMAC_SHA1_80', first.key, first.salt);
    rtp.send(srtpPacket(oldSend, 1), boxPort, '127.0.0.1');
    await tick(50);
    const second = generateMasterKey('AES_CM_128_HMAC_SHA1_80');
    const cseq = uac.cseq;
    uac.sendRaw(
      uac.request('INVITE', {
        body: offer(uac, rtp.address().port, 'RTP/SAVP', [formatCryptoAttribute(1, 'AES_CM_128_HMAC_SHA1_80', second.key, second.salt)]),
      }),
    );
    const re = await uac.waitResponse('INVITE', 200, cseq);
    uac.sendRaw(uac.request('ACK', { cseq }));
    // our own key stays (we did not change suite): the peer keeps decrypting us without a gap
    expect(answeredCrypto(re.body.toString()).key.equals(boxKey.key)).toBe(true);
    const newSend = new SrtpSession('AES_CM_128_HMAC_SHA1_80', second.key, second.salt);
    rtp.send(srtpPacket(newSend, 2), boxPort, '127.0.0.1');
    rtp.send(srtpPacket(oldSend, 3), boxPort, '127.0.0.1');
    await tick(100);
    const c = server.leg(s.callId, 'leg0').rtp.counters;
    expect(c.rtpPacketsReceived).toBe(2);
    expect(c.srtpAuthFailures).toBe(1);
  });

  it('makes its own SDES offer in a late offer (RTP/SAVP when required) and encrypts with the line the answer picked', async () => {
    const { server, uac, rtp, started } = await start('required');
    const cseq = uac.cseq;
    uac.sendRaw(uac.request('INVITE', { noToTag: true }));
    const ok = await uac.waitResponse('INVITE', 200, cseq);
    const offerSdp = parseSdp(ok.body);
    expect(offerSdp.media[0]!.proto).toBe('RTP/SAVP');
    const lines = offerSdp.media[0]!.attributes.filter((a) => a.name === 'crypto').map((a) => parseCryptoAttribute(a.value!)!);
    expect(lines.map((l) => `${l.tag} ${l.suite}`)).toEqual(['1 AES_CM_128_HMAC_SHA1_80', '2 AES_CM_128_HMAC_SHA1_32']);
    uac.remoteTag = ok.headers.get('to')!.match(/tag=([^;]+)/)![1];
    // answer with tag 2 and our own key
    const ours = generateMasterKey('AES_CM_128_HMAC_SHA1_32');
    uac.sendRaw(
      uac.request('ACK', {
        cseq,
        body: offer(uac, rtp.address().port, 'RTP/SAVP', [formatCryptoAttribute(2, 'AES_CM_128_HMAC_SHA1_32', ours.key, ours.salt)]),
      }),
    );
    const s = await started;
    await tick(200);
    const leg = server.leg(s.callId, 'leg0');
    expect(leg.rtp.encrypted).toBe(true);
    const boxKey = lines[1]!.keyParams[0]!;
    const open = new SrtpSession('AES_CM_128_HMAC_SHA1_32', boxKey.key, boxKey.salt);
    const rtpOnly = received(rtp);
    await tick(200);
    expect(rtpOnly.length).toBeGreaterThan(3);
    for (const pkt of rtpOnly) expect(typeof open.unprotectRtp(pkt)).not.toBe('string');
  });
});
