/** Queue admission (accept, closed, full, overflow) and the max-wait rule of a skill group, as pure decisions. */
import { describe, expect, it } from 'vitest';
import { admit, maxWaitDueAt, onMaxWait, queuePolicyOf, type QueueState, type WaitingCall } from '../../../appliance/acd/queuePolicy.js';
import type { OverflowRule, QueuePolicy, SkillGroup } from '../../../appliance/routing/types.js';

/** Monday 2025-03-31 10:00 in Berlin (CEST). */
const MONDAY_10 = Date.parse('2025-03-31T08:00:00Z');
/** Sunday 2025-03-30 10:00 in Berlin. */
const SUNDAY_10 = Date.parse('2025-03-30T08:00:00Z');
const WEEKDAYS = { mon: [{ from: '08:00', to: '18:00' }], tue: [{ from: '08:00', to: '18:00' }] };

const group = (
  id: string,
  queue: QueuePolicy = {},
  adjacent: string[] = [],
  overflow: OverflowRule = { maxWaitMs: 60_000, action: 'none' },
): SkillGroup => ({
  id,
  name: id,
  intents: [],
  adjacent,
  overflow,
  queue,
});

const state = (groups: SkillGroup[], waiting: Record<string, number> = {}, nowMs = MONDAY_10): QueueState => ({
  groups,
  waiting: new Map(Object.entries(waiting)),
  nowMs,
  timeZone: 'Europe/Berlin',
  serviceLevelS: 20,
});

describe('queuePolicyOf', () => {
  it('fills the defaults: always open, closed message, no limits, T from acd.serviceLevelS, announcements every 30 s', () => {
    expect(
      queuePolicyOf({ id: 'g', name: 'g', intents: [], adjacent: [], overflow: { maxWaitMs: 0, action: 'none' } }, { serviceLevelS: 25 }),
    ).toEqual({
      hours: undefined,
      whenClosed: 'message',
      maxQueued: null,
      maxWaitMs: null,
      maxWaitAction: 'message',
      maxWaitGroup: null,
      serviceLevelS: 25,
      announceIntervalMs: 30_000,
    });
    expect(queuePolicyOf(group('g', { serviceLevelS: 30, announceIntervalS: 0, maxWaitS: 300 }), { serviceLevelS: 20 })).toMatchObject({
      serviceLevelS: 30,
      announceIntervalMs: 0,
      maxWaitMs: 300_000,
    });
  });
});

describe('admit', () => {
  it('accepts an open group with room', () => {
    const d = admit('billing', state([group('billing', { hours: { weekly: WEEKDAYS }, maxQueued: 3 })], { billing: 2 }));
    expect(d).toMatchObject({ outcome: 'accept', groupId: 'billing' });
  });

  it('closed: the closed prompt then hang up, or a callback offer, with the next opening', () => {
    const closed = admit('billing', state([group('billing', { hours: { weekly: WEEKDAYS } })], {}, SUNDAY_10));
    expect(closed).toMatchObject({
      outcome: 'closed',
      action: 'message',
      prompts: ['closed'],
      reopensAt: Date.parse('2025-03-31T06:00:00Z'), // Monday 08:00 CEST
    });
    expect(closed.reasons[0]!.code).toBe('queue.closed');
    const callback = admit('billing', state([group('billing', { hours: { weekly: WEEKDAYS }, whenClosed: 'callback' })], {}, SUNDAY_10));
    expect(callback).toMatchObject({ outcome: 'closed', action: 'callback', prompts: ['closed', 'callback-offer'] });
    const holiday = admit(
      'billing',
      state([group('billing', { hours: { weekly: WEEKDAYS, holidays: [{ date: '2025-03-31', name: 'Inventory' }] } })]),
    );
    expect(holiday).toMatchObject({ outcome: 'closed', reasons: [{ code: 'queue.closed-holiday' }] });
  });

  it('closed comes before full', () => {
    const d = admit('billing', state([group('billing', { hours: { weekly: WEEKDAYS }, maxQueued: 0 })], {}, SUNDAY_10));
    expect(d.outcome).toBe('closed');
  });

  it("full: the group's overflow rule — an adjacent group that is open and has room takes the call", () => {
    const groups = [
      group('billing', { maxQueued: 2 }, ['cards', 'general'], { maxWaitMs: 60_000, action: 'adjacent' }),
      group('cards', { maxQueued: 1 }),
      group('general', { hours: { weekly: WEEKDAYS } }),
    ];
    // cards is full too, general is open.
    expect(admit('billing', state(groups, { billing: 2, cards: 1 }))).toMatchObject({
      outcome: 'overflow',
      from: 'billing',
      groupId: 'general',
    });
    // On Sunday general is closed and cards full: nobody takes it.
    expect(admit('billing', state(groups, { billing: 2, cards: 1 }, SUNDAY_10))).toMatchObject({
      outcome: 'full',
      action: 'message',
      prompts: ['queue-full'],
    });
    // With room in cards it goes there first (order of preference).
    expect(admit('billing', state(groups, { billing: 2 }))).toMatchObject({ outcome: 'overflow', groupId: 'cards' });
  });

  it('full: callback offer, self-service, or the queue-full prompt', () => {
    const full = (overflow: OverflowRule) => admit('g', state([group('g', { maxQueued: 1 }, [], overflow)], { g: 1 }));
    expect(full({ maxWaitMs: 0, action: 'callback' })).toMatchObject({ outcome: 'full', action: 'callback', prompts: ['callback-offer'] });
    expect(full({ maxWaitMs: 0, action: 'self-service', selfServiceUri: 'sip:ivr@pbx.test' })).toMatchObject({
      outcome: 'full',
      action: 'self-service',
      targetUri: 'sip:ivr@pbx.test',
      prompts: [],
    });
    expect(full({ maxWaitMs: 0, action: 'none' })).toMatchObject({ outcome: 'full', action: 'message', prompts: ['queue-full'] });
    // maxQueued 0: no queue at all, every call that would wait gets the overflow rule.
    expect(admit('g', state([group('g', { maxQueued: 0 })]))).toMatchObject({ outcome: 'full' });
  });

  it('an unknown group is refused with the call-later prompt', () => {
    expect(admit('nope', state([]))).toMatchObject({ outcome: 'full', action: 'message', prompts: ['all-busy'] });
  });
});

describe('the max-wait rule', () => {
  const call = (groupId: string, waitedS: number, visited: string[] = []): WaitingCall => ({
    callId: 'c1',
    groupId,
    groupEnqueuedAt: MONDAY_10 - waitedS * 1000,
    visited,
  });

  it('is due maxWaitS after the call entered the group; none without a limit', () => {
    const s = state([group('a', { maxWaitS: 120 }), group('b')]);
    expect(maxWaitDueAt(call('a', 0), s)).toBe(MONDAY_10 + 120_000);
    expect(maxWaitDueAt(call('b', 0), s)).toBeNull();
    expect(onMaxWait(call('b', 9999), s)).toMatchObject({ action: 'stay', reasons: [{ code: 'maxwait.none' }] });
    expect(onMaxWait(call('a', 119), s)).toMatchObject({ action: 'stay', reasons: [{ code: 'maxwait.under' }] });
  });

  it('"please call later" and hang up, or a callback offer', () => {
    expect(onMaxWait(call('a', 120), state([group('a', { maxWaitS: 120 })]))).toMatchObject({ action: 'message', prompts: ['all-busy'] });
    expect(onMaxWait(call('a', 130), state([group('a', { maxWaitS: 120, maxWaitAction: 'callback' })]))).toMatchObject({
      action: 'callback',
      prompts: ['callback-offer'],
    });
  });

  it('overflow to maxWaitGroup or the first adjacent group that is open and has room, never back', () => {
    const groups = [
      group('a', { maxWaitS: 60, maxWaitAction: 'overflow' }, ['b', 'c']),
      group('b', { maxQueued: 1 }),
      group('c', { hours: { weekly: WEEKDAYS } }),
      group('d', { maxWaitS: 60, maxWaitAction: 'overflow', maxWaitGroup: 'c' }, ['b']),
    ];
    expect(onMaxWait(call('a', 60), state(groups))).toMatchObject({ action: 'overflow', from: 'a', groupId: 'b' });
    expect(onMaxWait(call('a', 60), state(groups, { b: 1 }))).toMatchObject({ action: 'overflow', groupId: 'c' });
    expect(onMaxWait(call('a', 60, ['c']), state(groups, { b: 1 }))).toMatchObject({
      action: 'stay',
      reasons: [{ code: 'maxwait.reached' }, { code: 'queue.full' }, { code: 'maxwait.no-target' }],
    });
    expect(onMaxWait(call('d', 61), state(groups))).toMatchObject({ action: 'overflow', groupId: 'c' });
    // c is closed on Sunday: the call keeps waiting in d.
    expect(onMaxWait({ ...call('d', 0), groupEnqueuedAt: SUNDAY_10 - 61_000 }, state(groups, {}, SUNDAY_10))).toMatchObject({
      action: 'stay',
    });
  });
});
