/**
 * RTP fixed header (RFC 3550 §5.1): parse without copying the payload, serialize into a caller buffer.
 */

export interface RtpPacket {
  readonly marker: boolean;
  readonly payloadType: number;
  readonly sequence: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly csrcCount: number;
  /** A view into the datagram (valid until the datagram buffer is reused). */
  readonly payload: Uint8Array;
}

export const RTP_HEADER_BYTES = 12;

/** Why a datagram is not RTP; undefined means it parsed. */
export type RtpParseError = 'short' | 'version' | 'csrc' | 'extension' | 'padding' | 'rtcp';

/** Parse an RTP packet; returns a reason string for malformed input. */
export function parseRtp(buf: Uint8Array): RtpPacket | RtpParseError {
  if (buf.length < RTP_HEADER_BYTES) return 'short';
  const b0 = buf[0]!;
  const b1 = buf[1]!;
  if (b0 >> 6 !== 2) return 'version';
  // RTCP multiplexed on the RTP port (RFC 5761): payload types 72-76 with marker = RTCP 200-204
  const pt = b1 & 0x7f;
  if (pt >= 72 && pt <= 76) return 'rtcp';
  const cc = b0 & 0x0f;
  let offset = RTP_HEADER_BYTES + cc * 4;
  if (offset > buf.length) return 'csrc';
  if ((b0 & 0x10) !== 0) {
    if (offset + 4 > buf.length) return 'extension';
    const words = (buf[offset + 2]! << 8) | buf[offset + 3]!;
    offset += 4 + words * 4;
    if (offset > buf.length) return 'extension';
  }
  let end = buf.length;
  if ((b0 & 0x20) !== 0) {
    const pad = buf[buf.length - 1]!;
    if (pad === 0 || end - pad < offset) return 'padding';
    end -= pad;
  }
  return {
    marker: (b1 & 0x80) !== 0,
    payloadType: pt,
    sequence: (buf[2]! << 8) | buf[3]!,
    timestamp: ((buf[4]! << 24) | (buf[5]! << 16) | (buf[6]! << 8) | buf[7]!) >>> 0,
    ssrc: ((buf[8]! << 24) | (buf[9]! << 16) | (buf[10]! << 8) | buf[11]!) >>> 0,
    csrcCount: cc,
    payload: buf.subarray(offset, end),
  };
}

/** Write a 12-byte header + payload into `out`; returns the packet length. */
export function writeRtp(
  out: Uint8Array,
  h: { marker: boolean; payloadType: number; sequence: number; timestamp: number; ssrc: number },
  payload: Uint8Array,
): number {
  const len = RTP_HEADER_BYTES + payload.length;
  if (out.length < len) throw new RangeError('RTP output buffer too small');
  out[0] = 0x80;
  out[1] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
  out[2] = (h.sequence >> 8) & 0xff;
  out[3] = h.sequence & 0xff;
  const ts = h.timestamp >>> 0;
  out[4] = ts >>> 24;
  out[5] = (ts >>> 16) & 0xff;
  out[6] = (ts >>> 8) & 0xff;
  out[7] = ts & 0xff;
  const ssrc = h.ssrc >>> 0;
  out[8] = ssrc >>> 24;
  out[9] = (ssrc >>> 16) & 0xff;
  out[10] = (ssrc >>> 8) & 0xff;
  out[11] = ssrc & 0xff;
  out.set(payload, RTP_HEADER_BYTES);
  return len;
}

/** Signed distance a - b between 16-bit sequence numbers (in -32768..32767). */
export function seqDelta(a: number, b: number): number {
  return (((a - b) & 0xffff) << 16) >> 16;
}
