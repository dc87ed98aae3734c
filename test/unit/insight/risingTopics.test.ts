/**
 * The rising-topic detector: a reason's window against the same window of previous days
 * (Poisson rate, Gamma prior, negative-binomial tail): a spike is found, a flat series is not, and
 * the false-alarm rate on flat seeded Poisson series stays near the configured alpha.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RISING, negBinUpperTail, scoreTopic, scoreTopics } from '../../../appliance/insight/risingTopics.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** mulberry32: a small seeded uniform generator. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function poisson(lambda: number, u: () => number): number {
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= u();
  } while (p > l);
  return k - 1;
}

describe('negBinUpperTail', () => {
  it('is 1 at 0, falls with x, and matches a geometric tail for r = 1', () => {
    expect(negBinUpperTail(0, 3, 0.5)).toBe(1);
    // r = 1: P(X >= x) = (1 - p)^x
    expect(negBinUpperTail(3, 1, 0.8)).toBeCloseTo(0.2 ** 3, 10);
    expect(negBinUpperTail(10, 20, 0.9)).toBeLessThan(negBinUpperTail(5, 20, 0.9));
  });
});

describe('scoreTopic', () => {
  it('flags a spike against a steady baseline and not an ordinary hour', () => {
    const baseline = [4, 5, 3, 4, 6, 5, 4];
    const spike = scoreTopic('card_lost', 18, baseline);
    expect(spike.rising).toBe(true);
    expect(spike.expected).toBeCloseTo((31 + 0.5) / 7.1, 2);
    expect(spike.z).toBeGreaterThan(5);
    expect(spike.pValue).toBeLessThan(DEFAULT_RISING.alpha);
    const usual = scoreTopic('card_lost', 6, baseline);
    expect(usual.rising).toBe(false);
    expect(usual.pValue).toBeGreaterThan(0.05);
  });
  it('needs the minimum count and enough baseline days', () => {
    expect(scoreTopic('new', 2, [0, 0, 0, 0, 0, 0, 0]).rising).toBe(false); // below minCount
    expect(scoreTopic('new', 6, [0, 0, 0, 0, 0, 0, 0]).rising).toBe(true); // a new reason arriving in numbers
    expect(scoreTopic('new', 30, [1, 1]).rising).toBe(false); // two days of baseline: not judged
  });
});

describe('scoreTopics', () => {
  const now = Date.UTC(2026, 11, 1, 10, 30);
  it('puts calls in the current window and the same window of each previous day; a spike only in the current one', () => {
    const obs: { intent: string; at: number }[] = [];
    for (let d = 0; d <= 7; d++) {
      for (let i = 0; i < 3; i++) obs.push({ intent: 'balance', at: now - d * DAY - (i + 1) * 600_000 });
      // outside every window (2 h before): never counted
      obs.push({ intent: 'balance', at: now - d * DAY - 2 * HOUR });
    }
    for (let i = 0; i < 15; i++) obs.push({ intent: 'card_lost', at: now - 1000 * (i + 1) });
    for (let d = 1; d <= 7; d++) obs.push({ intent: 'card_lost', at: now - d * DAY - 1000 });
    const scores = scoreTopics(obs, now, now - 30 * DAY);
    expect(scores[0]).toMatchObject({ intent: 'card_lost', count: 15, rising: true, baseline: [1, 1, 1, 1, 1, 1, 1] });
    expect(scores.find((s) => s.intent === 'balance')).toMatchObject({ count: 3, rising: false, baseline: [3, 3, 3, 3, 3, 3, 3] });
  });
  it('uses only baseline days after the data began, and judges nothing with too few', () => {
    const obs = Array.from({ length: 20 }, (_, i) => ({ intent: 'card_lost', at: now - 1000 * (i + 1) }));
    expect(scoreTopics(obs, now, now - 2 * DAY - HOUR)[0]).toMatchObject({ baseline: [0, 0], rising: false });
    expect(scoreTopics(obs, now, now - 3 * DAY - HOUR)[0]).toMatchObject({ baseline: [0, 0, 0], rising: true });
  });
  it('raises few false alarms on flat Poisson series (seeded): at most ~alpha per check', () => {
    const u = rng(20261206);
    let checks = 0;
    let alarms = 0;
    for (const lambda of [0.3, 1, 3, 10, 30, 100]) {
      for (let t = 0; t < 2000; t++) {
        const baseline = Array.from({ length: 7 }, () => poisson(lambda, u));
        const s = scoreTopic('flat', poisson(lambda, u), baseline);
        checks++;
        if (s.rising) alarms++;
      }
    }
    // alpha = 0.001 per check; a prior that biases busy reasons low (1 call over 1 window) gave 0.6% here
    expect(alarms / checks).toBeLessThan(0.003);
    // and the same detector finds tripled volume at an ordinary rate (10 an hour) most of the time
    let found = 0;
    for (let t = 0; t < 500; t++) {
      const baseline = Array.from({ length: 7 }, () => poisson(10, u));
      if (scoreTopic('spike', poisson(30, u), baseline).rising) found++;
    }
    expect(found / 500).toBeGreaterThan(0.8);
  });
});
