import { describe, expect, it } from 'vitest';
import { OnlineFbank } from '../../../appliance/asr/fbank.js';

/** Straightforward Kaldi fbank (snip_edges=false, povey, preemph 0.97, 80 bins 20..7600 Hz), naive DFT. */
function referenceFbank(x: Float32Array): number[][] {
  const n = x.length;
  const frames = Math.floor((n + 80) / 160);
  const mel = (f: number): number => 1127 * Math.log(1 + f / 700);
  const lo = mel(20);
  const hi = mel(7600);
  const d = (hi - lo) / 81;
  const out: number[][] = [];
  for (let f = 0; f < frames; f++) {
    const w: number[] = [];
    for (let i = 0; i < 400; i++) {
      let s = f * 160 + 80 - 200 + i;
      while (s < 0 || s >= n) s = s < 0 ? -s - 1 : 2 * n - 1 - s;
      w.push(x[s]!);
    }
    const mean = w.reduce((a, b) => a + b, 0) / 400;
    const v = w.map((a) => a - mean);
    const p = v.map((a, i) => (i === 0 ? a - 0.97 * a : a - 0.97 * v[i - 1]!));
    const win = p.map((a, i) => a * Math.pow(0.5 - 0.5 * Math.cos((2 * Math.PI * i) / 399), 0.85));
    const power: number[] = [];
    for (let k = 0; k < 256; k++) {
      let re = 0;
      let im = 0;
      for (let t = 0; t < 400; t++) {
        re += win[t]! * Math.cos((2 * Math.PI * k * t) / 512);
        im -= win[t]! * Math.sin((2 * Math.PI * k * t) / 512);
      }
      power.push(re * re + im * im);
    }
    const row: number[] = [];
    for (let b = 0; b < 80; b++) {
      const l = lo + b * d;
      const c = l + d;
      const r = c + d;
      let e = 0;
      for (let k = 0; k < 256; k++) {
        const m = mel(k * 31.25);
        if (m > l && m < r) e += power[k]! * (m <= c ? (m - l) / (c - l) : (r - m) / (r - c));
      }
      row.push(Math.log(Math.max(e, 1.1920928955078125e-7)));
    }
    out.push(row);
  }
  return out;
}

function signal(n: number): Float32Array {
  // a chirp plus noise-like harmonics, deterministic
  return Float32Array.from(
    { length: n },
    (_, i) => 0.3 * Math.sin(0.001 * i * i * 0.01 + 0.2 * i) + 0.1 * Math.sin(1.3 * i) * Math.cos(0.017 * i),
  );
}

function collect(fb: OnlineFbank): Float32Array {
  const out = new Float32Array(fb.framesHeld * 80);
  fb.readFrames(fb.firstFrameHeld, fb.framesHeld, out);
  return out;
}

describe('OnlineFbank', () => {
  it('matches a direct Kaldi-style computation, including reflected edges on flush', () => {
    const x = signal(4000);
    const fb = new OnlineFbank({ maxFrames: 100 });
    fb.acceptWaveform(x);
    fb.inputFinished();
    expect(fb.numFramesReady).toBe(Math.floor((4000 + 80) / 160));
    const ours = collect(fb);
    const ref = referenceFbank(x);
    let maxErr = 0;
    for (let f = 0; f < ref.length; f++) for (let b = 0; b < 80; b++) maxErr = Math.max(maxErr, Math.abs(ours[f * 80 + b]! - ref[f]![b]!));
    expect(maxErr).toBeLessThan(1e-4);
  });

  it('holds back frames whose window is not complete until input is finished', () => {
    const fb = new OnlineFbank();
    fb.acceptWaveform(signal(1000));
    // frame f needs samples up to 160 f + 280
    expect(fb.numFramesReady).toBe(5);
    fb.inputFinished();
    expect(fb.numFramesReady).toBe(6);
  });

  it('gives identical frames whatever the block sizes (streaming == one shot)', () => {
    const x = signal(16000);
    const one = new OnlineFbank({ maxFrames: 200 });
    one.acceptWaveform(x);
    one.inputFinished();
    const many = new OnlineFbank({ maxFrames: 200 });
    for (let off = 0, i = 0; off < x.length; i++) {
      const n = [1, 7, 160, 333, 512, 4096][i % 6]!;
      many.acceptWaveform(x.subarray(off, off + n));
      off += n;
    }
    many.inputFinished();
    expect(Array.from(collect(many))).toEqual(Array.from(collect(one)));
  });

  it('floors digital silence at log(float epsilon) and keeps a bounded buffer', () => {
    const fb = new OnlineFbank({ maxFrames: 50 });
    fb.acceptWaveform(new Float32Array(3200));
    const frames = collect(fb);
    for (const v of frames) expect(v).toBeCloseTo(Math.log(1.1920928955078125e-7), 5);
    fb.discardBefore(fb.numFramesReady - 2);
    expect(fb.framesHeld).toBe(2);
    expect(() => fb.acceptWaveform(new Float32Array(16000))).toThrow(RangeError);
  });
});
