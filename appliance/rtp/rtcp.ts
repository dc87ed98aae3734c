/**
 * RTCP (RFC 3550 §6): receiver statistics (A.1 sequence tracking, A.3 loss, A.8 jitter),
 * SR/RR + SDES CNAME compound packets, and a parser for SR/RR/BYE from the peer.
 */

export interface ReportBlock {
  readonly ssrc: number;
  readonly fractionLost: number; // 0..255
  readonly cumulativeLost: number;
  readonly extendedHighestSeq: number;
  readonly jitter: number; // RTP timestamp units
  readonly lastSr: number;
  readonly delaySinceLastSr: number; // 1/65536 s
}

export interface SenderInfo {
  readonly ntpSec: number;
  readonly ntpFrac: number;
  readonly rtpTimestamp: number;
  readonly packetCount: number;
  readonly octetCount: number;
}

export type RtcpPacket =
  | { readonly type: 'sr'; readonly ssrc: number; readonly sender: SenderInfo; readonly reports: ReportBlock[] }
  | { readonly type: 'rr'; readonly ssrc: number; readonly reports: ReportBlock[] }
  | { readonly type: 'bye'; readonly ssrcs: number[] }
  | { readonly type: 'other'; readonly pt: number };

/** Per-source receive statistics, RFC 3550 Appendix A. */
export class ReceiverStats {
  ssrc = 0;
  private baseSeq = -1;
  private maxSeq = 0;
  private cycles = 0;
  private badSeq = -1;
  received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  /** Interarrival jitter, RTP units (float, as in A.8). */
  jitter = 0;
  private lastTransit = NaN;
  private lastSrMiddle = 0;
  private lastSrArrivalMs = -1;

  constructor(private readonly clockHz: number) {}

  /** Update on each RTP packet; `arrivalMs` from a monotonic clock. Returns false for a probable restart. */
  update(seq: number, rtpTimestamp: number, arrivalMs: number): boolean {
    if (this.baseSeq < 0) {
      this.baseSeq = seq;
      this.maxSeq = seq;
      this.received = 1;
      this.lastTransit = (arrivalMs * this.clockHz) / 1000 - rtpTimestamp;
      return true;
    }
    const udelta = (seq - this.maxSeq) & 0xffff;
    if (udelta < 3000) {
      if (seq < this.maxSeq) this.cycles += 65536;
      this.maxSeq = seq;
    } else if (udelta <= 65536 - 100) {
      // large jump: accept after two sequential packets (A.1)
      if (seq === this.badSeq) {
        this.baseSeq = seq;
        this.maxSeq = seq;
        this.cycles = 0;
        this.received = 0;
        this.expectedPrior = 0;
        this.receivedPrior = 0;
        this.badSeq = -1;
      } else {
        this.badSeq = (seq + 1) & 0xffff;
        return false;
      }
    }
    this.received++;
    const transit = (arrivalMs * this.clockHz) / 1000 - rtpTimestamp;
    if (!Number.isNaN(this.lastTransit)) {
      let d = Math.abs(transit - this.lastTransit);
      if (d > this.clockHz * 60) d = 0; // timestamp discontinuity, not jitter
      this.jitter += (d - this.jitter) / 16;
    }
    this.lastTransit = transit;
    return true;
  }

  get extendedMax(): number {
    return this.cycles + this.maxSeq;
  }

  get expected(): number {
    return this.baseSeq < 0 ? 0 : this.extendedMax - this.baseSeq + 1;
  }

  /** Cumulative packets lost (may be negative with duplicates, per RFC). */
  get cumulativeLost(): number {
    return this.expected - this.received;
  }

  get jitterMs(): number {
    return (this.jitter * 1000) / this.clockHz;
  }

  /** Record an SR from the sender so our RR can carry LSR/DLSR. */
  onSenderReport(s: SenderInfo, arrivalMs: number): void {
    this.lastSrMiddle = (((s.ntpSec & 0xffff) << 16) | (s.ntpFrac >>> 16)) >>> 0;
    this.lastSrArrivalMs = arrivalMs;
  }

  /** Build a report block and start a new reporting interval. */
  reportBlock(nowMs: number): ReportBlock {
    const expected = this.expected;
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.received - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fraction = expectedInterval <= 0 || lostInterval <= 0 ? 0 : Math.min(255, Math.floor((lostInterval << 8) / expectedInterval));
    const cum = Math.max(-0x800000, Math.min(0x7fffff, this.cumulativeLost));
    return {
      ssrc: this.ssrc,
      fractionLost: fraction,
      cumulativeLost: cum,
      extendedHighestSeq: this.extendedMax >>> 0,
      jitter: Math.floor(this.jitter) >>> 0,
      lastSr: this.lastSrMiddle,
      delaySinceLastSr: this.lastSrArrivalMs < 0 ? 0 : Math.floor(((nowMs - this.lastSrArrivalMs) / 1000) * 65536) >>> 0,
    };
  }
}

function writeReportBlock(v: DataView, off: number, r: ReportBlock): void {
  v.setUint32(off, r.ssrc >>> 0);
  const cum = r.cumulativeLost & 0xffffff;
  v.setUint32(off + 4, (((r.fractionLost & 0xff) << 24) | cum) >>> 0);
  v.setUint32(off + 8, r.extendedHighestSeq >>> 0);
  v.setUint32(off + 12, r.jitter >>> 0);
  v.setUint32(off + 16, r.lastSr >>> 0);
  v.setUint32(off + 20, r.delaySinceLastSr >>> 0);
}

function sdesCname(ssrc: number, cname: string): Buffer {
  const name = Buffer.from(cname.slice(0, 255), 'utf8');
  const itemLen = 4 + 2 + name.length + 1; // ssrc, type+len, text, END
  const padded = Math.ceil(itemLen / 4) * 4;
  const b = Buffer.alloc(4 + padded);
  b[0] = 0x81;
  b[1] = 202;
  b.writeUInt16BE(padded / 4, 2);
  b.writeUInt32BE(ssrc >>> 0, 4);
  b[8] = 1;
  b[9] = name.length;
  name.copy(b, 10);
  return b;
}

/** Build a compound SR (when `sender` is given) or RR, followed by SDES CNAME. */
export function buildRtcpReport(ssrc: number, cname: string, reports: readonly ReportBlock[], sender?: SenderInfo): Buffer {
  const rc = Math.min(31, reports.length);
  const len = 8 + (sender === undefined ? 0 : 20) + rc * 24;
  const b = Buffer.alloc(len);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  b[0] = 0x80 | rc;
  b[1] = sender === undefined ? 201 : 200;
  v.setUint16(2, len / 4 - 1);
  v.setUint32(4, ssrc >>> 0);
  let off = 8;
  if (sender !== undefined) {
    v.setUint32(8, sender.ntpSec >>> 0);
    v.setUint32(12, sender.ntpFrac >>> 0);
    v.setUint32(16, sender.rtpTimestamp >>> 0);
    v.setUint32(20, sender.packetCount >>> 0);
    v.setUint32(24, sender.octetCount >>> 0);
    off = 28;
  }
  for (let i = 0; i < rc; i++) {
    writeReportBlock(v, off, reports[i]!);
    off += 24;
  }
  return Buffer.concat([b, sdesCname(ssrc, cname)]);
}

/** BYE packet for our SSRC (sent when a leg closes). */
export function buildRtcpBye(ssrc: number): Buffer {
  const b = Buffer.alloc(8);
  b[0] = 0x81;
  b[1] = 203;
  b.writeUInt16BE(1, 2);
  b.writeUInt32BE(ssrc >>> 0, 4);
  return b;
}

function readReportBlocks(v: DataView, off: number, count: number, end: number): ReportBlock[] | undefined {
  const out: ReportBlock[] = [];
  for (let i = 0; i < count; i++) {
    if (off + 24 > end) return undefined;
    const w = v.getUint32(off + 4);
    let cum = w & 0xffffff;
    if (cum & 0x800000) cum -= 0x1000000;
    out.push({
      ssrc: v.getUint32(off),
      fractionLost: w >>> 24,
      cumulativeLost: cum,
      extendedHighestSeq: v.getUint32(off + 8),
      jitter: v.getUint32(off + 12),
      lastSr: v.getUint32(off + 16),
      delaySinceLastSr: v.getUint32(off + 20),
    });
    off += 24;
  }
  return out;
}

/** Parse a compound RTCP packet; returns undefined when malformed (RFC 3550 §A.2 validity checks). */
export function parseRtcp(buf: Uint8Array): RtcpPacket[] | undefined {
  if (buf.length < 8 || buf.length % 4 !== 0) return undefined;
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: RtcpPacket[] = [];
  let off = 0;
  while (off < buf.length) {
    if (off + 4 > buf.length) return undefined;
    const b0 = buf[off]!;
    const pt = buf[off + 1]!;
    if (b0 >> 6 !== 2) return undefined;
    if (off === 0 && pt !== 200 && pt !== 201) return undefined; // compound must start with SR/RR
    const words = v.getUint16(off + 2);
    const end = off + (words + 1) * 4;
    if (end > buf.length) return undefined;
    const count = b0 & 0x1f;
    if (pt === 200) {
      if (off + 28 > end) return undefined;
      const sender: SenderInfo = {
        ntpSec: v.getUint32(off + 8),
        ntpFrac: v.getUint32(off + 12),
        rtpTimestamp: v.getUint32(off + 16),
        packetCount: v.getUint32(off + 20),
        octetCount: v.getUint32(off + 24),
      };
      const reports = readReportBlocks(v, off + 28, count, end);
      if (reports === undefined) return undefined;
      out.push({ type: 'sr', ssrc: v.getUint32(off + 4), sender, reports });
    } else if (pt === 201) {
      const reports = readReportBlocks(v, off + 8, count, end);
      if (reports === undefined) return undefined;
      out.push({ type: 'rr', ssrc: v.getUint32(off + 4), reports });
    } else if (pt === 203) {
      const ssrcs: number[] = [];
      for (let i = 0; i < count; i++) {
        if (off + 8 + i * 4 > end) return undefined;
        ssrcs.push(v.getUint32(off + 4 + i * 4));
      }
      out.push({ type: 'bye', ssrcs });
    } else out.push({ type: 'other', pt });
    off = end;
  }
  return out;
}

/** Wall clock as NTP (for SR) from a millisecond epoch time. */
export function ntpFromMs(epochMs: number): { ntpSec: number; ntpFrac: number } {
  const sec = Math.floor(epochMs / 1000) + 2208988800;
  const frac = Math.floor(((epochMs % 1000) / 1000) * 0x100000000);
  return { ntpSec: sec >>> 0, ntpFrac: frac >>> 0 };
}

/** Round-trip time from an RR block that references our SR (RFC 3550 §6.4.1), ms; undefined if none. */
export function rttFromReport(r: ReportBlock, arrivalEpochMs: number): number | undefined {
  if (r.lastSr === 0) return undefined;
  const { ntpSec, ntpFrac } = ntpFromMs(arrivalEpochMs);
  const a = (((ntpSec & 0xffff) << 16) | (ntpFrac >>> 16)) >>> 0;
  const rtt = (a - r.lastSr - r.delaySinceLastSr) >>> 0;
  if (rtt > 0x7fffffff) return undefined;
  return (rtt / 65536) * 1000;
}
