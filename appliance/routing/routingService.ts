/**
 * The stateful side of routing: the configured groups, agents (with their live states), rules and
 * scripts; the queue of waiting calls; the calls assigned to agents. Every decision comes from the
 * pure engine on a snapshot, is stored with its explanation, published as `route.decision`, and —
 * when it names a target — handed to the transferer (SIP REFER). An agent who becomes available
 * takes the best queued call.
 *
 * Agents' states: set by hand through the API, unless an `AgentStateOwner` is attached (the box's
 * agent state machine, acd/agentPresence.ts). Then routing never moves a state itself: the owner
 * follows the same calls on the bus and reports each change with `applyAgentState`, and changes by
 * hand (the API, a `state` in an agent's configuration) are handed to the owner.
 *
 * SIP accounts: an agent's password is sealed with the SecretBox before it is stored, kept sealed in
 * memory and opened only for the registrar (`sipAccount`); it never leaves in an agent object.
 */
import type { EventBus } from '../events/appEvents.js';
import { evxError, isEdgeVoxError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { SecretBox } from '../privacy/secrets.js';
import { sipPasswordSecretName, type RoutingRepo } from './repo.js';
import { LOCAL_TRANSFER_TARGETS, TransferTargetPolicy } from '../telephony/transferTargets.js';
import { decideRoute, dequeueDecision, pickQueuedCall } from './engine.js';
import { checkRoutingConfig, type AgentInput, type RoutingConfigInput, type Script, type SkillGroupInput } from './schemas.js';
import {
  DEFAULT_RULES,
  type Agent,
  type AgentActivity,
  type AgentState,
  type QueuedCall,
  type RouteDecision,
  type RouteRequest,
  type RoutingRules,
  type RoutingSnapshot,
  type SkillGroup,
} from './types.js';

/**
 * Who moves agents' states when the box tracks them (acd/agentPresence.ts). Routing tells it about
 * changes by hand and about the agents configured; it answers through `applyAgentState`.
 */
export interface AgentStateOwner {
  /** A state asked for by hand (routing API, an agent's configuration); refused changes throw EVX_ERR_AGENT_STATE. */
  requested(agentId: string, state: AgentState): void;
  /** The configured agents changed (added, replaced or deleted); `ids` are all of them now. */
  agentsChanged(ids: readonly string[]): void;
}

/** Moves a call to a SIP URI (REFER); resolves with the final status of the transfer request. */
export interface Transferer {
  transfer(callId: string, targetUri: string): Promise<number>;
}

export interface RoutingServiceDeps {
  repo: RoutingRepo;
  bus: EventBus;
  logger: Logger;
  transferer?: Transferer | null;
  /** Transfer decisions that name a target (agent or self-service). */
  transfer?: boolean;
  /** Where agents' and overflow targets' SIP URIs may point (default: this host only). */
  targets?: TransferTargetPolicy;
  /** Seals agents' SIP passwords; without it an agent configuration with a password is refused. */
  secrets?: SecretBox;
  now?: () => number;
}

interface Assignment {
  agentId: string | null;
  decisionId: number | null;
  transferState: 'none' | 'requested' | 'accepted' | 'completed' | 'failed';
}

const MAX_QUEUED = 10_000;

export class RoutingService {
  private groups: SkillGroup[];
  private readonly agents = new Map<string, Agent>();
  private rulesValue: RoutingRules;
  private scriptsValue: Script[];
  private readonly queue: QueuedCall[] = [];
  private readonly assignments = new Map<string, Assignment>();
  /** Calls seen starting as SIPREC sessions (bounded; dropped when they end): never routed. */
  private readonly siprec = new Set<string>();
  private transferer: Transferer | null;
  private owner: AgentStateOwner | null = null;
  /** Sealed SIP passwords by agent id, and agent ids by SIP username. */
  private readonly sipSealed: Map<string, string>;
  private readonly sipUsers = new Map<string, string>();
  private readonly targets: TransferTargetPolicy;
  private readonly unsubscribe: () => void;
  private closed = false;
  readonly counters = { decisions: 0, transfers: 0, transferFailures: 0, storeErrors: 0 };

  constructor(private readonly deps: RoutingServiceDeps) {
    this.groups = deps.repo.groups();
    for (const a of deps.repo.agents()) this.agents.set(a.id, a);
    this.sipSealed = deps.repo.sipPasswords();
    this.indexSipUsers();
    this.rulesValue = { ...DEFAULT_RULES, ...deps.repo.rules() };
    this.scriptsValue = deps.repo.scripts();
    this.transferer = deps.transferer ?? null;
    this.targets = deps.targets ?? new TransferTargetPolicy(LOCAL_TRANSFER_TARGETS);
    this.unsubscribe = deps.bus.subscribe((e) => {
      if (e.type === 'call.started' && e.source === 'siprec') this.rememberSiprec(e.callId);
      if (e.type === 'call.ended') this.onCallEnded(e.callId, e.reason);
    });
  }

  now(): number {
    return (this.deps.now ?? Date.now)();
  }

  setTransferer(t: Transferer | null): void {
    this.transferer = t;
  }

  /** Hand agents' states to `owner` (null: back to states by hand). */
  setAgentStateOwner(owner: AgentStateOwner | null): void {
    this.owner = owner;
  }

  /** The SIP account of a username (exact match) with its password opened: for the registrar only. */
  sipAccount(username: string): { readonly agentId: string; readonly password: string } | undefined {
    const agentId = this.sipUsers.get(username);
    const sealed = agentId === undefined ? undefined : this.sipSealed.get(agentId);
    if (agentId === undefined || sealed === undefined || this.deps.secrets === undefined) return undefined;
    return { agentId, password: this.deps.secrets.open(sipPasswordSecretName(agentId), sealed) };
  }

  /** Whether an agent with this id is configured. */
  hasAgent(id: string): boolean {
    return this.agents.has(id);
  }

  /** True once groups are configured (no groups: calls are not routed). */
  get configured(): boolean {
    return this.groups.length > 0;
  }

  snapshot(): RoutingSnapshot {
    return { groups: this.groups, agents: [...this.agents.values()], queues: this.queue, rules: this.rulesValue, nowMs: this.now() };
  }

  rules(): RoutingRules {
    return this.rulesValue;
  }

  scripts(): readonly Script[] {
    return this.scriptsValue;
  }

  groupList(): readonly SkillGroup[] {
    return this.groups;
  }

  agentList(): Agent[] {
    return [...this.agents.values()];
  }

  /** Whether `callId` already has a decision (calls are routed once; the queue hands them out later). */
  isRouted(callId: string): boolean {
    return this.assignments.has(callId);
  }

  /**
   * Decide and act: store, publish, queue or assign, transfer. `finalAtPerfMs` is the
   * performance.now() of the final utterance that triggered it (for the latency figure).
   */
  route(req: RouteRequest, finalAtPerfMs: number | null = null): RouteDecision {
    if (this.closed) throw evxError('EVX_ERR_STREAM_CLOSED', 'routing service is closed');
    // SIPREC sessions are recordings of calls another PBX handles: observed, never routed or transferred
    if (this.siprec.has(req.callId))
      throw evxError('EVX_ERR_BAD_REQUEST', 'a SIPREC session is not routed', { details: { callId: req.callId } });
    const snapshot = this.snapshot();
    const t0 = performance.now();
    const decision = decideRoute(req, snapshot);
    const decideMs = performance.now() - t0;
    this.apply(decision, 'utterance', decideMs, finalAtPerfMs === null ? null : performance.now() - finalAtPerfMs);
    return decision;
  }

  private apply(decision: RouteDecision, trigger: 'utterance' | 'dequeue', decideMs: number, latencyMs: number | null): void {
    const at = this.now();
    this.counters.decisions++;
    // with an owner, the owner moves the agent when it sees this decision on the bus
    if (decision.action === 'agent' && decision.agentId !== null && this.owner === null) this.setState(decision.agentId, 'busy', at);
    if (decision.action === 'queue' && decision.groupId !== null) {
      if (this.queue.length >= MAX_QUEUED) this.queue.shift();
      this.queue.push({
        callId: decision.callId,
        groupId: decision.groupId,
        priority: decision.priority,
        needsSenior: decision.needsSenior,
        enqueuedAt: at,
      });
    }
    const decisionId =
      this.persist('routing.decision', () =>
        this.deps.repo.insertDecision({ callId: decision.callId, at, trigger, latencyMs, decideMs, decision }),
      ) ?? null;
    this.assignments.set(decision.callId, { agentId: decision.agentId, decisionId, transferState: 'none' });
    this.deps.bus.publish({
      type: 'route.decision',
      at,
      callId: decision.callId,
      decisionId,
      trigger,
      action: decision.action,
      requestedGroupId: decision.requestedGroupId,
      groupId: decision.groupId,
      agentId: decision.agentId,
      priority: decision.priority,
      needsSenior: decision.needsSenior,
      estimatedWaitMs: Number.isFinite(decision.estimatedWaitMs) ? decision.estimatedWaitMs : null,
      overflow: decision.overflow,
      reasons: [...decision.reasons],
      summary: decision.summary,
      latencyMs: latencyMs === null ? null : Math.round(latencyMs * 1000) / 1000,
      decideMs: Math.round(decideMs * 1000) / 1000,
    });
    this.deps.logger.info(
      { callId: decision.callId, action: decision.action, groupId: decision.groupId, agentId: decision.agentId, latencyMs },
      'call routed',
    );
    if (decision.targetUri !== null && this.deps.transfer !== false) void this.startTransfer(decision.callId, decision.targetUri);
  }

  private async startTransfer(callId: string, targetUri: string): Promise<void> {
    const t = this.transferer;
    const a = this.assignments.get(callId);
    if (t === null || a === undefined) return;
    this.transferProgress(callId, 'requested', null);
    let status: number;
    try {
      status = await t.transfer(callId, targetUri);
    } catch (err) {
      this.deps.logger.warn({ callId, code: isEdgeVoxError(err) ? err.code : 'error' }, 'transfer not sent');
      status = 0;
    }
    this.transferProgress(callId, status >= 200 && status < 300 ? 'accepted' : 'failed', status === 0 ? null : status);
  }

  /** Transfer progress from the telephony layer (REFER answered, NOTIFY sipfrag final). */
  transferProgress(callId: string, state: 'requested' | 'accepted' | 'completed' | 'failed', status: number | null): void {
    const a = this.assignments.get(callId);
    if (a === undefined || a.transferState === 'completed' || a.transferState === 'failed') return;
    a.transferState = state;
    if (state === 'requested') this.counters.transfers++;
    if (a.decisionId !== null) {
      const id = a.decisionId;
      this.persist('routing.transfer', () => this.deps.repo.setTransfer(id, state, status));
    }
    this.deps.bus.publish({ type: 'route.transfer', at: this.now(), callId, agentId: a.agentId, state, status });
    if (state === 'failed') {
      this.counters.transferFailures++;
      // The agent never got the call: free them for the next one.
      if (a.agentId !== null && this.owner === null && this.agents.get(a.agentId)?.state === 'busy')
        this.setAgentState(a.agentId, 'available');
    }
  }

  private rememberSiprec(callId: string): void {
    if (this.siprec.size >= MAX_QUEUED) this.siprec.delete(this.siprec.values().next().value!);
    this.siprec.add(callId);
  }

  private onCallEnded(callId: string, reason: string): void {
    this.siprec.delete(callId);
    const i = this.queue.findIndex((q) => q.callId === callId);
    if (i >= 0) this.queue.splice(i, 1);
    const a = this.assignments.get(callId);
    this.assignments.delete(callId);
    if (a === undefined || a.agentId === null || this.closed || this.owner !== null) return;
    // Transferred calls stay with the agent (busy until their desktop or the API says otherwise);
    // a caller who hung up before the transfer completed frees the agent again.
    const transferred = a.transferState === 'completed' || reason === 'transfer';
    if (!transferred && this.agents.get(a.agentId)?.state === 'busy') this.setAgentState(a.agentId, 'available');
  }

  /**
   * Put a routed call (back) in a group's queue: the agent it was offered to did not answer, or an
   * overflow or the queue policy moved it. `enqueuedAt` keeps its place (its first queueing); an
   * available agent of the group is offered it at once. Its earlier queue entry, if any, goes.
   */
  requeue(
    call: { readonly callId: string; readonly groupId: string; readonly priority: number; readonly needsSenior: boolean },
    enqueuedAt: number,
  ): void {
    if (this.closed) return;
    this.removeFromQueue(call.callId);
    if (this.queue.length >= MAX_QUEUED) this.queue.shift();
    this.queue.push({ callId: call.callId, groupId: call.groupId, priority: call.priority, needsSenior: call.needsSenior, enqueuedAt });
    this.dispatchAll();
  }

  /** The ACD handed a routed call to another agent (a transfer by the agent): its assignment follows. */
  reassign(callId: string, agentId: string): void {
    const a = this.assignments.get(callId);
    if (a !== undefined) a.agentId = agentId;
  }

  /** Take a call out of its queue (refused by the queue policy, answered elsewhere); false when it was not queued. */
  removeFromQueue(callId: string): boolean {
    const i = this.queue.findIndex((q) => q.callId === callId);
    if (i < 0) return false;
    this.queue.splice(i, 1);
    return true;
  }

  /** Oldest wait per group with queued calls (for queue alerts). */
  queueWaits(): Map<string, number> {
    const now = this.now();
    const out = new Map<string, number>();
    for (const q of this.queue) out.set(q.groupId, Math.max(out.get(q.groupId) ?? 0, now - q.enqueuedAt));
    return out;
  }

  queueState(): { groupId: string; calls: { callId: string; priority: number; needsSenior: boolean; waitMs: number }[] }[] {
    const now = this.now();
    return this.groups.map((g) => ({
      groupId: g.id,
      calls: this.queue
        .filter((q) => q.groupId === g.id)
        .sort((a, b) => b.priority - a.priority || a.enqueuedAt - b.enqueuedAt)
        .map((q) => ({ callId: q.callId, priority: q.priority, needsSenior: q.needsSenior, waitMs: now - q.enqueuedAt })),
    }));
  }

  // --- configuration (API) ---------------------------------------------------------------------

  /** Replace the whole configuration (groups, agents; rules and scripts when given). */
  configure(input: RoutingConfigInput): void {
    const rules = { ...this.rulesValue, ...(input.rules ?? {}) };
    this.checkTargets(input.groups, input.agents);
    checkRoutingConfig(input.groups, input.agents, rules);
    const at = this.now();
    const groups = input.groups.map(toGroup);
    const sipPasswords = new Map<string, string>();
    for (const a of input.agents) {
      const sealed = this.sealedPasswordOf(a);
      if (sealed !== undefined) sipPasswords.set(a.id, sealed);
    }
    const agents = input.agents.map((a) => toAgent(a, this.agents.get(a.id), at, sipPasswords.has(a.id), this.owner !== null));
    this.deps.repo.replaceConfig({ groups, agents, sipPasswords, rules, ...(input.scripts ? { scripts: input.scripts } : {}) }, at);
    this.groups = groups;
    this.agents.clear();
    for (const a of agents) this.agents.set(a.id, a);
    this.sipSealed.clear();
    for (const [id, sealed] of sipPasswords) this.sipSealed.set(id, sealed);
    this.indexSipUsers();
    this.rulesValue = rules;
    if (input.scripts) this.scriptsValue = [...input.scripts];
    this.tellOwner(input.agents);
    this.dispatchAll();
  }

  putGroup(input: SkillGroupInput): SkillGroup {
    const groups = [...this.groups.filter((g) => g.id !== input.id), toGroup(input)];
    this.checkTargets([input], []);
    checkRoutingConfig(groups, this.agentInputs(), this.rulesValue);
    const g = toGroup(input);
    this.deps.repo.putGroup(g, this.now());
    const i = this.groups.findIndex((x) => x.id === g.id);
    if (i >= 0) this.groups[i] = g;
    else this.groups.push(g);
    return g;
  }

  deleteGroup(id: string): boolean {
    const groups = this.groups.filter((g) => g.id !== id);
    if (groups.length === this.groups.length) return false;
    checkRoutingConfig(groups, this.agentInputs(), this.rulesValue);
    this.deps.repo.deleteGroup(id);
    this.groups = groups;
    return true;
  }

  putAgent(input: AgentInput): Agent {
    this.checkTargets([], [input]);
    checkRoutingConfig(this.groups, [...this.agentInputs().filter((a) => a.id !== input.id), input], this.rulesValue);
    const sealed = this.sealedPasswordOf(input);
    const agent = toAgent(input, this.agents.get(input.id), this.now(), sealed !== undefined, this.owner !== null);
    this.deps.repo.putAgent(agent, this.now(), sealed);
    this.agents.set(agent.id, agent);
    if (sealed === undefined) this.sipSealed.delete(agent.id);
    else this.sipSealed.set(agent.id, sealed);
    this.indexSipUsers();
    this.tellOwner([input]);
    if (this.agents.get(agent.id)?.state === 'available') this.dispatch(agent.id);
    return this.agents.get(agent.id)!;
  }

  /**
   * The sealed password an agent input leaves stored: a new one sealed, none without an account,
   * else the one stored (a PUT without `sip.password` keeps it, since the API never returns it).
   */
  private sealedPasswordOf(input: AgentInput): string | undefined {
    if (input.sip === undefined) return undefined;
    if (input.sip.password === undefined) return this.sipSealed.get(input.id);
    if (this.deps.secrets === undefined)
      throw evxError('EVX_ERR_ROUTING_CONFIG', `agent ${input.id}: SIP passwords cannot be stored without the store key`, {
        details: { agent: input.id, field: 'sip.password' },
      });
    return this.deps.secrets.seal(sipPasswordSecretName(input.id), input.sip.password);
  }

  private indexSipUsers(): void {
    this.sipUsers.clear();
    for (const a of this.agents.values()) if (a.sip !== undefined) this.sipUsers.set(a.sip.username, a.id);
  }

  /** With an owner: the configured agents, then the states their configuration asks for (best effort). */
  private tellOwner(inputs: readonly AgentInput[]): void {
    const owner = this.owner;
    if (owner === null) return;
    owner.agentsChanged([...this.agents.keys()]);
    for (const a of inputs) {
      if (a.state === undefined || a.state === this.agents.get(a.id)?.state) continue;
      try {
        owner.requested(a.id, a.state);
      } catch (err) {
        // a state the agent cannot take now (on a call): the configuration still stands
        if (!isEdgeVoxError(err) || err.code !== 'EVX_ERR_AGENT_STATE') throw err;
      }
    }
  }

  /** Refuse agent and self-service URIs that would send callers outside the transfer networks. */
  private checkTargets(
    groups: readonly { id: string; overflow: { selfServiceUri?: string | undefined } }[],
    agents: readonly { id: string; sipUri: string }[],
  ): void {
    for (const a of agents) this.targets.assertAllowed(a.sipUri, `agent ${a.id} sipUri`);
    for (const g of groups)
      if (g.overflow.selfServiceUri !== undefined) this.targets.assertAllowed(g.overflow.selfServiceUri, `group ${g.id} selfServiceUri`);
  }

  deleteAgent(id: string): boolean {
    if (!this.agents.has(id)) return false;
    this.deps.repo.deleteAgent(id);
    this.agents.delete(id);
    this.sipSealed.delete(id);
    this.indexSipUsers();
    this.owner?.agentsChanged([...this.agents.keys()]);
    return true;
  }

  /**
   * Change an agent's state by hand; an agent becoming available takes the best queued call. With
   * an owner the owner decides (and may refuse: EVX_ERR_AGENT_STATE).
   */
  setAgentState(id: string, state: AgentState): Agent {
    const agent = this.agents.get(id);
    if (agent === undefined) throw evxError('EVX_ERR_NOT_FOUND', 'no such agent', { details: { resource: 'agent' } });
    if (this.owner !== null) {
      this.owner.requested(id, state);
      return this.agents.get(id)!;
    }
    this.setState(id, state, this.now());
    if (state === 'available') this.dispatch(id);
    return this.agents.get(id)!;
  }

  /** The owner's report of an agent's activity and the routing state it maps to; available takes the best queued call. */
  applyAgentState(id: string, state: AgentState, activity: AgentActivity): void {
    const agent = this.agents.get(id);
    if (agent === undefined) return;
    this.agents.set(id, { ...agent, activity });
    this.setState(id, state, activity.since);
    if (state === 'available') this.dispatch(id);
  }

  setRules(patch: Partial<RoutingRules>): RoutingRules {
    const rules = { ...this.rulesValue, ...patch, priority: { ...this.rulesValue.priority, ...(patch.priority ?? {}) } };
    checkRoutingConfig(this.groups, this.agentInputs(), rules);
    this.deps.repo.putRules(rules, this.now());
    this.rulesValue = rules;
    return rules;
  }

  putScript(s: Script): Script {
    this.deps.repo.putScript(s, this.now());
    this.scriptsValue = [...this.scriptsValue.filter((x) => x.id !== s.id), s];
    return s;
  }

  deleteScript(id: string): boolean {
    const had = this.scriptsValue.some((s) => s.id === id);
    if (had) {
      this.deps.repo.deleteScript(id);
      this.scriptsValue = this.scriptsValue.filter((s) => s.id !== id);
    }
    return had;
  }

  private agentInputs(): AgentInput[] {
    return [...this.agents.values()].map((a) => ({
      id: a.id,
      name: a.name,
      sipUri: a.sipUri,
      skills: [...a.skills],
      senior: a.senior,
      ...(a.sip === undefined ? {} : { sip: { username: a.sip.username } }),
    }));
  }

  private setState(id: string, state: AgentState, at: number): void {
    const agent = this.agents.get(id);
    if (agent === undefined || agent.state === state) return;
    this.agents.set(id, { ...agent, state, stateSince: at });
    this.persist('routing.agent.state', () => this.deps.repo.setAgentState(id, state, at));
  }

  private dispatchAll(): void {
    for (const a of [...this.agents.values()]) if (a.state === 'available') this.dispatch(a.id);
  }

  private dispatch(agentId: string): void {
    const agent = this.agents.get(agentId);
    if (agent === undefined || agent.state !== 'available' || this.closed) return;
    const snapshot = this.snapshot();
    const t0 = performance.now();
    const call = pickQueuedCall(agent, snapshot);
    if (call === null) return;
    const decision = dequeueDecision(call, agent, snapshot);
    const decideMs = performance.now() - t0;
    this.queue.splice(this.queue.indexOf(call), 1);
    this.apply(decision, 'dequeue', decideMs, null);
  }

  private persist<T>(operation: string, write: () => T): T | undefined {
    try {
      return write();
    } catch (err) {
      if (!isEdgeVoxError(err)) throw err;
      this.counters.storeErrors++;
      this.deps.logger.warn({ operation, code: err.code }, 'routing data not stored');
      return undefined;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.queue.length = 0;
    this.assignments.clear();
    this.transferer = null;
  }
}

function toGroup(g: SkillGroupInput): SkillGroup {
  return {
    id: g.id,
    name: g.name,
    intents: [...g.intents],
    adjacent: [...(g.adjacent ?? [])],
    overflow: {
      maxWaitMs: g.overflow.maxWaitMs,
      action: g.overflow.action,
      ...(g.overflow.selfServiceUri ? { selfServiceUri: g.overflow.selfServiceUri } : {}),
    },
    ...(g.queue !== undefined ? { queue: structuredClone(g.queue) } : {}),
    ...(g.language !== undefined ? { language: g.language } : {}),
  };
}

/** An agent from its input; with an owner the state is the owner's (a new agent starts offline). */
function toAgent(a: AgentInput, prev: Agent | undefined, at: number, hasPassword: boolean, owned: boolean): Agent {
  const state = owned ? (prev?.state ?? 'offline') : (a.state ?? prev?.state ?? 'offline');
  return {
    id: a.id,
    name: a.name,
    sipUri: a.sipUri,
    skills: a.skills.map((s) => ({ group: s.group, level: s.level })),
    senior: a.senior ?? false,
    state,
    stateSince: prev !== undefined && prev.state === state ? prev.stateSince : at,
    ...(a.sip === undefined ? {} : { sip: { username: a.sip.username, hasPassword } }),
    ...(prev?.activity === undefined ? {} : { activity: prev.activity }),
  };
}
