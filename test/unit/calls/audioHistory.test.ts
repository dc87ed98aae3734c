import { describe, expect, it } from 'vitest';
import { LegAudioHistory } from '../../../appliance/calls/analysis.js';

const ramp = (from: number, n: number) => Int16Array.from({ length: n }, (_, i) => from + i);

describe('LegAudioHistory', () => {
  it('returns the samples of a time range', () => {
    const h = new LegAudioHistory(1000, 1000); // 1 sample per ms, 1 s capacity
    h.write(ramp(0, 300));
    h.write(ramp(300, 300));
    expect([...h.slice(250, 255)]).toEqual([250, 251, 252, 253, 254]);
    expect(h.slice(590, 700)).toHaveLength(10); // clipped at what was written
  });

  it('keeps only the last capacity and clips older requests', () => {
    const h = new LegAudioHistory(1000, 100);
    h.write(ramp(0, 250)); // one write larger than the capacity
    expect(h.slice(0, 140)).toHaveLength(0);
    expect([...h.slice(150, 153)]).toEqual([150, 151, 152]);
    h.write(ramp(250, 30)); // wraps around
    expect([...h.slice(278, 280)]).toEqual([278, 279]);
    expect(h.slice(170, 280)).toHaveLength(100);
    expect(h.bytes).toBe(200);
  });
});
