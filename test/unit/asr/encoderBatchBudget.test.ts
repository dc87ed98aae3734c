/**
 * The batching scheduler's time budget: a batch holds no more streams than the measured cost per
 * stream lets run within budgetMs, so however many chunks wait, no run holds its streams much past
 * the budget; on a device where a stream costs less in a larger batch (a GPU) the limit grows to the
 * largest batch that fits. The encoder here is a stand-in whose run time is a cost model on a test
 * clock: the scheduling policy is what is under test (the real batchable encoder's batches are
 * tested in test/integration/asr/encoder-batch.test.ts).
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { EncoderBatcher, type BatchMember } from '../../../appliance/asr/encoderBatch.js';
import type { TransducerModel } from '../../../appliance/asr/transducer.js';

const FRAMES = 2;
const DIM = 3;

/** A batchable encoder with one state; each run advances `clock` by cost(batch size) ms. */
function standIn(clock: { t: number }, cost: (n: number) => number): TransducerModel {
  const state = { name: 's', outputName: 'new_s', type: 'float32' as const, dims: [1, 2], size: 2, batchAxis: 0 };
  return {
    geometry: { encoderBatchable: true, chunkFrames: 4, featureDim: 1, encoderFramesPerChunk: FRAMES, encoderDim: DIM },
    states: [state],
    encoder: {
      session: {
        run: async (feeds: Record<string, ort.Tensor>) => {
          const n = feeds.x!.dims[0]!;
          clock.t += cost(n);
          await Promise.resolve();
          return {
            encoder_out: new ort.Tensor('float32', new Float32Array(n * FRAMES * DIM), [n, FRAMES, DIM]),
            new_s: new ort.Tensor('float32', new Float32Array(n * 2), [n, 2]),
          };
        },
      },
    },
  } as unknown as TransducerModel;
}

function member(clock: { t: number }, cost: (n: number) => number): BatchMember {
  return {
    x: new Float32Array(4),
    stateFeeds: () => ({ s: new ort.Tensor('float32', new Float32Array(2), [1, 2]) }),
    accept: () => undefined,
    runAlone: async () => {
      clock.t += cost(1);
      await Promise.resolve();
      return new Float32Array(FRAMES * DIM);
    },
  };
}

/** Sizes of the batches run for `count` chunks all ready at once. */
async function batchSizes(count: number, cost: (n: number) => number, options: { maxBatch: number; budgetMs?: number }) {
  const clock = { t: 0 };
  const batcher = new EncoderBatcher(standIn(clock, cost), { windowMs: 0, now: () => clock.t, ...options });
  await Promise.all(Array.from({ length: count }, () => batcher.submit(member(clock, cost))));
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
