/**
 * The peer's `a=rtcp` (RFC 3605) says where its RTCP goes when that is not the RTP port + 1 (a
 * gateway whose RTCP port is not adjacent, or on another address). Until symmetric latching has
 * seen the peer's own RTCP, our reports must go there; before, they went to RTP port + 1. Behind a
 * NAT (RTP from elsewhere than the SDP said) a=rtcp names a private port: reports go to the latched
 * RTP source's port + 1, and once the peer's own RTCP arrives, to where it came from.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { writeRtp } from '../../../appliance/rtp/packet.js';
import { parseSdp } from '../../../appliance/sdp/sdp.js';
import { tagOf } from '../../../appliance/sip/serialize.js';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import { TestUac } from './uac.js';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

interface Listener {
  readonly port: number;
  readonly packets: Buffer[];
  send(packet: Buffer, port: number): void;
}

/** A UDP socket counting what it receives. */
async function listener(address: string, port = 0): Promise<Listener> {
  const sock = dgram.createSocket('udp4');
  const packets: Buffer[] = [];
  sock.on('message', (m) => packets.push(m));
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, address, () => resolve());
  });
  open.push({ close: () => new Promise<void>((r) => sock.close(() => r())) });
  return { port: sock.address().port, packets, send: (packet, to) => sock.send(packet, to, '127.0.0.1') };
}

/** RTP and RTP + 1 both bound here, so RTCP sent by the old rule is seen. */
async function rtpPair(): Promise<{ rtp: Listener; next: Listener }> {
  for (;;) {
    const rtp = await listener('127.0.0.1');
    const next = await listener('127.0.0.1', rtp.port + 1).catch(() => undefined);
    if (next !== undefined) return { rtp, next };
  }
}

const isRtcp = (m: Buffer): boolean => m.length >= 2 && m[1]! >= 200 && m[1]! <= 204;

async function start(): Promise<TestUac> {
  const base = 44000 + 2 * Math.floor(Math.random() * 1000);
  const server = new SipServer({ port: 0, rtpPortMin: base, rtpPortMax: base + 9, rtcpIntervalMs: 40, latching: true });
  const port = await server.listen();
  open.push(server);
  const uac = await new TestUac(port).open();
  open.push(uac);
  return uac;
}

describe("the peer's a=rtcp", () => {
  it('sends RTCP to the port a=rtcp names, not to RTP port + 1', async () => {
    const uac = await start();
    const { rtp, next } = await rtpPair();
    const rtcp = await listener('127.0.0.1');
    const cseq = uac.cseq;
    uac.sendRaw(uac.request('INVITE', { body: uac.sdp(rtp.port, [`a=rtcp:${rtcp.port}`]), noToTag: true }));
    const ok = await uac.waitResponse('INVITE', 200, cseq);
    uac.remoteTag = tagOf(ok.headers.get('to'));
    uac.sendRaw(uac.request('ACK', { cseq }));
    await new Promise((r) => setTimeout(r, 400));
    expect(rtcp.packets.filter(isRtcp).length).toBeGreaterThan(0);
    expect(next.packets.filter(isRtcp)).toHaveLength(0);
  });

  it('sends RTCP to the address and port a=rtcp names', async () => {
    const uac = await start();
    const { rtp, next } = await rtpPair();
    const rtcp = await listener('127.0.0.2');
    const cseq = uac.cseq;
    uac.sendRaw(uac.request('INVITE', { body: uac.sdp(rtp.port, [`a=rtcp:${rtcp.port} IN IP4 127.0.0.2`]), noToTag: true }));
    const ok = await uac.waitResponse('INVITE', 200, cseq);
    uac.remoteTag = tagOf(ok.headers.get('to'));
    uac.sendRaw(uac.request('ACK', { cseq }));
    await new Promise((r) => setTimeout(r, 400));
    expect(rtcp.packets.filter(isRtcp).length).toBeGreaterThan(0);
    expect(next.packets.filter(isRtcp)).toHaveLength(0);
  });

  it('follows a re-INVITE to the port its a=rtcp names', async () => {
    const uac = await start();
    const { rtp } = await rtpPair();
    const first = await listener('127.0.0.1');
    const second = await listener('127.0.0.1');
    await uac.call(rtp.port);
    let cseq = uac.cseq;
    uac.sendRaw(uac.request('INVITE', { body: uac.sdp(rtp.port, [`a=rtcp:${first.port}`]) }));
    await uac.waitResponse('INVITE', 200, cseq);
    uac.sendRaw(uac.request('ACK', { cseq }));
    await new Promise((r) => setTimeout(r, 300));
    expect(first.packets.filter(isRtcp).length).toBeGreaterThan(0);
    cseq = uac.cseq;
    uac.sendRaw(uac.request('INVITE', { body: uac.sdp(rtp.port, [`a=rtcp:${second.port}`]) }));
    await uac.waitResponse('INVITE', 200, cseq);
    uac.sendRaw(uac.request('ACK', { cseq }));
    const before = first.packets.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(second.packets.filter(isRtcp).length).toBeGreaterThan(0);
    expect(first.packets.length - before).toBeLessThanOrEqual(1); // one report may have been in flight
  });

  it("behind a NAT: once RTP comes from elsewhere than the SDP said, RTCP goes to that source's port + 1, not to a=rtcp; then to where the peer's own RTCP comes from", async () => {
    const uac = await start();
    const named = await listener('127.0.0.1'); // the a=rtcp port the peer named: behind its NAT
    const cseq = uac.cseq;
    // the SDP names a private RTP port nobody listens on, as a phone behind a NAT does
    uac.sendRaw(uac.request('INVITE', { body: uac.sdp(39998, [`a=rtcp:${named.port}`]), noToTag: true }));
    const ok = await uac.waitResponse('INVITE', 200, cseq);
    uac.remoteTag = tagOf(ok.headers.get('to'));
    uac.sendRaw(uac.request('ACK', { cseq }));
    const serverRtp = parseSdp(ok.body).media[0]!.port;
    // the NAT's mapping of the phone's RTP, with port + 1 free to see the fallback
    const { rtp, next } = await rtpPair();
    const packet = Buffer.alloc(172);
    const n = writeRtp(packet, { marker: true, payloadType: 0, sequence: 1, timestamp: 0, ssrc: 9 }, new Uint8Array(160).fill(0xff));
    rtp.send(packet.subarray(0, n), serverRtp);
    await new Promise((r) => setTimeout(r, 100));
    const toNamed = named.packets.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(next.packets.filter(isRtcp).length).toBeGreaterThan(0);
    expect(named.packets.length - toNamed).toBeLessThanOrEqual(1); // one report may have been in flight
    // the phone's own RTCP, through another NAT mapping on the same address: ours follows it
    const own = await listener('127.0.0.1');
    const rr = Buffer.from([0x80, 201, 0x00, 0x01, 0, 0, 0, 9]); // an empty receiver report, SSRC 9
    own.send(rr, serverRtp + 1);
    await new Promise((r) => setTimeout(r, 100));
    const toNext = next.packets.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(own.packets.filter(isRtcp).length).toBeGreaterThan(0);
    expect(next.packets.length - toNext).toBeLessThanOrEqual(1);
  });
});
