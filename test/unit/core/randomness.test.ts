import { describe, expect, it } from 'vitest';
import { secureInt, secureUint32, secureUniform } from '../../../appliance/randomness.js';

describe('runtime randomness (node:crypto)', () => {
  it('draws uniforms in [0, 1), integers in range and 32-bit words', () => {
    const u = Array.from({ length: 20_000 }, secureUniform);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    // mean of U(0,1) is 0.5 with sd 1/sqrt(12 n) ~ 0.002: far inside 0.02
    expect(Math.abs(u.reduce((a, b) => a + b, 0) / u.length - 0.5)).toBeLessThan(0.02);
    for (let i = 0; i < 1000; i++) {
      const n = secureInt(1, 10_001);
      expect(n >= 1 && n <= 10_000 && Number.isInteger(n)).toBe(true);
      const w = secureUint32();
      expect(w >= 0 && w <= 0xffff_ffff && Number.isInteger(w)).toBe(true);
    }
  });
});
