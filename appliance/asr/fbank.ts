/**
 * Streaming Kaldi-compatible log-mel filterbank (the contract of the model card, as computed by
 * kaldi-native-fbank inside sherpa-onnx): 25 ms povey window, 10 ms shift, snip_edges = false
 * (frame f is centred at sample 160·f + 80, samples before the start and, on flush, after the end
 * are reflected), DC removal, pre-emphasis 0.97, 512-point power spectrum, 80 triangular mel bins
 * from 20 Hz to Nyquist - 400 Hz, natural log floored at float32 epsilon. No dither, no CMVN.
 *
 * Frames land in a bounded buffer the encoder reads chunk by chunk; `acceptWaveform` allocates
 * nothing. Arithmetic is done in float64 and stored as float32.
 */
import { RealFft } from '../dsp/fft.js';

export interface FbankOptions {
  readonly sampleRateHz: number;
  readonly numBins: number;
  readonly frameLengthMs: number;
  readonly frameShiftMs: number;
  readonly lowFreqHz: number;
  /** Upper edge; <= 0 means Nyquist + highFreqHz (Kaldi convention, -400 here). */
  readonly highFreqHz: number;
  readonly preemphasis: number;
  /** Capacity of the frame buffer, in frames. */
  readonly maxFrames: number;
  /** Largest block of samples accepted in one call. */
  readonly maxBlockSamples: number;
}

export const DEFAULT_FBANK_OPTIONS: FbankOptions = {
  sampleRateHz: 16000,
  numBins: 80,
  frameLengthMs: 25,
  frameShiftMs: 10,
  lowFreqHz: 20,
  highFreqHz: -400,
  preemphasis: 0.97,
  maxFrames: 400,
  maxBlockSamples: 4096,
};

const FLOAT_EPSILON = 1.1920928955078125e-7;
/** Mel filters are the same for every stream: build them once per configuration. */
const MEL_CACHE = new Map<string, readonly MelBin[]>();

interface MelBin {
  readonly first: number;
  readonly weights: Float64Array;
}

export class OnlineFbank {
  readonly numBins: number;
  readonly frameShift: number;
  readonly frameLength: number;
  private readonly fft: RealFft;
  private readonly window: Float64Array;
  private readonly mel: readonly MelBin[];
  private readonly preemph: number;
  // waveform remainder: wave[0] is absolute sample waveStart
  private readonly wave: Float32Array;
  private waveStart = 0;
  private waveLen = 0;
  private totalSamples = 0;
  private finished = false;
  // frame buffer: frames[frameStart .. frameStart + frameCount)
  private readonly frames: Float32Array;
  private readonly maxFrames: number;
  private frameStart = 0;
  private frameCount = 0;
  private readonly maxBlock: number;
  // scratch
  private readonly frameBuf: Float64Array;
  private readonly power: Float64Array;

  constructor(options: Partial<FbankOptions> = {}) {
    const o = { ...DEFAULT_FBANK_OPTIONS, ...options };
    this.numBins = o.numBins;
    this.frameShift = Math.round((o.sampleRateHz * o.frameShiftMs) / 1000);
    this.frameLength = Math.round((o.sampleRateHz * o.frameLengthMs) / 1000);
    let padded = 1;
    while (padded < this.frameLength) padded <<= 1;
    this.fft = new RealFft(padded);
    this.preemph = o.preemphasis;
    this.window = new Float64Array(this.frameLength);
    const a = (2 * Math.PI) / (this.frameLength - 1);
    for (let i = 0; i < this.frameLength; i++) this.window[i] = Math.pow(0.5 - 0.5 * Math.cos(a * i), 0.85);
    const melKey = `${o.numBins}/${padded}/${o.sampleRateHz}/${o.lowFreqHz}/${o.highFreqHz}`;
    let mel = MEL_CACHE.get(melKey);
    if (mel === undefined) {
      mel = melBanks(o.numBins, padded, o.sampleRateHz, o.lowFreqHz, o.highFreqHz);
      MEL_CACHE.set(melKey, mel);
    }
    this.mel = mel;
    this.maxBlock = o.maxBlockSamples;
    this.wave = new Float32Array(this.frameLength + this.maxBlock + this.frameShift);
    this.maxFrames = o.maxFrames;
    this.frames = new Float32Array(o.maxFrames * o.numBins);
    this.frameBuf = new Float64Array(padded);
    this.power = new Float64Array(padded / 2 + 1);
  }

  /** Frames computed so far (absolute count since the start or the last reset). */
  get numFramesReady(): number {
    return this.frameStart + this.frameCount;
  }

  /** Index of the oldest frame still held. */
  get firstFrameHeld(): number {
    return this.frameStart;
  }

  /** Frames held in the buffer. */
  get framesHeld(): number {
    return this.frameCount;
  }

  /** Room left in the frame buffer, in frames. */
  get framesFree(): number {
    return this.maxFrames - this.frameCount;
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /** Samples accepted since the start or the last reset. */
  get samplesAccepted(): number {
    return this.totalSamples;
  }

  /**
   * Feed samples scaled to [-1, 1]. Blocks longer than maxBlockSamples are split. Throws a
   * RangeError if the frame buffer would overflow: the caller consumes frames first.
   */
  acceptWaveform(samples: Float32Array): void {
    if (this.finished) throw new Error('acceptWaveform after inputFinished');
    for (let off = 0; off < samples.length; off += this.maxBlock) {
      const block = samples.subarray(off, Math.min(samples.length, off + this.maxBlock));
      const newFrames = Math.ceil(block.length / this.frameShift) + 1;
      if (newFrames > this.framesFree) throw new RangeError('fbank frame buffer full');
      this.wave.set(block, this.waveLen);
      this.waveLen += block.length;
      this.totalSamples += block.length;
      this.computeFrames(false);
    }
  }

  /** End of input: compute the last frames, reflecting the signal at its end (Kaldi flush). */
  inputFinished(): void {
    if (this.finished) return;
    this.finished = true;
    this.computeFrames(true);
  }

  /** Copy frames [from, from + count) into `out` (row-major, numBins per frame). */
  readFrames(from: number, count: number, out: Float32Array): void {
    if (from < this.frameStart || from + count > this.frameStart + this.frameCount) {
      throw new RangeError(`frames ${from}..${from + count} not held (${this.frameStart}..${this.numFramesReady})`);
    }
    const start = (from - this.frameStart) * this.numBins;
    out.set(this.frames.subarray(start, start + count * this.numBins));
  }

  /** Forget frames before `frame` (they have been consumed). */
  discardBefore(frame: number): void {
    const n = Math.min(this.frameCount, frame - this.frameStart);
    if (n <= 0) return;
    this.frames.copyWithin(0, n * this.numBins, this.frameCount * this.numBins);
    this.frameStart += n;
    this.frameCount -= n;
  }

  /** Start a new signal: frame and sample counters go back to zero. */
  reset(): void {
    this.waveStart = 0;
    this.waveLen = 0;
    this.totalSamples = 0;
    this.finished = false;
    this.frameStart = 0;
    this.frameCount = 0;
  }

  private firstSample(frame: number): number {
    return frame * this.frameShift + (this.frameShift >> 1) - (this.frameLength >> 1);
  }

  private targetFrames(flush: boolean): number {
    const n = this.totalSamples;
    let frames = Math.floor((n + (this.frameShift >> 1)) / this.frameShift);
    if (flush) return frames;
    while (frames > 0 && this.firstSample(frames - 1) + this.frameLength > n) frames--;
    return frames;
  }

  private computeFrames(flush: boolean): void {
    const target = this.targetFrames(flush);
    for (let f = this.numFramesReady; f < target; f++) this.computeFrame(f);
    // Keep the samples from the first sample of the next frame on.
    const keepFrom = Math.max(0, this.firstSample(target));
    const drop = Math.min(this.waveLen, keepFrom - this.waveStart);
    if (drop > 0) {
      this.wave.copyWithin(0, drop, this.waveLen);
      this.waveLen -= drop;
      this.waveStart += drop;
    }
  }

  private computeFrame(f: number): void {
    const len = this.frameLength;
    const buf = this.frameBuf;
    const start = this.firstSample(f);
    const n = this.totalSamples;
    let sum = 0;
    if (start >= 0 && start + len <= n) {
      // the whole frame is inside the signal (every frame but the first and a flushed last few)
      const wave = this.wave;
      const from = start - this.waveStart;
      for (let i = 0; i < len; i++) {
        const v = wave[from + i]!;
        buf[i] = v;
        sum += v;
      }
    } else {
      for (let i = 0; i < len; i++) {
        let s = start + i;
        while (s < 0 || s >= n) s = s < 0 ? -s - 1 : 2 * n - 1 - s;
        const v = this.wave[s - this.waveStart]!;
        buf[i] = v;
        sum += v;
      }
    }
    // DC removal, pre-emphasis and the window in one backward pass: each sample is taken with its
    // predecessor's DC-removed value before that one is changed, as in three separate passes
    const mean = sum / len;
    const preemph = this.preemph;
    const window = this.window;
    for (let i = len - 1; i > 0; i--) buf[i] = (buf[i]! - mean - preemph * (buf[i - 1]! - mean)) * window[i]!;
    const first = buf[0]! - mean;
    buf[0] = (first - preemph * first) * window[0]!;
    buf.fill(0, len);
    this.fft.powerSpectrum(buf, this.power);
    const out = this.frameCount * this.numBins;
    for (let b = 0; b < this.numBins; b++) {
      const bin = this.mel[b]!;
      let e = 0;
      const w = bin.weights;
      for (let j = 0; j < w.length; j++) e += w[j]! * this.power[bin.first + j]!;
      this.frames[out + b] = Math.log(e < FLOAT_EPSILON ? FLOAT_EPSILON : e);
    }
    this.frameCount++;
  }
}

function melScale(hz: number): number {
  return 1127 * Math.log(1 + hz / 700);
}

/** Kaldi's triangular mel filters over FFT bins 0 .. padded/2 - 1. */
function melBanks(numBins: number, padded: number, rate: number, low: number, high: number): MelBin[] {
  const nyquist = rate / 2;
  const highHz = high <= 0 ? nyquist + high : high;
  const numFftBins = padded / 2;
  const binWidth = rate / padded;
  const melLow = melScale(low);
  const melHigh = melScale(highHz);
  const delta = (melHigh - melLow) / (numBins + 1);
  const bins: MelBin[] = [];
  for (let b = 0; b < numBins; b++) {
    const left = melLow + b * delta;
    const center = left + delta;
    const right = center + delta;
    let first = -1;
    let last = -1;
    const w = new Float64Array(numFftBins);
    for (let i = 0; i < numFftBins; i++) {
      const mel = melScale(binWidth * i);
      if (mel > left && mel < right) {
        w[i] = mel <= center ? (mel - left) / (center - left) : (right - mel) / (right - center);
        if (first < 0) first = i;
        last = i;
      }
    }
    if (first < 0) throw new RangeError(`mel bin ${b} is empty; too many bins for the FFT size`);
    bins.push({ first, weights: w.slice(first, last + 1) });
  }
  return bins;
}
