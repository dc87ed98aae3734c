/**
 * The routing domain: skill groups, agents, rules, queued calls and decisions. Plain data, so the
 * decision functions stay pure and the same shapes travel through the store, the API and events.
 */
import type { LanguageChoice } from '../asr/language.js';

/**
 * What the routing engine decides on: only `available` agents take calls, `offline` ones are not
 * staffed. Where the box tracks agents itself (acd/agentState.ts) this is mapped from their
 * activity: ringing and on-call are busy, away and logged-out are offline (`routingStateOf` there).
 */
export type AgentState = 'available' | 'busy' | 'wrap-up' | 'offline';
export const AGENT_STATES: readonly AgentState[] = ['available', 'busy', 'wrap-up', 'offline'];

/** What an agent is doing as the contact centre sees it (acd/agentState.ts is the machine that moves it). */
export type AgentActivityState = 'available' | 'ringing' | 'on-call' | 'wrap-up' | 'away' | 'logged-out';
export const AGENT_ACTIVITY_STATES: readonly AgentActivityState[] = ['available', 'ringing', 'on-call', 'wrap-up', 'away', 'logged-out'];

/** An agent's activity, its reason (the away reason, or what moved it) and since when (unix ms). */
export interface AgentActivity {
  readonly state: AgentActivityState;
  readonly reason: string | null;
  readonly since: number;
}

/** An agent's SIP account on the box's registrar, as shown: the password is stored sealed and never returned. */
export interface AgentSipAccount {
  /** The user part agents' phones register and authenticate with; unique among agents. */
  readonly username: string;
  readonly hasPassword: boolean;
}

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
  /** How the group's queue behaves (opening hours, limits, announcements); absent: the defaults of acd/queuePolicy.ts. */
  readonly queue?: QueuePolicy | undefined;
  /** Speech language of calls to a number this group serves (sip.dids queue); absent: the number's, trunk's or site's. */
  readonly language?: LanguageChoice | undefined;
}

// --- queue policy of a skill group (read by appliance/acd/) ------------------------------------

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** Open from `from` to `to` on the site's clock, "HH:MM" (to may be "24:00"); from < to. */
export interface OpeningInterval {
  readonly from: string;
  readonly to: string;
}

/** A day with its own hours: closed all day, or open only in `open` (a partial day). */
export interface Holiday {
  /** The site's calendar date, "YYYY-MM-DD". */
  readonly date: string;
  readonly name?: string | undefined;
  /** Opening intervals that day instead of the weekday's; absent or empty: closed all day. */
  readonly open?: readonly OpeningInterval[] | undefined;
}

export interface BusinessHours {
  /** Opening intervals per weekday; a day that is absent or empty is closed. */
  readonly weekly: Readonly<Partial<Record<Weekday, readonly OpeningInterval[]>>>;
  readonly holidays?: readonly Holiday[] | undefined;
}

/** Closed: play the closed prompt and hang up (`message`), or offer a callback. */
export type ClosedAction = 'message' | 'callback';
/** Waited maxWaitS: move to another group's queue, offer a callback, or "please call later" and hang up. */
export type MaxWaitAction = 'overflow' | 'callback' | 'message';

export interface QueuePolicy {
  /** Opening hours on the site's clock (acd.timeZone); absent: always open. */
  readonly hours?: BusinessHours | undefined;
  readonly whenClosed?: ClosedAction | undefined;
  /** Most calls waiting in this queue; the next one gets the group's overflow rule. Absent: no limit of its own. */
  readonly maxQueued?: number | undefined;
  /** Longest actual wait in this queue before maxWaitAction applies; absent: no limit. */
  readonly maxWaitS?: number | undefined;
  readonly maxWaitAction?: MaxWaitAction | undefined;
  /** Where `overflow` sends the call; absent: the first adjacent group that is open and has room. */
  readonly maxWaitGroup?: string | undefined;
  /** Service-level threshold T of this group; absent: acd.serviceLevelS. */
  readonly serviceLevelS?: number | undefined;
  /** Seconds between position and expected-wait announcements (0: none); absent: 30. */
  readonly announceIntervalS?: number | undefined;
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
  /** The agent's SIP account for registering phones with the box; absent: none. */
  readonly sip?: AgentSipAccount | undefined;
  /** The agent's activity where the box tracks it (not stored: it starts logged-out at each start). */
  readonly activity?: AgentActivity | undefined;
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
