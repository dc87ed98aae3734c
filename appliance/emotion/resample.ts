/**
 * Band-limited rational resampling (polyphase windowed sinc, Blackman window, 16 zero crossings
 * each side). The cutoff follows the lower of the two rates, so downsampling is anti-aliased.
 * Kernels are built once per rate pair and cached.
 */
const HALF_ZERO_CROSSINGS = 16;
const MAX_PHASES = 4096;

interface Kernel {
  readonly up: number; // L
  readonly down: number; // M
  readonly firstOffset: Int32Array; // per phase: offset of the first tap from floor(t)
  readonly taps: Float32Array[]; // per phase, normalised to unit DC gain
}

const kernels = new Map<string, Kernel>();

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function kernelFor(fromHz: number, toHz: number): Kernel {
  const key = `${fromHz}:${toHz}`;
  const cached = kernels.get(key);
  if (cached) return cached;
  const g = gcd(fromHz, toHz);
  const up = toHz / g;
  const down = fromHz / g;
  if (up > MAX_PHASES) throw new RangeError(`resample ${fromHz} -> ${toHz} Hz needs ${up} phases (max ${MAX_PHASES})`);
  const cutoff = Math.min(1, toHz / fromHz) * 0.97; // fraction of the input Nyquist
  const halfWidth = HALF_ZERO_CROSSINGS / cutoff; // input samples
  const firstOffset = new Int32Array(up);
  const taps: Float32Array[] = [];
  for (let phase = 0; phase < up; phase++) {
    const frac = phase / up; // t - floor(t)
    const first = Math.ceil(frac - halfWidth);
    const last = Math.floor(frac + halfWidth);
    const k = new Float32Array(last - first + 1);
    let norm = 0;
    for (let j = first; j <= last; j++) {
      const d = j - frac;
      const x = d * cutoff;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      const w = 0.42 + 0.5 * Math.cos((Math.PI * d) / halfWidth) + 0.08 * Math.cos((2 * Math.PI * d) / halfWidth);
      k[j - first] = sinc * w;
      norm += sinc * w;
    }
    for (let i = 0; i < k.length; i++) k[i] = k[i]! / norm;
    firstOffset[phase] = first;
    taps.push(k);
  }
  const kernel = { up, down, firstOffset, taps };
  kernels.set(key, kernel);
  return kernel;
}

/** Resample `input` from `fromHz` to `toHz` (integer rates); returns the input when they match. */
export function resample(input: Float32Array, fromHz: number, toHz: number): Float32Array {
  if (!Number.isInteger(fromHz) || !Number.isInteger(toHz) || fromHz <= 0 || toHz <= 0) {
    throw new RangeError(`bad sample rates ${fromHz} -> ${toHz}`);
  }
  if (fromHz === toHz) return input;
  const { up, down, firstOffset, taps } = kernelFor(fromHz, toHz);
  const outLength = Math.floor((input.length * up) / down);
  const out = new Float32Array(outLength);
  const n = input.length;
  for (let i = 0; i < outLength; i++) {
    const pos = i * down;
    const base = Math.floor(pos / up);
    const phase = pos - base * up;
    const k = taps[phase]!;
    const start = base + firstOffset[phase]!;
    let acc = 0;
    if (start >= 0 && start + k.length <= n) {
      for (let j = 0; j < k.length; j++) acc += input[start + j]! * k[j]!;
    } else {
      for (let j = 0; j < k.length; j++) {
        const idx = start + j;
        if (idx >= 0 && idx < n) acc += input[idx]! * k[j]!;
      }
    }
    out[i] = acc;
  }
  return out;
}
