import { describe, expect, it } from 'vitest';
import { encodeMulaw } from '../../../appliance/codecs/g711.js';
import { DtmfDecoder, encodeTelephoneEvent, type DtmfEvent } from '../../../appliance/rtp/dtmf.js';
import { JitterBuffer } from '../../../appliance/rtp/jitter-buffer.js';
import { delayImpairment, effectiveIe, estimateMos, mosFromR, rFactor, CODEC_IMPAIRMENT } from '../../../appliance/rtp/mos.js';
import { parseRtp, seqDelta, writeRtp } from '../../../appliance/rtp/packet.js';
import { RtpReceiver } from '../../../appliance/rtp/receiver.js';
import { buildRtcpBye, buildRtcpReport, parseRtcp, ReceiverStats, rttFromReport, ntpFromMs } from '../../../appliance/rtp/rtcp.js';

describe('RTP packets', () => {
  it('round-trips the fixed header and handles CSRC, extension and padding', () => {
    const out = new Uint8Array(200);
    const n = writeRtp(
      out,
      { marker: true, payloadType: 8, sequence: 65535, timestamp: 0xfffffff0, ssrc: 0xdeadbeef },
      Uint8Array.of(1, 2, 3),
    );
    const p = parseRtp(out.subarray(0, n));
    expect(p).toMatchObject({ marker: true, payloadType: 8, sequence: 65535, timestamp: 0xfffffff0, ssrc: 0xdeadbeef });
    if (typeof p === 'string') throw new Error(p);
    expect(Array.from(p.payload)).toEqual([1, 2, 3]);
    // CC=1, X=1 (one extension word), P=1 (2 bytes padding)
    const b = Uint8Array.of(0xb1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 9, 9, 9, 9, 0xbe, 0xde, 0, 1, 7, 7, 7, 7, 0x55, 0x66, 0, 2);
    const q = parseRtp(b);
    if (typeof q === 'string') throw new Error(q);
    expect(Array.from(q.payload)).toEqual([0x55, 0x66]);
    expect(q.csrcCount).toBe(1);
  });

  it.each([
    ['short', new Uint8Array(5)],
    ['version', Uint8Array.of(0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)],
    ['csrc', Uint8Array.of(0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)],
    ['extension', Uint8Array.of(0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9)],
    ['padding', Uint8Array.of(0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 50)],
    ['rtcp', Uint8Array.of(0x80, 200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)],
  ])('rejects %s', (reason, buf) => {
    expect(parseRtp(buf)).toBe(reason);
  });

  it('computes 16-bit sequence distance across wrap', () => {
    expect(seqDelta(2, 65534)).toBe(4);
    expect(seqDelta(65534, 2)).toBe(-4);
  });
});

describe('jitter buffer', () => {
  function run(seqs: number[], opts: { tickAtEnd?: boolean } = {}) {
    const out: Array<number | 'lost'> = [];
    const jb = new JitterBuffer({ frameMs: 20, minDepthFrames: 2, maxDepthFrames: 6, capacityFrames: 32 }, (p) =>
      out.push(p === null ? 'lost' : p[0]!),
    );
    let t = 0;
    for (const s of seqs) jb.push(s & 0xffff, Uint8Array.of(s & 0xff), (t += 20));
    if (opts.tickAtEnd === true) jb.drain();
    return { out, jb };
  }

  it('releases in-order packets immediately (no added latency)', () => {
    const { out, jb } = run([10, 11, 12]);
    expect(out).toEqual([10, 11, 12]);
    expect(jb.heldFrames).toBe(0);
  });

  it('reorders within its depth', () => {
    const { out, jb } = run([1, 3, 2, 4, 6, 5, 7]);
    expect(out).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(jb.stats.lost).toBe(0);
  });

  it('declares a gap lost after `depth` later packets and conceals it (null frame)', () => {
    const { out, jb } = run([1, 2, 4, 5, 6, 7]);
    expect(out).toEqual([1, 2, 'lost', 4, 5, 6, 7]);
    expect(jb.stats.lost).toBe(1);
  });

  it('declares a gap lost after depth*frameMs when packets stop', () => {
    const out: Array<number | 'lost'> = [];
    const jb = new JitterBuffer({ frameMs: 20, minDepthFrames: 3 }, (p) => out.push(p === null ? 'lost' : p[0]!));
    jb.push(1, Uint8Array.of(1), 0);
    jb.push(3, Uint8Array.of(3), 20);
    jb.tick(40);
    expect(out).toEqual([1]);
    jb.tick(80);
    expect(out).toEqual([1, 'lost', 3]);
  });

  it('counts late and duplicate packets, adapts depth to reordering, wraps sequence numbers', () => {
    const { out, jb } = run([65533, 65534, 1, 2, 3, 65535, 0, 4]);
    // 65535 and 0 arrive 3-4 packets late: first declared lost, then seen late -> depth grows
    expect(out.slice(0, 2)).toEqual([65533 & 0xff, 65534 & 0xff]);
    expect(jb.stats.depthFrames).toBeGreaterThan(2);
    const d = run([5, 6, 6, 7]);
    expect(d.jb.stats.duplicate).toBe(1);
    expect(d.out).toEqual([5, 6, 7]);
  });

  it('resyncs on a jump beyond its capacity and never holds more than capacity frames', () => {
    const { out, jb } = run([1, 2, 1000, 1001]);
    expect(out).toEqual([1, 2, 1000 & 0xff, 1001 & 0xff]);
    expect(jb.stats.resyncs).toBe(1);
    const j = run(Array.from({ length: 200 }, (_, i) => (i === 0 ? 0 : i + 1))); // seq 1 never comes
    expect(j.jb.heldFrames).toBeLessThanOrEqual(32);
  });

  it('resyncs when the sequence jumps back further than its capacity (sender restart), not dropping all as late', () => {
    const { out, jb } = run([20000, 20001, 20002, 5000, 5001, 5002]);
    expect(out).toEqual([20000 & 0xff, 20001 & 0xff, 20002 & 0xff, 5000 & 0xff, 5001 & 0xff, 5002 & 0xff]);
    expect(jb.stats.late).toBe(0);
    expect(jb.stats.resyncs).toBe(1);
  });
});

describe('DTMF (RFC 4733)', () => {
  it('reports one event per key press with its duration, ignoring redundant end packets', () => {
    const ev: DtmfEvent[] = [];
    const d = new DtmfDecoder(8000, (e) => ev.push(e));
    for (const dur of [160, 320, 480]) d.push(encodeTelephoneEvent(5, false, 10, dur), 1000);
    for (let i = 0; i < 3; i++) d.push(encodeTelephoneEvent(5, true, 10, 800), 1000);
    d.push(encodeTelephoneEvent(11, false, 10, 160), 3000);
    d.push(encodeTelephoneEvent(11, true, 10, 400), 3000);
    expect(ev).toEqual([
      { digit: '5', durationMs: 100, volumeDbm0: -10, rtpTimestamp: 1000, ended: true },
      { digit: '#', durationMs: 50, volumeDbm0: -10, rtpTimestamp: 3000, ended: true },
    ]);
  });

  it('still reports an event whose end packets were lost, and ignores junk', () => {
    const ev: DtmfEvent[] = [];
    const d = new DtmfDecoder(8000, (e) => ev.push(e));
    d.push(encodeTelephoneEvent(1, false, 10, 320), 100);
    expect(d.push(Uint8Array.of(1, 2), 200)).toBe(false);
    expect(d.push(encodeTelephoneEvent(99, false, 10, 320), 200)).toBe(false);
    d.push(encodeTelephoneEvent(10, false, 10, 160), 500); // next key starts
    d.flush();
    expect(ev.map((e) => [e.digit, e.ended])).toEqual([
      ['1', false],
      ['*', false],
    ]);
  });
});

describe('DTMF long-duration events (RFC 4733 §2.5.1.3)', () => {
  /** The packets of one key held for `totalUnits`, as a sender segments it: 0xFFFF units per segment, the E bit on the last. */
  function segmentedEvent(code: number, startTs: number, totalUnits: number): Array<[Uint8Array, number]> {
    const packets: Array<[Uint8Array, number]> = [];
    let segmentTs = startTs;
    let left = totalUnits;
    while (left > 0xffff) {
      for (const d of [160, 32000, 0xffff]) packets.push([encodeTelephoneEvent(code, false, 10, d), segmentTs]);
      segmentTs = (segmentTs + 0xffff) >>> 0;
      left -= 0xffff;
    }
    packets.push([encodeTelephoneEvent(code, false, 10, Math.min(160, left)), segmentTs]);
    for (let i = 0; i < 3; i++) packets.push([encodeTelephoneEvent(code, true, 10, left), segmentTs]);
    return packets;
  }

  it('reports a key held for 20 s (three segments) as one event with its whole duration and first timestamp', () => {
    const ev: DtmfEvent[] = [];
    const d = new DtmfDecoder(8000, (e) => ev.push(e));
    for (const [payload, ts] of segmentedEvent(5, 1000, 160_000)) d.push(payload, ts);
    d.push(encodeTelephoneEvent(11, false, 10, 160), 200_000);
    d.push(encodeTelephoneEvent(11, true, 10, 400), 200_000);
    expect(ev).toEqual([
      { digit: '5', durationMs: 20_000, volumeDbm0: -10, rtpTimestamp: 1000, ended: true },
      { digit: '#', durationMs: 50, volumeDbm0: -10, rtpTimestamp: 200_000, ended: true },
    ]);
  });

  it('follows the segments across the RTP timestamp wrap and past a late packet of the previous segment', () => {
    const ev: DtmfEvent[] = [];
    const d = new DtmfDecoder(8000, (e) => ev.push(e));
    const start = 0xffffffff - 1000;
    const packets = segmentedEvent(1, start, 0xffff + 8000);
    // a packet of the first segment overtaken by the second segment's first packet
    const firstOfSecond = packets.findIndex(([, ts]) => ts !== start);
    packets.splice(firstOfSecond + 1, 0, [encodeTelephoneEvent(1, false, 10, 0xffff), start]);
    for (const [payload, ts] of packets) d.push(payload, ts);
    d.flush();
    expect(ev).toEqual([{ digit: '1', durationMs: 9192, volumeDbm0: -10, rtpTimestamp: start, ended: true }]);
  });

  it('still reports a long event whose end packets were lost once, on flush', () => {
    const ev: DtmfEvent[] = [];
    const d = new DtmfDecoder(8000, (e) => ev.push(e));
    for (const [payload, ts] of segmentedEvent(9, 5000, 0xffff + 800).filter(([p]) => (p[1]! & 0x80) === 0)) d.push(payload, ts);
    d.flush();
    expect(ev.map((e) => [e.digit, e.ended, e.rtpTimestamp])).toEqual([['9', false, 5000]]);
  });

  it('starts a new event for the same key pressed again (a new timestamp that is not one segment on)', () => {
    const ev: DtmfEvent[] = [];
    const d = new DtmfDecoder(8000, (e) => ev.push(e));
    d.push(encodeTelephoneEvent(2, false, 10, 0xffff), 100);
    d.push(encodeTelephoneEvent(2, false, 10, 160), 100 + 0xffff + 800);
    d.flush();
    expect(ev.map((e) => [e.digit, e.rtpTimestamp, e.durationMs])).toEqual([
      ['2', 100, 8192],
      ['2', 100 + 0xffff + 800, 20],
    ]);
  });
});

describe('RTCP and receiver statistics', () => {
  it('computes loss, extended sequence and RFC 3550 jitter', () => {
    const s = new ReceiverStats(8000);
    // 100 packets, every 10th lost, arrival jitter alternating +-5 ms around 20 ms
    for (let i = 0; i < 100; i++) {
      if (i % 10 === 5) continue;
      s.update((65500 + i) & 0xffff, i * 160, i * 20 + (i % 2 === 0 ? 5 : -5));
    }
    expect(s.expected).toBe(100);
    expect(s.cumulativeLost).toBe(10);
    expect(s.extendedMax).toBe(65536 + ((65500 + 99) & 0xffff));
    // |D| = 10 ms (80 units) for each consecutive pair, ~20 ms (or 0) across a gap: J converges towards 80 units
    expect(s.jitterMs).toBeGreaterThan(7);
    expect(s.jitterMs).toBeLessThan(10.5);
    const rb = s.reportBlock(2000);
    expect(rb.fractionLost).toBe(Math.floor((10 * 256) / 100));
    expect(s.reportBlock(3000).fractionLost).toBe(0); // new interval, nothing new
  });

  it('builds and parses SR/RR + SDES compounds and BYE; rejects malformed', () => {
    const s = new ReceiverStats(8000);
    for (let i = 0; i < 10; i++) s.update(i, i * 160, i * 20);
    s.ssrc = 0x11111111;
    const rr = buildRtcpReport(0x22222222, 'edgevox-leg0', [s.reportBlock(200)]);
    const parsed = parseRtcp(rr);
    expect(parsed?.[0]).toMatchObject({
      type: 'rr',
      ssrc: 0x22222222,
      reports: [{ ssrc: 0x11111111, cumulativeLost: 0, extendedHighestSeq: 9 }],
    });
    expect(parsed?.[1]).toEqual({ type: 'other', pt: 202 });
    const sr = buildRtcpReport(0x22222222, 'x', [], { ntpSec: 1, ntpFrac: 2, rtpTimestamp: 3, packetCount: 4, octetCount: 5 });
    expect(parseRtcp(sr)?.[0]).toMatchObject({ type: 'sr', sender: { ntpSec: 1, rtpTimestamp: 3, packetCount: 4, octetCount: 5 } });
    expect(parseRtcp(Buffer.concat([rr, buildRtcpBye(7)]))?.[2]).toEqual({ type: 'bye', ssrcs: [7] });
    expect(parseRtcp(buildRtcpBye(7))).toBeUndefined(); // a compound must start with SR/RR
    expect(parseRtcp(rr.subarray(0, rr.length - 4))).toBeUndefined();
    expect(parseRtcp(new Uint8Array(3))).toBeUndefined();
  });

  it('derives RTT from LSR/DLSR', () => {
    const sentAt = 1_700_000_000_000;
    const { ntpSec, ntpFrac } = ntpFromMs(sentAt);
    const lsr = (((ntpSec & 0xffff) << 16) | (ntpFrac >>> 16)) >>> 0;
    // peer held our SR 100 ms, we get its RR 180 ms after sending: RTT = 80 ms
    const rtt = rttFromReport(
      {
        ssrc: 1,
        fractionLost: 0,
        cumulativeLost: 0,
        extendedHighestSeq: 0,
        jitter: 0,
        lastSr: lsr,
        delaySinceLastSr: Math.round(0.1 * 65536),
      },
      sentAt + 180,
    );
    expect(rtt).toBeGreaterThan(79);
    expect(rtt).toBeLessThan(81);
  });
});

describe('E-model MOS (G.107)', () => {
  it('matches reference points', () => {
    expect(mosFromR(93.2)).toBeCloseTo(4.41, 2); // the default R of a perfect narrowband call
    expect(mosFromR(0)).toBe(1);
    expect(mosFromR(100)).toBe(4.5);
    expect(mosFromR(50)).toBeCloseTo(2.58, 2);
    expect(delayImpairment(100)).toBeCloseTo(2.4, 5);
    expect(delayImpairment(300)).toBeCloseTo(0.024 * 300 + 0.11 * (300 - 177.3), 5);
    // G.711 with PLC, 1% random loss: Ie-eff = 95 * 1 / (1 + 25.1) = 3.64
    expect(effectiveIe(CODEC_IMPAIRMENT.PCMU, 1)).toBeCloseTo(3.64, 2);
    expect(rFactor(0, 0, CODEC_IMPAIRMENT.PCMU)).toBeCloseTo(93.2, 5);
  });

  it('decreases monotonically with loss and jitter', () => {
    const a = estimateMos({ codec: 'PCMU', lossPct: 0, jitterMs: 2 });
    const b = estimateMos({ codec: 'PCMU', lossPct: 2, jitterMs: 2 });
    const c = estimateMos({ codec: 'PCMU', lossPct: 2, jitterMs: 80 });
    const d = estimateMos({ codec: 'PCMU', lossPct: 20, jitterMs: 80, rttMs: 400 });
    expect(a).toBeGreaterThan(4.3);
    expect(b).toBeLessThan(a);
    expect(c).toBeLessThan(b);
    expect(d).toBeLessThan(c);
    expect(d).toBeGreaterThanOrEqual(1);
  });
});

describe('receive pipeline', () => {
  function pkt(seq: number, pt: number, payload: Uint8Array): Uint8Array {
    const b = new Uint8Array(12 + payload.length);
    writeRtp(b, { marker: false, payloadType: pt, sequence: seq, timestamp: seq * 160, ssrc: 42 }, payload);
    return b;
  }

  it('decodes PCMU in order, conceals a lost frame by fading the previous one, passes DTMF', () => {
    const frames: Array<{ pcm: Int16Array; concealed: boolean }> = [];
    const dtmf: string[] = [];
    const rx = new RtpReceiver({
      codec: 'PCMU',
      payloadType: 0,
      telephoneEventPt: 101,
      frameMs: 20,
      onFrame: (pcm, concealed) => frames.push({ pcm: Int16Array.from(pcm), concealed }),
      onDtmf: (e) => dtmf.push(e.digit),
    });
    const tone = new Int16Array(160).map((_, i) => Math.round(8000 * Math.sin(i / 5)));
    const ulaw = new Uint8Array(160);
    encodeMulaw(tone, ulaw);
    let t = 0;
    for (const seq of [1, 2, 4, 5, 6]) {
      const p = parseRtp(pkt(seq, 0, ulaw));
      if (typeof p === 'string') throw new Error(p);
      rx.push(p, (t += 20));
    }
    const ev = parseRtp(pkt(7, 101, encodeTelephoneEvent(9, true, 10, 800)));
    if (typeof ev === 'string') throw new Error(ev);
    rx.push(ev, (t += 20));
    const unknown = parseRtp(pkt(8, 18, ulaw));
    if (typeof unknown === 'string') throw new Error(unknown);
    expect(rx.push(unknown, (t += 20))).toBe(false);
    rx.flush();
    expect(frames.map((f) => f.concealed)).toEqual([false, false, true, false, false, false]);
    const concealed = frames[2]!.pcm;
    expect(concealed[10]).toBe(Math.round(frames[1]!.pcm[10]! * 0.5));
    expect(dtmf).toEqual(['9']);
    const q = rx.quality();
    // seq 1..7 expected (the unknown payload type is not counted), seq 3 missing
    expect(q).toMatchObject({ packetsReceived: 6, packetsExpected: 7, packetsLost: 1, concealedFrames: 1, framesDelivered: 6 });
    expect(q.mos).toBeLessThan(4.41);
  });

  it('decodes a new SSRC whose sequence numbers are behind the old source (transfer) instead of dropping it as late', () => {
    const frames: boolean[] = [];
    const rx = new RtpReceiver({
      codec: 'PCMU',
      payloadType: 0,
      telephoneEventPt: 101,
      frameMs: 20,
      onFrame: (_pcm, concealed) => frames.push(concealed),
      onDtmf: () => {},
    });
    let t = 0;
    const send = (seq: number, ssrc: number) => {
      const b = new Uint8Array(12 + 160);
      writeRtp(b, { marker: false, payloadType: 0, sequence: seq, timestamp: seq * 160, ssrc }, new Uint8Array(160));
      const p = parseRtp(b);
      if (typeof p === 'string') throw new Error(p);
      rx.push(p, (t += 20));
    };
    for (let s = 20000; s < 20010; s++) send(s, 1);
    for (let s = 20005; s < 20015; s++) send(s, 2); // a few behind: still within the ring, but another source
    for (let s = 5000; s < 5020; s++) send(s, 3);
    rx.flush();
    expect(frames).toEqual(Array.from({ length: 40 }, () => false));
    expect(rx.quality().late).toBe(0);
  });

  it('does not count comfort-noise packets (RFC 3389, negotiated) as lost audio', () => {
    const frames: boolean[] = [];
    const rx = new RtpReceiver({
      codec: 'PCMU',
      payloadType: 0,
      telephoneEventPt: 101,
      comfortNoisePt: 13,
      frameMs: 20,
      onFrame: (_pcm, concealed) => frames.push(concealed),
      onDtmf: () => {},
    });
    let t = 0;
    const send = (seq: number, pt: number, payload: Uint8Array) => {
      const p = parseRtp(pkt(seq, pt, payload));
      if (typeof p === 'string') throw new Error(p);
      return rx.push(p, (t += 20));
    };
    for (let s = 1; s <= 5; s++) send(s, 0, new Uint8Array(160));
    expect(send(6, 13, Uint8Array.of(40))).toBe(true); // silence starts: one SID frame
    t += 2000;
    for (let s = 7; s <= 12; s++) send(s, 0, new Uint8Array(160));
    rx.flush();
    expect(frames).toEqual(Array.from({ length: 11 }, () => false));
    expect(rx.quality()).toMatchObject({ packetsLost: 0, concealedFrames: 0 });
  });

  it('decodes G.722 to 16 kHz frames of 320 samples', () => {
    const frames: Int16Array[] = [];
    const rx = new RtpReceiver({
      codec: 'G722',
      payloadType: 9,
      telephoneEventPt: undefined,
      frameMs: 20,
      onFrame: (pcm) => frames.push(Int16Array.from(pcm)),
      onDtmf: () => {},
    });
    const p = parseRtp(pkt(1, 9, new Uint8Array(160)));
    if (typeof p === 'string') throw new Error(p);
    rx.push(p, 0);
    expect(frames[0]!.length).toBe(320);
  });
});
