/**
 * The appliance's one resampler: band-limited rational resampling (polyphase windowed sinc,
 * Blackman window, 16 zero crossings each side, cutoff at 97 % of the lower Nyquist frequency, so
 * downsampling is anti-aliased). Output sample n sits exactly at input time n·M/L (zero phase), so
 * word timings do not shift.
 *
 * Two ways to call it, one filter behind both:
 * - `StreamingResampler` for audio that arrives in pieces (ASR streams, the RTP player). Its price
 *   is a look-ahead of `halfWidth` input samples, which `flush()` releases by feeding zeros. All
 *   buffers are allocated once, in the constructor.
 * - `resample()` for a whole signal at once (emotion features, model training).
 *
 * The filter is the one the shipped emotion model's features were computed with: `resample()`
 * reproduces those features bit for bit, so changing the design below means retraining that model.
 */
import { evxError } from '../errors.js';

export const ASR_SAMPLE_RATE_HZ = 16000;

/** Largest block `process()` accepts in one call; longer inputs are split internally. */
const MAX_BLOCK_SAMPLES = 4096;
/** Zero crossings of the sinc on each side of the centre (quality vs. cost). */
const HALF_ZERO_CROSSINGS = 16;
/** Passband edge as a fraction of the lower Nyquist frequency (anti-aliasing margin). */
const ROLLOFF = 0.97;
/** Most filter phases (the reduced output/input ratio's numerator L) a rate pair may need. */
const MAX_PHASES = 4096;

export class StreamingResampler {
  readonly inRateHz: number;
  readonly outRateHz: number;
  private readonly up: number;
  private readonly down: number;
  /** Input samples each side of an output instant that the taps reach (integer, > the filter's reach). */
  private readonly halfWidth: number;
  /** taps[p * 2W + i]: weight of input sample k - W + 1 + i for output phase p. */
  private readonly taps: Float32Array;
  private readonly buf: Float32Array;
  /** Absolute input index of buf[0]. */
  private bufStart = 0;
  /** Number of valid samples in buf. */
  private bufLen = 0;
  /** Real (non-padding) input samples received. */
  private realIn = 0;
  /** Next output index. */
  private nextOut = 0;

  constructor(inRateHz: number, outRateHz: number = ASR_SAMPLE_RATE_HZ) {
    if (!Number.isInteger(inRateHz) || !Number.isInteger(outRateHz) || inRateHz <= 0 || outRateHz <= 0) {
      throw evxError('EVX_ERR_AUDIO_FORMAT', `cannot resample ${inRateHz} Hz to ${outRateHz} Hz`);
    }
    const g = gcd(inRateHz, outRateHz);
    this.inRateHz = inRateHz;
    this.outRateHz = outRateHz;
    this.up = outRateHz / g;
    this.down = inRateHz / g;
    if (this.up > MAX_PHASES) {
      throw evxError('EVX_ERR_AUDIO_FORMAT', `resampling ratio ${outRateHz}/${inRateHz} is too fine (${this.up} phases)`);
    }
    const cutoff = Math.min(1, outRateHz / inRateHz) * ROLLOFF; // fraction of the input Nyquist
    const reach = HALF_ZERO_CROSSINGS / cutoff; // input samples; not an integer in general
    this.halfWidth = this.up === this.down ? 0 : Math.floor(reach) + 1;
    this.taps = designTaps(this.up, this.halfWidth, cutoff, reach);
    this.buf = new Float32Array(MAX_BLOCK_SAMPLES + 4 * this.halfWidth + 8);
    this.reset();
  }

  /** True when input and output rates match (samples are copied through). */
  get passthrough(): boolean {
    return this.up === this.down;
  }

  /** Most output samples `process(input)` of this length can produce (size the output buffer with it). */
  maxOutput(inputLength: number): number {
    return Math.ceil(((inputLength + 2 * this.halfWidth + 2) * this.up) / this.down) + 1;
  }

  /** Output samples whose whole output period lies inside `inputLength` input samples: floor(length·L/M). */
  wholeOutputs(inputLength: number): number {
    return Math.floor((inputLength * this.up) / this.down);
  }

  /** Resample `input`; writes into `output` and returns the number of samples written. */
  process(input: Float32Array, output: Float32Array): number {
    if (output.length < this.maxOutput(input.length) && !(this.passthrough && output.length >= input.length)) {
      throw new RangeError(`resampler output buffer of ${output.length} < ${this.maxOutput(input.length)} samples`);
    }
    if (this.passthrough) {
      output.set(input);
      this.realIn += input.length;
      return input.length;
    }
    let written = 0;
    for (let off = 0; off < input.length; off += MAX_BLOCK_SAMPLES) {
      const block = input.subarray(off, Math.min(input.length, off + MAX_BLOCK_SAMPLES));
      this.append(block);
      this.realIn += block.length;
      written += this.drain(output, written, Number.POSITIVE_INFINITY);
    }
    return written;
  }

  /** Emit the samples held back for look-ahead; call once at end of input. Returns the count. */
  flush(output: Float32Array): number {
    if (this.passthrough) return 0;
    const lastOut = Math.ceil((this.realIn * this.up) / this.down); // outputs covering real input
    const zeros = new Float32Array(this.halfWidth + 1);
    this.append(zeros);
    return this.drain(output, 0, lastOut);
  }

  reset(): void {
    this.buf.fill(0);
    // Start with halfWidth zeros of history so the first outputs see silence before the signal.
    this.bufStart = -this.halfWidth;
    this.bufLen = this.halfWidth;
    this.realIn = 0;
    this.nextOut = 0;
  }

  private append(block: Float32Array): void {
    this.buf.set(block, this.bufLen);
    this.bufLen += block.length;
  }

  private drain(output: Float32Array, at: number, limit: number): number {
    const w = this.halfWidth;
    const twoW = 2 * w;
    const end = this.bufStart + this.bufLen; // absolute index one past the last buffered sample
    // locals: the hot loop below must not reload fields (same arithmetic, same order)
    const taps = this.taps;
    const buf = this.buf;
    const up = this.up;
    const down = this.down;
    const bufStart = this.bufStart;
    let n = this.nextOut;
    let written = 0;
    for (;;) {
      if (n >= limit) break;
      const num = n * down;
      const k = Math.floor(num / up);
      if (k + w >= end) break;
      const p = num - k * up;
      const base = k - w + 1 - bufStart;
      const t0 = p * twoW;
      let acc = 0;
      for (let i = 0; i < twoW; i++) acc += taps[t0 + i]! * buf[base + i]!;
      output[at + written++] = acc;
      n++;
    }
    this.nextOut = n;
    // Drop input no future output needs.
    const keepFrom = Math.floor((n * this.down) / this.up) - w + 1;
    const drop = Math.max(0, Math.min(this.bufLen, keepFrom - this.bufStart));
    if (drop > 0) {
      this.buf.copyWithin(0, drop, this.bufLen);
      this.bufLen -= drop;
      this.bufStart += drop;
    }
    return written;
  }
}

/**
 * Resample a whole signal from `fromHz` to `toHz` (integer rates), treating it as silence before
 * and after; returns `input` itself when the rates match. Keeps floor(length·L/M) samples, the
 * length the emotion features were computed with.
 */
export function resample(input: Float32Array, fromHz: number, toHz: number): Float32Array {
  const resampler = new StreamingResampler(fromHz, toHz);
  if (resampler.passthrough) return input;
  const out = new Float32Array(resampler.maxOutput(input.length));
  const n = resampler.process(input, out);
  resampler.flush(out.subarray(n));
  return out.slice(0, resampler.wholeOutputs(input.length));
}

/**
 * Per-phase taps, each phase normalised to unit DC gain. Phase p is the output instant p/L of an
 * input period; its tap i weighs input sample (k - W + 1 + i) at distance d = i - W + 1 - p/L.
 * Taps beyond the filter's reach stay exactly 0, so the sums over 2W taps equal the sums over the
 * reach alone, term for term and in the same order (what keeps the emotion features bit-exact).
 */
function designTaps(up: number, halfWidth: number, cutoff: number, reach: number): Float32Array {
  const w = halfWidth;
  const taps = new Float32Array(Math.max(1, up * 2 * w));
  for (let p = 0; p < up && w > 0; p++) {
    const frac = p / up;
    const first = Math.ceil(frac - reach);
    const last = Math.floor(frac + reach);
    let norm = 0;
    for (let i = 0; i < 2 * w; i++) {
      const j = i - w + 1;
      if (j < first || j > last) continue;
      const v = windowedSinc(j - frac, cutoff, reach);
      taps[p * 2 * w + i] = v;
      norm += v;
    }
    for (let i = 0; i < 2 * w; i++) taps[p * 2 * w + i] = taps[p * 2 * w + i]! / norm;
  }
  return taps;
}

/** Blackman-windowed sinc low-pass; `cutoff` is a fraction of the input Nyquist, support |d| <= reach. */
function windowedSinc(d: number, cutoff: number, reach: number): number {
  const x = d * cutoff;
  const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
  const window = 0.42 + 0.5 * Math.cos((Math.PI * d) / reach) + 0.08 * Math.cos((2 * Math.PI * d) / reach);
  return sinc * window;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
