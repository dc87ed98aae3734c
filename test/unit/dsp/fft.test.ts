import { describe, expect, it } from 'vitest';
import { ComplexFft, EvenRealFft, RealFft } from '../../../appliance/dsp/fft.js';

function naiveDft(re: ArrayLike<number>, im: ArrayLike<number>, k: number): [number, number] {
  const n = re.length;
  let sr = 0;
  let si = 0;
  for (let t = 0; t < n; t++) {
    const c = Math.cos((2 * Math.PI * k * t) / n);
    const s = -Math.sin((2 * Math.PI * k * t) / n);
    sr += re[t]! * c - im[t]! * s;
    si += re[t]! * s + im[t]! * c;
  }
  return [sr, si];
}

function testSignal(n: number, seed = 0): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.3 + seed) + 0.5 * Math.cos(i * 1.7) + ((i * 7 + seed) % 11) / 10);
}

/** One radix-2 stage per pass, in the textbook loop order: the arithmetic the ASR fbank was validated with. */
function textbookFft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  const bits = Math.log2(n);
  for (let i = 0; i < n; i++) {
    let j = 0;
    for (let b = 0; b < bits; b++) j |= ((i >> b) & 1) << (bits - 1 - b);
    if (j > i) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const half = len >> 1;
    for (let start = 0; start < n; start += len) {
      for (let k = 0; k < half; k++) {
        const t = k * (n / len);
        const wr = Math.cos((2 * Math.PI * t) / n);
        const wi = -Math.sin((2 * Math.PI * t) / n);
        const a = start + k;
        const b = a + half;
        const xr = re[b]! * wr - im[b]! * wi;
        const xi = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - xr;
        im[b] = im[a]! - xi;
        re[a] = re[a]! + xr;
        im[a] = im[a]! + xi;
      }
    }
  }
}

describe('ComplexFft', () => {
  it('matches a naive DFT for odd and even numbers of stages', () => {
    for (const n of [2, 4, 8, 64, 128]) {
      const re = testSignal(n);
      const im = testSignal(n, 3);
      const outRe = Float64Array.from(re);
      const outIm = Float64Array.from(im);
      new ComplexFft(n).transform(outRe, outIm);
      for (let k = 0; k < n; k++) {
        const [er, ei] = naiveDft(re, im, k);
        expect(outRe[k]!).toBeCloseTo(er, 9);
        expect(outIm[k]!).toBeCloseTo(ei, 9);
      }
    }
  });

  it('does exactly the arithmetic of the one-stage-per-pass loop (bit for bit)', () => {
    for (const n of [2, 4, 8, 128, 256, 512]) {
      const re = testSignal(n);
      const im = testSignal(n, 5);
      const refRe = Float64Array.from(re);
      const refIm = Float64Array.from(im);
      textbookFft(refRe, refIm);
      new ComplexFft(n).transform(re, im);
      expect(Array.from(re)).toEqual(Array.from(refRe));
      expect(Array.from(im)).toEqual(Array.from(refIm));
    }
  });

  it('rejects sizes that are not powers of two', () => {
    expect(() => new ComplexFft(12)).toThrow(RangeError);
    expect(() => new ComplexFft(1)).toThrow(RangeError);
    expect(() => new RealFft(2)).toThrow(RangeError);
    expect(() => new EvenRealFft(4)).toThrow(RangeError);
  });
});

describe('RealFft', () => {
  it('matches a naive DFT power spectrum', () => {
    const x = Float64Array.from({ length: 512 }, (_, i) => Math.sin(i * 0.3) + 0.5 * Math.cos(i * 1.7) + (i % 7) / 10);
    const out = new Float64Array(257);
    new RealFft(512).powerSpectrum(x, out);
    for (const k of [0, 1, 5, 100, 255, 256]) {
      const [re, im] = naiveDft(x, new Float64Array(512), k);
      expect(out[k]! / (re * re + im * im)).toBeCloseTo(1, 9);
    }
  });

  it('gives the real and imaginary parts of every bin 0..N/2', () => {
    for (const n of [4, 8, 256]) {
      const x = testSignal(n, 2);
      const re = new Float64Array(n / 2 + 1);
      const im = new Float64Array(n / 2 + 1);
      new RealFft(n).forward(x, re, im);
      for (let k = 0; k <= n / 2; k++) {
        const [er, ei] = naiveDft(x, new Float64Array(n), k);
        expect(re[k]!).toBeCloseTo(er, 9);
        expect(im[k]!).toBeCloseTo(ei, 9);
      }
    }
  });
});

describe('EvenRealFft', () => {
  it('equals the (real) DFT of the even extension', () => {
    for (const size of [8, 16, 512]) {
      const half = size / 2;
      const x = testSignal(half + 1, 1);
      const full = Float64Array.from({ length: size }, (_, j) => x[j <= half ? j : size - j]!);
      const out = new Float64Array(half + 1);
      new EvenRealFft(size).transform(x, out);
      for (let m = 0; m <= half; m++) {
        const [er, ei] = naiveDft(full, new Float64Array(size), m);
        expect(Math.abs(ei)).toBeLessThan(1e-9);
        expect(out[m]!).toBeCloseTo(er, 9);
      }
    }
  });
});
