/**
 * The queues as the ACD's pure decisions need them, read from the routing service (who waits where,
 * in which order) and the KPI service (recent handle times, agents by state): the state for an
 * admission decision, and a queued call's place for its announcements.
 *
 * Expected wait: position × handle time ÷ staffed agents. Handle time: the group's AHT over the last
 * hour from the KPI engine once it has 5 handled calls, else routing's `avgHandleMs`. Staffed: the
 * group's logged-in agents that are not away, as the KPI engine knows them from the ACD's facts;
 * before any agent fact, routing's agents with the group's skill that are not offline.
 */
import type { RoutingService } from '../routing/routingService.js';
import { skillLevel } from '../routing/engine.js';
import { expectedWaitMs, type QueuedCallView } from './announcements.js';
import type { KpiService } from './kpiService.js';
import { queuePolicyOf, type QueueState, type WaitingCall } from './queuePolicy.js';

export interface AcdQueuesDeps {
  readonly routing: RoutingService;
  readonly kpis: KpiService;
  /** acd.serviceLevelS. */
  readonly serviceLevelS: number;
  /** The site's IANA zone. */
  readonly timeZone: string;
}

export class AcdQueues {
  constructor(private readonly deps: AcdQueuesDeps) {}

  /** Groups, calls waiting per group and the instant: the input of queuePolicy.admit and onMaxWait. */
  state(): QueueState {
    const waiting = new Map<string, number>();
    for (const q of this.deps.routing.queueState()) waiting.set(q.groupId, q.calls.length);
    return {
      groups: this.deps.routing.groupList(),
      waiting,
      nowMs: this.deps.routing.now(),
      timeZone: this.deps.timeZone,
      serviceLevelS: this.deps.serviceLevelS,
    };
  }

  /** Agents who can take the group's calls now. */
  staffed(groupId: string): number {
    const snap = this.deps.kpis.snapshot();
    const all = snap.overall.agents;
    if (all.available + all.ringing + all['on-call'] + all['wrap-up'] + all.away > 0) {
      const a = snap.groups[groupId]?.agents;
      return a === undefined ? 0 : a.available + a.ringing + a['on-call'] + a['wrap-up'];
    }
    return this.deps.routing.agentList().filter((a) => a.state !== 'offline' && skillLevel(a, groupId) > 0).length;
  }

  /** Expected wait of the caller at `position` in `groupId` (null: unknown). */
  expectedWaitMs(groupId: string, position: number): number | null {
    const handleMs = this.deps.kpis.recentHandleMs(groupId) ?? this.deps.routing.rules().avgHandleMs;
    return expectedWaitMs(position, this.staffed(groupId), handleMs);
  }

  /** A queued call as the announcer and the max-wait rule see it; null when it is not queued. */
  view(callId: string, visited: readonly string[] = []): (QueuedCallView & WaitingCall) | null {
    const now = this.deps.routing.now();
    for (const q of this.deps.routing.queueState()) {
      const i = q.calls.findIndex((c) => c.callId === callId);
      if (i < 0) continue;
      const group = this.deps.routing.groupList().find((g) => g.id === q.groupId);
      if (group === undefined) return null;
      const policy = queuePolicyOf(group, this.deps);
      const groupEnqueuedAt = now - q.calls[i]!.waitMs;
      return {
        callId,
        groupId: q.groupId,
        position: i + 1,
        expectedWaitMs: this.expectedWaitMs(q.groupId, i + 1),
        announceIntervalMs: policy.announceIntervalMs,
        maxWaitDueAt: policy.maxWaitMs === null ? null : groupEnqueuedAt + policy.maxWaitMs,
        groupEnqueuedAt,
        visited,
      };
    }
    return null;
  }
}
