/**
 * The bench's caller audio: groups talk at different moments (not all in step), each file has the
 * asked length, and over all groups about `speechRatio` of the callers talk at any time.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeCallerAudio } from '../../../tools/bench/harness.js';
import { SHARED_DIR, scratchDir } from '../../helpers/paths.js';
import { haveTool } from '../../e2e/sip/harness.js';

/** 1 s windows of a μ-law file: true where the caller talks (level well above the quiet gaps). */
function talking(path: string): boolean[] {
  const bytes = readFileSync(path);
  const out: boolean[] = [];
  for (let off = 0; off + 8000 <= bytes.length; off += 8000) {
    let sum = 0;
    for (let i = off; i < off + 8000; i++) {
      // μ-law: the low 7 bits, inverted, grow with the magnitude
      const mag = ~bytes[i]! & 0x7f;
      sum += mag;
    }
    out.push(sum / 8000 > 10);
  }
  return out;
}

describe.runIf(haveTool('sox'))('bench caller audio', () => {
  const dir = scratchDir('caller-audio');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('spreads the talk/listen cycle over the groups', () => {
    const groups = makeCallerAudio(dir, SHARED_DIR, 40, 0.5, 4);
    expect(groups).toHaveLength(4);
    const tracks = groups.map((g) => talking(join(g, 'speech.ulaw')));
    for (const t of tracks) expect(t).toHaveLength(40);
    // Every group talks for a good part of its call, not all of it.
    for (const t of tracks) {
      const share = t.filter(Boolean).length / t.length;
      expect(share).toBeGreaterThan(0.2);
      expect(share).toBeLessThan(0.8);
    }
    // The groups are not in step: at most seconds some talk and some listen.
    let mixed = 0;
    for (let s = 0; s < 40; s++) {
      const n = tracks.filter((t) => t[s]).length;
      if (n > 0 && n < tracks.length) mixed++;
    }
    expect(mixed).toBeGreaterThan(30);
    // A single group is the all-in-step case: one file, the cycle from its start.
    const one = makeCallerAudio(join(dir, 'one'), SHARED_DIR, 10, 1, 1);
    expect(readFileSync(join(one[0]!, 'speech.ulaw')).length).toBe(80_000);
  });
});
