/**
 * Differential privacy of the upstream aggregates, the three defects of the earlier builder:
 * - the QA pass rate was computed from the true counts while the cells beside it were noisy, so it
 *   gave away the exact rate the noise hid: now every figure comes from the published cells;
 * - noise came from Math.random (its state can be recovered from a few outputs): now node:crypto
 *   (this was fixed in e5b75a8, before the builder's other changes; the test guards it);
 * - rounded continuous Laplace noise, zeros published exactly: now integer noise from the two-sided
 *   geometric distribution, zeros included — checked on its probability of 0, tanh(epsilon/2),
 *   against rounded Laplace's 1 - exp(-epsilon/2);
 * and the payload states what it spent (epsilon x the cells one call can change), which the sync
 * service charges to the budget (test/integration/sync/privacy-budget.test.ts).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildAggregates, CellPublisher } from '../../../appliance/aggregates/builder.js';
import { Store } from '../../../appliance/store/database.js';
import { scratchDir } from '../../helpers/paths.js';

const HOUR = 3_600_000;
const W = Date.UTC(2026, 10, 20, 9);

/** A seeded uniform [0, 1) (Park-Miller), so the noisy tests are exact. */
function seeded(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

/** 11 scored calls, 6 passed, one intent and emotion each. */
function qaStore(): Store {
  const store = Store.open(scratchDir('agg-dp'));
  for (let i = 0; i < 11; i++) {
    const id = `q-${i}`;
    const s = W + i * 1000;
    store.calls.create({ id, source: 'sip', callerHash: null, startedAt: s });
    store.calls.markAnswered(id, s + 3000);
    store.calls.end(id, s + 90_000, 'bye');
    store.utterances.insert({
      callId: id,
      legId: null,
      speaker: 'caller',
      startMs: 0,
      endMs: 1000,
      text: 'x',
      words: [],
      confidence: 1,
      analysis: { intent: { intent: 'balance', confidence: 0.9 }, emotion: { category: 'neutral' } },
      createdAt: s,
    });
    store.db
      .prepare(
        `INSERT INTO qa_scorecards (call_id, scored_at, call_started_at, rules_version, score, passed, agent_label, group_id, results_json) VALUES (?, ?, ?, 0, ?, ?, 'a', 'g', '[]')`,
      )
      .run(id, s, s, i < 6 ? 100 : 10, i < 6 ? 1 : 0);
  }
  return store;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('aggregates privacy', () => {
  it('derives the QA pass rate from the noisy published cells, never from the true counts', () => {
    const store = qaStore();
    const rates = new Set<number | null>();
    for (let seed = 1; seed <= 20; seed++) {
      const p = buildAggregates(store, {
        siteId: 'b',
        windowStartMs: W,
        windowMs: HOUR,
        k: 1,
        epsilon: 0.5,
        generatedAtMs: W,
        random: seeded(seed),
      });
      const { scored, passed, passRate } = p.qa;
      expect(scored).not.toBeNull();
      expect(passRate).toBe(scored! > 0 ? Math.round((1000 * Math.min(passed!, scored!)) / scored!) / 1000 : null);
      rates.add(passRate);
    }
    // the true rate is 6/11 = 0.545: published alone, always the same, it would undo the noise
    expect(rates.size).toBeGreaterThan(3);
    store.close();
  });

  it('draws the noise from node:crypto, never Math.random', () => {
    const store = qaStore();
    const spy = vi.spyOn(Math, 'random');
    const totals = new Set<number | null>();
    for (let i = 0; i < 20; i++)
      totals.add(
        buildAggregates(store, { siteId: 'b', windowStartMs: W, windowMs: HOUR, k: 1, epsilon: 0.5, generatedAtMs: W }).calls.total,
      );
    expect(spy).not.toHaveBeenCalled();
    expect(totals.size).toBeGreaterThan(1); // the noise is there
    store.close();
  });

  it('adds integer two-sided geometric noise to every published cell, zeros included', () => {
    const epsilon = 0.5;
    const cells = new CellPublisher(1, epsilon, seeded(42));
    const N = 20_000;
    const noise = Array.from({ length: N }, () => cells.one(1000)! - 1000);
    expect(noise.every((x) => Number.isInteger(x))).toBe(true);
    const p0 = noise.filter((x) => x === 0).length / N;
    // two-sided geometric: P(0) = (1 - a) / (1 + a) = tanh(epsilon / 2) = 0.2449; rounded Laplace: 1 - exp(-epsilon / 2) = 0.2212
    expect(Math.abs(p0 - Math.tanh(epsilon / 2))).toBeLessThan(0.01);
    const p1 = noise.filter((x) => x === 1).length / N;
    expect(Math.abs(p1 / p0 - Math.exp(-epsilon))).toBeLessThan(0.05);
    // a zero cell is noisy too: publishing exact zeros says no call fell there
    const zeros = Array.from({ length: 200 }, () => cells.one(0)!);
    expect(zeros.some((z) => z > 0)).toBe(true);
    expect(zeros.every((z) => z >= 0)).toBe(true);
  });

  it('states what the window spent: epsilon x the published cells one call can change', () => {
    const store = qaStore();
    const p = buildAggregates(store, {
      siteId: 'b',
      windowStartMs: W,
      windowMs: HOUR,
      k: 1,
      epsilon: 0.5,
      generatedAtMs: W,
      random: seeded(3),
    });
    // total, answered, bySource, handle, wait, languages: 1 each; qa scored + passed: 2; one intent,
    // one emotion, the intent's language split: 1 each; contact reasons calls + repeat calls: 2; the
    // channel dimension: contacts, answered and the chat and e-mail first-response histograms: 1 each — 17
    expect(p.privacy.noise).toEqual({ mechanism: 'two-sided-geometric', epsilon: 0.5, sensitivity: 17, epsilonSpent: 8.5 });
    const plain = buildAggregates(store, { siteId: 'b', windowStartMs: W, windowMs: HOUR, k: 1, epsilon: 0, generatedAtMs: W });
    expect(plain.privacy.noise).toBeNull();
    expect(plain.qa).toEqual({ scored: 11, passed: 6, passRate: 0.545 });
    store.close();
  });
});
