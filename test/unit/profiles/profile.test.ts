import { describe, expect, it } from 'vitest';
import {
  churnRisk,
  DEFAULT_PROFILE_SETTINGS,
  profileTags,
  routeProfile,
  updateProfile,
  type CallSummary,
} from '../../../appliance/profiles/profile.js';

const DAY = 86_400_000;
const T0 = 1_700_000_000_000;
const call = (startedAt: number, intents: string[], emotion: CallSummary['emotion'] = null): CallSummary => ({
  callerHash: 'h',
  startedAt,
  endedAt: startedAt + 60_000,
  intents,
  emotion,
});
const angry = (at: number) => ({ category: 'angry', agitation: 0.85, trend: 'escalating', at, maxAgitation: 0.9, wasAngry: true });

describe('updateProfile', () => {
  it('creates a profile on the first call', () => {
    const p = updateProfile(null, call(T0, ['card_arrival']));
    expect(p).toMatchObject({
      callerHash: 'h',
      callsTotal: 1,
      firstSeenAt: T0,
      lastCallAt: T0,
      recentCalls: [T0],
      unresolvedRepeats: 0,
      vip: false,
    });
    expect(p.lastIntents).toEqual([{ intent: 'card_arrival', at: T0 }]);
    expect(p.churnRisk).toBeLessThan(0.1);
  });
  it('counts a call about the same intent within the repeat window as an unresolved repeat', () => {
    let p = updateProfile(null, call(T0, ['card_arrival']));
    p = updateProfile(p, call(T0 + 2 * DAY, ['card_arrival']));
    expect(p.unresolvedRepeats).toBe(1);
    p = updateProfile(p, call(T0 + 3 * DAY, ['exchange_rate']));
    expect(p.unresolvedRepeats).toBe(1);
    // a long silence: old repeats are stale
    p = updateProfile(p, call(T0 + 20 * DAY, ['exchange_rate']));
    expect(p.unresolvedRepeats).toBe(0);
  });
  it('keeps recent calls inside the window and the last intents newest first, bounded', () => {
    let p = updateProfile(null, call(T0, ['a']));
    for (let i = 1; i <= 8; i++) p = updateProfile(p, call(T0 + i * 10 * DAY, [`i${i}`]));
    expect(p.callsTotal).toBe(9);
    // the window is 30 days, inclusive
    expect(p.recentCalls).toEqual([T0 + 50 * DAY, T0 + 60 * DAY, T0 + 70 * DAY, T0 + 80 * DAY]);
    expect(p.lastIntents.map((x) => x.intent)).toEqual(['i8', 'i7', 'i6', 'i5', 'i4']);
  });
  it('keeps the previous emotion when a call had none, and VIP and manual tags across calls', () => {
    let p = updateProfile(null, call(T0, [], angry(T0)));
    p = { ...p, vip: true, tags: ['gold'] };
    p = updateProfile(p, call(T0 + DAY, []));
    expect(p.lastEmotion?.category).toBe('angry');
    expect(p).toMatchObject({ vip: true, tags: ['gold'] });
  });
  it('raises churn risk with frequency, unresolved repeats, anger and a wish to leave', () => {
    let p = updateProfile(null, call(T0, ['card_arrival']));
    const low = p.churnRisk;
    p = updateProfile(p, call(T0 + DAY, ['card_arrival']));
    p = updateProfile(p, call(T0 + 2 * DAY, ['card_arrival'], angry(T0 + 2 * DAY)));
    expect(p.churnRisk).toBeGreaterThan(0.6);
    expect(p.churnRisk).toBeGreaterThan(low);
    expect(updateProfile(null, call(T0, ['terminate_account'])).churnRisk).toBeGreaterThan(low);
  });
});

describe('churnRisk', () => {
  it('explains itself', () => {
    const r = churnRisk({
      callsInWindow: 4,
      unresolvedRepeats: 2,
      lastEmotion: { category: 'angry', agitation: 0.9, trend: 'escalating', at: 0 },
      wasAngry: true,
      leavingIntent: false,
    });
    expect(r.factors.map((f) => f.factor)).toEqual([
      '4 calls in the window',
      '2 unresolved repeat calls',
      'angry on the last call',
      'escalated on the last call',
    ]);
    expect(r.score).toBeGreaterThan(0.9);
    expect(churnRisk({ callsInWindow: 1, unresolvedRepeats: 0, lastEmotion: null, wasAngry: false, leavingIntent: false })).toEqual({
      score: 0.047,
      factors: [],
    });
  });
});

describe('profileTags and routeProfile', () => {
  it('derives the tags and what routing sees', () => {
    let p = updateProfile(null, call(T0, ['card_arrival']));
    p = updateProfile(p, call(T0 + DAY, ['card_arrival']));
    p = updateProfile(p, call(T0 + 2 * DAY, ['card_arrival'], angry(T0 + 2 * DAY)));
    p = { ...p, vip: true, tags: ['gold'] };
    expect(profileTags(p, T0 + 2 * DAY)).toEqual(['vip', 'frequent-caller', 'repeat-unresolved', 'churn-risk', 'angry-last-call', 'gold']);
    expect(routeProfile(p, T0 + 3 * DAY)).toMatchObject({ vip: true, repeatCaller: true, unresolvedRepeats: 2 });
    expect(routeProfile(p, T0 + 30 * DAY, DEFAULT_PROFILE_SETTINGS)?.repeatCaller).toBe(false);
    expect(routeProfile(null, T0)).toBeNull();
  });
});
