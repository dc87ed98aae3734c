import { describe, expect, it } from 'vitest';
import { assertPayload, buildAggregates, CellPublisher } from '../../../appliance/aggregates/builder.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { Store } from '../../../appliance/store/database.js';
import { scratchDir } from '../../helpers/paths.js';

const HOUR = 3_600_000;
const W = Date.UTC(2026, 10, 20, 9);

/** `n` calls starting in the window, each answered after waitMs and lasting handleMs, with analysis. */
function seed(
  store: Store,
  n: number,
  o: { prefix: string; waitMs: number; handleMs: number; intent?: string; emotion?: string; passed?: boolean },
): void {
  for (let i = 0; i < n; i++) {
    const id = `${o.prefix}-${i}`;
    const s = W + i * 1000;
    store.calls.create({ id, source: 'sip', callerHash: `hash-${id}`, startedAt: s, meta: { agentId: 'agent-jane' } });
    store.calls.markAnswered(id, s + o.waitMs);
    store.calls.end(id, s + o.waitMs + o.handleMs, 'bye');
    store.utterances.insert({
      callId: id,
      legId: null,
      speaker: 'caller',
      startMs: 0,
      endMs: 1000,
      text: 'MY NAME IS [NAME]',
      words: [],
      confidence: 1,
      analysis: {
        ...(o.intent ? { intent: { intent: o.intent, confidence: 0.9 } } : {}),
        ...(o.emotion ? { emotion: { category: o.emotion } } : {}),
      },
      createdAt: s,
    });
    if (o.passed !== undefined) {
      store.db
        .prepare(
          `INSERT INTO qa_scorecards (call_id, scored_at, call_started_at, rules_version, score, passed, agent_label, group_id, results_json) VALUES (?, ?, ?, 0, ?, ?, 'agent-jane', 'billing', '[]')`,
        )
        .run(id, s, s, o.passed ? 100 : 10, o.passed ? 1 : 0);
    }
  }
}

describe('aggregates builder', () => {
  it('counts per window with k-anonymity: small cells are null, rare labels are dropped', () => {
    const store = Store.open(scratchDir('agg'));
    seed(store, 6, { prefix: 'a', waitMs: 3000, handleMs: 100_000, intent: 'card_lost', emotion: 'neutral', passed: true });
    seed(store, 5, { prefix: 'b', waitMs: 20_000, handleMs: 400_000, intent: 'balance', emotion: 'angry', passed: false });
    seed(store, 2, { prefix: 'c', waitMs: 3000, handleMs: 100_000, intent: 'rare_intent', emotion: 'neutral' });
    // A call in the next window is not counted.
    store.calls.create({ id: 'later', source: 'webrtc', callerHash: null, startedAt: W + HOUR + 1 });
    const p = buildAggregates(store, {
      siteId: 'branch-1',
      windowStartMs: W,
      windowMs: HOUR,
      k: 5,
      epsilon: 0,
      generatedAtMs: W + 2 * HOUR,
    });
    expect(p.window).toEqual({ startMs: W, durationMs: HOUR, start: '2026-11-20T09:00:00.000Z' });
    expect(p.calls).toEqual({ total: 13, answered: 13, bySource: { sip: 13, siprec: 0, webrtc: 0 } });
    // wait buckets (<=1s, <=5s, <=15s, <=30s, ...): 8 calls at 3 s, 5 at 20 s
    expect(p.waitTime.counts).toEqual([0, 8, 0, 5, 0, 0, 0, 0]);
    // handle: 8 at 100 s (<=120 s), 5 at 400 s (<=600 s)
    expect(p.handleTime.counts).toEqual([0, 0, 8, 0, 5, 0, 0]);
    expect(p.topIntents).toEqual([
      { intent: 'card_lost', calls: 6 },
      { intent: 'balance', calls: 5 },
    ]);
    expect(p.emotionMix).toEqual([
      { emotion: 'neutral', calls: 8 },
      { emotion: 'angry', calls: 5 },
    ]);
    expect(p.qa).toEqual({ scored: 11, passed: 6, passRate: 0.545 });
    expect(p.privacy).toEqual({ k: 5, noise: null, suppressedCells: 1 }); // the rare intent
    const text = JSON.stringify(p);
    for (const banned of ['a-0', 'hash-', 'agent-jane', 'NAME', 'billing', 'rare_intent']) expect(text).not.toContain(banned);
    store.close();
  });

  it('a window with fewer than k calls publishes no counts at all', () => {
    const store = Store.open(scratchDir('agg'));
    seed(store, 3, { prefix: 'x', waitMs: 1000, handleMs: 60_000, intent: 'balance', passed: true });
    const p = buildAggregates(store, { siteId: 'branch-1', windowStartMs: W, windowMs: HOUR, k: 5, epsilon: 0, generatedAtMs: W });
    expect(p.calls.total).toBeNull();
    expect(p.calls.bySource.sip).toBeNull();
    expect(p.handleTime.counts.every((c) => c === null || c === 0)).toBe(true);
    expect(p.topIntents).toEqual([]);
    expect(p.qa).toEqual({ scored: null, passed: null, passRate: null });
    store.close();
  });

  it('secondary suppression: one small cell next to a published total hides the next smallest too', () => {
    const cells = new CellPublisher(5, 0, Math.random);
    expect(cells.group([10, 3, 7], 'partition')).toEqual([10, null, null]);
    expect(cells.group([10, 3, 2], 'partition')).toEqual([10, null, null]);
    expect(cells.group([10, 0, 7], 'partition')).toEqual([10, 0, 7]);
    expect(cells.suppressed).toBe(4);
  });

  it('nested cells: a part is hidden when the whole minus it (failed QA, unanswered calls) is under k', () => {
    const cells = new CellPublisher(5, 0, Math.random);
    // 11 scored, 9 passed: 2 failed, by subtraction
    expect(cells.group([11, 9], 'nested')).toEqual([11, null]);
    expect(cells.group([11, 6], 'nested')).toEqual([11, 6]);
    expect(cells.group([11, 11], 'nested')).toEqual([11, 11]);
    expect(cells.group([11, 0], 'nested')).toEqual([11, 0]);
    // a whole under k hides its parts, zeros too
    expect(cells.group([3, 0], 'nested')).toEqual([null, null]);
    const store = Store.open(scratchDir('agg'));
    seed(store, 9, { prefix: 'p', waitMs: 3000, handleMs: 100_000, passed: true });
    seed(store, 2, { prefix: 'f', waitMs: 3000, handleMs: 100_000, passed: false });
    const p = buildAggregates(store, { siteId: 'branch-1', windowStartMs: W, windowMs: HOUR, k: 5, epsilon: 0, generatedAtMs: W });
    expect(p.qa).toEqual({ scored: 11, passed: null, passRate: null });
    store.close();
  });

  it('noise with epsilon: unbiased around the true count, never negative', () => {
    let seed = 1;
    const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const cells = new CellPublisher(1, 0.5, rand);
    const samples = Array.from({ length: 4000 }, () => cells.one(100)!);
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    expect(Math.abs(mean - 100)).toBeLessThan(0.3);
    // two-sided geometric, alpha = exp(-epsilon): variance 2·alpha/(1-alpha)² = 7.83
    const variance = samples.reduce((a, b) => a + (b - mean) ** 2, 0) / samples.length;
    expect(variance).toBeGreaterThan(6);
    expect(variance).toBeLessThan(10);
    expect(samples.some((s) => s !== 100)).toBe(true);
    expect(samples.every((s) => Number.isInteger(s))).toBe(true);
  });

  it('the closed schema refuses anything extra or free-text', () => {
    const store = Store.open(scratchDir('agg'));
    const p = buildAggregates(store, { siteId: 'branch-1', windowStartMs: W, windowMs: HOUR, k: 5, epsilon: 0, generatedAtMs: W });
    const refuses = (mutate: (x: Record<string, unknown>) => void) => {
      const copy = JSON.parse(JSON.stringify(p)) as Record<string, unknown>;
      mutate(copy);
      try {
        assertPayload(copy);
      } catch (err) {
        return isEdgeVoxError(err, 'EVX_ERR_SYNC_PAYLOAD');
      }
      return false;
    };
    expect(refuses(() => {})).toBe(false);
    expect(refuses((x) => (x['callIds'] = ['a']))).toBe(true);
    expect(refuses((x) => ((x['calls'] as Record<string, unknown>)['callerHash'] = 'abc'))).toBe(true);
    expect(refuses((x) => (x['topIntents'] = [{ intent: 'MY CARD IS 4111', calls: 9 }]))).toBe(true);
    expect(refuses((x) => (x['alerts'] = [{ kind: 'angry', count: 9, callId: 'c1' }]))).toBe(true);
    expect(refuses((x) => (x['site'] = 'Branch One'))).toBe(true);
    store.close();
  });
});
