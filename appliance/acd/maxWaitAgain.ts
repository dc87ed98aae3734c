/**
 * The longest-wait rule after it kept a call waiting (`stay` of queuePolicy.onMaxWait: no group
 * could take the call): the call is not left past its group's limit for good. The rule applies
 * again one longest wait (the group's queue.maxWaitS) after each time it kept the call, until it
 * moves the call, offers it a callback or ends its wait. A stay in an earlier queue entry (before
 * an overflow or a transfer to a queue) does not count: the new entry has its own clock.
 */

/** The part of a queued call's view the rule's time comes from (acd/queueView.ts, acdCalls.queueView). */
export interface MaxWaitClock {
  /** When the call entered the group it waits in. */
  readonly groupEnqueuedAt: number;
  /** When the group's longest wait is reached from that entry (null: no limit). */
  readonly maxWaitDueAt: number | null;
}

/** When the rule applies next to a call it last kept waiting at `stayedAt` (null: never). */
export function maxWaitDueAfterStay(view: MaxWaitClock, stayedAt: number | null): number | null {
  if (view.maxWaitDueAt === null || stayedAt === null || stayedAt < view.groupEnqueuedAt) return view.maxWaitDueAt;
  return Math.max(view.maxWaitDueAt, stayedAt + (view.maxWaitDueAt - view.groupEnqueuedAt));
}
