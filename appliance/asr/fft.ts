/**
 * Power spectrum of a real signal through a half-size complex radix-2 FFT (the usual "two reals
 * in one complex" packing). Twiddles and the bit-reversal table are computed once per size; a
 * call allocates nothing.
 */
export class RealFft {
  readonly size: number;
  private readonly half: number;
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private readonly cosTable: Float64Array;
  private readonly sinTable: Float64Array;
  private readonly postCos: Float64Array;
  private readonly postSin: Float64Array;
  private readonly bitrev: Uint32Array;

  constructor(size: number) {
    if (size < 4 || (size & (size - 1)) !== 0) throw new RangeError(`FFT size ${size} is not a power of two >= 4`);
    this.size = size;
    const half = size >> 1;
    this.half = half;
    this.re = new Float64Array(half);
    this.im = new Float64Array(half);
    this.cosTable = new Float64Array(half >> 1);
    this.sinTable = new Float64Array(half >> 1);
    for (let i = 0; i < half >> 1; i++) {
      this.cosTable[i] = Math.cos((2 * Math.PI * i) / half);
      this.sinTable[i] = -Math.sin((2 * Math.PI * i) / half);
    }
    this.postCos = new Float64Array(half + 1);
    this.postSin = new Float64Array(half + 1);
    for (let k = 0; k <= half; k++) {
      this.postCos[k] = Math.cos((2 * Math.PI * k) / size);
      this.postSin[k] = -Math.sin((2 * Math.PI * k) / size);
    }
    this.bitrev = new Uint32Array(half);
    const bits = Math.log2(half);
    for (let i = 0; i < half; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.bitrev[i] = r;
    }
  }

  /** |X[k]|² for k = 0..size/2 of the real input (length `size`), written into `out` (length size/2 + 1). */
  powerSpectrum(input: Float64Array, out: Float64Array): void {
    const half = this.half;
    const re = this.re;
    const im = this.im;
    for (let i = 0; i < half; i++) {
      const j = this.bitrev[i]!;
      re[j] = input[2 * i]!;
      im[j] = input[2 * i + 1]!;
    }
    for (let len = 2; len <= half; len <<= 1) {
      const step = half / len;
      const h = len >> 1;
      for (let start = 0; start < half; start += len) {
        for (let j = 0; j < h; j++) {
          const wr = this.cosTable[j * step]!;
          const wi = this.sinTable[j * step]!;
          const a = start + j;
          const b = a + h;
          const tr = re[b]! * wr - im[b]! * wi;
          const ti = re[b]! * wi + im[b]! * wr;
          re[b] = re[a]! - tr;
          im[b] = im[a]! - ti;
          re[a] = re[a]! + tr;
          im[a] = im[a]! + ti;
        }
      }
    }
    // Unpack: X[k] = E[k] + W^k O[k], with E/O the spectra of the even/odd samples.
    for (let k = 0; k <= half; k++) {
      const k1 = k === half ? 0 : k;
      const k2 = k === 0 ? 0 : half - k;
      const zr = re[k1]!;
      const zi = im[k1]!;
      const cr = re[k2]!;
      const ci = -im[k2]!;
      const er = 0.5 * (zr + cr);
      const ei = 0.5 * (zi + ci);
      // O[k] = (Z[k] - conj(Z[N/2-k])) / (2i)
      const dr = zr - cr;
      const di = zi - ci;
      const or = 0.5 * di;
      const oi = -0.5 * dr;
      const wr = this.postCos[k]!;
      const wi = this.postSin[k]!;
      const xr = er + or * wr - oi * wi;
      const xi = ei + or * wi + oi * wr;
      out[k] = xr * xr + xi * xi;
    }
  }
}
