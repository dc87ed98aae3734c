/**
 * The agent state machine: every transition, the no-answer count, the wrap-up timer on a clock the
 * test moves, registration edge cases (several contacts, the last one going during a call, a
 * softphone next to a phone), refusals with their error code, and the mapping onto routing states.
 */
import { describe, expect, it } from 'vitest';
import {
  AgentStates,
  initialStatus,
  routingStateOf,
  step,
  type AgentClock,
  type AgentInput,
  type AgentPolicy,
  type AgentStatus,
  type AgentTransition,
} from '../../../appliance/acd/agentState.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';

const T0 = 1_800_000_000_000;
const POLICY: AgentPolicy = { wrapUpMs: 30_000, maxNoAnswers: 2 };

/** A clock and timers the test moves by hand. */
function manualClock(start = T0): AgentClock & { advance(ms: number): void; pending(): number } {
  let now = start;
  let timers: { at: number; fn: () => void }[] = [];
  return {
    now: () => now,
    setTimer(fn, ms) {
      const t = { at: now + ms, fn };
      timers.push(t);
      return t;
    },
    clearTimer(handle) {
      timers = timers.filter((t) => t !== handle);
    },
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const due = timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
        if (due === undefined) break;
        timers = timers.filter((t) => t !== due);
        now = due.at;
        due.fn();
      }
      now = until;
    },
    pending: () => timers.length,
  };
}

/** A machine with one agent `a1` and the transitions it emitted. */
function machine(policy: Partial<AgentPolicy> = {}) {
  const clock = manualClock();
  const p = { ...POLICY, ...policy };
  const states = new AgentStates(() => p, { clock });
  const seen: AgentTransition[] = [];
  states.events.on('transition', (t) => seen.push(t));
  states.add('a1');
  const apply = (input: AgentInput) => states.apply('a1', input);
  const state = () => states.status('a1')!.state;
  return { clock, states, seen, apply, state, status: () => states.status('a1')! };
}

const registered = (count: number, why: 'registered' | 'refreshed' | 'unregistered' | 'expired' = 'registered'): AgentInput => ({
  type: 'endpoints',
  kind: 'sip',
  count,
  why,
});

/** The code and details of what `fn` throws. */
function refusal(fn: () => unknown): { code: string; details: Record<string, unknown> } {
  try {
    fn();
  } catch (err) {
    if (isEdgeVoxError(err)) return { code: err.code, details: { ...err.details } };
    throw err;
  }
  throw new Error('expected a refusal');
}

/** An available agent on `call-1` (registered, offered, answered). */
function onCall(policy: Partial<AgentPolicy> = {}) {
  const m = machine(policy);
  m.apply(registered(1));
  m.apply({ type: 'offer', callId: 'call-1' });
  m.apply({ type: 'answer', callId: 'call-1' });
  return m;
}

describe('agent state machine: registrations and softphones', () => {
  it('starts logged out; the first contact makes the agent available, the last one going logs them out', () => {
    const m = machine();
    expect(m.status()).toMatchObject({ state: 'logged-out', sipContacts: 0, since: T0 });
    m.clock.advance(1000);
    expect(m.apply(registered(1))).toEqual({
      agentId: 'a1',
      from: 'logged-out',
      to: 'available',
      reason: 'registered',
      awayReason: null,
      by: 'system',
      callId: null,
      at: T0 + 1000,
    });
    // a second phone, a refresh, one of two going: the count changes, the state does not
    expect(m.apply(registered(2))).toBeNull();
    expect(m.apply(registered(2, 'refreshed'))).toBeNull();
    expect(m.apply(registered(1, 'unregistered'))).toBeNull();
    expect(m.status()).toMatchObject({ state: 'available', sipContacts: 1, since: T0 + 1000 });
    expect(m.apply(registered(0, 'unregistered'))).toMatchObject({ from: 'available', to: 'logged-out', reason: 'unregistered' });
    m.apply(registered(1));
    expect(m.apply(registered(0, 'expired'))).toMatchObject({ to: 'logged-out', reason: 'expired' });
    expect(m.seen.map((t) => `${t.from}>${t.to}:${t.reason}`)).toEqual([
      'logged-out>available:registered',
      'available>logged-out:unregistered',
      'logged-out>available:registered',
      'available>logged-out:expired',
    ]);
  });

  it('counts a WebRTC softphone like a registered contact, together with the phones', () => {
    const m = machine();
    expect(m.apply({ type: 'endpoints', kind: 'webrtc', count: 1, why: 'connected' })).toMatchObject({
      to: 'available',
      reason: 'softphone-connected',
    });
    expect(m.apply(registered(1))).toBeNull();
    expect(m.apply({ type: 'endpoints', kind: 'webrtc', count: 0, why: 'disconnected' })).toBeNull(); // the phone is still there
    expect(m.apply(registered(0, 'unregistered'))).toMatchObject({ to: 'logged-out', reason: 'unregistered' });
    m.apply({ type: 'endpoints', kind: 'webrtc', count: 1, why: 'connected' });
    expect(m.apply({ type: 'endpoints', kind: 'webrtc', count: 0, why: 'disconnected' })).toMatchObject({
      to: 'logged-out',
      reason: 'softphone-disconnected',
    });
  });

  it('keeps an agent on a call when the last contact goes, and logs them out when the call ends (no wrap-up)', () => {
    const m = onCall();
    expect(m.apply(registered(0, 'expired'))).toBeNull();
    expect(m.status()).toMatchObject({ state: 'on-call', logoutAfterCall: true, sipContacts: 0 });
    expect(m.apply({ type: 'leg-ended', callId: 'call-1' })).toMatchObject({
      from: 'on-call',
      to: 'logged-out',
      reason: 'logged-out-after-call',
      callId: 'call-1',
    });
    expect(m.clock.pending()).toBe(0);
  });

  it('moves an on-call agent’s leg to another call without a transition (attended transfer); a call not theirs is refused', () => {
    const m = onCall();
    expect(m.apply({ type: 'call-moved', callId: 'call-1', toCallId: 'caller-7' })).toBeNull();
    expect(m.status()).toMatchObject({ state: 'on-call', callId: 'caller-7' });
    expect(() => m.apply({ type: 'leg-ended', callId: 'call-1' })).toThrow();
    expect(() => m.apply({ type: 'call-moved', callId: 'call-1', toCallId: 'x' })).toThrow();
    expect(m.apply({ type: 'leg-ended', callId: 'caller-7' })).toMatchObject({ to: 'wrap-up', reason: 'call-ended', callId: 'caller-7' });
  });

  it('forgets the pending log-out when a contact comes back during the call', () => {
    const m = onCall();
    m.apply(registered(0, 'unregistered'));
    expect(m.apply(registered(1))).toBeNull();
    expect(m.status().logoutAfterCall).toBe(false);
    expect(m.apply({ type: 'leg-ended', callId: 'call-1' })).toMatchObject({ to: 'wrap-up', reason: 'call-ended' });
  });

  it('logs out a ringing, wrapping-up or away agent when the last contact goes', () => {
    const ringing = machine();
    ringing.apply(registered(1));
    ringing.apply({ type: 'offer', callId: 'c9' });
    expect(ringing.apply(registered(0, 'unregistered'))).toMatchObject({ from: 'ringing', to: 'logged-out', callId: 'c9' });
    expect(ringing.status().callId).toBeNull();

    const wrapping = onCall();
    wrapping.apply({ type: 'leg-ended', callId: 'call-1' });
    expect(wrapping.apply(registered(0, 'expired'))).toMatchObject({ from: 'wrap-up', to: 'logged-out', reason: 'expired' });
    expect(wrapping.clock.pending()).toBe(0); // the wrap-up timer went with it

    const away = machine();
    away.apply(registered(1));
    away.apply({ type: 'manual', to: 'away', reason: 'lunch', by: 'agent' });
    expect(away.apply(registered(0, 'unregistered'))).toMatchObject({ from: 'away', to: 'logged-out' });
  });

  it("comes back to the agent's own choice: away again, or still logged out", () => {
    const away = machine();
    away.apply(registered(1));
    away.apply({ type: 'manual', to: 'away', reason: 'break', by: 'agent' });
    away.apply(registered(0, 'unregistered'));
    expect(away.apply(registered(1))).toMatchObject({ to: 'away', awayReason: 'break', reason: 'registered' });

    const out = machine();
    out.apply(registered(1));
    out.apply({ type: 'manual', to: 'logged-out', by: 'supervisor' });
    out.apply(registered(0, 'unregistered'));
    expect(out.apply(registered(1))).toBeNull();
    expect(out.status()).toMatchObject({ state: 'logged-out', sipContacts: 1 });
    // a choice read back after a restart works the same
    const s = step('a2', initialStatus(T0, { kind: 'away', reason: 'training' }), registered(1), POLICY, T0 + 5);
    expect(s.transition).toMatchObject({ to: 'away', awayReason: 'training' });
  });

  it('refuses a negative or fractional endpoint count', () => {
    const m = machine();
    expect(refusal(() => m.apply(registered(-1))).code).toBe('EVX_ERR_AGENT_STATE');
    expect(refusal(() => m.apply(registered(1.5))).code).toBe('EVX_ERR_AGENT_STATE');
  });
});

describe('agent state machine: calls', () => {
  it('rings on an offer, goes on the call on the answer, stays on it on hold, wraps up after the leg ends', () => {
    const m = machine();
    m.apply(registered(1));
    expect(m.apply({ type: 'offer', callId: 'call-1' })).toMatchObject({
      from: 'available',
      to: 'ringing',
      reason: 'offered',
      callId: 'call-1',
    });
    expect(m.apply({ type: 'answer', callId: 'call-1' })).toMatchObject({ from: 'ringing', to: 'on-call', reason: 'answered' });
    expect(m.apply({ type: 'answer', callId: 'call-1' })).toBeNull(); // a repeated answer is no change
    expect(m.apply({ type: 'hold', callId: 'call-1', held: true })).toBeNull();
    expect(m.status()).toMatchObject({ state: 'on-call', held: true });
    expect(m.apply({ type: 'hold', callId: 'call-1', held: false })).toBeNull();
    m.clock.advance(60_000);
    expect(m.apply({ type: 'leg-ended', callId: 'call-1' })).toMatchObject({
      from: 'on-call',
      to: 'wrap-up',
      reason: 'call-ended',
      callId: 'call-1',
      at: T0 + 60_000,
    });
    expect(m.status()).toMatchObject({ callId: null, held: false, wrapUpEndsAt: T0 + 90_000 });
  });

  it('ends the wrap-up on its timer, or early by hand (the timer then does nothing)', () => {
    const m = onCall();
    m.apply({ type: 'leg-ended', callId: 'call-1' });
    m.clock.advance(29_999);
    expect(m.state()).toBe('wrap-up');
    m.clock.advance(1);
    expect(m.seen.at(-1)).toMatchObject({ from: 'wrap-up', to: 'available', reason: 'wrap-up-ended', by: 'system', at: T0 + 30_000 });

    const early = onCall();
    early.apply({ type: 'leg-ended', callId: 'call-1' });
    early.clock.advance(5000);
    expect(early.apply({ type: 'manual', to: 'available', by: 'agent' })).toMatchObject({
      from: 'wrap-up',
      to: 'available',
      reason: 'wrap-up-ended-early',
      by: 'agent',
    });
    expect(early.clock.pending()).toBe(0);
    const n = early.seen.length;
    early.clock.advance(60_000);
    expect(early.seen).toHaveLength(n);
    // a stale timer firing anyway changes nothing
    expect(early.apply({ type: 'wrap-up-elapsed' })).toBeNull();
  });

  it('goes straight back to available after a call when the site has no wrap-up', () => {
    const m = onCall({ wrapUpMs: 0 });
    expect(m.apply({ type: 'leg-ended', callId: 'call-1' })).toMatchObject({ to: 'available', reason: 'call-ended' });
    expect(m.clock.pending()).toBe(0);
  });

  it('frees a ringing agent whose caller hung up, without counting a no-answer', () => {
    const m = machine();
    m.apply(registered(1));
    m.apply({ type: 'offer', callId: 'c1' });
    expect(m.apply({ type: 'leg-ended', callId: 'c1' })).toMatchObject({ from: 'ringing', to: 'available', reason: 'offer-withdrawn' });
    expect(m.status().missedOffers).toBe(0);
  });

  it('sets an agent away (no-answer) after N no-answers in a row; an answer resets the count; other failures do not count', () => {
    const m = machine();
    m.apply(registered(1));
    m.apply({ type: 'offer', callId: 'c1' });
    expect(m.apply({ type: 'no-answer', callId: 'c1' })).toMatchObject({ from: 'ringing', to: 'available', reason: 'no-answer' });
    expect(m.status().missedOffers).toBe(1);
    m.apply({ type: 'offer', callId: 'c2' });
    expect(m.apply({ type: 'offer-failed', callId: 'c2' })).toMatchObject({ to: 'available', reason: 'offer-failed' });
    expect(m.status().missedOffers).toBe(1);
    m.apply({ type: 'offer', callId: 'c3' });
    m.apply({ type: 'answer', callId: 'c3' });
    expect(m.status().missedOffers).toBe(0);
    m.apply({ type: 'leg-ended', callId: 'c3' });
    m.apply({ type: 'manual', to: 'available', by: 'agent' });
    m.apply({ type: 'offer', callId: 'c4' });
    m.apply({ type: 'no-answer', callId: 'c4' });
    m.apply({ type: 'offer', callId: 'c5' });
    expect(m.apply({ type: 'no-answer', callId: 'c5' })).toMatchObject({
      from: 'ringing',
      to: 'away',
      reason: 'no-answer',
      awayReason: 'no-answer',
      by: 'system',
      callId: 'c5',
    });
    expect(m.status()).toMatchObject({ missedOffers: 0, choice: null });
    // back by hand; the count starts again
    expect(m.apply({ type: 'manual', to: 'available', by: 'supervisor' })).toMatchObject({
      from: 'away',
      to: 'available',
      by: 'supervisor',
    });
  });

  it('honours the site setting: one no-answer, or never', () => {
    const once = machine({ maxNoAnswers: 1 });
    once.apply(registered(1));
    once.apply({ type: 'offer', callId: 'c1' });
    expect(once.apply({ type: 'no-answer', callId: 'c1' })).toMatchObject({ to: 'away', awayReason: 'no-answer' });
    const never = machine({ maxNoAnswers: 0 });
    never.apply(registered(1));
    for (let i = 0; i < 5; i++) {
      never.apply({ type: 'offer', callId: `c${i}` });
      expect(never.apply({ type: 'no-answer', callId: `c${i}` })).toMatchObject({ to: 'available' });
    }
  });

  it('refuses call inputs the state does not take, with EVX_ERR_AGENT_STATE and the state in the details', () => {
    const m = machine();
    expect(refusal(() => m.apply({ type: 'offer', callId: 'c1' }))).toEqual({
      code: 'EVX_ERR_AGENT_STATE',
      details: { agent: 'a1', state: 'logged-out', input: 'offer' },
    });
    m.apply(registered(1));
    m.apply({ type: 'offer', callId: 'c1' });
    expect(refusal(() => m.apply({ type: 'offer', callId: 'c2' })).details['state']).toBe('ringing');
    expect(refusal(() => m.apply({ type: 'answer', callId: 'other' })).code).toBe('EVX_ERR_AGENT_STATE');
    expect(refusal(() => m.apply({ type: 'hold', callId: 'c1', held: true })).code).toBe('EVX_ERR_AGENT_STATE');
    expect(refusal(() => m.apply({ type: 'leg-ended', callId: 'other' })).code).toBe('EVX_ERR_AGENT_STATE');
    m.apply({ type: 'answer', callId: 'c1' });
    expect(refusal(() => m.apply({ type: 'no-answer', callId: 'c1' })).code).toBe('EVX_ERR_AGENT_STATE');
    expect(refusal(() => m.apply({ type: 'offer-failed', callId: 'c1' })).code).toBe('EVX_ERR_AGENT_STATE');
    // a refused input changed nothing
    expect(m.status()).toMatchObject({ state: 'on-call', callId: 'c1' });
    expect(refusal(() => m.states.apply('nobody', { type: 'offer', callId: 'c1' })).code).toBe('EVX_ERR_NOT_FOUND');
  });
});

describe('agent state machine: by hand', () => {
  it('sets away with a reason, changes the reason, comes back; logs out and in', () => {
    const m = machine();
    m.apply(registered(1));
    expect(m.apply({ type: 'manual', to: 'away', reason: 'break', by: 'agent' })).toMatchObject({
      from: 'available',
      to: 'away',
      reason: 'manual',
      awayReason: 'break',
      by: 'agent',
    });
    expect(m.status().choice).toEqual({ kind: 'away', reason: 'break' });
    expect(m.apply({ type: 'manual', to: 'away', reason: 'lunch', by: 'agent' })).toMatchObject({
      from: 'away',
      to: 'away',
      awayReason: 'lunch',
    });
    expect(m.apply({ type: 'manual', to: 'away', reason: 'lunch', by: 'agent' })).toBeNull();
    expect(m.apply({ type: 'manual', to: 'away', by: 'agent' })).toMatchObject({ awayReason: 'other' });
    expect(m.apply({ type: 'manual', to: 'available', by: 'agent' })).toMatchObject({ from: 'away', to: 'available', reason: 'manual' });
    expect(m.status().choice).toBeNull();
    expect(m.apply({ type: 'manual', to: 'available', by: 'agent' })).toBeNull();
    expect(m.apply({ type: 'manual', to: 'logged-out', by: 'supervisor' })).toMatchObject({ to: 'logged-out', by: 'supervisor' });
    expect(m.status().choice).toEqual({ kind: 'logged-out' });
    expect(m.apply({ type: 'manual', to: 'available', by: 'supervisor' })).toMatchObject({ from: 'logged-out', to: 'available' });
    // from wrap-up straight to away
    m.apply({ type: 'offer', callId: 'c1' });
    m.apply({ type: 'answer', callId: 'c1' });
    m.apply({ type: 'leg-ended', callId: 'c1' });
    expect(m.apply({ type: 'manual', to: 'away', reason: 'meeting', by: 'agent' })).toMatchObject({ from: 'wrap-up', to: 'away' });
    expect(m.clock.pending()).toBe(0);
  });

  it('logs in an agent without endpoints (a phone on the PBX) by hand', () => {
    const m = machine();
    expect(m.apply({ type: 'manual', to: 'available', by: 'supervisor' })).toMatchObject({ from: 'logged-out', to: 'available' });
    m.apply({ type: 'offer', callId: 'c1' });
    expect(m.state()).toBe('ringing');
  });

  it('refuses changes while ringing or on a call the box carries, and the box-only away reason', () => {
    const m = machine();
    m.apply(registered(1));
    expect(refusal(() => m.apply({ type: 'manual', to: 'away', reason: 'no-answer', by: 'agent' })).code).toBe('EVX_ERR_AGENT_STATE');
    expect(refusal(() => m.apply({ type: 'manual', to: 'wrap-up', by: 'agent' })).code).toBe('EVX_ERR_AGENT_STATE');
    m.apply({ type: 'offer', callId: 'c1' });
    for (const to of ['available', 'away', 'logged-out', 'wrap-up'] as const)
      expect(
        refusal(() => m.apply({ type: 'manual', to, by: 'supervisor' })),
        to,
      ).toEqual({
        code: 'EVX_ERR_AGENT_STATE',
        details: { agent: 'a1', state: 'ringing', input: `manual ${to}` },
      });
    m.apply({ type: 'answer', callId: 'c1' });
    for (const to of ['available', 'away', 'logged-out', 'wrap-up'] as const)
      expect(refusal(() => m.apply({ type: 'manual', to, by: 'agent' })).details['state']).toBe('on-call');
  });

  it('ends a call that was transferred out to the agent by hand: wrap-up, or available at once', () => {
    const m = onCall();
    expect(m.apply({ type: 'call-left-box', callId: 'call-1' })).toBeNull();
    expect(m.status()).toMatchObject({ state: 'on-call', callOnBox: false });
    expect(m.apply({ type: 'manual', to: 'wrap-up', by: 'agent' })).toMatchObject({
      from: 'on-call',
      to: 'wrap-up',
      reason: 'call-ended',
      by: 'agent',
      callId: 'call-1',
    });
    m.clock.advance(30_000);
    expect(m.state()).toBe('available');

    const direct = onCall();
    direct.apply({ type: 'call-left-box', callId: 'call-1' });
    expect(direct.apply({ type: 'manual', to: 'available', by: 'supervisor' })).toMatchObject({ from: 'on-call', to: 'available' });
    expect(refusal(() => direct.apply({ type: 'call-left-box', callId: 'call-1' })).code).toBe('EVX_ERR_AGENT_STATE');
  });
});

describe('AgentStates', () => {
  it('emits exactly the transitions apply returns, with the new status already in place', () => {
    const m = machine();
    const inPlace: string[] = [];
    m.states.events.on('transition', (t) => inPlace.push(`${t.to}=${m.states.status(t.agentId)!.state}`));
    const returned = [m.apply(registered(1)), m.apply({ type: 'offer', callId: 'c' }), m.apply({ type: 'answer', callId: 'c' })];
    expect(m.seen).toEqual(returned);
    expect(inPlace).toEqual(['available=available', 'ringing=ringing', 'on-call=on-call']);
  });

  it('keeps a listener that feeds the machine again in order (an available agent offered a call at once)', () => {
    const m = machine();
    m.states.events.on('transition', (t) => {
      if (t.to === 'available') m.apply({ type: 'offer', callId: 'queued' });
    });
    m.apply(registered(1));
    expect(m.seen.map((t) => t.to)).toEqual(['available', 'ringing']);
    expect(m.state()).toBe('ringing');
  });

  it('adds agents logged out with their choice, removes them with their timers, and closes', () => {
    const m = onCall();
    m.apply({ type: 'leg-ended', callId: 'call-1' });
    expect(m.clock.pending()).toBe(1);
    m.states.remove('a1');
    expect(m.clock.pending()).toBe(0);
    expect(m.states.add('a2', { kind: 'logged-out' })).toMatchObject({ state: 'logged-out', choice: { kind: 'logged-out' } });
    expect(m.states.add('a2')).toMatchObject({ choice: { kind: 'logged-out' } }); // already tracked: unchanged
    m.states.apply('a2', { type: 'manual', to: 'available', by: 'agent' });
    m.states.apply('a2', { type: 'offer', callId: 'x' });
    m.states.apply('a2', { type: 'answer', callId: 'x' });
    m.states.apply('a2', { type: 'leg-ended', callId: 'x' });
    m.states.close();
    expect(m.clock.pending()).toBe(0);
    expect(refusal(() => m.states.apply('a2', { type: 'wrap-up-elapsed' })).code).toBe('EVX_ERR_NOT_FOUND');
  });

  it('reads the policy at each step (a live change applies to the next call)', () => {
    const p = { ...POLICY };
    const clock = manualClock();
    const states = new AgentStates(() => p, { clock });
    states.add('a');
    states.apply('a', registered(1));
    p.wrapUpMs = 0;
    states.apply('a', { type: 'offer', callId: 'c' });
    states.apply('a', { type: 'answer', callId: 'c' });
    expect(states.apply('a', { type: 'leg-ended', callId: 'c' })).toMatchObject({ to: 'available' });
  });
});

describe('routing state of an activity', () => {
  it('maps ringing and on-call to busy, away and logged-out to offline', () => {
    const all: AgentStatus['state'][] = ['available', 'ringing', 'on-call', 'wrap-up', 'away', 'logged-out'];
    expect(Object.fromEntries(all.map((s) => [s, routingStateOf(s)]))).toEqual({
      available: 'available',
      ringing: 'busy',
      'on-call': 'busy',
      'wrap-up': 'wrap-up',
      away: 'offline',
      'logged-out': 'offline',
    });
  });
});
