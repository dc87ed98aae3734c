import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { G722Decoder, G722Encoder } from '../../../appliance/codecs/g722.js';

function sine(freqHz: number, amp: number, n: number, rate = 16000): Int16Array {
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amp * Math.sin((2 * Math.PI * freqHz * i) / rate));
  return out;
}

/** SNR (dB) of `y` against `x` delayed by `delay` samples. */
function snrDb(x: Int16Array, y: Int16Array, skip: number, delay: number): number {
  let sig = 0;
  let err = 0;
  for (let i = skip; i + delay < y.length; i++) {
    const e = y[i + delay]! - x[i]!;
    sig += x[i]! * x[i]!;
    err += e * e;
  }
  return 10 * Math.log10(sig / Math.max(1, err));
}

// The transmit and receive 24-tap QMFs together delay the signal by 22 samples.
const CODEC_DELAY = 22;

/** Dominant frequency by scanning a DFT over 10 Hz bins. */
function dominantHz(y: Int16Array, from: number, rate = 16000): number {
  let bestHz = 0;
  let bestP = -1;
  for (let f = 50; f < 7900; f += 10) {
    let re = 0;
    let im = 0;
    for (let i = from; i < y.length; i++) {
      re += y[i]! * Math.cos((2 * Math.PI * f * i) / rate);
      im -= y[i]! * Math.sin((2 * Math.PI * f * i) / rate);
    }
    const p = re * re + im * im;
    if (p > bestP) {
      bestP = p;
      bestHz = f;
    }
  }
  return bestHz;
}

function roundTrip(x: Int16Array): Int16Array {
  const enc = new G722Encoder();
  const dec = new G722Decoder();
  const coded = new Uint8Array(x.length / 2);
  expect(enc.encode(x, coded)).toBe(x.length / 2);
  const y = new Int16Array(x.length);
  expect(dec.decode(coded, y)).toBe(x.length);
  return y;
}

describe('G.722 SB-ADPCM', () => {
  it.each([
    [300, 50],
    [1000, 40],
    [3000, 35],
  ])('keeps a %i Hz low-band sine (SNR > %i dB at the QMF delay)', (f, minSnr) => {
    const x = sine(f, 8000, 16000);
    const y = roundTrip(x);
    expect(snrDb(x, y, 2000, CODEC_DELAY)).toBeGreaterThan(minSnr);
    // a wrong alignment is far worse: proves the SNR measures the codec, not a pass-through
    expect(snrDb(x, y, 2000, CODEC_DELAY + 1)).toBeLessThan(minSnr - 15);
    expect(Math.abs(dominantHz(y, 4000) - f)).toBeLessThanOrEqual(10);
  });

  it('keeps a 5 kHz sine in the higher band (frequency preserved, amplitude within 3 dB)', () => {
    const x = sine(5000, 6000, 16000);
    const y = roundTrip(x);
    expect(Math.abs(dominantHz(y, 4000) - 5000)).toBeLessThanOrEqual(10);
    expect(snrDb(x, y, 2000, CODEC_DELAY)).toBeGreaterThan(18); // 2-bit ADPCM band
    let ex = 0;
    let ey = 0;
    for (let i = 4000; i < 16000; i++) {
      ex += x[i]! * x[i]!;
      ey += y[i]! * y[i]!;
    }
    expect(Math.abs(10 * Math.log10(ey / ex))).toBeLessThan(3);
  });

  it('decodes silence to near silence and is deterministic', () => {
    const y1 = roundTrip(new Int16Array(3200));
    const y2 = roundTrip(new Int16Array(3200));
    expect(y1).toEqual(y2);
    expect(Math.max(...y1.map(Math.abs))).toBeLessThan(50);
  });

  it('does not break on arbitrary byte streams (decoder saturates, never NaN)', () => {
    const dec = new G722Decoder();
    const bytes = new Uint8Array(8000);
    let s = 12345;
    for (let i = 0; i < bytes.length; i++) {
      s = (s * 1103515245 + 12345) >>> 0;
      bytes[i] = s >>> 24;
    }
    const out = new Int16Array(16000);
    expect(dec.decode(bytes, out)).toBe(16000);
    expect(out.every((v) => Number.isInteger(v) && v >= -32768 && v <= 32767)).toBe(true);
  });

  it('is bit-exact with an independent implementation (FFmpeg 5.1 g722) on a derived vector', () => {
    // The vector: 2 s of a 100 Hz -> 3.6 kHz chirp plus LCG noise at 16 kHz (generated below).
    // FFmpeg encoded it (`ffmpeg -f s16le -ar 16000 -ac 1 -i in.raw -c:a g722 -f g722 out.g722`)
    // and decoded its own output (`ffmpeg -f g722 -i out.g722 -f s16le dec.raw`); their SHA-256s:
    const INPUT = 'c577277ceda9088404f488518f8c7321274356d03e30c89c028f465af6ec0142';
    const FFMPEG_G722 = 'f49d9d9c97bcb066dc5810c02b658a1f922ea5f6664fd6da9fcca15e17c9f111';
    const FFMPEG_DECODED = 'cd8a0a90f83765377c5329ba951953347217507df4852b2a4b567c6386ec3ffb';
    const n = 32000;
    const x = new Int16Array(n);
    let s = 1;
    for (let i = 0; i < n; i++) {
      const f = 100 + (7000 * i) / n;
      s = (s * 1103515245 + 12345) >>> 0;
      x[i] = Math.round(9000 * Math.sin(((2 * Math.PI * f * i) / 16000) * 0.5) + ((s >>> 16) % 2000) - 1000);
    }
    const sha = (a: ArrayBufferView): string =>
      createHash('sha256')
        .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
        .digest('hex');
    expect(sha(x)).toBe(INPUT);
    const coded = new Uint8Array(n / 2);
    new G722Encoder().encode(x, coded);
    expect(sha(coded)).toBe(FFMPEG_G722);
    const y = new Int16Array(n);
    new G722Decoder().decode(coded, y);
    expect(sha(y)).toBe(FFMPEG_DECODED);
  });
});
