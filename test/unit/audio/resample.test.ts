import { describe, expect, it } from 'vitest';
import { resample, StreamingResampler } from '../../../appliance/audio/resample.js';
import { SampleRing } from '../../../appliance/audio/ring.js';

function tone(n: number, rate: number, hz: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * hz * i) / rate));
}

function runAll(rs: StreamingResampler, input: Float32Array, pieces: number[]): Float32Array {
  const out: number[] = [];
  const buf = new Float32Array(rs.maxOutput(input.length));
  let off = 0;
  let p = 0;
  while (off < input.length) {
    const n = Math.min(pieces[p++ % pieces.length]!, input.length - off);
    const k = rs.process(input.subarray(off, off + n), buf);
    out.push(...buf.subarray(0, k));
    off += n;
  }
  const k = rs.flush(buf);
  out.push(...buf.subarray(0, k));
  return Float32Array.from(out);
}

describe('StreamingResampler', () => {
  for (const rate of [8000, 48000]) {
    it(`${rate} Hz -> 16 kHz keeps a 1 kHz tone in place (zero phase) and has the right length`, () => {
      const input = tone(rate, rate, 1000); // 1 s
      const out = runAll(new StreamingResampler(rate), input, [4096]);
      expect(out.length).toBe(16000);
      const ideal = tone(16000, 16000, 1000);
      let err = 0;
      for (let i = 200; i < 15800; i++) err = Math.max(err, Math.abs(out[i]! - ideal[i]!));
      expect(err).toBeLessThan(0.01);
    });
  }

  it('removes content above the output Nyquist when downsampling', () => {
    const out = runAll(new StreamingResampler(48000), tone(48000, 48000, 12000), [4096]);
    let peak = 0;
    for (let i = 200; i < out.length - 200; i++) peak = Math.max(peak, Math.abs(out[i]!));
    expect(peak).toBeLessThan(0.01); // 12 kHz would alias to 4 kHz
  });

  it('gives the same samples whatever the push sizes', () => {
    const input = tone(24000, 48000, 700);
    const a = runAll(new StreamingResampler(48000), input, [24000]);
    const b = runAll(new StreamingResampler(48000), input, [160, 7, 960, 5000, 1]);
    expect(b.length).toBe(a.length);
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i]!, 6);
  });

  it('passes 16 kHz through unchanged', () => {
    const rs = new StreamingResampler(16000);
    expect(rs.passthrough).toBe(true);
    const input = tone(1000, 16000, 300);
    const out = new Float32Array(rs.maxOutput(1000));
    expect(rs.process(input, out)).toBe(1000);
    expect(Array.from(out.subarray(0, 1000))).toEqual(Array.from(input));
  });
});

function sine(hz: number, rate: number, seconds: number, amp = 0.5): Float32Array {
  return Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / rate));
}

function rms(x: Float32Array, skip = 200): number {
  let s = 0;
  for (let i = skip; i < x.length - skip; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / (x.length - 2 * skip));
}

describe('resample (whole signal)', () => {
  it('keeps an in-band tone and removes one above the new Nyquist frequency', () => {
    expect(rms(resample(sine(1000, 16000, 0.5), 16000, 8000))).toBeCloseTo(0.5 / Math.SQRT2, 2);
    expect(rms(resample(sine(6000, 16000, 0.5), 16000, 8000))).toBeLessThan(0.01);
    const up = resample(sine(440, 8000, 0.5), 8000, 16000);
    expect(up.length).toBe(8000);
    expect(rms(up)).toBeCloseTo(0.5 / Math.SQRT2, 2);
    expect(() => resample(new Float32Array(10), 0, 8000)).toThrowError(expect.objectContaining({ code: 'EVX_ERR_AUDIO_FORMAT' }));
  });

  it('returns the input itself when the rates match', () => {
    const x = sine(440, 8000, 0.1);
    expect(resample(x, 8000, 8000)).toBe(x);
  });

  it("gives the streaming resampler's samples, cut to floor(length * L / M)", () => {
    const input = sine(700, 48000, 0.3);
    const whole = resample(input, 48000, 16000);
    expect(whole.length).toBe(4800);
    const rs = new StreamingResampler(48000, 16000);
    const streamed = runAll(rs, input, [160, 7, 960]);
    expect(Array.from(whole)).toEqual(Array.from(streamed.subarray(0, whole.length)));
    expect(resample(new Float32Array(7), 16000, 8000).length).toBe(3);
  });

  // The shipped emotion model was trained on features computed with exactly these samples (the
  // values of the emotion pipeline's original resampler): a filter change must fail here, since
  // it would mean retraining that model.
  it('reproduces the samples the emotion features were trained on', () => {
    const chirp = (n: number, rate: number): Float32Array =>
      Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * (200 + 3 * i) * i) / rate));
    const pick = (y: Float32Array): number[] => [0, 1, 50, 100, y.length - 1].map((i) => y[i]!);
    const down = resample(chirp(400, 16000), 16000, 8000);
    expect(down.length).toBe(200);
    expect(pick(down)).toEqual([
      0.006583083420991898, 0.07930488139390945, 0.35354796051979065, 0.000006716220468661049, -0.41783782839775085,
    ]);
    const up = resample(chirp(200, 8000), 8000, 16000);
    expect(up.length).toBe(400);
    expect(pick(up)).toEqual([0.0005947515019215643, 0.032485347241163254, -0.3864991366863251, 0.4619406461715698, -0.20945551991462708]);
    const speed = resample(chirp(360, 14400), 14400, 16000);
    expect(speed.length).toBe(400);
    expect(pick(speed)).toEqual([
      0.0003339796094223857, 0.03858565539121628, 0.14513540267944336, -0.19133903086185455, -0.3846973478794098,
    ]);
  });
});

describe('SampleRing', () => {
  it('drops the oldest samples on overflow and reports how many', () => {
    const r = new SampleRing(8);
    expect(r.write(Float32Array.from([1, 2, 3, 4, 5, 6]))).toBe(0);
    expect(r.write(Float32Array.from([7, 8, 9, 10]))).toBe(2);
    const out = new Float32Array(8);
    r.read(out, 8);
    expect(Array.from(out)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    expect(r.length).toBe(0);
    expect(r.write(new Float32Array(20))).toBe(12);
    expect(r.length).toBe(8);
  });
});
