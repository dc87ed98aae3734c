/**
 * Two RTP sessions on loopback: media one way, RTCP SR/RR both ways (RTT from LSR/DLSR),
 * loss statistics, port allocator exhaustion and release.
 */
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { playPcm } from '../../../appliance/rtp/player.js';
import { RtpPortAllocator } from '../../../appliance/rtp/ports.js';
import { buildRtcpReport } from '../../../appliance/rtp/rtcp.js';
import { RtpSession } from '../../../appliance/rtp/session.js';

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('RTP sessions on loopback', () => {
  it('exchange media and RTCP: the receiver reports stats, the sender learns the RTT', async () => {
    const base = 52000 + 2 * Math.floor(Math.random() * 2000);
    const ports = new RtpPortAllocator('127.0.0.1', base, base + 3);
    const pa = await ports.allocate();
    const pb = await ports.allocate();
    const frames: number[] = [];
    const common = {
      codec: 'PCMA' as const,
      payloadType: 8,
      telephoneEventPt: undefined,
      frameMs: 20,
      latching: true,
      rtcpIntervalMs: 150,
      onDtmf: () => {},
    };
    const a = new RtpSession({ ...common, pair: pa, remote: { address: '127.0.0.1', port: pb.rtpPort }, cname: 'a', onFrame: () => {} });
    const b = new RtpSession({
      ...common,
      pair: pb,
      remote: { address: '127.0.0.1', port: pa.rtpPort },
      cname: 'b',
      onFrame: (pcm) => frames.push(pcm.length),
    });
    const pcm = new Int16Array(8000 * 0.6).map((_, i) => Math.round(4000 * Math.sin(i / 7)));
    const r = await playPcm(a, 'PCMA', pcm);
    await tick(400); // a few RTCP intervals
    expect(r.framesSent).toBe(30);
    expect(frames).toEqual(Array.from({ length: 30 }, () => 160));
    expect(b.quality()).toMatchObject({ packetsReceived: 30, packetsLost: 0, concealedFrames: 0 });
    expect(b.counters.rtcpSent).toBeGreaterThan(0);
    expect(a.counters.rtcpReceived).toBeGreaterThan(0);
    expect(b.counters.rtcpReceived).toBeGreaterThan(0); // a's SR
    expect(a.quality().rttMs).toBeDefined();
    expect(a.quality().rttMs!).toBeLessThan(100);
    // the range holds two pairs: a third allocation fails until one is released
    await expect(ports.allocate()).rejects.toMatchObject({ code: 'EVX_ERR_RTP_PORTS_EXHAUSTED' });
    a.close();
    b.close();
    a.close(); // idempotent
    await tick(50);
    expect(ports.allocated).toBe(0);
    const again = await ports.allocate();
    again.release();
    again.release();
    expect(ports.allocated).toBe(0);
  });

  it('once latched, takes RTCP only from the peer: a report from elsewhere neither counts nor redirects our reports', async () => {
    const base = 52000 + 2 * Math.floor(Math.random() * 2000);
    const ports = new RtpPortAllocator('127.0.0.1', base, base + 3);
    const pa = await ports.allocate();
    const pb = await ports.allocate();
    const common = {
      codec: 'PCMA' as const,
      payloadType: 8,
      telephoneEventPt: undefined,
      frameMs: 20,
      latching: true,
      rtcpIntervalMs: 60,
      onDtmf: () => {},
      onFrame: () => {},
    };
    const a = new RtpSession({ ...common, pair: pa, remote: { address: '127.0.0.1', port: pb.rtpPort }, cname: 'a' });
    const b = new RtpSession({ ...common, pair: pb, remote: { address: '127.0.0.1', port: pa.rtpPort }, cname: 'b' });
    const intruder = dgram.createSocket('udp4');
    await new Promise<void>((r) => intruder.bind(0, '127.0.0.2', () => r()));
    const toIntruder: Buffer[] = [];
    intruder.on('message', (m: Buffer) => toIntruder.push(m));
    try {
      await playPcm(a, 'PCMA', new Int16Array(8000 * 0.1)); // b latches onto a
      expect(b.isLatched).toBe(true);
      const before = b.counters.rtcpReceived;
      const report = buildRtcpReport(0x1234, 'intruder', []);
      for (let i = 0; i < 30; i++) {
        // kept up (the peer's own reports would point ours back at it), over several of b's intervals
        await new Promise<void>((r) => intruder.send(report, pb.rtpPort + 1, '127.0.0.1', () => r()));
        await tick(10);
      }
      await tick(100);
      expect(toIntruder).toEqual([]);
      expect(b.counters.foreignPackets).toBe(30);
      expect(b.counters.rtcpReceived - before).toBeGreaterThan(0); // a's reports still count
      const fromA = b.counters.rtcpReceived;
      await tick(150);
      expect(b.counters.rtcpReceived).toBeGreaterThan(fromA);
    } finally {
      a.close();
      b.close();
      intruder.close();
    }
  });
});
