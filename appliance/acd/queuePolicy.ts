/**
 * A skill group's queue policy as pure decisions: may a call enter the queue now (accept, closed,
 * full, or overflow to another group), and what happens to a call that has waited the group's
 * longest actual wait. No clock, no I/O: the orchestrator passes the groups, the calls waiting per
 * group and the instant, and acts on the answer (plays its prompts, queues, transfers, hangs up).
 *
 * Order of the admission checks: the group must be open (its business hours in the site's zone),
 * then its queue must have room (`maxQueued`). A full queue applies the group's overflow rule
 * (`overflow.action`, the same rule routing uses for a long *estimated* wait): an adjacent group
 * that is open and has room takes the call, else a callback offer, self-service, or the queue-full
 * prompt and hang-up. The max-wait rule is about the *actual* wait in this group's queue.
 */
import { openAt, nextOpeningAt } from './businessHours.js';
import type { BusinessHours, ClosedAction, MaxWaitAction, RouteReason, SkillGroup } from '../routing/types.js';

/**
 * The prompts each outcome plays, by name in the prompt store (provisioning/prompts/texts.en.json).
 * There is no prompt for "closed, press one to be called back": a closed group offering a callback
 * plays the closed prompt and the callback offer.
 */
export const QUEUE_PROMPTS = {
  closed: ['closed'],
  closedCallback: ['closed', 'callback-offer'],
  queueFull: ['queue-full'],
  callbackOffer: ['callback-offer'],
  callLater: ['all-busy'],
} as const satisfies Record<string, readonly string[]>;

export const DEFAULT_ANNOUNCE_INTERVAL_S = 30;

/** A group's queue policy with every default filled in. */
export interface ResolvedQueuePolicy {
  readonly hours: BusinessHours | undefined;
  readonly whenClosed: ClosedAction;
  /** null: no limit of the group's own. */
  readonly maxQueued: number | null;
  readonly maxWaitMs: number | null;
  readonly maxWaitAction: MaxWaitAction;
  readonly maxWaitGroup: string | null;
  readonly serviceLevelS: number;
  /** 0: no announcements. */
  readonly announceIntervalMs: number;
}

/** The policy of `group`, defaults filled in (`serviceLevelS`: acd.serviceLevelS). */
export function queuePolicyOf(group: SkillGroup, defaults: { readonly serviceLevelS: number }): ResolvedQueuePolicy {
  const q = group.queue ?? {};
  return {
    hours: q.hours,
    whenClosed: q.whenClosed ?? 'message',
    maxQueued: q.maxQueued ?? null,
    maxWaitMs: q.maxWaitS === undefined ? null : q.maxWaitS * 1000,
    maxWaitAction: q.maxWaitAction ?? 'message',
    maxWaitGroup: q.maxWaitGroup ?? null,
    serviceLevelS: q.serviceLevelS ?? defaults.serviceLevelS,
    announceIntervalMs: (q.announceIntervalS ?? DEFAULT_ANNOUNCE_INTERVAL_S) * 1000,
  };
}

/** Everything an admission or max-wait decision depends on, at one instant. */
export interface QueueState {
  readonly groups: readonly SkillGroup[];
  /** Calls waiting per group now (absent: none). */
  readonly waiting: ReadonlyMap<string, number>;
  readonly nowMs: number;
  /** The site's IANA zone (acd.timeZone resolved). */
  readonly timeZone: string;
  /** acd.serviceLevelS, the default of each group's T. */
  readonly serviceLevelS: number;
}

export type Admission =
  | { readonly outcome: 'accept'; readonly groupId: string; readonly reasons: readonly RouteReason[] }
  /** The group's queue is full and an adjacent group takes the call. */
  | { readonly outcome: 'overflow'; readonly from: string; readonly groupId: string; readonly reasons: readonly RouteReason[] }
  | {
      readonly outcome: 'closed';
      readonly groupId: string;
      readonly action: ClosedAction;
      readonly prompts: readonly string[];
      /** When the group opens next (within 14 days), for a callback or the console. */
      readonly reopensAt: number | null;
      readonly reasons: readonly RouteReason[];
    }
  | {
      readonly outcome: 'full';
      readonly groupId: string;
      /** message: play the prompts and hang up. */
      readonly action: 'callback' | 'self-service' | 'message';
      /** The self-service URI (self-service only). */
      readonly targetUri: string | null;
      readonly prompts: readonly string[];
      readonly reasons: readonly RouteReason[];
    };

const reason = (code: string, text: string): RouteReason => ({ code, text });

/** Whether `group` can take one more queued call now: open, and below its own limit. */
function hasRoom(group: SkillGroup, state: QueueState): { ok: boolean; why: RouteReason } {
  const p = queuePolicyOf(group, state);
  const open = openAt(p.hours, state.nowMs, state.timeZone);
  if (!open.open) return { ok: false, why: reason('queue.closed', `${group.id} is closed${open.holiday ? ` (${open.holiday})` : ''}`) };
  const waiting = state.waiting.get(group.id) ?? 0;
  if (p.maxQueued !== null && waiting >= p.maxQueued)
    return { ok: false, why: reason('queue.full', `${group.id} has ${waiting} waiting (limit ${p.maxQueued})`) };
  return { ok: true, why: reason('queue.room', `${group.id} open, ${waiting} waiting`) };
}

/** May a call enter `groupId`'s queue now? See the module comment for the order of the checks. */
export function admit(groupId: string, state: QueueState): Admission {
  const group = state.groups.find((g) => g.id === groupId);
  if (group === undefined)
    return {
      outcome: 'full',
      groupId,
      action: 'message',
      targetUri: null,
      prompts: QUEUE_PROMPTS.callLater,
      reasons: [reason('queue.group-missing', `group ${groupId} is not configured`)],
    };
  const p = queuePolicyOf(group, state);
  const open = openAt(p.hours, state.nowMs, state.timeZone);
  if (!open.open) {
    return {
      outcome: 'closed',
      groupId,
      action: p.whenClosed,
      prompts: p.whenClosed === 'callback' ? QUEUE_PROMPTS.closedCallback : QUEUE_PROMPTS.closed,
      reopensAt: nextOpeningAt(p.hours, state.nowMs, state.timeZone),
      reasons: [
        reason(
          open.reason === 'holiday' ? 'queue.closed-holiday' : 'queue.closed',
          `${groupId} is closed${open.holiday ? ` (${open.holiday})` : ''}: ${p.whenClosed === 'callback' ? 'callback offered' : 'closed message'}`,
        ),
      ],
    };
  }
  const waiting = state.waiting.get(groupId) ?? 0;
  if (p.maxQueued === null || waiting < p.maxQueued)
    return { outcome: 'accept', groupId, reasons: [reason('queue.accept', `queued in ${groupId} (${waiting} waiting)`)] };

  const reasons: RouteReason[] = [reason('queue.full', `${groupId} has ${waiting} waiting (limit ${p.maxQueued})`)];
  const full = (
    action: 'callback' | 'self-service' | 'message',
    prompts: readonly string[],
    targetUri: string | null = null,
  ): Admission => ({
    outcome: 'full',
    groupId,
    action,
    targetUri,
    prompts,
    reasons,
  });
  switch (group.overflow.action) {
    case 'adjacent':
      for (const id of group.adjacent) {
        const adj = state.groups.find((g) => g.id === id);
        if (adj === undefined) continue;
        const room = hasRoom(adj, state);
        reasons.push(room.why);
        if (room.ok) {
          reasons.push(reason('queue.overflow', `overflow ${groupId} → ${id}`));
          return { outcome: 'overflow', from: groupId, groupId: id, reasons };
        }
      }
      reasons.push(reason('queue.no-adjacent', 'no adjacent group can take the call'));
      return full('message', QUEUE_PROMPTS.queueFull);
    case 'callback':
      reasons.push(reason('queue.callback', 'callback offered'));
      return full('callback', QUEUE_PROMPTS.callbackOffer);
    case 'self-service':
      if (group.overflow.selfServiceUri) {
        reasons.push(reason('queue.self-service', 'sent to self-service'));
        return full('self-service', [], group.overflow.selfServiceUri);
      }
      return full('message', QUEUE_PROMPTS.queueFull);
    default:
      return full('message', QUEUE_PROMPTS.queueFull);
  }
}

/** A call waiting in a group's queue, as the max-wait rule sees it. */
export interface WaitingCall {
  readonly callId: string;
  readonly groupId: string;
  /** When it entered this group's queue (an overflow restarts the clock of the new group). */
  readonly groupEnqueuedAt: number;
  /** Groups the call has already waited in: never sent back to one of them. */
  readonly visited: readonly string[];
}

export type MaxWaitDecision =
  /** Under the limit, no limit, or no group can take the call: it keeps waiting (past the limit, until the rule applies again: maxWaitAgain.ts). */
  | { readonly action: 'stay'; readonly groupId: string; readonly reasons: readonly RouteReason[] }
  | { readonly action: 'overflow'; readonly from: string; readonly groupId: string; readonly reasons: readonly RouteReason[] }
  | {
      readonly action: 'callback' | 'message';
      readonly groupId: string;
      readonly prompts: readonly string[];
      readonly reasons: readonly RouteReason[];
    };

/** When the max-wait rule of the call's group applies (null: the group has none). */
export function maxWaitDueAt(call: WaitingCall, state: Pick<QueueState, 'groups' | 'serviceLevelS'>): number | null {
  const group = state.groups.find((g) => g.id === call.groupId);
  if (group === undefined) return null;
  const p = queuePolicyOf(group, state);
  return p.maxWaitMs === null ? null : call.groupEnqueuedAt + p.maxWaitMs;
}

/** What happens to `call` at `state.nowMs` under its group's max-wait rule. */
export function onMaxWait(call: WaitingCall, state: QueueState): MaxWaitDecision {
  const stay = (r: RouteReason): MaxWaitDecision => ({ action: 'stay', groupId: call.groupId, reasons: [r] });
  const group = state.groups.find((g) => g.id === call.groupId);
  if (group === undefined) return stay(reason('maxwait.group-missing', `group ${call.groupId} is not configured`));
  const p = queuePolicyOf(group, state);
  const waitedMs = state.nowMs - call.groupEnqueuedAt;
  if (p.maxWaitMs === null) return stay(reason('maxwait.none', `${group.id} has no longest wait`));
  if (waitedMs < p.maxWaitMs) return stay(reason('maxwait.under', `waited ${Math.round(waitedMs / 1000)} s of ${p.maxWaitMs / 1000} s`));
  const over = reason('maxwait.reached', `waited ${Math.round(waitedMs / 1000)} s in ${group.id} (longest ${p.maxWaitMs / 1000} s)`);
  switch (p.maxWaitAction) {
    case 'callback':
      return { action: 'callback', groupId: group.id, prompts: QUEUE_PROMPTS.callbackOffer, reasons: [over] };
    case 'message':
      return { action: 'message', groupId: group.id, prompts: QUEUE_PROMPTS.callLater, reasons: [over] };
    case 'overflow': {
      const reasons: RouteReason[] = [over];
      const candidates = p.maxWaitGroup !== null ? [p.maxWaitGroup] : group.adjacent;
      for (const id of candidates) {
        const target = state.groups.find((g) => g.id === id);
        if (target === undefined || id === group.id || call.visited.includes(id)) continue;
        const room = hasRoom(target, state);
        reasons.push(room.why);
        if (room.ok) {
          reasons.push(reason('maxwait.overflow', `overflow ${group.id} → ${id}`));
          return { action: 'overflow', from: group.id, groupId: id, reasons };
        }
      }
      reasons.push(reason('maxwait.no-target', 'no other group can take the call: it keeps waiting'));
      return { action: 'stay', groupId: group.id, reasons };
    }
    default: {
      const unknownAction: never = p.maxWaitAction;
      throw new TypeError(`unknown max-wait action ${String(unknownAction)}`);
    }
  }
}
