/**
 * The one FFT module (ASR fbank, emotion features): an in-place radix-2 complex FFT and a
 * real-input FFT built on a half-size complex one (the usual "two reals in one complex" packing).
 * Twiddles and the bit-reversal table are computed once per size; a call allocates nothing.
 */

function checkPowerOfTwo(size: number, min: number): void {
  if (!Number.isInteger(size) || size < min || (size & (size - 1)) !== 0) {
    throw new RangeError(`FFT size ${size} is not a power of two >= ${min}`);
  }
}

/** In-place iterative radix-2 complex FFT (forward, unscaled). */
export class ComplexFft {
  readonly size: number;
  /** The bit-reversal permutation of 0..size-1 (its own inverse). */
  readonly bitReversal: Uint32Array;
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;

  constructor(size: number) {
    checkPowerOfTwo(size, 2);
    this.size = size;
    this.cos = new Float64Array(size / 2);
    this.sin = new Float64Array(size / 2);
    for (let i = 0; i < size / 2; i++) {
      this.cos[i] = Math.cos((2 * Math.PI * i) / size);
      this.sin[i] = -Math.sin((2 * Math.PI * i) / size);
    }
    const bits = Math.log2(size);
    this.bitReversal = new Uint32Array(size);
    for (let i = 0; i < size; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.bitReversal[i] = r;
    }
  }

  /** Forward transform of (re, im), in place. */
  transform(re: Float64Array, im: Float64Array): void {
    const rev = this.bitReversal;
    for (let i = 0; i < this.size; i++) {
      const j = rev[i]!;
      if (j > i) {
        const tr = re[i]!;
        re[i] = re[j]!;
        re[j] = tr;
        const ti = im[i]!;
        im[i] = im[j]!;
        im[j] = ti;
      }
    }
    this.transformBitReversed(re, im);
  }

  /** Forward transform, in place, of (re, im) already stored in bit-reversed order (see `bitReversal`). */
  transformBitReversed(re: Float64Array, im: Float64Array): void {
    const n = this.size;
    const cos = this.cos;
    const sin = this.sin;
    let len = 2;
    if ((Math.log2(n) & 1) === 1) {
      // An odd number of stages: the first one alone (its only twiddle is cos[0], sin[0]).
      const wr = cos[0]!;
      const wi = sin[0]!;
      for (let a = 0; a < n; a += 2) {
        const br = re[a + 1]!;
        const bi = im[a + 1]!;
        const xr = br * wr - bi * wi;
        const xi = br * wi + bi * wr;
        const ar = re[a]!;
        const ai = im[a]!;
        re[a + 1] = ar - xr;
        im[a + 1] = ai - xi;
        re[a] = ar + xr;
        im[a] = ai + xi;
      }
      len = 4;
    }
    // Two radix-2 stages (len, 2·len) per pass over four points a0..a3 spaced len/2 apart: the
    // butterflies and their arithmetic are exactly those of the one-stage-per-pass loop, with half
    // the loads and stores.
    for (; len <= n; len <<= 2) {
      const h = len >> 1;
      const step = n / len;
      const step2 = step >> 1;
      for (let k = 0; k < h; k++) {
        const w1r = cos[k * step]!;
        const w1i = sin[k * step]!;
        const w2r = cos[k * step2]!;
        const w2i = sin[k * step2]!;
        const w3r = cos[(k + h) * step2]!;
        const w3i = sin[(k + h) * step2]!;
        for (let a0 = k; a0 < n; a0 += 2 * len) {
          const a1 = a0 + h;
          const a2 = a1 + h;
          const a3 = a2 + h;
          // Stage len: (a0, a1) and (a2, a3), twiddle w1.
          let r0 = re[a0]!;
          let i0 = im[a0]!;
          let r1 = re[a1]!;
          let i1 = im[a1]!;
          let r2 = re[a2]!;
          let i2 = im[a2]!;
          let r3 = re[a3]!;
          let i3 = im[a3]!;
          let xr = r1 * w1r - i1 * w1i;
          let xi = r1 * w1i + i1 * w1r;
          r1 = r0 - xr;
          i1 = i0 - xi;
          r0 = r0 + xr;
          i0 = i0 + xi;
          xr = r3 * w1r - i3 * w1i;
          xi = r3 * w1i + i3 * w1r;
          r3 = r2 - xr;
          i3 = i2 - xi;
          r2 = r2 + xr;
          i2 = i2 + xi;
          // Stage 2·len: (a0, a2) with twiddle w2, (a1, a3) with w3.
          xr = r2 * w2r - i2 * w2i;
          xi = r2 * w2i + i2 * w2r;
          re[a2] = r0 - xr;
          im[a2] = i0 - xi;
          re[a0] = r0 + xr;
          im[a0] = i0 + xi;
          xr = r3 * w3r - i3 * w3i;
          xi = r3 * w3i + i3 * w3r;
          re[a3] = r1 - xr;
          im[a3] = i1 - xi;
          re[a1] = r1 + xr;
          im[a1] = i1 + xi;
        }
      }
    }
  }
}

/** FFT of a real signal of length `size` through a complex FFT of size/2; bins 0..size/2. */
export class RealFft {
  readonly size: number;
  private readonly half: number;
  private readonly fft: ComplexFft;
  private readonly zr: Float64Array;
  private readonly zi: Float64Array;
  private readonly xr: Float64Array;
  private readonly xi: Float64Array;
  private readonly postCos: Float64Array;
  private readonly postSin: Float64Array;

  constructor(size: number) {
    checkPowerOfTwo(size, 4);
    this.size = size;
    const half = size >> 1;
    this.half = half;
    this.fft = new ComplexFft(half);
    this.zr = new Float64Array(half);
    this.zi = new Float64Array(half);
    this.xr = new Float64Array(half + 1);
    this.xi = new Float64Array(half + 1);
    this.postCos = new Float64Array(half + 1);
    this.postSin = new Float64Array(half + 1);
    for (let k = 0; k <= half; k++) {
      this.postCos[k] = Math.cos((2 * Math.PI * k) / size);
      this.postSin[k] = -Math.sin((2 * Math.PI * k) / size);
    }
  }

  /** X[k] for k = 0..size/2 of the real input (length `size`): real parts into `re`, imaginary into `im` (each size/2 + 1). */
  forward(input: Float64Array, re: Float64Array, im: Float64Array): void {
    const half = this.half;
    const zr = this.zr;
    const zi = this.zi;
    const rev = this.fft.bitReversal;
    for (let i = 0; i < half; i++) {
      const j = rev[i]!;
      zr[j] = input[2 * i]!;
      zi[j] = input[2 * i + 1]!;
    }
    this.fft.transformBitReversed(zr, zi);
    // Unpack: X[k] = E[k] + W^k O[k], with E/O the spectra of the even/odd samples.
    const postCos = this.postCos;
    const postSin = this.postSin;
    for (let k = 0; k <= half; k++) {
      const k1 = k === half ? 0 : k;
      const k2 = k === 0 ? 0 : half - k;
      const ar = zr[k1]!;
      const ai = zi[k1]!;
      const cr = zr[k2]!;
      const ci = -zi[k2]!;
      const er = 0.5 * (ar + cr);
      const ei = 0.5 * (ai + ci);
      // O[k] = (Z[k] - conj(Z[N/2-k])) / (2i)
      const or = 0.5 * (ai - ci);
      const oi = -0.5 * (ar - cr);
      const wr = postCos[k]!;
      const wi = postSin[k]!;
      re[k] = er + or * wr - oi * wi;
      im[k] = ei + or * wi + oi * wr;
    }
  }

  /** |X[k]|² for k = 0..size/2 of the real input (length `size`), written into `out` (length size/2 + 1). */
  powerSpectrum(input: Float64Array, out: Float64Array): void {
    const xr = this.xr;
    const xi = this.xi;
    this.forward(input, xr, xi);
    for (let k = 0; k <= this.half; k++) out[k] = xr[k]! * xr[k]! + xi[k]! * xi[k]!;
  }
}

/**
 * FFT of a real, even sequence of length `size` (x[size - j] = x[j]), given by its first size/2 + 1
 * values. The transform is real and even as well (a DCT-I); it is computed through a real FFT of
 * size/2 (the z[j] = (x[j] + x[n-j])/2 - sin(πj/n)(x[j] - x[n-j]) folding, n = size/2).
 */
export class EvenRealFft {
  readonly size: number;
  private readonly n: number;
  private readonly fft: RealFft;
  private readonly z: Float64Array;
  private readonly zr: Float64Array;
  private readonly zi: Float64Array;
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;

  constructor(size: number) {
    checkPowerOfTwo(size, 8);
    this.size = size;
    const n = size >> 1;
    this.n = n;
    this.fft = new RealFft(n);
    this.z = new Float64Array(n);
    this.zr = new Float64Array((n >> 1) + 1);
    this.zi = new Float64Array((n >> 1) + 1);
    this.cos = new Float64Array(n >> 1);
    this.sin = new Float64Array(n >> 1);
    for (let j = 0; j < n >> 1; j++) {
      this.cos[j] = Math.cos((Math.PI * j) / n);
      this.sin[j] = Math.sin((Math.PI * j) / n);
    }
  }

  /** X[m] for m = 0..size/2 (all real) from x[0..size/2], written into `out` (length size/2 + 1). */
  transform(x: Float64Array, out: Float64Array): void {
    const n = this.n;
    const z = this.z;
    // With C[m] = X[m] / 2: C[2k] = Re Z[k], C[2k+1] = C[2k-1] - Im Z[k], and C[1] summed directly.
    let c1 = 0.5 * (x[0]! - x[n]!);
    z[0] = 0.5 * (x[0]! + x[n]!);
    z[n >> 1] = x[n >> 1]!;
    for (let j = 1; j < n >> 1; j++) {
      const a = x[j]!;
      const b = x[n - j]!;
      const s = 0.5 * (a + b);
      const d = a - b;
      const t = this.sin[j]! * d;
      z[j] = s - t;
      z[n - j] = s + t;
      c1 += this.cos[j]! * d;
    }
    const zr = this.zr;
    const zi = this.zi;
    this.fft.forward(z, zr, zi);
    for (let k = 0; k <= n >> 1; k++) out[2 * k] = 2 * zr[k]!;
    let c = c1;
    out[1] = 2 * c;
    for (let k = 1; k < n >> 1; k++) {
      c -= zi[k]!;
      out[2 * k + 1] = 2 * c;
    }
  }
}
