/**
 * Utterance-level acoustic features for the emotion model (the same code at training and run time).
 *
 * Everything is computed on 8 kHz audio in the 100-3800 Hz band, so a wide-band (16 kHz) microphone
 * and a G.711 telephone leg see the same feature space. The signal is first gain-normalised (its
 * 95th-percentile frame RMS is set to a fixed level): caller level depends on the handset and
 * the network, not on emotion, so only relative energy is used.
 *
 * Frames: 25 ms / 10 ms hop (spectral), 40 ms windows at the same hop for pitch.
 * Groups: duration; energy dynamics; pitch (autocorrelation, 50-500 Hz) statistics in semitones;
 * spectral shape (centroid, tilt, Hammarberg index, flatness, roll-off, flux); voiced/unvoiced run
 * lengths; MFCC 0-12 means and deviations, delta-MFCC deviations and log-mel relative means and
 * deviations over active frames. No feature depends on the absolute level.
 */
import { resample } from '../audio/resample.js';
import { evxError } from '../errors.js';
import { EvenRealFft, RealFft } from '../dsp/fft.js';

export const EMOTION_FEATURE_SCHEME = 'edgevox-emotion-prosody-v3';
export const FEATURE_SAMPLE_RATE_HZ = 8000;
/** Shortest utterance the features are defined for. */
export const MIN_UTTERANCE_MS = 300;

const FRAME = 200; // 25 ms
const HOP = 80; // 10 ms
const NFFT = 256;
const PITCH_FRAME = 320; // 40 ms
const PITCH_NFFT = 512;
const MIN_LAG = 16; // 500 Hz
const MAX_LAG = 160; // 50 Hz
/** Zeros each side of the normalised signal, so every pitch window (centred on a frame) lies inside it. */
const PAD = (PITCH_FRAME - FRAME) / 2;
const N_MEL = 24;
const MEL_LO_HZ = 100;
const MEL_HI_HZ = 3800;
const N_MFCC = 13;
const ACTIVE_DB = 35; // frames within this many dB of the loudest frame are "active"
const VOICING_THRESHOLD = 0.5;
const TARGET_RMS = 0.1;

const BASE_NAMES = [
  'log_duration_s',
  'energy_std_db',
  'energy_range_db',
  'energy_delta_abs_db',
  'energy_peak_rate_hz',
  'active_ratio',
  'f0_voiced_ratio',
  'f0_mean_st',
  'f0_std_st',
  'f0_p10_st',
  'f0_p50_st',
  'f0_p90_st',
  'f0_range_st',
  'f0_slope_st_per_s',
  'f0_delta_abs_st',
  'voicing_strength',
  'centroid_mean_khz',
  'centroid_std_khz',
  'tilt_mean_db',
  'tilt_std_db',
  'flatness_mean',
  'rolloff_mean_khz',
  'flux_mean',
  'hammarberg_db',
  'voiced_segment_mean_s',
  'unvoiced_segment_mean_s',
  'shimmer_db',
  'energy_p90_rel_db',
] as const;

/** Names of the features, in vector order (stored in the model metadata and checked at load). */
export function emotionFeatureNames(): string[] {
  const names: string[] = [...BASE_NAMES];
  for (let i = 0; i < N_MFCC; i++) names.push(`mfcc${i}_mean`);
  for (let i = 0; i < N_MFCC; i++) names.push(`mfcc${i}_std`);
  for (let i = 1; i < N_MFCC; i++) names.push(`dmfcc${i}_std`);
  for (let i = 0; i < N_MEL; i++) names.push(`logmel${i}_rel_mean`);
  for (let i = 0; i < N_MEL; i++) names.push(`logmel${i}_std`);
  return names;
}

/** Convert any PCM input to float 8 kHz mono in [-1, 1). */
export function toFeatureRate(pcm: Float32Array | Int16Array, sampleRateHz: number): Float32Array {
  if (!Number.isInteger(sampleRateHz) || sampleRateHz < 8000 || sampleRateHz > 192000) {
    throw evxError('EVX_ERR_AUDIO_FORMAT', `unsupported sample rate ${sampleRateHz} Hz (8000-192000)`, {
      details: { sampleRateHz },
    });
  }
  let f: Float32Array;
  if (pcm instanceof Int16Array) {
    f = new Float32Array(pcm.length);
    for (let i = 0; i < pcm.length; i++) f[i] = pcm[i]! / 32768;
  } else f = pcm;
  return resample(f, sampleRateHz, FEATURE_SAMPLE_RATE_HZ);
}

function hz2mel(hz: number): number {
  return 2595 * Math.log10(1 + hz / 700);
}
function mel2hz(mel: number): number {
  return 700 * (Math.pow(10, mel / 2595) - 1);
}

/** Extracts the feature vector; reuses its FFT plans and tables. Not re-entrant. */
export class EmotionFeaturizer {
  readonly names: readonly string[] = emotionFeatureNames();
  private readonly fft = new RealFft(NFFT);
  private readonly pitchFft = new RealFft(PITCH_NFFT);
  private readonly acfFft = new EvenRealFft(PITCH_NFFT);
  private readonly window = new Float64Array(FRAME);
  private readonly pitchWindow = new Float64Array(PITCH_FRAME);
  private readonly windowAcf = new Float64Array(MAX_LAG + 2);
  /** windowAcf[lag] / windowAcf[0]: the window's own autocorrelation, to undo its taper per lag. */
  private readonly windowAcfNorm = new Float64Array(MAX_LAG + 2);
  private readonly melWeights: Float64Array[] = [];
  private readonly melStart = new Int32Array(N_MEL);
  private readonly dct: Float64Array;
  private readonly emphasis = new Float64Array(NFFT / 2 + 1);
  // Scratch. The two frame buffers are zero beyond the frame, and only the frame part is rewritten.
  private readonly frameBuf = new Float64Array(NFFT);
  private readonly pitchBuf = new Float64Array(PITCH_NFFT);
  private readonly pitchPower = new Float64Array(PITCH_NFFT / 2 + 1);
  private readonly acf = new Float64Array(PITCH_NFFT / 2 + 1);
  private readonly acfNorm = new Float64Array(MAX_LAG + 2);

  constructor() {
    for (let i = 0; i < FRAME; i++) this.window[i] = 0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (FRAME - 1));
    for (let i = 0; i < PITCH_FRAME; i++) this.pitchWindow[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (PITCH_FRAME - 1));
    for (let lag = 0; lag < this.windowAcf.length; lag++) {
      let s = 0;
      for (let i = 0; i + lag < PITCH_FRAME; i++) s += this.pitchWindow[i]! * this.pitchWindow[i + lag]!;
      this.windowAcf[lag] = s;
    }
    for (let lag = 0; lag < this.windowAcf.length; lag++) this.windowAcfNorm[lag] = this.windowAcf[lag]! / this.windowAcf[0]!;
    const bins = NFFT / 2 + 1;
    const binHz = FEATURE_SAMPLE_RATE_HZ / NFFT;
    const lo = hz2mel(MEL_LO_HZ);
    const hi = hz2mel(MEL_HI_HZ);
    const centers: number[] = [];
    for (let m = 0; m < N_MEL + 2; m++) centers.push(mel2hz(lo + ((hi - lo) * m) / (N_MEL + 1)));
    for (let m = 0; m < N_MEL; m++) {
      const [l, c, r] = [centers[m]!, centers[m + 1]!, centers[m + 2]!];
      const first = Math.ceil(l / binHz);
      const last = Math.floor(r / binHz);
      const w = new Float64Array(Math.max(0, last - first + 1));
      for (let b = first; b <= last; b++) {
        const hz = b * binHz;
        w[b - first] = hz <= c ? (hz - l) / (c - l) : (r - hz) / (r - c);
      }
      this.melStart[m] = first;
      this.melWeights.push(w);
    }
    this.dct = new Float64Array(N_MFCC * N_MEL);
    for (let k = 0; k < N_MFCC; k++) {
      for (let m = 0; m < N_MEL; m++) {
        this.dct[k * N_MEL + m] = Math.sqrt(2 / N_MEL) * Math.cos((Math.PI * k * (m + 0.5)) / N_MEL);
      }
    }
    // Pre-emphasis 1 - 0.97 z^-1 applied as a power weighting on the spectrum.
    for (let b = 0; b < bins; b++) {
      const w = (2 * Math.PI * b) / NFFT;
      this.emphasis[b] = 1 + 0.97 * 0.97 - 2 * 0.97 * Math.cos(w);
    }
  }

  /** Features of one utterance given as 8 kHz float PCM (see `toFeatureRate`). */
  extract(input8k: Float32Array): Float32Array {
    const minSamples = (MIN_UTTERANCE_MS * FEATURE_SAMPLE_RATE_HZ) / 1000;
    if (input8k.length < minSamples) {
      throw evxError(
        'EVX_ERR_EMOTION_AUDIO_TOO_SHORT',
        `utterance of ${Math.round(input8k.length / 8)} ms is shorter than ${MIN_UTTERANCE_MS} ms`,
        {
          details: { durationMs: Math.round(input8k.length / 8), minMs: MIN_UTTERANCE_MS },
        },
      );
    }
    const nFrames = Math.floor((input8k.length - FRAME) / HOP) + 1;
    const x = this.gainNormalised(input8k, nFrames); // PAD zeros, the signal, PAD zeros
    const bins = NFFT / 2 + 1;
    const binHz = FEATURE_SAMPLE_RATE_HZ / NFFT;

    const energyDb = new Float64Array(nFrames);
    const mfcc = new Float64Array(nFrames * N_MFCC);
    const centroid = new Float64Array(nFrames);
    const tilt = new Float64Array(nFrames);
    const flatness = new Float64Array(nFrames);
    const rolloff = new Float64Array(nFrames);
    const flux = new Float64Array(nFrames);
    const hammarberg = new Float64Array(nFrames);
    const melFrames = new Float64Array(nFrames * N_MEL);
    const spec = new Float64Array(bins);
    // sqrt of the band spectrum over its total, this frame's and the previous one's (for the flux).
    let shape = new Float64Array(bins);
    let prevShape = new Float64Array(bins);
    const logMel = new Float64Array(N_MEL);
    const loBin = Math.round(MEL_LO_HZ / binHz);
    const hiBin = Math.round(MEL_HI_HZ / binHz);
    const splitBin = Math.round(1000 / binHz);
    const hb = Math.round(2000 / binHz);
    const nBand = hiBin - loBin + 1;
    const frameBuf = this.frameBuf;
    const frameWindow = this.window;
    const emphasis = this.emphasis;
    const dct = this.dct;

    for (let f = 0; f < nFrames; f++) {
      const off = f * HOP;
      for (let i = 0; i < FRAME; i++) frameBuf[i] = x[PAD + off + i]! * frameWindow[i]!;
      this.fft.powerSpectrum(frameBuf, spec);
      let total = 0;
      let weighted = 0;
      let lo = 0;
      let hi = 0;
      let logSum = 0;
      let maxLo = 0;
      let maxHi = 0;
      for (let b = loBin; b <= hiBin; b++) {
        const p = spec[b]!;
        total += p;
        weighted += p * b * binHz;
        logSum += Math.log(p + 1e-12);
        if (b < splitBin) lo += p;
        else hi += p;
        if (b < hb) maxLo = Math.max(maxLo, p);
        else maxHi = Math.max(maxHi, p);
      }
      hammarberg[f] = 10 * Math.log10((maxLo + 1e-10) / (maxHi + 1e-10));
      energyDb[f] = 10 * Math.log10(total + 1e-10);
      centroid[f] = total > 0 ? weighted / total / 1000 : 0;
      tilt[f] = 10 * Math.log10((hi + 1e-10) / (lo + 1e-10));
      flatness[f] = Math.exp(logSum / nBand) / (total / nBand + 1e-12);
      let acc = 0;
      let rb = hiBin;
      for (let b = loBin; b <= hiBin; b++) {
        acc += spec[b]!;
        if (acc >= 0.85 * total) {
          rb = b;
          break;
        }
      }
      rolloff[f] = (rb * binHz) / 1000;
      // Flux on the normalised spectrum (shape change, not level change).
      const totalEps = total + 1e-12;
      for (let b = loBin; b <= hiBin; b++) shape[b] = Math.sqrt(spec[b]! / totalEps);
      let fl = 0;
      if (f > 0) {
        for (let b = loBin; b <= hiBin; b++) {
          const d = shape[b]! - prevShape[b]!;
          fl += d * d;
        }
      }
      flux[f] = fl;
      const swap = prevShape;
      prevShape = shape;
      shape = swap;
      for (let m = 0; m < N_MEL; m++) {
        const w = this.melWeights[m]!;
        const start = this.melStart[m]!;
        let s = 0;
        for (let i = 0; i < w.length; i++) s += w[i]! * spec[start + i]! * emphasis[start + i]!;
        logMel[m] = Math.log(s + 1e-8);
        melFrames[f * N_MEL + m] = logMel[m]!;
      }
      for (let k = 0; k < N_MFCC; k++) {
        let s = 0;
        for (let m = 0; m < N_MEL; m++) s += dct[k * N_MEL + m]! * logMel[m]!;
        mfcc[f * N_MFCC + k] = s;
      }
    }

    let maxDb = -Infinity;
    for (const e of energyDb) if (e > maxDb) maxDb = e;
    const active: number[] = [];
    for (let f = 0; f < nFrames; f++) if (energyDb[f]! > maxDb - ACTIVE_DB) active.push(f);

    // Pitch track on active frames.
    const f0 = new Float64Array(nFrames); // semitones re 100 Hz, NaN when unvoiced
    const strength = new Float64Array(nFrames);
    f0.fill(Number.NaN);
    const pitchBuf = this.pitchBuf;
    const pitchWindow = this.pitchWindow;
    const power = this.pitchPower;
    const acf = this.acf;
    const norm = this.acfNorm;
    for (const f of active) {
      // Centred on the frame's centre: PAD + f·HOP + FRAME/2 - PITCH_FRAME/2 in the padded signal.
      const start = f * HOP;
      let mean = 0;
      for (let i = 0; i < PITCH_FRAME; i++) mean += x[start + i]!;
      mean /= PITCH_FRAME;
      for (let i = 0; i < PITCH_FRAME; i++) pitchBuf[i] = (x[start + i]! - mean) * pitchWindow[i]!;
      this.pitchFft.powerSpectrum(pitchBuf, power);
      // The power spectrum is real and even: its transform, N times the autocorrelation, is too.
      this.acfFft.transform(power, acf);
      const r0 = acf[0]!;
      if (!(r0 > 0)) continue;
      let best = 0;
      for (let lag = MIN_LAG; lag <= MAX_LAG; lag++) {
        const vl = acf[lag]! / r0 / this.windowAcfNorm[lag]!;
        norm[lag] = vl;
        if (vl > best) best = vl;
      }
      if (best < VOICING_THRESHOLD) continue;
      // Shortest lag at a local peak within 90% of the best: guards against octave-down errors.
      let chosen = -1;
      for (let lag = MIN_LAG + 1; lag < MAX_LAG; lag++) {
        if (norm[lag]! >= norm[lag - 1]! && norm[lag]! >= norm[lag + 1]! && norm[lag]! >= 0.9 * best) {
          chosen = lag;
          break;
        }
      }
      if (chosen < 0) continue;
      const a = acf[chosen - 1]!;
      const b = acf[chosen]!;
      const c = acf[chosen + 1]!;
      const denom = a - 2 * b + c;
      const shift = denom !== 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / denom)) : 0;
      const hz = FEATURE_SAMPLE_RATE_HZ / (chosen + shift);
      f0[f] = 12 * Math.log2(hz / 100);
      strength[f] = Math.min(1, best);
    }
    medianSmooth(f0);

    const out = new Float32Array(this.names.length);
    let o = 0;
    const put = (v: number): void => {
      out[o++] = Number.isFinite(v) ? v : 0;
    };
    const durationS = input8k.length / FEATURE_SAMPLE_RATE_HZ;
    put(Math.log(durationS));

    const actE = active.map((f) => energyDb[f]!);
    put(std(actE));
    put(percentile(actE, 0.9) - percentile(actE, 0.1));
    put(meanAbsDelta(energyDb, active));
    put(peakRate(energyDb, maxDb, durationS));
    put(active.length / nFrames);

    const voiced: number[] = [];
    const voicedT: number[] = [];
    for (let f = 0; f < nFrames; f++) {
      if (!Number.isNaN(f0[f]!)) {
        voiced.push(f0[f]!);
        voicedT.push((f * HOP) / FEATURE_SAMPLE_RATE_HZ);
      }
    }
    put(voiced.length / Math.max(1, active.length));
    if (voiced.length >= 3) {
      put(mean(voiced));
      put(std(voiced));
      put(percentile(voiced, 0.1));
      put(percentile(voiced, 0.5));
      put(percentile(voiced, 0.9));
      put(percentile(voiced, 0.9) - percentile(voiced, 0.1));
      put(slope(voicedT, voiced));
      let d = 0;
      let nd = 0;
      for (let f = 1; f < nFrames; f++) {
        if (!Number.isNaN(f0[f]!) && !Number.isNaN(f0[f - 1]!)) {
          d += Math.abs(f0[f]! - f0[f - 1]!);
          nd++;
        }
      }
      put(nd > 0 ? d / nd : 0);
      let s = 0;
      for (let f = 0; f < nFrames; f++) if (!Number.isNaN(f0[f]!)) s += strength[f]!;
      put(s / voiced.length);
    } else {
      // No usable pitch: neutral placeholders (the voiced ratio already says so).
      for (let i = 0; i < 9; i++) put(0);
    }

    // arr[f * stride + offset] over the active frames, in a scratch reused by the next call.
    const picked = new Float64Array(active.length);
    const pick = (arr: Float64Array, stride = 1, offset = 0): Float64Array => {
      for (let i = 0; i < active.length; i++) picked[i] = arr[active[i]! * stride + offset]!;
      return picked;
    };
    put(mean(pick(centroid)));
    put(std(pick(centroid)));
    put(mean(pick(tilt)));
    put(std(pick(tilt)));
    put(mean(pick(flatness)));
    put(mean(pick(rolloff)));
    put(mean(pick(flux)));
    put(mean(pick(hammarberg)));
    const runs = (voicedFlag: boolean): number => {
      const lens: number[] = [];
      let run = 0;
      for (let f = 0; f < nFrames; f++) {
        if (!Number.isNaN(f0[f]!) === voicedFlag) run++;
        else if (run > 0) {
          lens.push(run);
          run = 0;
        }
      }
      if (run > 0) lens.push(run);
      return (mean(lens) * HOP) / FEATURE_SAMPLE_RATE_HZ;
    };
    put(runs(true));
    put(runs(false));
    let sh = 0;
    let nsh = 0;
    for (let f = 1; f < nFrames; f++) {
      if (!Number.isNaN(f0[f]!) && !Number.isNaN(f0[f - 1]!)) {
        sh += Math.abs(energyDb[f]! - energyDb[f - 1]!);
        nsh++;
      }
    }
    put(nsh > 0 ? sh / nsh : 0);
    put(percentile(actE, 0.9) - maxDb);

    for (let k = 0; k < N_MFCC; k++) put(mean(pick(mfcc, N_MFCC, k)));
    for (let k = 0; k < N_MFCC; k++) put(std(pick(mfcc, N_MFCC, k)));
    for (let k = 1; k < N_MFCC; k++) {
      const deltas: number[] = [];
      for (const f of active) {
        if (f >= 2 && f + 2 < nFrames) {
          // Regression delta over +-2 frames.
          const d =
            (2 * (mfcc[(f + 2) * N_MFCC + k]! - mfcc[(f - 2) * N_MFCC + k]!) +
              (mfcc[(f + 1) * N_MFCC + k]! - mfcc[(f - 1) * N_MFCC + k]!)) /
            10;
          deltas.push(d);
        }
      }
      put(std(deltas));
    }
    const melMean = new Float64Array(N_MEL);
    for (let m = 0; m < N_MEL; m++) melMean[m] = mean(pick(melFrames, N_MEL, m));
    const overall = mean(melMean);
    for (let m = 0; m < N_MEL; m++) put(melMean[m]! - overall);
    for (let m = 0; m < N_MEL; m++) put(std(pick(melFrames, N_MEL, m)));
    if (o !== out.length) throw new Error(`emotion features: wrote ${o} of ${out.length}`);
    return out;
  }

  private gainNormalised(x: Float32Array, nFrames: number): Float32Array {
    const rms: number[] = [];
    for (let f = 0; f < nFrames; f++) {
      let s = 0;
      for (let i = 0; i < FRAME; i++) {
        const v = x[f * HOP + i]!;
        s += v * v;
      }
      rms.push(Math.sqrt(s / FRAME));
    }
    const ref = percentile(rms, 0.95);
    if (!(ref > 1e-7)) {
      throw evxError('EVX_ERR_EMOTION_AUDIO_TOO_SHORT', 'utterance is silent', { details: { reason: 'silent' } });
    }
    const g = TARGET_RMS / ref;
    const out = new Float32Array(x.length + 2 * PAD);
    for (let i = 0; i < x.length; i++) out[PAD + i] = x[i]! * g;
    return out;
  }
}

function mean(a: ArrayLike<number>): number {
  if (a.length === 0) return 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s / a.length;
}

function std(a: ArrayLike<number>): number {
  if (a.length < 2) return 0;
  const m = mean(a);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - m) * (a[i]! - m);
  return Math.sqrt(s / a.length);
}

function percentile(a: readonly number[], q: number): number {
  if (a.length === 0) return 0;
  const s = Float64Array.from(a).sort();
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

function slope(t: readonly number[], y: readonly number[]): number {
  const mt = mean(t);
  const my = mean(y);
  let num = 0;
  let den = 0;
  for (let i = 0; i < t.length; i++) {
    num += (t[i]! - mt) * (y[i]! - my);
    den += (t[i]! - mt) * (t[i]! - mt);
  }
  return den > 0 ? num / den : 0;
}

function meanAbsDelta(e: Float64Array, active: readonly number[]): number {
  let s = 0;
  let n = 0;
  for (const f of active) {
    if (f > 0) {
      s += Math.abs(e[f]! - e[f - 1]!);
      n++;
    }
  }
  return n > 0 ? s / n : 0;
}

/** Local maxima of the 5-frame smoothed energy that stand 3 dB above their surroundings, per second. */
function peakRate(e: Float64Array, maxDb: number, durationS: number): number {
  const n = e.length;
  const sm = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    let c = 0;
    for (let j = Math.max(0, i - 2); j <= Math.min(n - 1, i + 2); j++) {
      s += e[j]!;
      c++;
    }
    sm[i] = s / c;
  }
  let peaks = 0;
  let lastMin = Infinity;
  let rising = false;
  for (let i = 1; i < n; i++) {
    if (sm[i]! > sm[i - 1]!) {
      if (!rising) lastMin = Math.min(lastMin, sm[i - 1]!);
      rising = true;
    } else if (rising) {
      if (sm[i - 1]! - lastMin >= 3 && sm[i - 1]! > maxDb - 25) {
        peaks++;
        lastMin = sm[i - 1]!;
      }
      rising = false;
    }
    if (!rising) lastMin = Math.min(lastMin, sm[i]!);
  }
  return peaks / durationS;
}

/** 5-point median filter over voiced runs (NaN = unvoiced, left untouched). */
function medianSmooth(f0: Float64Array): void {
  const src = Float64Array.from(f0);
  const win: number[] = [];
  for (let i = 0; i < f0.length; i++) {
    if (Number.isNaN(src[i]!)) continue;
    win.length = 0;
    for (let j = i - 2; j <= i + 2; j++) if (j >= 0 && j < f0.length && !Number.isNaN(src[j]!)) win.push(src[j]!);
    win.sort((a, b) => a - b);
    f0[i] = win[Math.floor(win.length / 2)]!;
  }
}
