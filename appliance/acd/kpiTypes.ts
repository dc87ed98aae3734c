/** The KPI engine's public shapes: facts, options, figures and what is stored (kpis.ts computes them). */

export type AgentState = 'available' | 'ringing' | 'on-call' | 'wrap-up' | 'away' | 'logged-out';
export type PresentAgentState = Exclude<AgentState, 'logged-out'>;
export const PRESENT_AGENT_STATES: readonly PresentAgentState[] = ['available', 'ringing', 'on-call', 'wrap-up', 'away'];

/** What the ACD tells the engine. */
export interface AcdFactSink {
  /** A call entered a skill group's queue. */
  offered(callId: string, groupId: string, at: number): void;
  /** An agent answered a queued call. */
  answered(callId: string, agentId: string, at: number): void;
  /** The caller hung up while queued. */
  abandoned(callId: string, at: number): void;
  /** A queued call moved to another group's queue. */
  overflowed(callId: string, toGroupId: string, at: number): void;
  /**
   * The box ended a queued call itself (longest wait with a message, self-service, no agent could
   * take it): it leaves the queue, neither answered nor abandoned, so it is in neither term of the
   * service level.
   */
  dequeued(callId: string, at: number): void;
  held(callId: string, at: number): void;
  resumed(callId: string, at: number): void;
  /** The conversation ended; the agent's wrap-up starts. */
  talkEnded(callId: string, at: number): void;
  /** The agent on the call handed it on (another agent or a queue): their talk ends, the call goes on. */
  transferred(callId: string, at: number): void;
  wrapUpEnded(agentId: string, at: number): void;
  agentState(agentId: string, state: AgentState, at: number): void;
  /** The groups an agent serves (for per-group occupancy and agents by state). */
  agentGroups(agentId: string, groupIds: readonly string[], at: number): void;
}

/** The same facts as values, for a bus or a log. */
export type AcdFact =
  | { readonly kind: 'offered'; readonly callId: string; readonly groupId: string; readonly at: number }
  | { readonly kind: 'answered'; readonly callId: string; readonly agentId: string; readonly at: number }
  | { readonly kind: 'abandoned'; readonly callId: string; readonly at: number }
  | { readonly kind: 'overflowed'; readonly callId: string; readonly toGroupId: string; readonly at: number }
  | { readonly kind: 'dequeued'; readonly callId: string; readonly at: number }
  | { readonly kind: 'held'; readonly callId: string; readonly at: number }
  | { readonly kind: 'resumed'; readonly callId: string; readonly at: number }
  | { readonly kind: 'talk-ended'; readonly callId: string; readonly at: number }
  | { readonly kind: 'transferred'; readonly callId: string; readonly at: number }
  | { readonly kind: 'wrap-up-ended'; readonly agentId: string; readonly at: number }
  | { readonly kind: 'agent-state'; readonly agentId: string; readonly state: AgentState; readonly at: number }
  | { readonly kind: 'agent-groups'; readonly agentId: string; readonly groupIds: readonly string[]; readonly at: number };

export interface KpiOptions {
  /** Interval length; default 15 min. */
  readonly intervalMs?: number;
  /** Intervals kept; default 96 (24 h of 15 min). */
  readonly maxIntervals?: number;
  /** Service-level threshold T overall and for groups without their own; default 20 s. */
  readonly serviceLevelS?: number;
  /** Abandons within this wait are short; default 5 s. */
  readonly shortAbandonS?: number;
  /** Per-group settings; listed groups always appear in results. */
  readonly groups?: Readonly<Record<string, { readonly serviceLevelS?: number }>>;
}

export interface AgentTimeS {
  readonly available: number;
  readonly ringing: number;
  readonly onCall: number;
  readonly wrapUp: number;
  readonly away: number;
}

/** The figures of one group (or overall) over one interval or a range; times in seconds. */
export interface QueueKpis {
  readonly offered: number;
  readonly answered: number;
  readonly answeredWithinThreshold: number;
  /** All abandons, short ones included. */
  readonly abandoned: number;
  readonly shortAbandoned: number;
  /** Left this group's queue for another group (always 0 overall). */
  readonly overflowedOut: number;
  /** Answered calls an agent handed on to another agent or queue (each hand-on counts). */
  readonly transferred: number;
  /** Answered calls whose wrap-up has ended. */
  readonly handled: number;
  readonly serviceLevel: number | null;
  readonly averageSpeedOfAnswerS: number | null;
  readonly averageAbandonTimeS: number | null;
  readonly averageHandleTimeS: number | null;
  /** Totals over the handled calls. */
  readonly talkS: number;
  readonly holdS: number;
  readonly wrapUpS: number;
  readonly agentTimeS: AgentTimeS;
  readonly occupancy: number | null;
}

export interface IntervalKpis {
  readonly start: number;
  readonly end: number;
  readonly groups: Readonly<Record<string, QueueKpis>>;
  readonly overall: QueueKpis;
}

export interface RangeKpis {
  /** The range widened to whole intervals. */
  readonly from: number;
  readonly to: number;
  readonly groups: Readonly<Record<string, QueueKpis>>;
  readonly overall: QueueKpis;
}

export type AgentCounts = Readonly<Record<PresentAgentState, number>>;

export interface RealTimeKpis {
  readonly waiting: number;
  /** Oldest current wait; null when nobody waits. */
  readonly longestWaitingS: number | null;
  readonly agents: AgentCounts;
  /** The figures of the interval `at` falls in, up to `at`. */
  readonly currentInterval: QueueKpis;
}

export interface KpiSnapshot {
  readonly at: number;
  readonly interval: { readonly start: number; readonly end: number };
  readonly groups: Readonly<Record<string, RealTimeKpis>>;
  readonly overall: RealTimeKpis;
}

/** One interval's raw sums (counts and milliseconds), for persistence; keys are the engine's own. */
export interface IntervalTotals {
  readonly start: number;
  readonly end: number;
  readonly groups: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly overall: Readonly<Record<string, number>>;
  /** The interval's per-agent sums, when it has any. */
  readonly agents?: Readonly<Record<string, StoredAgentSums>>;
}

/** One agent's raw sums in one interval, for persistence. */
export interface StoredAgentSums {
  readonly groups: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly overall: Readonly<Record<string, number>>;
}

/** One agent's figures over a range; times in seconds. */
export interface AgentKpis {
  readonly agentId: string;
  readonly rung: number;
  readonly answered: number;
  readonly notAnswered: number;
  readonly transferred: number;
  readonly handled: number;
  readonly talkS: number;
  readonly holdS: number;
  readonly wrapUpS: number;
  /** talk + hold + wrap-up of the handled calls. */
  readonly handleTimeS: number;
  readonly averageHandleTimeS: number | null;
  /** Mean ring time of the answered rings. */
  readonly averageAnswerTimeS: number | null;
}

export interface RangeAgentKpis {
  readonly from: number;
  readonly to: number;
  readonly agents: readonly AgentKpis[];
}

export interface KpiFootprint {
  readonly intervals: number;
  readonly openCalls: number;
  readonly agents: number;
  readonly ignoredFacts: number;
}
