import { describe, expect, it } from 'vitest';
import { BENCH_MEDIA_PORTS, freeLoopbackPort } from '../../../tools/bench/metricsScrape.js';

describe('bench SIP ports', () => {
  // The kernel hands out ports from 32768 up: about a quarter land in the benches' media ranges, where
  // the appliance refused its configuration ("port 32999 lies inside the WebRTC port range") and the bench died.
  it('are never inside a media port range the benches configure', async () => {
    for (let i = 0; i < 60; i++) {
      const port = await freeLoopbackPort();
      expect(port).toBeGreaterThan(0);
      for (const [lo, hi] of BENCH_MEDIA_PORTS) expect(port < lo || port > hi, `${port} in ${lo}-${hi}`).toBe(true);
    }
  });
});
