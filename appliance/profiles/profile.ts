/**
 * Caller profiles, as pure functions: how one finished call updates a caller's profile, the
 * churn-risk score with the factors behind it, the derived tags, and what routing sees. Profiles are
 * keyed by the salted caller hash (calls.caller_hash) and hold no number, name or transcript.
 */
import type { RouteProfile } from '../routing/types.js';

export interface ProfileEmotion {
  readonly category: string;
  readonly agitation: number;
  readonly trend: string;
  readonly at: number;
}

export interface CallerProfile {
  readonly callerHash: string;
  readonly firstSeenAt: number;
  readonly lastCallAt: number;
  readonly callsTotal: number;
  /** Start times of the calls inside the frequency window, oldest first (bounded). */
  readonly recentCalls: readonly number[];
  /** Intents of recent calls, newest first (bounded). */
  readonly lastIntents: readonly { readonly intent: string; readonly at: number }[];
  readonly lastEmotion: ProfileEmotion | null;
  /** Calls about an intent the caller already called about within the repeat window. */
  readonly unresolvedRepeats: number;
  readonly churnRisk: number;
  readonly vip: boolean;
  /** Tags set by people through the API (CRM segment, ...). */
  readonly tags: readonly string[];
  readonly updatedAt: number;
}

/** What one ended call contributes (caller side only). */
export interface CallSummary {
  readonly callerHash: string;
  readonly startedAt: number;
  readonly endedAt: number;
  /** In-scope caller intents in the order they were heard. */
  readonly intents: readonly string[];
  /** The caller's last emotion of the call and whether they were angry at any point. */
  readonly emotion: (ProfileEmotion & { readonly maxAgitation: number; readonly wasAngry: boolean }) | null;
}

export interface ProfileSettings {
  readonly windowMs: number;
  readonly frequentCallerCalls: number;
  readonly repeatWindowMs: number;
  readonly maxRecentCalls: number;
  readonly maxIntents: number;
  /** Intents that say the caller wants to leave. */
  readonly leavingIntents: readonly string[];
}

export const DEFAULT_PROFILE_SETTINGS: ProfileSettings = {
  windowMs: 30 * 86_400_000,
  frequentCallerCalls: 3,
  repeatWindowMs: 7 * 86_400_000,
  maxRecentCalls: 50,
  maxIntents: 5,
  leavingIntents: ['terminate_account'],
};

export interface ChurnFactor {
  readonly factor: string;
  readonly weight: number;
}

/**
 * Churn risk in [0, 1]: a logistic score over contact frequency, unresolved repeats and emotion.
 * Hand-set weights (no labelled churn outcomes exist on an appliance at install): a site with
 * outcomes can refit them. Returns the factors so the screen-pop can say why.
 */
export function churnRisk(f: {
  callsInWindow: number;
  unresolvedRepeats: number;
  lastEmotion: ProfileEmotion | null;
  wasAngry: boolean;
  leavingIntent: boolean;
  /** Chats and e-mail cases of the same customer in the window (they count as contacts like calls). */
  textContactsInWindow?: number;
  /** The customer's latest contact was a chat or e-mail case with negative sentiment: weighs as an angry call. */
  negativeText?: 'chat' | 'email' | null;
}): {
  score: number;
  factors: ChurnFactor[];
} {
  const factors: ChurnFactor[] = [];
  const add = (factor: string, weight: number) => {
    if (weight > 0) factors.push({ factor, weight: Math.round(weight * 100) / 100 });
  };
  const texts = f.textContactsInWindow ?? 0;
  const contacts = f.callsInWindow + texts;
  add(
    texts === 0 ? `${f.callsInWindow} calls in the window` : `${f.callsInWindow} calls and ${texts} chats or e-mails in the window`,
    Math.min(2.5, 0.5 * Math.max(0, contacts - 1)),
  );
  add(`${f.unresolvedRepeats} unresolved repeat calls`, Math.min(2.7, 0.9 * f.unresolvedRepeats));
  if (f.negativeText) add(`negative on the last ${f.negativeText === 'chat' ? 'chat' : 'e-mail'}`, 1.5);
  else if (f.wasAngry || f.lastEmotion?.category === 'angry') add('angry on the last call', 1.5);
  else if (f.lastEmotion !== null && (f.lastEmotion.category === 'sad' || f.lastEmotion.category === 'fearful'))
    add(`${f.lastEmotion.category} on the last call`, 0.6);
  if (f.lastEmotion?.trend === 'escalating') add('escalated on the last call', 0.8);
  if (f.leavingIntent) add('asked to close the account', 2);
  const z = -3 + factors.reduce((s, x) => s + x.weight, 0);
  return { score: Math.round((1 / (1 + Math.exp(-z))) * 1000) / 1000, factors };
}

function callsInWindow(p: CallerProfile, nowMs: number, s: ProfileSettings): number {
  return p.recentCalls.filter((t) => nowMs - t <= s.windowMs).length;
}

/** The profile after one more call (prev null for a first-time caller). */
export function updateProfile(prev: CallerProfile | null, call: CallSummary, s: ProfileSettings = DEFAULT_PROFILE_SETTINGS): CallerProfile {
  const at = call.startedAt;
  const recentCalls = [...(prev?.recentCalls ?? []).filter((t) => at - t <= s.windowMs && t !== at), at]
    .sort((a, b) => a - b)
    .slice(-s.maxRecentCalls);
  // A repeat: this call is about something the caller already called about within the repeat window.
  const earlier = (prev?.lastIntents ?? []).filter((x) => at - x.at <= s.repeatWindowMs && x.at < at);
  const repeated = call.intents.some((i) => earlier.some((x) => x.intent === i));
  const staleRepeats = prev !== null && at - prev.lastCallAt > s.repeatWindowMs;
  const unresolvedRepeats = (staleRepeats ? 0 : (prev?.unresolvedRepeats ?? 0)) + (repeated ? 1 : 0);
  const seen = new Set<string>();
  const newIntents = [...call.intents].reverse().filter((i) => (seen.has(i) ? false : (seen.add(i), true)));
  const lastIntents = [
    ...newIntents.map((intent) => ({ intent, at })),
    ...(prev?.lastIntents ?? []).filter((x) => !seen.has(x.intent)),
  ].slice(0, s.maxIntents);
  const lastEmotion =
    call.emotion === null
      ? (prev?.lastEmotion ?? null)
      : { category: call.emotion.category, agitation: call.emotion.agitation, trend: call.emotion.trend, at: call.emotion.at };
  const base: CallerProfile = {
    callerHash: call.callerHash,
    firstSeenAt: Math.min(prev?.firstSeenAt ?? at, at),
    lastCallAt: Math.max(prev?.lastCallAt ?? at, at),
    callsTotal: (prev?.callsTotal ?? 0) + 1,
    recentCalls,
    lastIntents,
    lastEmotion,
    unresolvedRepeats,
    churnRisk: 0,
    vip: prev?.vip ?? false,
    tags: prev?.tags ?? [],
    updatedAt: call.endedAt,
  };
  const churn = churnRisk({
    callsInWindow: recentCalls.length,
    unresolvedRepeats,
    lastEmotion,
    wasAngry: call.emotion?.wasAngry ?? false,
    leavingIntent: call.intents.some((i) => s.leavingIntents.includes(i)),
  });
  return { ...base, churnRisk: churn.score };
}

/** Tags shown to the agent: VIP and manual tags, plus what the history says. */
export function profileTags(
  p: CallerProfile,
  nowMs: number,
  s: ProfileSettings = DEFAULT_PROFILE_SETTINGS,
  churnThreshold = 0.6,
): string[] {
  const tags = new Set<string>();
  if (p.vip) tags.add('vip');
  if (callsInWindow(p, nowMs, s) >= s.frequentCallerCalls) tags.add('frequent-caller');
  if (p.unresolvedRepeats > 0) tags.add('repeat-unresolved');
  if (p.churnRisk >= churnThreshold) tags.add('churn-risk');
  if (p.lastEmotion?.category === 'angry') tags.add('angry-last-call');
  for (const t of p.tags) tags.add(t);
  return [...tags];
}

/** What routing needs from a profile, at the start of a new call. */
export function routeProfile(p: CallerProfile | null, nowMs: number, s: ProfileSettings = DEFAULT_PROFILE_SETTINGS): RouteProfile | null {
  if (p === null) return null;
  return {
    vip: p.vip || p.tags.includes('vip'),
    repeatCaller: nowMs - p.lastCallAt <= s.repeatWindowMs,
    unresolvedRepeats: p.unresolvedRepeats,
    churnRisk: p.churnRisk,
  };
}

export function recentCallCount(p: CallerProfile, nowMs: number, s: ProfileSettings = DEFAULT_PROFILE_SETTINGS): number {
  return callsInWindow(p, nowMs, s);
}
