/**
 * Repeat contacts in the aggregates that leave the box: counts of calls only, k-anonymous (a count
 * under k is null, its partner in the group too, a reason whose count is hidden is left out), never
 * a caller hash, and checked against the closed schema.
 */
import { describe, expect, it } from 'vitest';
import { assertPayload, buildAggregates } from '../../../appliance/aggregates/builder.js';
import { Store } from '../../../appliance/store/database.js';
import { scratchDir } from '../../helpers/paths.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const W = Date.UTC(2026, 11, 6, 9);
let seq = 0;

function call(store: Store, at: number, caller: string, intent: string): void {
  const id = `call-${++seq}`;
  store.calls.create({ id, source: 'sip', callerHash: caller, startedAt: at });
  store.utterances.insert({
    callId: id,
    legId: null,
    speaker: 'caller',
    startMs: 0,
    endMs: 1000,
    text: '[REDACTED]',
    words: [],
    confidence: 1,
    analysis: { intent: { intent, outOfScope: false } },
    createdAt: at,
  });
}

const build = (store: Store, k = 5) =>
  buildAggregates(store, { siteId: 'site-1', windowStartMs: W, windowMs: HOUR, k, epsilon: 0, generatedAtMs: W + 2 * HOUR });

describe('aggregates: repeat contacts', () => {
  it('publishes repeat calls per reason when each count reaches k', () => {
    const store = Store.open(scratchDir('agg-reasons'));
    // 6 callers who called about card_lost 3 days ago call again about it in the window; 6 new balance callers
    for (let i = 0; i < 6; i++) {
      call(store, W - 3 * DAY + i, `rep-${i}`, 'card_lost');
      call(store, W + 1000 * i, `rep-${i}`, 'card_lost');
      call(store, W + 1000 * i + 500, `new-${i}`, 'balance');
    }
    // 2 callers repeat about fees: under k, the label is left out
    for (let i = 0; i < 2; i++) {
      call(store, W - DAY, `fee-${i}`, 'fees');
      call(store, W + 10_000 + i, `fee-${i}`, 'fees');
    }
    // a caller whose earlier call was 10 days ago: not a repeat within 7 days
    call(store, W - 10 * DAY, 'old-1', 'card_lost');
    call(store, W + 20_000, 'old-1', 'card_lost');
    const p = build(store);
    expect(p.contactReasons).toEqual({ withinDays: 7, calls: 15, repeatCalls: 8, repeatIntents: [{ intent: 'card_lost', calls: 6 }] });
    assertPayload(p);
    const text = JSON.stringify(p);
    for (const banned of ['rep-', 'new-', 'fee-', 'old-1', 'fees']) expect(text).not.toContain(banned);
    // a longer repeat window (configurable) finds the 10-day repeat too
    expect(
      buildAggregates(store, { siteId: 's', windowStartMs: W, windowMs: HOUR, k: 5, epsilon: 0, generatedAtMs: W, repeatWithinDays: 14 })
        .contactReasons?.repeatCalls,
    ).toBe(9);
    store.close();
  });

  it('hides repeat calls under k; the calls count alone gives them away to nobody', () => {
    const store = Store.open(scratchDir('agg-reasons'));
    for (let i = 0; i < 9; i++) call(store, W + 1000 * i, `one-${i}`, 'balance');
    for (let i = 0; i < 3; i++) {
      call(store, W - DAY + i, `rep-${i}`, 'card_lost');
      call(store, W + 50_000 + i, `rep-${i}`, 'card_lost');
    }
    const p = build(store);
    expect(p.contactReasons).toEqual({ withinDays: 7, calls: 12, repeatCalls: null, repeatIntents: [] });
    assertPayload(p);
    // with k = 3 they are published
    expect(build(store, 3).contactReasons).toEqual({
      withinDays: 7,
      calls: 12,
      repeatCalls: 3,
      repeatIntents: [{ intent: 'card_lost', calls: 3 }],
    });
    store.close();
  });

  it('rejects a payload with anything outside the schema in contactReasons', () => {
    const store = Store.open(scratchDir('agg-reasons'));
    const p = build(store) as unknown as { contactReasons: Record<string, unknown> };
    p.contactReasons['callerHashes'] = ['x'];
    expect(() => assertPayload(p)).toThrow(/schema/);
    store.close();
  });
});
