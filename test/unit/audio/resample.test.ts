import { describe, expect, it } from 'vitest';
import { StreamingResampler } from '../../../appliance/audio/resample.js';
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
