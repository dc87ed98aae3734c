/**
 * Randomness for the runtime, all from node:crypto: identifiers and sequence numbers a peer must
 * not predict (RTP, SIP CSeq), privacy noise (Laplace cells of the upstream aggregates), jitter.
 * The runtime never uses the Math module's generator: its state can be recovered from a few outputs.
 */
import { randomBytes, randomInt } from 'node:crypto';

/** A uniform number in [0, 1) with 53 random bits. */
export function secureUniform(): number {
  const b = randomBytes(8);
  // 21 high bits from the first word, 32 from the second: exactly a double's mantissa.
  return ((b.readUInt32BE(0) >>> 11) * 0x1_0000_0000 + b.readUInt32BE(4)) / 2 ** 53;
}

/** A uniform integer in [min, max). */
export function secureInt(min: number, max: number): number {
  return randomInt(min, max);
}

/** A uniform unsigned 32-bit integer (RTP timestamps, SSRCs). */
export function secureUint32(): number {
  return randomBytes(4).readUInt32BE(0);
}
