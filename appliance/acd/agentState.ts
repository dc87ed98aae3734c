/**
 * The agent state machine: what each agent is doing, moved by their endpoints, their calls, a
 * wrap-up timer and changes by hand. `step` is pure (status, input, policy, now → status and the
 * transition, or EVX_ERR_AGENT_STATE); `AgentStates` keeps one status per agent, runs the wrap-up
 * timers on an injected clock and emits every transition.
 *
 * States: available, ringing, on-call, wrap-up, away (with a reason), logged-out.
 *
 * - Endpoints (registered SIP contacts plus connected WebRTC softphones) count together. The first
 *   one makes a logged-out agent available, or away again if that was their own choice, or leaves
 *   them logged out if they logged out by hand. The last one going logs the agent out, except on a
 *   call: then they are logged out when the call ends (no wrap-up). Changes between non-zero
 *   counts move nothing. An agent without endpoints (a phone on the PBX) is logged in by hand.
 * - Calls: an offer rings an available agent; the answer puts them on the call; hold keeps them on
 *   it; the end of their leg starts the wrap-up (`wrapUpMs`; 0: straight to available), whose timer
 *   makes them available (or the agent ends it early). A caller gone while ringing frees the agent;
 *   a no-answer too, but `maxNoAnswers` in a row (0: never) make them away with reason no-answer;
 *   an answer resets the count. An offer that failed for another reason is not counted.
 * - An attended transfer moves an on-call agent's leg from the consult call to the caller's call
 *   (`call-moved`): they stay on the call, nothing else changes.
 * - A consult call the on-call agent places (`consult-started`) keeps them busy: when the call
 *   they are on ends first (the caller hung up), they stay on-call for the consult, and its end
 *   (`consult-ended`) starts the wrap-up; a consult that ends first changes nothing.
 * - A call the box no longer carries (transferred out to the agent) ends by hand: the agent or a
 *   supervisor says wrap-up, available or logged-out.
 * - By hand (agent or supervisor): available (from away, wrap-up — ending it early — or logged-out),
 *   away with a reason, logged-out; never while ringing or on a call the box carries. Away and
 *   logged-out are remembered as the agent's choice (see endpoints); available forgets it.
 *
 * A transition is a change of state, or of the away reason. Invalid inputs throw and change nothing.
 */
import { evxError } from '../errors.js';
import { TypedEmitter } from '../events/typedEmitter.js';
import type { AgentActivityState, AgentState as RoutingAgentState } from '../routing/types.js';

export type AgentStateName = AgentActivityState;

/** Why an agent is away. `no-answer` is the box's; the rest are the agent's or a supervisor's. */
export const AWAY_REASONS = ['break', 'lunch', 'meeting', 'training', 'other', 'no-answer'] as const;
export type AwayReason = (typeof AWAY_REASONS)[number];
export const MANUAL_AWAY_REASONS: readonly AwayReason[] = ['break', 'lunch', 'meeting', 'training', 'other'];

/** What an agent chose by hand and keeps across log-outs and restarts. */
export type AgentChoice = { readonly kind: 'away'; readonly reason: AwayReason } | { readonly kind: 'logged-out' };

export type Actor = 'system' | 'agent' | 'supervisor';

/** Why a transition happened. */
export type TransitionReason =
  | 'registered'
  | 'unregistered'
  | 'expired'
  | 'softphone-connected'
  | 'softphone-disconnected'
  | 'offered'
  | 'answered'
  | 'offer-withdrawn'
  | 'offer-failed'
  | 'no-answer'
  | 'call-ended'
  | 'logged-out-after-call'
  | 'wrap-up-ended'
  | 'wrap-up-ended-early'
  | 'manual';

export interface AgentStatus {
  readonly state: AgentStateName;
  /** When the state (or away reason) last changed, unix ms. */
  readonly since: number;
  /** Why the agent is away; null in every other state. */
  readonly awayReason: AwayReason | null;
  readonly sipContacts: number;
  readonly softphones: number;
  /** The call ringing or on; null otherwise. */
  readonly callId: string | null;
  /** The consult call (attended transfer) the agent placed while on `callId`; null for none. */
  readonly consultCallId: string | null;
  readonly held: boolean;
  /** False once the call left the box (transferred to the agent): its end comes by hand. */
  readonly callOnBox: boolean;
  /** No-answers in a row. */
  readonly missedOffers: number;
  /** The last endpoint went during the call: log out when it ends. */
  readonly logoutAfterCall: boolean;
  /** When the wrap-up ends (wrap-up only). */
  readonly wrapUpEndsAt: number | null;
  readonly choice: AgentChoice | null;
}

export type EndpointKind = 'sip' | 'webrtc';

export type AgentInput =
  /** The agent's live endpoints of one kind now (`why`: what changed them). */
  | {
      readonly type: 'endpoints';
      readonly kind: EndpointKind;
      readonly count: number;
      readonly why: 'registered' | 'refreshed' | 'unregistered' | 'expired' | 'connected' | 'disconnected';
    }
  | { readonly type: 'offer'; readonly callId: string }
  | { readonly type: 'answer'; readonly callId: string }
  | { readonly type: 'hold'; readonly callId: string; readonly held: boolean }
  /** The call was transferred out to the agent: the box no longer sees its end. */
  | { readonly type: 'call-left-box'; readonly callId: string }
  /** The agent's leg of the call ended (or the caller hung up while it rang). */
  | { readonly type: 'leg-ended'; readonly callId: string }
  /** The agent's leg now belongs to another call (an attended transfer: consult call → the caller's). */
  | { readonly type: 'call-moved'; readonly callId: string; readonly toCallId: string }
  /** The agent placed the consult call `consultCallId` (attended transfer) from the call they are on. */
  | { readonly type: 'consult-started'; readonly consultCallId: string }
  /** The agent's consult call ended (hung up, or handed over to the caller). */
  | { readonly type: 'consult-ended'; readonly consultCallId: string }
  | { readonly type: 'no-answer'; readonly callId: string }
  | { readonly type: 'offer-failed'; readonly callId: string }
  | { readonly type: 'wrap-up-elapsed' }
  | {
      readonly type: 'manual';
      readonly to: 'available' | 'away' | 'logged-out' | 'wrap-up';
      /** Away only (default `other`); `no-answer` is the box's own. */
      readonly reason?: AwayReason | undefined;
      readonly by: 'agent' | 'supervisor';
    };

/** The site's settings the machine reads at each step. */
export interface AgentPolicy {
  /** Wrap-up after a call; 0: none. */
  readonly wrapUpMs: number;
  /** No-answers in a row that make an agent away (reason no-answer); 0: never. */
  readonly maxNoAnswers: number;
}

export interface AgentTransition {
  readonly agentId: string;
  readonly from: AgentStateName;
  readonly to: AgentStateName;
  readonly reason: TransitionReason;
  /** The away reason when `to` is away; null otherwise. */
  readonly awayReason: AwayReason | null;
  readonly by: Actor;
  /** The call the transition is about, if any. */
  readonly callId: string | null;
  readonly at: number;
}

/** A logged-out agent with no endpoints and the choice they made before (if any). */
export function initialStatus(now: number, choice: AgentChoice | null = null): AgentStatus {
  return {
    state: 'logged-out',
    since: now,
    awayReason: null,
    sipContacts: 0,
    softphones: 0,
    callId: null,
    consultCallId: null,
    held: false,
    callOnBox: false,
    missedOffers: 0,
    logoutAfterCall: false,
    wrapUpEndsAt: null,
    choice,
  };
}

/** The routing state of an activity: only available agents are picked, away and logged-out ones are not staffed. */
export function routingStateOf(state: AgentStateName): RoutingAgentState {
  switch (state) {
    case 'available':
      return 'available';
    case 'ringing':
    case 'on-call':
      return 'busy';
    case 'wrap-up':
      return 'wrap-up';
    case 'away':
    case 'logged-out':
      return 'offline';
  }
}

export interface StepResult {
  readonly status: AgentStatus;
  readonly transition: AgentTransition | null;
}

const inputName = (input: AgentInput): string => (input.type === 'manual' ? `manual ${input.to}` : input.type);

function refuse(agentId: string, s: AgentStatus, input: AgentInput, why: string): never {
  throw evxError('EVX_ERR_AGENT_STATE', `agent ${agentId} is ${s.state}: ${why}`, {
    details: { agent: agentId, state: s.state, input: inputName(input) },
  });
}

/** One input applied to one agent's status. Pure: throws EVX_ERR_AGENT_STATE for inputs the state does not take. */
export function step(agentId: string, s: AgentStatus, input: AgentInput, policy: AgentPolicy, now: number): StepResult {
  const same = (status: AgentStatus): StepResult => ({ status, transition: null });
  const move = (
    to: AgentStateName,
    reason: TransitionReason,
    patch: Partial<AgentStatus> = {},
    by: Actor = 'system',
    awayReason: AwayReason | null = null,
  ): StepResult => {
    const callId = s.callId;
    // leaving a call (or its ringing) forgets it; wrap-up only keeps its end time
    const next: AgentStatus = {
      ...s,
      callId: to === 'ringing' || to === 'on-call' ? s.callId : null,
      consultCallId: to === 'on-call' ? s.consultCallId : null,
      held: to === 'on-call' ? s.held : false,
      callOnBox: to === 'on-call' ? s.callOnBox : false,
      logoutAfterCall: to === 'on-call' ? s.logoutAfterCall : false,
      wrapUpEndsAt: null,
      ...patch,
      state: to,
      awayReason: to === 'away' ? awayReason : null,
      since: now,
    };
    if (s.state === to && s.awayReason === next.awayReason) return same({ ...next, since: s.since });
    return {
      status: next,
      transition: { agentId, from: s.state, to, reason, awayReason: next.awayReason, by, callId: patch.callId ?? callId, at: now },
    };
  };
  const onCall = (callId: string): boolean => s.callId === callId && s.state === 'on-call';
  const ringing = (callId: string): boolean => s.callId === callId && s.state === 'ringing';
  const endCall = (): StepResult => {
    if (s.logoutAfterCall) return move('logged-out', 'logged-out-after-call', { missedOffers: 0 });
    if (policy.wrapUpMs > 0) return move('wrap-up', 'call-ended', { wrapUpEndsAt: now + policy.wrapUpMs });
    return move('available', 'call-ended');
  };

  switch (input.type) {
    case 'endpoints': {
      if (!Number.isInteger(input.count) || input.count < 0) refuse(agentId, s, input, 'an endpoint count is a whole number');
      const before = s.sipContacts + s.softphones;
      const counted: AgentStatus = input.kind === 'sip' ? { ...s, sipContacts: input.count } : { ...s, softphones: input.count };
      const after = counted.sipContacts + counted.softphones;
      const inReason: TransitionReason = input.kind === 'webrtc' ? 'softphone-connected' : 'registered';
      const outReason: TransitionReason =
        input.kind === 'webrtc' ? 'softphone-disconnected' : input.why === 'expired' ? 'expired' : 'unregistered';
      const counts = { sipContacts: counted.sipContacts, softphones: counted.softphones };
      if (before === 0 && after > 0) {
        if (s.state === 'on-call') return same({ ...counted, logoutAfterCall: false });
        if (s.state !== 'logged-out' || s.choice?.kind === 'logged-out') return same(counted);
        if (s.choice?.kind === 'away') return move('away', inReason, counts, 'system', s.choice.reason);
        return move('available', inReason, counts);
      }
      if (before > 0 && after === 0) {
        if (s.state === 'on-call') return same({ ...counted, logoutAfterCall: true });
        if (s.state === 'logged-out') return same(counted);
        return move('logged-out', outReason, { ...counts, missedOffers: 0 });
      }
      return same(counted);
    }
    case 'offer':
      if (s.state !== 'available') refuse(agentId, s, input, 'only an available agent is offered a call');
      return move('ringing', 'offered', { callId: input.callId, held: false, callOnBox: true });
    case 'answer':
      if (onCall(input.callId)) return same(s);
      if (!ringing(input.callId)) refuse(agentId, s, input, 'only the call ringing can be answered');
      return move('on-call', 'answered', { missedOffers: 0 });
    case 'hold':
      if (!onCall(input.callId)) refuse(agentId, s, input, 'only the call the agent is on can be held');
      return same({ ...s, held: input.held });
    case 'call-left-box':
      if (!onCall(input.callId)) refuse(agentId, s, input, 'only the call the agent is on can leave the box');
      return same({ ...s, callOnBox: false, held: false });
    case 'call-moved':
      if (!onCall(input.callId)) refuse(agentId, s, input, 'only the call the agent is on can move');
      return same({ ...s, callId: input.toCallId });
    case 'consult-started':
      // a colleague dialled while not on a call is not a consult: nothing to keep
      if (s.state !== 'on-call' || s.callId === null || s.callId === input.consultCallId) return same(s);
      return same({ ...s, consultCallId: input.consultCallId });
    case 'consult-ended':
      if (s.consultCallId === input.consultCallId) return same({ ...s, consultCallId: null });
      // the call they were on ended first: the consult was what kept them on a call
      if (onCall(input.consultCallId)) return endCall();
      return same(s);
    case 'leg-ended':
      if (ringing(input.callId)) return move('available', 'offer-withdrawn');
      if (!onCall(input.callId)) refuse(agentId, s, input, 'the call is not the agent’s');
      // still talking on their consult call: on-call for it until it ends
      if (s.consultCallId !== null) return same({ ...s, callId: s.consultCallId, consultCallId: null, held: false, callOnBox: true });
      return endCall();
    case 'no-answer': {
      if (!ringing(input.callId)) refuse(agentId, s, input, 'only a ringing call goes unanswered');
      const missed = s.missedOffers + 1;
      if (policy.maxNoAnswers > 0 && missed >= policy.maxNoAnswers)
        return move('away', 'no-answer', { missedOffers: 0 }, 'system', 'no-answer');
      return move('available', 'no-answer', { missedOffers: missed });
    }
    case 'offer-failed':
      if (!ringing(input.callId)) refuse(agentId, s, input, 'only a ringing call can fail');
      return move('available', 'offer-failed');
    case 'wrap-up-elapsed':
      // the timer is the clock of the wrap-up; one that outlived it (ended early, logged out) changes nothing
      if (s.state !== 'wrap-up') return same(s);
      return move('available', 'wrap-up-ended');
    case 'manual':
      return manual(agentId, s, input, move, endCall);
  }
}

function manual(
  agentId: string,
  s: AgentStatus,
  input: Extract<AgentInput, { type: 'manual' }>,
  move: (
    to: AgentStateName,
    reason: TransitionReason,
    patch?: Partial<AgentStatus>,
    by?: Actor,
    awayReason?: AwayReason | null,
  ) => StepResult,
  endCall: () => StepResult,
): StepResult {
  const by = input.by;
  if (s.state === 'ringing') refuse(agentId, s, input, 'a ringing call is answered or missed first');
  // a call the box carries ends with the call; one transferred out ends when the agent says so
  if (s.state === 'on-call' && s.callOnBox) refuse(agentId, s, input, 'the call ends when its leg ends');
  switch (input.to) {
    case 'available':
      if (s.state === 'wrap-up') return move('available', 'wrap-up-ended-early', { choice: null, missedOffers: 0 }, by);
      return move('available', 'manual', { choice: null, missedOffers: 0 }, by);
    case 'away': {
      const reason = input.reason ?? 'other';
      if (reason === 'no-answer') refuse(agentId, s, input, 'no-answer is set by the box');
      return move('away', 'manual', { choice: { kind: 'away', reason }, missedOffers: 0 }, by, reason);
    }
    case 'logged-out':
      return move('logged-out', 'manual', { choice: { kind: 'logged-out' }, missedOffers: 0 }, by);
    case 'wrap-up': {
      if (s.state === 'wrap-up') return { status: s, transition: null };
      if (s.state !== 'on-call') refuse(agentId, s, input, 'wrap-up follows a call');
      const r = endCall();
      return r.transition === null ? r : { status: r.status, transition: { ...r.transition, by } };
    }
  }
}

/** Time and timers of the machine; tests pass a clock they move by hand. */
export interface AgentClock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const SYSTEM_CLOCK: AgentClock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface AgentStatesEvents {
  transition: AgentTransition;
}

/** Every agent's status, the wrap-up timers, and the transitions as events. */
export class AgentStates {
  /** Listeners are contained: one that throws never stops the others or the caller. */
  readonly events: TypedEmitter<AgentStatesEvents>;
  private readonly statuses = new Map<string, AgentStatus>();
  private readonly timers = new Map<string, unknown>();
  private readonly clock: AgentClock;
  private closed = false;

  constructor(
    private readonly policy: () => AgentPolicy,
    opts: { clock?: AgentClock; onListenerError?: (event: string, err: unknown) => void } = {},
  ) {
    this.clock = opts.clock ?? SYSTEM_CLOCK;
    this.events = new TypedEmitter<AgentStatesEvents>(opts.onListenerError);
  }

  /** Start tracking an agent, logged out with their earlier choice; a tracked agent is left as is. */
  add(agentId: string, choice: AgentChoice | null = null): AgentStatus {
    let s = this.statuses.get(agentId);
    if (s === undefined) {
      s = initialStatus(this.clock.now(), choice);
      this.statuses.set(agentId, s);
    }
    return s;
  }

  /** Stop tracking an agent (deleted from the configuration); no transition. */
  remove(agentId: string): void {
    this.statuses.delete(agentId);
    this.clearTimer(agentId);
  }

  status(agentId: string): AgentStatus | undefined {
    return this.statuses.get(agentId);
  }

  ids(): string[] {
    return [...this.statuses.keys()];
  }

  /**
   * Apply one input to one agent: the new status is in place and its wrap-up timer set before the
   * transition is emitted, so listeners that feed the machine again see the current state.
   * Throws EVX_ERR_NOT_FOUND for an agent not tracked and EVX_ERR_AGENT_STATE for a refused input.
   */
  apply(agentId: string, input: AgentInput): AgentTransition | null {
    const s = this.statuses.get(agentId);
    if (s === undefined || this.closed)
      throw evxError('EVX_ERR_NOT_FOUND', `no such agent ${agentId}`, { details: { resource: 'agent', agent: agentId } });
    const r = step(agentId, s, input, this.policy(), this.clock.now());
    this.statuses.set(agentId, r.status);
    if (r.transition === null) return null;
    this.clearTimer(agentId);
    const endsAt = r.status.wrapUpEndsAt;
    if (r.status.state === 'wrap-up' && endsAt !== null) {
      const handle = this.clock.setTimer(
        () => {
          this.timers.delete(agentId);
          if (this.statuses.has(agentId) && !this.closed) this.apply(agentId, { type: 'wrap-up-elapsed' });
        },
        Math.max(0, endsAt - this.clock.now()),
      );
      this.timers.set(agentId, handle);
    }
    this.events.emit('transition', r.transition);
    return r.transition;
  }

  /** Clear every timer and listener; later inputs throw. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const id of [...this.timers.keys()]) this.clearTimer(id);
    this.events.removeAllListeners();
  }

  private clearTimer(agentId: string): void {
    const t = this.timers.get(agentId);
    if (t === undefined) return;
    this.clock.clearTimer(t);
    this.timers.delete(agentId);
  }
}
