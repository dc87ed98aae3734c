/**
 * The batching scheduler's timing. Its window waits only while other chunks are coming: a stream
 * alone (or a few) is not held the window on every chunk for a batch that never forms, while at a
 * rate that brings others within the window the first request waits for them; requests made in the
 * same event-loop turn run together either way. And a batch's searches finish before the next
 * batch's encoder run starts (first come, first served). The encoder is a stand-in that takes no
 * time; the window's timers and clock are vitest's fake ones, so the tests see the schedule, not
 * this machine's speed.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EncoderBatcher, type BatchMember } from '../../../appliance/asr/encoderBatch.js';
import { standInEncoder, standInMember } from '../../helpers/encoderStandIn.js';

const member = standInMember();
const WINDOW_MS = 20;
const CHUNK_MS = 320;

/**
 * `streams` streams, each submitting a chunk every CHUNK_MS, their chunks spread evenly over the
 * period, for `seconds`; returns the batcher's stats.
 */
async function live(streams: number, seconds: number, windowMs = WINDOW_MS) {
  const batcher = new EncoderBatcher(standInEncoder(), { maxBatch: 32, windowMs, budgetMs: Infinity, now: () => Date.now() });
  const pending: Promise<Float32Array>[] = [];
  let submitted = 0;
  for (let i = 0; i < streams; i++) {
    const phase = (i * CHUNK_MS) / streams;
    for (let t = phase; t < seconds * 1000; t += CHUNK_MS) {
      submitted++;
      setTimeout(() => pending.push(batcher.submit(member)), t);
    }
  }
  await vi.advanceTimersByTimeAsync(seconds * 1000 + 2 * WINDOW_MS);
  await Promise.all(pending);
  const stats = batcher.stats();
  expect(stats.chunks).toBe(submitted);
  return stats;
}

describe('encoder batching window', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('does not hold a lone stream the window when no other chunk is due', async () => {
    const stats = await live(1, 5);
    expect(stats.sizes[1]).toBe(stats.calls);
    expect(stats.windowsWaited).toBe(0);
    expect(stats.waitMsMax).toBeLessThanOrEqual(1); // the end of the turn (a fake immediate ticks 1 ms)
  });

  it('does not hold a few streams whose chunks come further apart than the window', async () => {
    // 8 streams: a chunk every 40 ms, 0.5 expected within a 20 ms window
    const stats = await live(8, 5);
    expect(stats.windowsWaited).toBe(0);
    expect(stats.waitMsMax).toBeLessThanOrEqual(1); // the end of the turn (a fake immediate ticks 1 ms)
  });

  it('waits the window for others when chunks come faster than it', async () => {
    // 64 streams: a chunk every 5 ms, 4 expected within the window
    const stats = await live(64, 5);
    expect(stats.windowsWaited).toBeGreaterThan(0);
    // after the first second (no rate known yet at the start) every batch holds several chunks
    expect(stats.chunks / stats.calls).toBeGreaterThan(3);
    expect(stats.maxBatchRun).toBeGreaterThanOrEqual(4);
    expect(stats.waitMsMax).toBeLessThanOrEqual(WINDOW_MS);
  });

  it('waits a window of a few ms too when chunks come faster still', async () => {
    // 320 streams: a chunk every 1 ms, 2 expected within a 2 ms window (a rate counted over more
    // submissions than a fixed ring of 256 could hold)
    const stats = await live(320, 2, 2);
    expect(stats.windowsWaited).toBeGreaterThan(0);
    expect(stats.chunks / stats.calls).toBeGreaterThan(1.5);
    expect(stats.waitMsMax).toBeLessThanOrEqual(2);
  });

  it('runs the requests of one turn together without waiting the window', async () => {
    const batcher = new EncoderBatcher(standInEncoder(), { maxBatch: 32, windowMs: WINDOW_MS, budgetMs: Infinity, now: () => Date.now() });
    const all = Promise.all(Array.from({ length: 5 }, () => batcher.submit(member)));
    await vi.advanceTimersByTimeAsync(WINDOW_MS);
    await all;
    const stats = batcher.stats();
    expect(stats.calls).toBe(1);
    expect(stats.sizes[5]).toBe(1);
    expect(stats.waitMsMax).toBeLessThanOrEqual(1); // the end of the turn (a fake immediate ticks 1 ms)
  });
});

describe('a batch and its searches before the next batch', () => {
  it('starts the next encoder run only once every search of the running batch has settled', async () => {
    const log: string[] = [];
    const model = standInEncoder((n) => log.push(`encode ${n}`));
    const batcher = new EncoderBatcher(model, { maxBatch: 8, windowMs: 0, budgetMs: Infinity });
    const lone = (name: string): BatchMember => standInMember(() => log.push(`encode 1 (${name})`));
    // a search that takes two turns of the event loop, as greedy search's shared joiner calls do
    const search = (name: string) => async () => {
      log.push(`search ${name} starts`);
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      log.push(`search ${name} ends`);
      return name;
    };
    const a = batcher.submit(lone('a'), search('a'));
    // b and c become ready while a's search is under way
    await new Promise((r) => setImmediate(r));
    const b = batcher.submit(lone('b'), search('b'));
    const c = batcher.submit(lone('c'), search('c'));
    expect(await Promise.all([a, b, c])).toEqual(['a', 'b', 'c']);
    expect(log).toEqual([
      'encode 1 (a)',
      'search a starts',
      'search a ends',
      'encode 2',
      'search b starts',
      'search c starts',
      'search b ends',
      'search c ends',
    ]);
  });

  it('passes a failing search to its own stream only', async () => {
    const batcher = new EncoderBatcher(standInEncoder(), { maxBatch: 8, windowMs: 0, budgetMs: Infinity });
    const ok = batcher.submit(member, async () => 'fine');
    const bad = batcher.submit(member, async () => {
      throw new Error('search failed');
    });
    await expect(bad).rejects.toThrow('search failed');
    await expect(ok).resolves.toBe('fine');
    // the scheduler goes on
    await expect(batcher.submit(member, () => 'next')).resolves.toBe('next');
  });
});
