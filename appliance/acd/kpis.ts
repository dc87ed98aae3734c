/**
 * Contact-centre KPIs computed on the box from the ACD's facts: a pure engine, no clock and no I/O
 * (every fact carries its time `at`, in ms; queries take `now`). docs/kpis.md has the same
 * definitions for supervisors.
 *
 * Definitions (per skill group and overall):
 * - A call's wait in a group runs from its offer to that group (its `offered`, or the `overflowed`
 *   that moved it there) to its answer or abandon. Overall, the wait runs from the call's first offer.
 * - Overflow: the call counts as offered in both groups (each queue it entered); in the group it
 *   left it counts as `overflowedOut`, neither answered nor abandoned, so it is in neither term of
 *   that group's service level. Overall counts the call once, with the caller's whole wait.
 * - "Within T" is wait <= T. A short abandon is an abandon with wait <= shortAbandonS (default 5 s).
 * - Service level = answered within T / (answered + abandoned − short abandoned); T per group
 *   (default serviceLevelS, 20 s; overall uses serviceLevelS). Calls still waiting are in neither
 *   term. A zero denominator gives null (never 0 or 1); so do the averages below with no calls.
 * - ASA = total wait of answered calls / answered. Average abandon time = total wait of the
 *   abandons that are not short / their number.
 * - AHT = (talk + hold + wrap-up) / handled, where talk excludes hold (the Genesys and Amazon
 *   Connect convention). A call is handled once its wrap-up ends (`wrapUpEnded`, or the agent's
 *   next state or answer); talk = talk end − answer − hold; wrap-up = wrap-up end − talk end.
 *   Hold is the agent's own hold, start to end (the ACD sends no facts for the caller's: talk time).
 * - Occupancy = (on-call + wrap-up) / (on-call + wrap-up + available + ringing), from the agents'
 *   state time. Ringing counts as available (ready, not yet handling); away and logged-out are in
 *   neither term; hold is on-call. An agent counts in every group they are a member of
 *   (`agentGroups`) and once overall.
 * - Transfer (`transferred`: the agent handed the caller to another agent or queue of the box):
 *   counted in `transferred` of the group the call was answered from (and overall). The call stays
 *   one call: answered once (its first answer), handled once (when the last agent's wrap-up ends,
 *   or when the caller leaves before another agent answers); its talk and hold add up every
 *   agent's. The transferring agent goes to wrap-up at once; their wrap-up after a transfer is
 *   agent state time, not the call's. A transferred call waiting again is not `waiting`.
 * - Call facts move the agent's state too: `answered` → on-call, `talkEnded` → wrap-up,
 *   `wrapUpEnded` → available; `agentState` reports the rest (log-in, ringing, away, log-out).
 *
 * Intervals (default 15 min, aligned to multiples of the length since the epoch): a call's figures
 * (offered, answered, abandoned, service level, ASA, abandon time and its handle time) go to the
 * interval it was offered in, per group the offer to that group, overall its first offer, so an
 * interval's figures can still change while calls offered in it are open. Agent state time is
 * split at interval boundaries. Ranges are widened to whole intervals.
 *
 * Per agent (`agentFigures`): the same facts folded per agent at the same moment, into the same intervals.
 * `answered` (a call's first answer, as in the group figures), `transferred`, `handled` and talk,
 * hold and wrap-up go to the agent who did them, in the group the call was answered from (and
 * overall), so the agents' sums equal the group's; a transferred call that ends before another
 * agent answers is handled by the agent who transferred it. AHT per agent = (talk + hold + wrap-up)
 * / handled, the definition above. Rings are agent state (`agentState` ringing): `rung` counts each
 * ring (the interval it started in), `notAnswered` the rings that ended other than on-call (no
 * answer, rejected, caller gone), average answer time = ring time of the answered rings / their
 * number; like occupancy they count in every group the agent is a member of, and once overall.
 * Per-agent sums are kept and dropped with their intervals, and saved and restored with them.
 *
 * Memory: facts are folded into interval sums as they arrive; only open calls, logged-in agents,
 * agent group memberships and the last `maxIntervals` intervals (default 96 = 24 h, counted back
 * from the newest fact) are kept. Facts for dropped intervals, and calls offered in them, are
 * dropped. Facts that do not fit (an unknown or finished call, a second answer) are ignored and counted.
 */

import {
  type Sums,
  STATE_TIME_KEY,
  AGENT_SUM_KEYS,
  type AgentSums,
  type AgentScopes,
  type IntervalSums,
  type OpenCall,
  type AgentRecord,
  type RowSums,
  positiveInteger,
  secondsToMs,
  zeroSums,
  sumsFrom,
  addSums,
  groupSums,
  copyIntervalSums,
  mergeIntervalSums,
  overlapMs,
  endHold,
  endTalk,
  handleSums,
  zeroAgentSums,
  agentSumsFrom,
  addAgentSums,
  agentGroupSums,
  deriveAgentKpis,
  countStates,
  deriveKpis,
  deriveScopes,
} from './kpiSums.js';
import {
  type AgentState,
  type AcdFactSink,
  type AcdFact,
  type KpiOptions,
  type IntervalKpis,
  type RangeKpis,
  type RealTimeKpis,
  type KpiSnapshot,
  type IntervalTotals,
  type RangeAgentKpis,
  type KpiFootprint,
} from './kpiTypes.js';

export * from './kpiTypes.js';

const DEFAULT_INTERVAL_MS = 15 * 60_000;
const DEFAULT_MAX_INTERVALS = 96;
const DEFAULT_SERVICE_LEVEL_S = 20;
const DEFAULT_SHORT_ABANDON_S = 5;

export class ContactCentreKpis implements AcdFactSink {
  private readonly intervalMs: number;
  private readonly maxIntervals: number;
  private readonly thresholdMs: number;
  private readonly shortAbandonMs: number;
  private readonly groupThresholdMs = new Map<string, number>();
  private readonly buckets = new Map<number, IntervalSums>();
  private readonly agentBuckets = new Map<number, Map<string, AgentScopes>>();
  private readonly calls = new Map<string, OpenCall>();
  private readonly agents = new Map<string, AgentRecord>();
  private readonly memberships = new Map<string, readonly string[]>();
  private latestAt = Number.NEGATIVE_INFINITY;
  private ignored = 0;

  constructor(options: KpiOptions = {}) {
    this.intervalMs = positiveInteger(options.intervalMs ?? DEFAULT_INTERVAL_MS, 'intervalMs');
    this.maxIntervals = positiveInteger(options.maxIntervals ?? DEFAULT_MAX_INTERVALS, 'maxIntervals');
    this.thresholdMs = secondsToMs(options.serviceLevelS ?? DEFAULT_SERVICE_LEVEL_S, 'serviceLevelS');
    this.shortAbandonMs = secondsToMs(options.shortAbandonS ?? DEFAULT_SHORT_ABANDON_S, 'shortAbandonS');
    for (const [groupId, g] of Object.entries(options.groups ?? {})) {
      this.groupThresholdMs.set(groupId, secondsToMs(g.serviceLevelS ?? options.serviceLevelS ?? DEFAULT_SERVICE_LEVEL_S, 'serviceLevelS'));
    }
  }

  // ---- facts ----

  apply(fact: AcdFact): void {
    switch (fact.kind) {
      case 'offered':
        return this.offered(fact.callId, fact.groupId, fact.at);
      case 'answered':
        return this.answered(fact.callId, fact.agentId, fact.at);
      case 'abandoned':
        return this.abandoned(fact.callId, fact.at);
      case 'overflowed':
        return this.overflowed(fact.callId, fact.toGroupId, fact.at);
      case 'dequeued':
        return this.dequeued(fact.callId, fact.at);
      case 'held':
        return this.held(fact.callId, fact.at);
      case 'resumed':
        return this.resumed(fact.callId, fact.at);
      case 'talk-ended':
        return this.talkEnded(fact.callId, fact.at);
      case 'transferred':
        return this.transferred(fact.callId, fact.at);
      case 'wrap-up-ended':
        return this.wrapUpEnded(fact.agentId, fact.at);
      case 'agent-state':
        return this.agentState(fact.agentId, fact.state, fact.at);
      case 'agent-groups':
        return this.agentGroups(fact.agentId, fact.groupIds, fact.at);
      default: {
        const unknownFact: never = fact;
        throw new TypeError(`unknown ACD fact ${JSON.stringify(unknownFact)}`);
      }
    }
  }

  offered(callId: string, groupId: string, at: number): void {
    this.observe(at);
    if (this.calls.has(callId)) return this.ignore();
    this.calls.set(callId, {
      id: callId,
      firstOfferedAt: at,
      groupId,
      groupOfferedAt: at,
      phase: 'queued',
      answeredAt: at,
      holdMs: 0,
      talkEndedAt: at,
    });
    this.addToGroup(groupId, at, { offered: 1 });
    this.addToOverall(at, { offered: 1 });
  }

  answered(callId: string, agentId: string, at: number): void {
    this.observe(at);
    const call = this.calls.get(callId);
    if (call?.phase === 'transferring') {
      // the next agent after a transfer: the call was answered once already
      this.finishAgentCall(agentId, at);
      this.startTalk(call, agentId, at);
      return;
    }
    if (call?.phase !== 'queued') return this.ignore();
    const wait = Math.max(0, at - call.groupOfferedAt);
    const overallWait = Math.max(0, at - call.firstOfferedAt);
    this.addToGroup(call.groupId, call.groupOfferedAt, {
      answered: 1,
      answerWaitMs: wait,
      answeredWithin: wait <= this.thresholdFor(call.groupId) ? 1 : 0,
    });
    this.addToOverall(call.firstOfferedAt, {
      answered: 1,
      answerWaitMs: overallWait,
      answeredWithin: overallWait <= this.thresholdMs ? 1 : 0,
    });
    this.addToAgent(agentId, call, { answered: 1 });
    this.finishAgentCall(agentId, at);
    this.startTalk(call, agentId, at);
  }

  private startTalk(call: OpenCall, agentId: string, at: number): void {
    call.phase = 'talking';
    call.agentId = agentId;
    call.answeredAt = at;
    this.moveAgent(agentId, 'on-call', at);
    const agent = this.agents.get(agentId);
    if (agent) agent.callId = call.id;
  }

  transferred(callId: string, at: number): void {
    this.observe(at);
    const call = this.calls.get(callId);
    if (call?.phase !== 'talking') return this.ignore();
    endHold(call, at);
    const segment = { transferred: 1, talkMs: Math.max(0, at - call.answeredAt - call.holdMs), holdMs: call.holdMs };
    this.addToGroup(call.groupId, call.groupOfferedAt, segment);
    this.addToOverall(call.firstOfferedAt, segment);
    call.holdMs = 0;
    call.phase = 'transferring';
    const agentId = call.agentId;
    delete call.agentId;
    if (agentId === undefined) return;
    this.addToAgent(agentId, call, segment);
    call.transferredBy = agentId;
    const agent = this.agents.get(agentId);
    if (agent?.callId === callId) delete agent.callId;
    this.moveAgent(agentId, 'wrap-up', at);
  }

  abandoned(callId: string, at: number): void {
    this.observe(at);
    const call = this.calls.get(callId);
    if (call?.phase === 'transferring') return this.endTransferred(call);
    if (call?.phase !== 'queued') return this.ignore();
    this.addToGroup(call.groupId, call.groupOfferedAt, this.abandonSums(at - call.groupOfferedAt));
    this.addToOverall(call.firstOfferedAt, this.abandonSums(at - call.firstOfferedAt));
    this.calls.delete(callId);
  }

  dequeued(callId: string, at: number): void {
    this.observe(at);
    const call = this.calls.get(callId);
    if (call?.phase === 'transferring') return this.endTransferred(call);
    if (call?.phase !== 'queued') return this.ignore();
    this.calls.delete(callId);
  }

  /** A transferred call ended before another agent answered: handled, its agents' time already counted. */
  private endTransferred(call: OpenCall): void {
    this.addToGroup(call.groupId, call.groupOfferedAt, { handled: 1 });
    this.addToOverall(call.firstOfferedAt, { handled: 1 });
    if (call.transferredBy !== undefined) this.addToAgent(call.transferredBy, call, { handled: 1 });
    this.calls.delete(call.id);
  }

  overflowed(callId: string, toGroupId: string, at: number): void {
    this.observe(at);
    const call = this.calls.get(callId);
    if (call?.phase !== 'queued' || call.groupId === toGroupId) return this.ignore();
    this.addToGroup(call.groupId, call.groupOfferedAt, { overflowedOut: 1 });
    this.addToGroup(toGroupId, at, { offered: 1 });
    call.groupId = toGroupId;
    call.groupOfferedAt = at;
  }

  held(callId: string, at: number): void {
    this.observe(at);
    const call = this.calls.get(callId);
    if (call?.phase !== 'talking' || call.holdStartedAt !== undefined) return this.ignore();
    call.holdStartedAt = at;
  }

  resumed(callId: string, at: number): void {
    this.observe(at);
    const call = this.calls.get(callId);
    if (call?.phase !== 'talking' || call.holdStartedAt === undefined) return this.ignore();
    endHold(call, at);
  }

  talkEnded(callId: string, at: number): void {
    this.observe(at);
    const call = this.calls.get(callId);
    if (call?.phase !== 'talking') return this.ignore();
    endTalk(call, at);
    if (call.agentId !== undefined) this.moveAgent(call.agentId, 'wrap-up', at);
  }

  wrapUpEnded(agentId: string, at: number): void {
    this.observe(at);
    const agent = this.agents.get(agentId);
    if (agent?.callId === undefined && agent?.state !== 'wrap-up') return this.ignore();
    this.finishAgentCall(agentId, at);
    this.moveAgent(agentId, 'available', at);
  }

  agentState(agentId: string, state: AgentState, at: number): void {
    this.observe(at);
    const agent = this.agents.get(agentId);
    const call = agent?.callId === undefined ? undefined : this.calls.get(agent.callId);
    if (call && state === 'wrap-up' && call.phase === 'talking') endTalk(call, at);
    else if (state !== 'on-call' && state !== 'wrap-up') this.finishAgentCall(agentId, at);
    this.moveAgent(agentId, state, at);
  }

  agentGroups(agentId: string, groupIds: readonly string[], at: number): void {
    this.observe(at);
    const agent = this.agents.get(agentId);
    if (agent) this.foldAgentTime(agentId, agent, at);
    this.memberships.set(agentId, [...new Set(groupIds)]);
  }

  // ---- queries ----

  /** Per-interval figures for the intervals overlapping [from, to) that are kept; `now` (default: the newest fact) ends open agent states. */
  intervals(from: number, to: number, now?: number): IntervalKpis[] {
    const at = this.queryTime(now, from);
    const rows = this.rowSums(from, to, at);
    const groupIds = this.groupIdsOf(rows);
    return rows.map((r) => ({ start: r.start, end: r.end, ...deriveScopes(r.sums, groupIds) }));
  }

  /** The figures over the intervals overlapping [from, to), summed. */
  summary(from: number, to: number, now?: number): RangeKpis {
    const at = this.queryTime(now, from);
    const rows = this.rowSums(from, to, at);
    const total: IntervalSums = { groups: new Map(), overall: zeroSums() };
    for (const r of rows) mergeIntervalSums(total, r.sums);
    const first = rows[0];
    const last = rows[rows.length - 1];
    return {
      from: first?.start ?? this.startOf(from),
      to: last?.end ?? this.startOf(to - 1) + this.intervalMs,
      ...deriveScopes(total, this.groupIdsOf(rows)),
    };
  }

  /**
   * Per-agent figures over the kept intervals overlapping [from, to) up to `now` (default: the
   * newest fact), summed; `group` keeps that skill group's figures (default: overall). Agents with
   * no figures in the range are left out; sorted by agent id.
   */
  agentFigures(from: number, to: number, group?: string, now?: number): RangeAgentKpis {
    const newest = this.startOf(Math.max(this.queryTime(now, from), this.latestAt));
    const totals = new Map<string, AgentSums>();
    let first: number | undefined;
    let last: number | undefined;
    for (let start = Math.max(this.startOf(from), this.oldestKeptStart(newest)); start < to && start <= newest; start += this.intervalMs) {
      first ??= start;
      last = start + this.intervalMs;
      for (const [agentId, scopes] of this.agentBuckets.get(start) ?? []) {
        const sums = group === undefined ? scopes.overall : scopes.groups.get(group);
        if (!sums) continue;
        let total = totals.get(agentId);
        if (!total) {
          total = zeroAgentSums();
          totals.set(agentId, total);
        }
        addAgentSums(total, sums);
      }
    }
    const agents = [...totals]
      .filter(([, x]) => AGENT_SUM_KEYS.some((k) => x[k] !== 0))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([agentId, x]) => deriveAgentKpis(agentId, x));
    return { from: first ?? this.startOf(from), to: last ?? this.startOf(to - 1) + this.intervalMs, agents };
  }

  /** Real time at `at`: waiting calls, longest wait, agents by state, and the current interval. */
  snapshot(at: number): KpiSnapshot {
    const start = this.startOf(at);
    const rows = this.rowSums(start, start + this.intervalMs, at);
    const current: IntervalSums = rows[0]?.sums ?? { groups: new Map(), overall: zeroSums() };
    const groupIds = this.groupIdsOf(rows);
    const queued = [...this.calls.values()].filter((c) => c.phase === 'queued');
    const presentAgents = [...this.agents.entries()];
    const realTime = (groupId: string | null): RealTimeKpis => {
      const waits = queued
        .filter((c) => groupId === null || c.groupId === groupId)
        .map((c) => (groupId === null ? c.firstOfferedAt : c.groupOfferedAt));
      const states = presentAgents.filter(([id]) => groupId === null || this.groupsOf(id).includes(groupId)).map(([, a]) => a.state);
      const sums = groupId === null ? current.overall : (current.groups.get(groupId) ?? zeroSums());
      return {
        waiting: waits.length,
        longestWaitingS: waits.length === 0 ? null : Math.max(0, at - Math.min(...waits)) / 1000,
        agents: countStates(states),
        currentInterval: deriveKpis(sums),
      };
    };
    return {
      at,
      interval: { start, end: start + this.intervalMs },
      groups: Object.fromEntries(groupIds.map((g) => [g, realTime(g)])),
      overall: realTime(null),
    };
  }

  /** Whether `callId` is an open call still waiting for its first answer (a transferred call waiting again is not). */
  isQueued(callId: string): boolean {
    return this.calls.get(callId)?.phase === 'queued';
  }

  /** What the engine holds now. */
  footprint(): KpiFootprint {
    return { intervals: this.buckets.size, openCalls: this.calls.size, agents: this.agents.size, ignoredFacts: this.ignored };
  }

  // ---- settings and persistence ----

  /** Replace the per-group thresholds T (groups listed always appear); calls answered from now on use them. */
  setGroups(groups: Readonly<Record<string, { readonly serviceLevelS?: number }>>): void {
    const next = new Map<string, number>();
    for (const [groupId, g] of Object.entries(groups))
      next.set(groupId, g.serviceLevelS === undefined ? this.thresholdMs : secondsToMs(g.serviceLevelS, 'serviceLevelS'));
    this.groupThresholdMs.clear();
    for (const [groupId, ms] of next) this.groupThresholdMs.set(groupId, ms);
  }

  /**
   * The raw sums of the kept intervals overlapping [from, to), open agent states counted up to
   * `now`: what a store keeps so that `restoreTotals` after a restart gives the same figures.
   */
  exportTotals(from: number, to: number, now: number): IntervalTotals[] {
    return this.rowSums(from, to, now).map((r) => {
      const byAgent = this.agentBuckets.get(r.start);
      return {
        start: r.start,
        end: r.end,
        groups: Object.fromEntries([...r.sums.groups].map(([g, sums]) => [g, { ...sums }])),
        overall: { ...r.sums.overall },
        ...(byAgent && byAgent.size > 0
          ? {
              agents: Object.fromEntries(
                [...byAgent].map(([agentId, scopes]) => [
                  agentId,
                  { groups: Object.fromEntries([...scopes.groups].map(([g, sums]) => [g, { ...sums }])), overall: { ...scopes.overall } },
                ]),
              ),
            }
          : {}),
      };
    });
  }

  /**
   * Load interval sums saved by `exportTotals` (other interval lengths are skipped). Only before the
   * first fact: the figures of a restarted box continue from the saved ones. Returns the rows taken.
   */
  restoreTotals(rows: readonly IntervalTotals[]): number {
    if (Number.isFinite(this.latestAt)) throw new Error('restoreTotals must run before the first fact');
    let taken = 0;
    for (const row of rows) {
      if (row.end - row.start !== this.intervalMs || row.start % this.intervalMs !== 0) continue;
      const b: IntervalSums = { groups: new Map(), overall: sumsFrom(row.overall) };
      for (const [g, sums] of Object.entries(row.groups)) b.groups.set(g, sumsFrom(sums));
      this.buckets.set(row.start, b);
      const byAgent = new Map<string, AgentScopes>();
      for (const [agentId, stored] of Object.entries(row.agents ?? {})) {
        if (typeof stored !== 'object' || stored === null) continue;
        const scopes: AgentScopes = { groups: new Map(), overall: agentSumsFrom(stored.overall ?? {}) };
        for (const [g, sums] of Object.entries(stored.groups ?? {})) scopes.groups.set(g, agentSumsFrom(sums));
        byAgent.set(agentId, scopes);
      }
      if (byAgent.size > 0) this.agentBuckets.set(row.start, byAgent);
      taken++;
    }
    return taken;
  }

  // ---- internals ----

  private ignore(): void {
    this.ignored++;
  }

  private startOf(at: number): number {
    return Math.floor(at / this.intervalMs) * this.intervalMs;
  }

  private oldestKeptStart(newestAt: number): number {
    return this.startOf(newestAt) - (this.maxIntervals - 1) * this.intervalMs;
  }

  private thresholdFor(groupId: string): number {
    return this.groupThresholdMs.get(groupId) ?? this.thresholdMs;
  }

  private groupsOf(agentId: string): readonly string[] {
    return this.memberships.get(agentId) ?? [];
  }

  private queryTime(now: number | undefined, fallback: number): number {
    return now ?? (Number.isFinite(this.latestAt) ? this.latestAt : fallback);
  }

  /** Advance the newest time; on entering a new interval, drop intervals and calls past the window. */
  private observe(at: number): void {
    if (at <= this.latestAt) return;
    const enteredNewInterval = !Number.isFinite(this.latestAt) || this.startOf(at) > this.startOf(this.latestAt);
    this.latestAt = at;
    if (!enteredNewInterval) return;
    const oldest = this.oldestKeptStart(at);
    for (const start of this.buckets.keys()) if (start < oldest) this.buckets.delete(start);
    for (const start of this.agentBuckets.keys()) if (start < oldest) this.agentBuckets.delete(start);
    for (const call of this.calls.values()) {
      if (call.groupOfferedAt >= oldest) continue;
      this.calls.delete(call.id);
      const agent = call.agentId === undefined ? undefined : this.agents.get(call.agentId);
      if (agent?.callId === call.id) delete agent.callId;
    }
  }

  private bucket(start: number): IntervalSums | undefined {
    if (start < this.oldestKeptStart(this.latestAt)) return undefined;
    let b = this.buckets.get(start);
    if (!b) {
      b = { groups: new Map(), overall: zeroSums() };
      this.buckets.set(start, b);
    }
    return b;
  }

  private addToGroup(groupId: string, offeredAt: number, delta: Partial<Sums>): void {
    const b = this.bucket(this.startOf(offeredAt));
    if (b) addSums(groupSums(b, groupId), delta);
  }

  private addToOverall(offeredAt: number, delta: Partial<Sums>): void {
    const b = this.bucket(this.startOf(offeredAt));
    if (b) addSums(b.overall, delta);
  }

  private abandonSums(waitMs: number): Partial<Sums> {
    const wait = Math.max(0, waitMs);
    return wait <= this.shortAbandonMs ? { abandoned: 1, shortAbandoned: 1 } : { abandoned: 1, abandonWaitMs: wait };
  }

  /** End whatever call the agent still has (talk and wrap-up end at `at`) and fold its handle time. */
  private finishAgentCall(agentId: string, at: number): void {
    const agent = this.agents.get(agentId);
    if (agent?.callId === undefined) return;
    const call = this.calls.get(agent.callId);
    delete agent.callId;
    if (!call) return;
    if (call.phase === 'talking') endTalk(call, at);
    this.addToGroup(call.groupId, call.groupOfferedAt, handleSums(call, at));
    this.addToOverall(call.firstOfferedAt, handleSums(call, at));
    this.addToAgent(agentId, call, handleSums(call, at));
    this.calls.delete(call.id);
  }

  private moveAgent(agentId: string, state: AgentState, at: number): void {
    const agent = this.agents.get(agentId);
    if (!agent) {
      if (state === 'logged-out') return;
      this.agents.set(agentId, { state, since: at });
      if (state === 'ringing') this.ringStarted(agentId, at);
      return;
    }
    if (agent.state === state) return;
    this.foldAgentTime(agentId, agent, at);
    if (agent.ringStartedAt !== undefined) this.ringEnded(agentId, agent.ringStartedAt, state === 'on-call', at);
    delete agent.ringStartedAt;
    if (state === 'ringing') this.ringStarted(agentId, at);
    if (state === 'logged-out') this.agents.delete(agentId);
    else agent.state = state;
  }

  private ringStarted(agentId: string, at: number): void {
    const agent = this.agents.get(agentId);
    if (agent) agent.ringStartedAt = at;
    this.addToAgentByMembership(agentId, at, { rung: 1 });
  }

  private ringEnded(agentId: string, startedAt: number, answered: boolean, at: number): void {
    const delta: Partial<AgentSums> = answered ? { ringAnswered: 1, answerRingMs: Math.max(0, at - startedAt) } : { notAnswered: 1 };
    this.addToAgentByMembership(agentId, startedAt, delta);
  }

  private agentScopes(agentId: string, at: number): AgentScopes | undefined {
    const start = this.startOf(at);
    if (start < this.oldestKeptStart(this.latestAt)) return undefined;
    let byAgent = this.agentBuckets.get(start);
    if (!byAgent) {
      byAgent = new Map();
      this.agentBuckets.set(start, byAgent);
    }
    let scopes = byAgent.get(agentId);
    if (!scopes) {
      scopes = { groups: new Map(), overall: zeroAgentSums() };
      byAgent.set(agentId, scopes);
    }
    return scopes;
  }

  /** A call's figures for the agent: in the group the call is in (its offer's interval) and overall (its first offer's). */
  private addToAgent(agentId: string, call: OpenCall, delta: Partial<Readonly<AgentSums>>): void {
    const inGroup = this.agentScopes(agentId, call.groupOfferedAt);
    if (inGroup) addAgentSums(agentGroupSums(inGroup, call.groupId), delta);
    const overall = this.agentScopes(agentId, call.firstOfferedAt);
    if (overall) addAgentSums(overall.overall, delta);
  }

  /** Ring figures: every group the agent is a member of, and overall. */
  private addToAgentByMembership(agentId: string, at: number, delta: Partial<Readonly<AgentSums>>): void {
    const scopes = this.agentScopes(agentId, at);
    if (!scopes) return;
    addAgentSums(scopes.overall, delta);
    for (const g of this.groupsOf(agentId)) addAgentSums(agentGroupSums(scopes, g), delta);
  }

  /** Fold the agent's current state time up to `until` into the kept intervals. */
  private foldAgentTime(agentId: string, agent: AgentRecord, until: number): void {
    const end = Math.max(until, agent.since);
    const key = STATE_TIME_KEY[agent.state];
    const groups = this.groupsOf(agentId);
    for (let start = this.startOf(Math.max(agent.since, this.oldestKeptStart(this.latestAt))); start < end; start += this.intervalMs) {
      const ms = overlapMs(agent.since, end, start, start + this.intervalMs);
      const b = ms > 0 ? this.bucket(start) : undefined;
      if (!b) continue;
      b.overall[key] += ms;
      for (const g of groups) groupSums(b, g)[key] += ms;
    }
    agent.since = end;
  }

  /** The kept intervals overlapping [from, to), each with open agent states added up to `now`. */
  private rowSums(from: number, to: number, now: number): RowSums[] {
    const newest = this.startOf(Math.max(now, this.latestAt));
    const rows: RowSums[] = [];
    for (let start = Math.max(this.startOf(from), this.oldestKeptStart(newest)); start < to && start <= newest; start += this.intervalMs) {
      const end = start + this.intervalMs;
      const sums = copyIntervalSums(this.buckets.get(start));
      for (const [agentId, agent] of this.agents) {
        const ms = overlapMs(agent.since, now, start, end);
        if (ms <= 0) continue;
        const key = STATE_TIME_KEY[agent.state];
        sums.overall[key] += ms;
        for (const g of this.groupsOf(agentId)) groupSums(sums, g)[key] += ms;
      }
      rows.push({ start, end, sums });
    }
    return rows;
  }

  /** Configured groups, groups with figures in the rows, groups agents serve and groups with open calls; sorted. */
  private groupIdsOf(rows: readonly RowSums[]): string[] {
    const ids = new Set<string>(this.groupThresholdMs.keys());
    for (const r of rows) for (const g of r.sums.groups.keys()) ids.add(g);
    for (const groups of this.memberships.values()) for (const g of groups) ids.add(g);
    for (const c of this.calls.values()) ids.add(c.groupId);
    return [...ids].sort();
  }
}
