/**
 * G.711 μ-law (PCMU) and A-law (PCMA) codecs, ITU-T G.711.
 * Decoding uses 256-entry tables built once; encoding is branch-light bit arithmetic.
 * All functions write into caller-provided buffers so hot paths do not allocate.
 */

const MULAW_BIAS = 0x84;
const MULAW_CLIP = 32635;

function mulawDecodeOne(code: number): number {
  const u = ~code & 0xff;
  const sign = u & 0x80;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + MULAW_BIAS) << exponent) - MULAW_BIAS;
  return sign !== 0 ? -magnitude : magnitude;
}

function alawDecodeOne(code: number): number {
  const a = code ^ 0x55;
  const sign = a & 0x80;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  let magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  magnitude = magnitude | 0;
  return sign !== 0 ? magnitude : -magnitude;
}

export const MULAW_DECODE_TABLE: Int16Array = Int16Array.from({ length: 256 }, (_, i) => mulawDecodeOne(i));
export const ALAW_DECODE_TABLE: Int16Array = Int16Array.from({ length: 256 }, (_, i) => alawDecodeOne(i));

/** Encode one 16-bit linear sample to μ-law. */
export function mulawEncodeSample(sample: number): number {
  let s = sample | 0;
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > MULAW_CLIP) s = MULAW_CLIP;
  s += MULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** Encode one 16-bit linear sample to A-law. */
export function alawEncodeSample(sample: number): number {
  let s = sample | 0;
  const sign = s >= 0 ? 0x80 : 0;
  if (s < 0) s = -s - 1;
  if (s > 32767) s = 32767;
  let code: number;
  if (s < 256) {
    code = s >> 4;
  } else {
    let exponent = 7;
    for (let mask = 0x4000; (s & mask) === 0 && exponent > 1; mask >>= 1) exponent--;
    code = (exponent << 4) | ((s >> (exponent + 3)) & 0x0f);
  }
  return (sign | code) ^ 0x55;
}

/** Decode `input` (one byte per sample) into `output` (int16); returns the sample count. */
export function decodeMulaw(input: Uint8Array, output: Int16Array): number {
  const n = Math.min(input.length, output.length);
  for (let i = 0; i < n; i++) output[i] = MULAW_DECODE_TABLE[input[i]!]!;
  return n;
}

export function decodeAlaw(input: Uint8Array, output: Int16Array): number {
  const n = Math.min(input.length, output.length);
  for (let i = 0; i < n; i++) output[i] = ALAW_DECODE_TABLE[input[i]!]!;
  return n;
}

export function encodeMulaw(input: Int16Array, output: Uint8Array): number {
  const n = Math.min(input.length, output.length);
  for (let i = 0; i < n; i++) output[i] = mulawEncodeSample(input[i]!);
  return n;
}

export function encodeAlaw(input: Int16Array, output: Uint8Array): number {
  const n = Math.min(input.length, output.length);
  for (let i = 0; i < n; i++) output[i] = alawEncodeSample(input[i]!);
  return n;
}
