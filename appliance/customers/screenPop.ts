/**
 * The screen-pop an agent's desktop shows when a routed call arrives: who the caller is to us
 * (profile tags, churn risk and why, recent intents — never the number), what they want now (latest
 * intent), how they sound (latest emotion and trend), why the call came to this agent, and the open
 * alerts with their suggested scripts. No transcript text.
 */
import type { AlertRecord } from '../alerts/repo.js';
import type { CallRecord } from '../store/repos/calls.js';
import type { StoredDecision } from '../routing/repo.js';
import type { UtteranceRecord } from '../store/repos/utterances.js';
import type { CustomerChurn } from './customerChurn.js';
import type { TimelineEntry } from './timeline.js';
import { churnRisk, profileTags, recentCallCount, type CallerProfile, type ProfileSettings } from '../profiles/profile.js';

/** The caller's customer across channels: open chats and e-mail cases first, then the timeline. */
export interface ScreenPopCustomer {
  readonly id: string;
  /** Open chats and e-mail cases of the customer, newest first: shown first. */
  readonly openCases: readonly TimelineEntry[];
  /** Everything else (calls, closed chats and cases), newest first, bounded. */
  readonly timeline: readonly TimelineEntry[];
  readonly churn: CustomerChurn;
}

export interface ScreenPop {
  callId: string;
  state: string;
  startedAt: number;
  caller: {
    known: boolean;
    callerHash: string | null;
    tags: string[];
    vip: boolean;
    callsTotal: number;
    callsInWindow: number;
    lastCallAt: number | null;
    lastIntents: { intent: string; at: number }[];
    lastEmotion: { category: string; agitation: number; trend: string; at: number } | null;
    unresolvedRepeats: number;
    churnRisk: number;
    churnFactors: { factor: string; weight: number }[];
  };
  now: {
    intent: { intent: string | null; confidence: number; outOfScope: boolean } | null;
    emotion: { category: string; agitation: number; trend: string } | null;
    utterances: number;
  };
  route: {
    action: string;
    groupId: string | null;
    agentId: string | null;
    priority: number;
    summary: string;
    reasons: { code: string; text: string }[];
    transferState: string | null;
  } | null;
  alerts: { id: number; kind: string; severity: string; message: string; at: number; script: unknown }[];
  /** The caller's customer (null: anonymous caller, or no customer model). */
  customer: { id: string; openCases: TimelineEntry[]; timeline: TimelineEntry[] } | null;
}

export function buildScreenPop(args: {
  call: CallRecord;
  utterances: readonly UtteranceRecord[];
  profile: CallerProfile | null;
  decision: StoredDecision | null;
  alerts: readonly AlertRecord[];
  settings: ProfileSettings;
  nowMs: number;
  /** When given, churn risk and tags are the customer's over all channels. */
  customer?: ScreenPopCustomer | null;
}): ScreenPop {
  const { call, profile: p, settings, nowMs } = args;
  let intent: ScreenPop['now']['intent'] = null;
  let emotion: ScreenPop['now']['emotion'] = null;
  let count = 0;
  for (const u of args.utterances) {
    if (u.speaker !== 'caller') continue;
    count++;
    const i = u.analysis['intent'] as { intent?: string | null; confidence?: number; outOfScope?: boolean } | undefined;
    if (i !== undefined && typeof i.confidence === 'number')
      intent = { intent: i.intent ?? null, confidence: i.confidence, outOfScope: i.outOfScope === true };
    const e = u.analysis['emotion'] as { category?: string; agitation?: number; trend?: string } | undefined;
    if (e?.category !== undefined) emotion = { category: e.category, agitation: e.agitation ?? 0, trend: e.trend ?? 'unknown' };
  }
  const factors =
    p === null
      ? []
      : churnRisk({
          callsInWindow: recentCallCount(p, nowMs, settings),
          unresolvedRepeats: p.unresolvedRepeats,
          lastEmotion: p.lastEmotion,
          wasAngry: p.lastEmotion?.category === 'angry',
          leavingIntent: p.lastIntents.some((x) => settings.leavingIntents.includes(x.intent)),
        }).factors;
  const d = args.decision;
  const cu = args.customer ?? null;
  return {
    callId: call.id,
    state: call.state,
    startedAt: call.startedAt,
    caller: {
      known: p !== null && p.callsTotal > 0,
      callerHash: call.callerHash,
      tags: cu !== null ? [...cu.churn.tags] : p === null ? [] : profileTags(p, nowMs, settings),
      vip: p?.vip ?? false,
      callsTotal: p?.callsTotal ?? 0,
      callsInWindow: p === null ? 0 : recentCallCount(p, nowMs, settings),
      lastCallAt: p === null || p.callsTotal === 0 ? null : p.lastCallAt,
      lastIntents: p === null ? [] : [...p.lastIntents],
      lastEmotion: p?.lastEmotion ?? null,
      unresolvedRepeats: cu?.churn.unresolvedRepeats ?? p?.unresolvedRepeats ?? 0,
      churnRisk: cu?.churn.churnRisk ?? p?.churnRisk ?? 0,
      churnFactors: cu !== null ? [...cu.churn.churnFactors] : factors,
    },
    now: { intent, emotion, utterances: count },
    route:
      d === null
        ? null
        : {
            action: d.decision.action,
            groupId: d.decision.groupId,
            agentId: d.decision.agentId,
            priority: d.decision.priority,
            summary: d.decision.summary,
            reasons: [...d.decision.reasons],
            transferState: d.transferState,
          },
    alerts: args.alerts
      .filter((a) => a.acknowledgedAt === null)
      .map((a) => ({ id: a.id, kind: a.kind, severity: a.severity, message: a.message, at: a.at, script: a.details['script'] ?? null })),
    customer: cu === null ? null : { id: cu.id, openCases: [...cu.openCases], timeline: [...cu.timeline] },
  };
}
