/** The KPI engine's sums and the pure folds over them (kpis.ts holds the engine that feeds them). */
import { type PresentAgentState, type QueueKpis, type AgentCounts, type AgentKpis } from './kpiTypes.js';

export const SUM_KEYS = [
  'offered',
  'answered',
  'answeredWithin',
  'abandoned',
  'shortAbandoned',
  'abandonWaitMs',
  'answerWaitMs',
  'overflowedOut',
  'transferred',
  'handled',
  'talkMs',
  'holdMs',
  'wrapUpMs',
  'availableMs',
  'ringingMs',
  'onCallMs',
  'wrapUpStateMs',
  'awayMs',
] as const;
export type SumKey = (typeof SUM_KEYS)[number];
export type Sums = Record<SumKey, number>;

export const STATE_TIME_KEY: Readonly<Record<PresentAgentState, SumKey>> = {
  available: 'availableMs',
  ringing: 'ringingMs',
  'on-call': 'onCallMs',
  'wrap-up': 'wrapUpStateMs',
  away: 'awayMs',
};

export const AGENT_SUM_KEYS = [
  'rung',
  'ringAnswered',
  'notAnswered',
  'answerRingMs',
  'answered',
  'transferred',
  'handled',
  'talkMs',
  'holdMs',
  'wrapUpMs',
] as const;
export type AgentSumKey = (typeof AGENT_SUM_KEYS)[number];
export type AgentSums = Record<AgentSumKey, number>;

export interface AgentScopes {
  readonly groups: Map<string, AgentSums>;
  readonly overall: AgentSums;
}

export interface IntervalSums {
  readonly groups: Map<string, Sums>;
  readonly overall: Sums;
}

export interface OpenCall {
  readonly id: string;
  readonly firstOfferedAt: number;
  groupId: string;
  groupOfferedAt: number;
  /** transferring: answered, handed on, no agent on it until the next answer. */
  phase: 'queued' | 'talking' | 'transferring' | 'wrap-up';
  agentId?: string;
  /** The agent who last handed the call on (handles it if the caller leaves before the next answer). */
  transferredBy?: string;
  answeredAt: number;
  holdMs: number;
  holdStartedAt?: number;
  talkEndedAt: number;
}

export interface AgentRecord {
  state: PresentAgentState;
  since: number;
  callId?: string;
  /** When the current ring started (state ringing). */
  ringStartedAt?: number;
}

export interface RowSums {
  readonly start: number;
  readonly end: number;
  readonly sums: IntervalSums;
}

export function positiveInteger(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer, got ${n}`);
  return n;
}

export function secondsToMs(seconds: number, name: string): number {
  if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError(`${name} must be a non-negative number of seconds, got ${seconds}`);
  return seconds * 1000;
}

export function zeroSums(): Sums {
  const s = {} as Sums;
  for (const k of SUM_KEYS) s[k] = 0;
  return s;
}

/** Sums from a stored record: known keys with finite values, the rest 0. */
export function sumsFrom(x: Readonly<Record<string, number>>): Sums {
  const s = zeroSums();
  for (const k of SUM_KEYS) {
    const v = x[k];
    if (typeof v === 'number' && Number.isFinite(v)) s[k] = v;
  }
  return s;
}

export function addSums(into: Sums, delta: Partial<Readonly<Sums>>): void {
  for (const k of SUM_KEYS) into[k] += delta[k] ?? 0;
}

export function groupSums(b: IntervalSums, groupId: string): Sums {
  let s = b.groups.get(groupId);
  if (!s) {
    s = zeroSums();
    b.groups.set(groupId, s);
  }
  return s;
}

export function copyIntervalSums(b: IntervalSums | undefined): IntervalSums {
  const copy: IntervalSums = { groups: new Map(), overall: zeroSums() };
  if (b) mergeIntervalSums(copy, b);
  return copy;
}

export function mergeIntervalSums(into: IntervalSums, from: IntervalSums): void {
  addSums(into.overall, from.overall);
  for (const [g, s] of from.groups) addSums(groupSums(into, g), s);
}

/** Length of [a0, a1) ∩ [b0, b1), 0 when they do not meet. */
export function overlapMs(a0: number, a1: number, b0: number, b1: number): number {
  return Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
}

export function endHold(call: OpenCall, at: number): void {
  if (call.holdStartedAt === undefined) return;
  call.holdMs += Math.max(0, at - call.holdStartedAt);
  delete call.holdStartedAt;
}

export function endTalk(call: OpenCall, at: number): void {
  endHold(call, at);
  call.talkEndedAt = Math.max(at, call.answeredAt);
  call.phase = 'wrap-up';
}

/** A finished call's handle time: talk (hold excluded) + hold + wrap-up up to `wrapUpEndAt`. */
export function handleSums(call: OpenCall, wrapUpEndAt: number): Partial<Sums> {
  return {
    handled: 1,
    talkMs: Math.max(0, call.talkEndedAt - call.answeredAt - call.holdMs),
    holdMs: call.holdMs,
    wrapUpMs: Math.max(0, wrapUpEndAt - call.talkEndedAt),
  };
}

export function zeroAgentSums(): AgentSums {
  const s = {} as AgentSums;
  for (const k of AGENT_SUM_KEYS) s[k] = 0;
  return s;
}

/** Agent sums from a stored record: known keys with finite values, the rest 0. */
export function agentSumsFrom(x: Readonly<Record<string, number>>): AgentSums {
  const s = zeroAgentSums();
  for (const k of AGENT_SUM_KEYS) {
    const v = x[k];
    if (typeof v === 'number' && Number.isFinite(v)) s[k] = v;
  }
  return s;
}

export function addAgentSums(into: AgentSums, delta: Partial<Readonly<AgentSums>>): void {
  for (const k of AGENT_SUM_KEYS) into[k] += delta[k] ?? 0;
}

export function agentGroupSums(scopes: AgentScopes, groupId: string): AgentSums {
  let s = scopes.groups.get(groupId);
  if (!s) {
    s = zeroAgentSums();
    scopes.groups.set(groupId, s);
  }
  return s;
}

/** One agent's figures from their sums (the definitions in the module comment). */
export function deriveAgentKpis(agentId: string, x: Readonly<AgentSums>): AgentKpis {
  const handleMs = x.talkMs + x.holdMs + x.wrapUpMs;
  return {
    agentId,
    rung: x.rung,
    answered: x.answered,
    notAnswered: x.notAnswered,
    transferred: x.transferred,
    handled: x.handled,
    talkS: x.talkMs / 1000,
    holdS: x.holdMs / 1000,
    wrapUpS: x.wrapUpMs / 1000,
    handleTimeS: handleMs / 1000,
    averageHandleTimeS: msToS(ratio(handleMs, x.handled)),
    averageAnswerTimeS: msToS(ratio(x.answerRingMs, x.ringAnswered)),
  };
}

export function ratio(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator;
}

export function msToS(ms: number | null): number | null {
  return ms === null ? null : ms / 1000;
}

export function countStates(states: readonly PresentAgentState[]): AgentCounts {
  const counts: Record<PresentAgentState, number> = { available: 0, ringing: 0, 'on-call': 0, 'wrap-up': 0, away: 0 };
  for (const s of states) counts[s]++;
  return counts;
}

/** The KPIs of one scope from its sums (the definitions in the module comment). */
export function deriveKpis(x: Readonly<Sums>): QueueKpis {
  const nonShortAbandons = x.abandoned - x.shortAbandoned;
  const handleMs = x.talkMs + x.holdMs + x.wrapUpMs;
  const busyMs = x.onCallMs + x.wrapUpStateMs;
  return {
    offered: x.offered,
    answered: x.answered,
    answeredWithinThreshold: x.answeredWithin,
    abandoned: x.abandoned,
    shortAbandoned: x.shortAbandoned,
    overflowedOut: x.overflowedOut,
    transferred: x.transferred,
    handled: x.handled,
    serviceLevel: ratio(x.answeredWithin, x.answered + nonShortAbandons),
    averageSpeedOfAnswerS: msToS(ratio(x.answerWaitMs, x.answered)),
    averageAbandonTimeS: msToS(ratio(x.abandonWaitMs, nonShortAbandons)),
    averageHandleTimeS: msToS(ratio(handleMs, x.handled)),
    talkS: x.talkMs / 1000,
    holdS: x.holdMs / 1000,
    wrapUpS: x.wrapUpMs / 1000,
    agentTimeS: {
      available: x.availableMs / 1000,
      ringing: x.ringingMs / 1000,
      onCall: x.onCallMs / 1000,
      wrapUp: x.wrapUpStateMs / 1000,
      away: x.awayMs / 1000,
    },
    occupancy: ratio(busyMs, busyMs + x.availableMs + x.ringingMs),
  };
}

export function deriveScopes(sums: IntervalSums, groupIds: readonly string[]): { groups: Record<string, QueueKpis>; overall: QueueKpis } {
  return {
    groups: Object.fromEntries(groupIds.map((g) => [g, deriveKpis(sums.groups.get(g) ?? zeroSums())])),
    overall: deriveKpis(sums.overall),
  };
}
