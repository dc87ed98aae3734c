/**
 * Agents' states on the running box: the state machine (agentState.ts) fed by the registrar, the
 * softphones, the calls on the bus and changes by hand, and its transitions told to everyone who
 * needs them. It owns routing's agent states (`AgentStateOwner`): routing decides on the state each
 * activity maps to, with the time of the change for longest-idle.
 *
 * Inputs, today:
 * - registrations: `registrationChanged` (the registrar's event, wired in app/agents.ts);
 * - softphones: `softphoneConnected` / `softphoneDisconnected` (the WebRTC plane, once wired);
 * - calls, from the bus: `route.decision` to an agent rings them; `route.transfer` completed is the
 *   answer, failed a no-answer (timeout, busy, declined) or a failed offer; `call.ended` ends their
 *   leg, or — reason `transfer` — leaves the call with the agent, whose end then comes by hand. The
 *   bus's `call.hold` is not an agent's hold: it is the far end of the box's call, the caller, putting
 *   it on hold (shown on the call, not on the agent). An ACD that rings contacts itself calls `offer`,
 *   `answered`, `held` (the agent's own hold: their phone or softphone),
 *   `legEnded`, `noAnswer` directly; consult calls (consultCalls.ts) `consultStarted` and
 *   `consultEnded`, so an agent whose caller hangs up mid-consult stays on-call for the consult.
 * - by hand: `set` (the agents API), and routing's own state API (`requested`).
 *
 * Each transition is published as `agent.state` before routing hears of it, so the bus shows
 * states in the order they happened even when routing at once offers the agent a queued call.
 * The KPI engine gets each state (`facts.agentState`) and each agent's groups.
 *
 * Across a restart every agent starts logged out (registrations are in memory and phones
 * re-register); only the agents' away and logged-out choices are kept (routing_settings).
 */
import { NO_ANSWER_STATUSES } from './agentRing.js';
import { evxError, isEdgeVoxError } from '../errors.js';
import type { ApplianceEvent, EventBus } from '../events/appEvents.js';
import type { Logger } from '../log/logger.js';
import type { AgentStateOwner, RoutingService } from '../routing/routingService.js';
import type { AgentState } from '../routing/types.js';
import {
  AWAY_REASONS,
  AgentStates,
  routingStateOf,
  type AgentChoice,
  type AgentClock,
  type AgentInput,
  type AgentPolicy,
  type AgentStatus,
  type AgentTransition,
  type AwayReason,
} from './agentState.js';
import type { AcdFactSink } from './kpis.js';

/** Where agents' choices are kept across restarts (the routing repository's settings). */
export interface AgentChoiceStore {
  agentChoices(): Record<string, unknown>;
  putAgentChoices(choices: Readonly<Record<string, AgentChoice>>, at: number): void;
}

export interface AgentPresenceDeps {
  readonly routing: RoutingService;
  readonly choices: AgentChoiceStore;
  readonly bus: EventBus;
  readonly logger: Logger;
  /** Read at each step, so live configuration changes apply to the next call. */
  readonly policy: () => AgentPolicy;
  /** The KPI engine's fact sink (acd/kpis.ts), when the ACD figures run. */
  readonly facts?: AcdFactSink | null;
  readonly clock?: AgentClock;
}

/** One agent as the agents API shows it: no usernames, no contacts. */
export interface AgentPresenceView {
  readonly agentId: string;
  readonly state: AgentStatus['state'];
  readonly since: number;
  readonly awayReason: AwayReason | null;
  readonly callId: string | null;
  readonly held: boolean;
  readonly registeredContacts: number;
  readonly softphones: number;
  readonly missedOffers: number;
  readonly wrapUpEndsAt: number | null;
  readonly logoutAfterCall: boolean;
  readonly choice: AgentChoice | null;
}

export class AgentPresence implements AgentStateOwner {
  readonly states: AgentStates;
  private readonly unsubscribe: () => void;
  private savedChoices: string;
  private closed = false;

  constructor(private readonly deps: AgentPresenceDeps) {
    this.states = new AgentStates(deps.policy, {
      ...(deps.clock === undefined ? {} : { clock: deps.clock }),
      onListenerError: (event, err) =>
        deps.logger.error({ event, reason: err instanceof Error ? err.message : String(err) }, 'agent state listener failed'),
    });
    const choices = validChoices(deps.choices.agentChoices());
    this.savedChoices = JSON.stringify(choices);
    for (const a of deps.routing.agentList()) this.track(a.id, choices[a.id] ?? null);
    this.reportGroups();
    this.states.events.on('transition', (t) => this.onTransition(t));
    deps.routing.setAgentStateOwner(this);
    this.unsubscribe = deps.bus.subscribe((e) => this.onEvent(e));
  }

  // --- endpoints ---------------------------------------------------------------------------------

  /** The registrar's `registration.changed`: the agent's live SIP contacts now. */
  registrationChanged(e: { readonly agentId: string; readonly contacts: number; readonly reason: AgentRegistrationChange }): void {
    if (this.closed) return;
    this.deps.bus.publish({ type: 'agent.registration', at: this.now(), agentId: e.agentId, change: e.reason, contacts: e.contacts });
    // a binding of an agent deleted since lives on until it expires; it moves nothing
    if (this.states.status(e.agentId) === undefined) return;
    this.feed(e.agentId, { type: 'endpoints', kind: 'sip', count: e.contacts, why: e.reason });
  }

  /** A WebRTC softphone of the agent connected: counts like a registered contact. */
  softphoneConnected(agentId: string): void {
    const s = this.tracked(agentId);
    this.states.apply(agentId, { type: 'endpoints', kind: 'webrtc', count: s.softphones + 1, why: 'connected' });
  }

  softphoneDisconnected(agentId: string): void {
    const s = this.states.status(agentId);
    if (s === undefined || s.softphones === 0) return;
    this.states.apply(agentId, { type: 'endpoints', kind: 'webrtc', count: s.softphones - 1, why: 'disconnected' });
  }

  // --- calls ---------------------------------------------------------------------------------------

  offer(agentId: string, callId: string): void {
    this.states.apply(agentId, { type: 'offer', callId });
  }

  answered(agentId: string, callId: string): void {
    this.states.apply(agentId, { type: 'answer', callId });
  }

  /** The agent holds (or resumes) the call they are on: their own hold, never the caller's. */
  held(agentId: string, callId: string, held: boolean): void {
    this.states.apply(agentId, { type: 'hold', callId, held });
  }

  legEnded(agentId: string, callId: string): void {
    this.states.apply(agentId, { type: 'leg-ended', callId });
  }

  /** The agent's leg now belongs to `toCallId` (attended transfer: from the consult call to the caller's). */
  moveCall(agentId: string, callId: string, toCallId: string): void {
    this.states.apply(agentId, { type: 'call-moved', callId, toCallId });
  }

  /** The agent placed the consult call `consultCallId` from the call they are on: they stay busy until it ends (consultCalls.ts). */
  consultStarted(agentId: string, consultCallId: string): void {
    this.states.apply(agentId, { type: 'consult-started', consultCallId });
  }

  /** The agent's consult call ended: their wrap-up starts if the call they consulted for has ended already. */
  consultEnded(agentId: string, consultCallId: string): void {
    this.states.apply(agentId, { type: 'consult-ended', consultCallId });
  }

  noAnswer(agentId: string, callId: string): void {
    this.states.apply(agentId, { type: 'no-answer', callId });
  }

  /** The offer could not reach the agent (no phone registered, unreachable, refused for another reason than not answering). */
  offerFailed(agentId: string, callId: string): void {
    this.states.apply(agentId, { type: 'offer-failed', callId });
  }

  // --- by hand -------------------------------------------------------------------------------------

  /**
   * An agent or supervisor sets the agent available, away (with a reason), logged-out, or —
   * after a call the box no longer carries — wrap-up. Throws EVX_ERR_NOT_FOUND / EVX_ERR_AGENT_STATE.
   */
  set(
    agentId: string,
    to: 'available' | 'away' | 'logged-out' | 'wrap-up',
    opts: { reason?: AwayReason | undefined; by: 'agent' | 'supervisor' },
  ): AgentPresenceView {
    this.tracked(agentId);
    this.states.apply(agentId, { type: 'manual', to, reason: opts.reason, by: opts.by });
    this.saveChoices();
    return this.view(agentId)!;
  }

  /** Routing's state API and a `state` in an agent's configuration (AgentStateOwner). */
  requested(agentId: string, state: AgentState): void {
    this.tracked(agentId);
    const to = state === 'offline' ? 'logged-out' : state;
    if (to === 'busy')
      throw evxError('EVX_ERR_AGENT_STATE', `agent ${agentId}: busy is set by calls, not by hand`, {
        details: { agent: agentId, state: this.states.status(agentId)?.state, input: 'manual busy' },
      });
    this.set(agentId, to, { by: 'supervisor' });
  }

  /** The configured agents changed (AgentStateOwner): track new ones (logged out), forget deleted ones. */
  agentsChanged(ids: readonly string[]): void {
    const now = new Set(ids);
    for (const id of this.states.ids()) {
      if (now.has(id)) continue;
      // a deleted agent leaves the floor: the KPI engine stops counting their time
      if (this.states.status(id)?.state !== 'logged-out') this.deps.facts?.agentState(id, 'logged-out', this.now());
      this.states.remove(id);
    }
    const choices = validChoices(JSON.parse(this.savedChoices));
    for (const id of ids) if (this.states.status(id) === undefined) this.track(id, choices[id] ?? null);
    this.saveChoices();
    this.reportGroups();
  }

  // --- reading -------------------------------------------------------------------------------------

  view(agentId: string): AgentPresenceView | undefined {
    const s = this.states.status(agentId);
    if (s === undefined) return undefined;
    return {
      agentId,
      state: s.state,
      since: s.since,
      awayReason: s.awayReason,
      callId: s.callId,
      held: s.held,
      registeredContacts: s.sipContacts,
      softphones: s.softphones,
      missedOffers: s.missedOffers,
      wrapUpEndsAt: s.wrapUpEndsAt,
      logoutAfterCall: s.logoutAfterCall,
      choice: s.choice,
    };
  }

  list(): AgentPresenceView[] {
    return this.states
      .ids()
      .sort()
      .map((id) => this.view(id)!);
  }

  /** Agents in each state. */
  counts(): Record<AgentStatus['state'], number> {
    const out = { available: 0, ringing: 0, 'on-call': 0, 'wrap-up': 0, away: 0, 'logged-out': 0 };
    for (const id of this.states.ids()) out[this.states.status(id)!.state]++;
    return out;
  }

  /** Stop following calls and registrations; routing's states go back to by hand. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.deps.routing.setAgentStateOwner(null);
    this.states.close();
  }

  // --- inside --------------------------------------------------------------------------------------

  private now(): number {
    return (this.deps.clock ?? { now: Date.now }).now();
  }

  private tracked(agentId: string): AgentStatus {
    const s = this.states.status(agentId);
    if (s === undefined) throw evxError('EVX_ERR_NOT_FOUND', 'no such agent', { details: { resource: 'agent' } });
    return s;
  }

  /** Track an agent and tell routing (and the KPI engine) where they start: logged out. */
  private track(agentId: string, choice: AgentChoice | null): void {
    const s = this.states.add(agentId, choice);
    this.deps.routing.applyAgentState(agentId, routingStateOf(s.state), { state: s.state, reason: null, since: s.since });
  }

  private reportGroups(): void {
    const facts = this.deps.facts;
    if (!facts) return;
    const at = this.now();
    for (const a of this.deps.routing.agentList())
      facts.agentGroups(
        a.id,
        a.skills.map((s) => s.group),
        at,
      );
  }

  private onTransition(t: AgentTransition): void {
    // the bus first: routing may at once offer a queued call, whose transition must come after this one
    this.deps.bus.publish({
      type: 'agent.state',
      at: t.at,
      agentId: t.agentId,
      from: t.from,
      to: t.to,
      reason: t.reason,
      awayReason: t.awayReason,
      by: t.by,
      callId: t.callId,
    });
    this.deps.facts?.agentState(t.agentId, t.to, t.at);
    this.deps.logger.debug({ agentId: t.agentId, from: t.from, to: t.to, reason: t.reason }, 'agent state changed');
    this.deps.routing.applyAgentState(t.agentId, routingStateOf(t.to), { state: t.to, reason: t.awayReason ?? t.reason, since: t.at });
  }

  /** Apply an input the box observed; one the agent's state does not take is logged, not thrown. */
  private feed(agentId: string, input: AgentInput): void {
    try {
      this.states.apply(agentId, input);
    } catch (err) {
      if (!isEdgeVoxError(err)) throw err;
      this.deps.logger.warn({ agentId, input: input.type, code: err.code, state: err.details['state'] }, 'agent state input refused');
    }
  }

  /** The agents ringing for or on `callId`: a consult call has two (the consulted agent, and the consulting one once their caller left). */
  private agentsOnCall(callId: string): { agentId: string; status: AgentStatus }[] {
    const out: { agentId: string; status: AgentStatus }[] = [];
    for (const agentId of this.states.ids()) {
      const status = this.states.status(agentId)!;
      if (status.callId === callId) out.push({ agentId, status });
    }
    return out;
  }

  private onEvent(e: ApplianceEvent): void {
    if (this.closed) return;
    switch (e.type) {
      case 'route.decision':
        if (e.action === 'agent' && e.agentId !== null && this.states.status(e.agentId) !== undefined)
          this.feed(e.agentId, { type: 'offer', callId: e.callId });
        return;
      case 'route.transfer': {
        const a = e.agentId === null ? undefined : this.states.status(e.agentId);
        if (e.agentId === null || a?.state !== 'ringing' || a.callId !== e.callId) return;
        if (e.state === 'completed') this.feed(e.agentId, { type: 'answer', callId: e.callId });
        else if (e.state === 'failed')
          this.feed(e.agentId, {
            type: e.status !== null && NO_ANSWER_STATUSES.has(e.status) ? 'no-answer' : 'offer-failed',
            callId: e.callId,
          });
        return;
      }
      case 'call.ended':
        for (const a of this.agentsOnCall(e.callId)) this.callEnded(a, e.reason);
        return;
      default:
        return;
    }
  }

  /** A call the agent rang for or was on ended (`reason` of the bus's call.ended). */
  private callEnded(a: { agentId: string; status: AgentStatus }, reason: string): void {
    const callId = a.status.callId!;
    if (reason === 'transfer') {
      // the caller went to the agent: the call goes on without the box
      if (a.status.state === 'ringing') this.feed(a.agentId, { type: 'answer', callId });
      if (this.states.status(a.agentId)?.state === 'on-call') this.feed(a.agentId, { type: 'call-left-box', callId });
      return;
    }
    if (a.status.state === 'on-call' && !a.status.callOnBox) return;
    this.feed(a.agentId, { type: 'leg-ended', callId });
  }

  /** Store the agents' away / logged-out choices when they changed (by hand: rare). */
  private saveChoices(): void {
    const choices: Record<string, AgentChoice> = {};
    for (const id of this.states.ids().sort()) {
      const c = this.states.status(id)!.choice;
      if (c !== null) choices[id] = c;
    }
    const text = JSON.stringify(choices);
    if (text === this.savedChoices) return;
    this.savedChoices = text;
    try {
      this.deps.choices.putAgentChoices(choices, this.now());
    } catch (err) {
      if (!isEdgeVoxError(err)) throw err;
      this.deps.logger.warn({ operation: 'routing.agent.choices', code: err.code }, 'agent choices not stored');
    }
  }
}

export type AgentRegistrationChange = 'registered' | 'refreshed' | 'unregistered' | 'expired';

/** The stored choices that still make sense (a reason the box knows; never the box's own no-answer). */
function validChoices(raw: unknown): Record<string, AgentChoice> {
  const out: Record<string, AgentChoice> = {};
  if (raw === null || typeof raw !== 'object') return out;
  for (const [id, c] of Object.entries(raw as Record<string, unknown>)) {
    if (c === null || typeof c !== 'object') continue;
    const { kind, reason } = c as { kind?: unknown; reason?: unknown };
    if (kind === 'logged-out') out[id] = { kind };
    else if (
      kind === 'away' &&
      typeof reason === 'string' &&
      reason !== 'no-answer' &&
      (AWAY_REASONS as readonly string[]).includes(reason)
    )
      out[id] = { kind, reason: reason as AwayReason };
  }
  return out;
}
