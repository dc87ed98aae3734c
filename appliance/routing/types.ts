/**
 * The routing domain: skill groups, agents, rules, queued calls and decisions. Plain data, so the
 * decision functions stay pure and the same shapes travel through the store, the API and events.
 */

export type AgentState = 'available' | 'busy' | 'wrap-up' | 'offline';
export const AGENT_STATES: readonly AgentState[] = ['available', 'busy', 'wrap-up', 'offline'];

/** What a group does with a call whose estimated wait exceeds `maxWaitMs`. */
export type OverflowAction = 'adjacent' | 'callback' | 'self-service' | 'none';

export interface OverflowRule {
  /** Estimated wait above which the overflow action applies. */
  readonly maxWaitMs: number;
  readonly action: OverflowAction;
  /** Where `self-service` sends the call (an IVR / bot SIP URI). */
  readonly selfServiceUri?: string | undefined;
}

export interface SkillGroup {
  readonly id: string;
  readonly name: string;
  /** Intent labels routed to this group. */
  readonly intents: readonly string[];
  /** Groups that may take this group's calls on overflow, in order of preference. */
  readonly adjacent: readonly string[];
  readonly overflow: OverflowRule;
}

export interface AgentSkill {
  readonly group: string;
  /** 1 (junior) .. 5 (expert). */
  readonly level: number;
}

export interface Agent {
  readonly id: string;
  readonly name: string;
  /** Where a call for this agent is transferred (SIP REFER target). */
  readonly sipUri: string;
  readonly skills: readonly AgentSkill[];
  /** Senior agents take angry callers; a skill level >= rules.seniorLevel also counts. */
  readonly senior: boolean;
  readonly state: AgentState;
  /** Unix ms of the last state change: the longest-idle available agent is chosen first. */
  readonly stateSince: number;
}

export interface PriorityWeights {
  readonly vip: number;
  readonly repeatCaller: number;
  readonly complaintRisk: number;
  readonly angry: number;
  readonly escalating: number;
}

export interface RoutingRules {
  /** Group for out-of-scope, low-confidence or unmapped intents. */
  readonly defaultGroup: string;
  /**
   * Intents below this confidence are treated like out-of-scope ones: a site floor on top of the
   * model's own calibrated out-of-scope threshold (0 = trust the model's threshold alone).
   */
  readonly minIntentConfidence: number;
  /**
   * When the top intent is out of scope or below the floor, the call still goes to the group whose
   * intents together (over the classifier's top-k) reach this probability; 0 turns this off. Groups
   * are coarser than intents, so their summed probability survives ASR errors better.
   */
  readonly groupMassThreshold: number;
  /** Agents with a skill level at or above this count as senior for that group. */
  readonly seniorLevel: number;
  /** When true an angry caller waits for a senior; when false any available agent takes them. */
  readonly seniorRequired: boolean;
  /** P(angry) at or above which the caller is treated as angry. */
  readonly angerThreshold: number;
  /** Intents that carry complaint risk (disputes, account closure, ...). */
  readonly complaintIntents: readonly string[];
  /** Churn-risk score (0..1) at or above which a caller is a complaint risk too. */
  readonly churnRiskThreshold: number;
  readonly priority: PriorityWeights;
  /** Average handling time, for wait estimates. */
  readonly avgHandleMs: number;
  /** VIP callers are never overflowed to self-service or a callback. */
  readonly vipNeverSelfService: boolean;
  /** A queued call waiting longer than this raises a queue alert. */
  readonly queueAlertWaitMs: number;
}

export const DEFAULT_RULES: RoutingRules = {
  defaultGroup: 'general',
  minIntentConfidence: 0,
  groupMassThreshold: 0,
  seniorLevel: 4,
  seniorRequired: false,
  angerThreshold: 0.5,
  complaintIntents: [],
  churnRiskThreshold: 0.6,
  priority: { vip: 50, repeatCaller: 15, complaintRisk: 20, angry: 25, escalating: 10 },
  avgHandleMs: 240_000,
  vipNeverSelfService: true,
  queueAlertWaitMs: 120_000,
};

/** What routing knows about the caller's words in this call. */
export interface RouteIntent {
  readonly intent: string | null;
  readonly confidence: number;
  readonly outOfScope: boolean;
  /** The classifier's best intents with probabilities (for the group-mass rule). */
  readonly top?: readonly { readonly intent: string; readonly confidence: number }[] | undefined;
}

/** What routing knows about the caller's voice in this call. */
export interface RouteEmotion {
  readonly category: string;
  /** P(angry) from the emotion model (0 when the model has no angry class). */
  readonly angry: number;
  readonly arousal: number;
  readonly valence: number;
  readonly trend: 'escalating' | 'calming' | 'steady' | 'unknown';
}

/** What routing knows about the caller from earlier calls (no number, no name). */
export interface RouteProfile {
  readonly vip: boolean;
  /** Called before within the repeat window. */
  readonly repeatCaller: boolean;
  readonly unresolvedRepeats: number;
  readonly churnRisk: number;
}

export interface RouteRequest {
  readonly callId: string;
  readonly intent: RouteIntent | null;
  readonly emotion: RouteEmotion | null;
  readonly profile: RouteProfile | null;
}

export interface QueuedCall {
  readonly callId: string;
  readonly groupId: string;
  readonly priority: number;
  readonly needsSenior: boolean;
  readonly enqueuedAt: number;
}

/** Everything a decision depends on, at one instant. */
export interface RoutingSnapshot {
  readonly groups: readonly SkillGroup[];
  readonly agents: readonly Agent[];
  readonly queues: readonly QueuedCall[];
  readonly rules: RoutingRules;
  readonly nowMs: number;
}

export type RouteAction = 'agent' | 'queue' | 'callback' | 'self-service' | 'none';

/** One line of "why this route": a stable code for tools and a sentence for people. */
export interface RouteReason {
  readonly code: string;
  readonly text: string;
}

export interface RouteDecision {
  readonly callId: string;
  readonly action: RouteAction;
  /** Group the intent asked for. */
  readonly requestedGroupId: string | null;
  /** Group that takes the call (differs from the requested one after an adjacent overflow). */
  readonly groupId: string | null;
  readonly agentId: string | null;
  /** Transfer target (agent or self-service URI); null for queue / callback / none. */
  readonly targetUri: string | null;
  readonly priority: number;
  readonly needsSenior: boolean;
  /** Estimated wait in the requested group when no agent was free (0 when one was). */
  readonly estimatedWaitMs: number;
  readonly overflow: { readonly from: string; readonly action: OverflowAction } | null;
  readonly reasons: readonly RouteReason[];
  /** The reasons in one line. */
  readonly summary: string;
}
