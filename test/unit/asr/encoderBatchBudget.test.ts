/**
 * The batching scheduler's time budget: a batch holds no more streams than the measured cost per
 * stream lets run within budgetMs, so however many chunks wait, no run holds its streams much past
 * the budget; on a device where a stream costs less in a larger batch (a GPU) the limit grows to the
 * largest batch that fits. The encoder here is a stand-in whose run time is a cost model on a test
 * clock: the scheduling policy is what is under test.
 */
import { describe, expect, it } from 'vitest';
import { EncoderBatcher } from '../../../appliance/asr/encoderBatch.js';
import { standInEncoder, standInMember } from '../../helpers/encoderStandIn.js';

/** Sizes of the batches run for `count` chunks all ready at once. */
async function batchSizes(count: number, cost: (n: number) => number, options: { maxBatch: number; budgetMs?: number }) {
  const clock = { t: 0 };
  const batcher = new EncoderBatcher(
    standInEncoder((n) => (clock.t += cost(n))),
    { windowMs: 0, now: () => clock.t, ...options },
  );
  await Promise.all(Array.from({ length: count }, () => batcher.submit(standInMember(() => (clock.t += cost(1))))));
  const stats = batcher.stats();
  expect(stats.chunks).toBe(count);
  return { sizes: stats.sizes.flatMap((calls, size) => Array<number>(calls).fill(size)), stats };
}

describe('encoder batching within a time budget', () => {
  it('cuts batches to what the measured cost per stream lets run within the budget', async () => {
    // a CPU: 10 ms per stream at any batch size; budget 40 ms -> at most 4 streams a run
    const { sizes, stats } = await batchSizes(40, (n) => 10 * n, { maxBatch: 32, budgetMs: 40 });
    expect(Math.max(...sizes)).toBe(4);
    expect(sizes.filter((s) => s === 4).length).toBeGreaterThanOrEqual(9);
    expect(stats.msPerStream).toBeCloseTo(10, 6);
    expect(stats.batchLimit).toBe(4);
  });

  it('grows the batch to the largest that fits where a stream costs less in a larger batch', async () => {
    // a GPU-like device: 5 ms per run plus 0.1 ms per stream; budget 40 ms fits 350, maxBatch 64
    const { sizes, stats } = await batchSizes(2000, (n) => 5 + 0.1 * n, { maxBatch: 64, budgetMs: 40 });
    expect(sizes[0]).toBe(1);
    expect(sizes.filter((s) => s === 64).length).toBeGreaterThan(20);
    expect(stats.batchLimit).toBe(64);
  });

  it('runs up to maxBatch when the budget is unbounded', async () => {
    const { sizes } = await batchSizes(40, (n) => 10 * n, { maxBatch: 32, budgetMs: Infinity });
    expect(Math.max(...sizes)).toBe(32);
  });
});
