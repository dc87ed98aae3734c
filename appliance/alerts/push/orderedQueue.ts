/**
 * One push channel's outbox: deliveries go out one at a time in the order they were queued (a
 * receiver sees an alert's raise before its acknowledgement), each retried with exponential backoff
 * and jitter while the sender says the failure is transient, up to `maxAttempts`; then the next one.
 * The queue is bounded: when full, the oldest delivery not being sent is dropped and counted.
 */
import { backoffDelayMs, type DeliveryCounters } from '../../webhooks/signedPost.js';

/** What one attempt came to, as the channel's sender judges it. */
export type SendOutcome =
  { kind: 'delivered' } | { kind: 'rejected'; reason: string } | { kind: 'retry'; reason: string; retryAfterMs?: number | null };

/** Delivery outcomes of one channel; `pending` includes the one being sent. */
export type OutboxCounters = DeliveryCounters;

export interface OutboxOptions<T> {
  readonly send: (item: T, attempt: number, abort: AbortSignal) => Promise<SendOutcome>;
  readonly maxAttempts: number;
  readonly maxPending: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly random?: (() => number) | undefined;
  /** Told once per final outcome other than delivered (for a rate-limited log line). */
  readonly onGiveUp?: (outcome: 'rejected' | 'failed' | 'dropped', reason: string) => void;
}

export class OrderedOutbox<T> {
  private readonly queue: T[] = [];
  private readonly counts = { delivered: 0, rejected: 0, failed: 0, dropped: 0, retries: 0 };
  private readonly abort = new AbortController();
  private readonly idleWaiters: (() => void)[] = [];
  private sending = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly o: OutboxOptions<T>) {}

  /** Queue an item behind the others; synchronous and cheap. */
  push(item: T): void {
    if (this.closed) {
      this.counts.dropped++;
      return;
    }
    this.queue.push(item);
    // the head may be on its way (sending or waiting to retry): the oldest after it goes first
    while (this.queue.length > this.o.maxPending) {
      const at = this.sending || this.timer !== null ? 1 : 0;
      if (at >= this.queue.length) break;
      this.queue.splice(at, 1);
      this.counts.dropped++;
      this.o.onGiveUp?.('dropped', 'queue full');
    }
    if (!this.sending && this.timer === null) void this.drain();
  }

  counters(): OutboxCounters {
    return { ...this.counts, pending: this.queue.length };
  }

  /** Resolves once nothing is queued or being sent. */
  idle(): Promise<void> {
    if (this.queue.length === 0 && !this.sending) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stop: what is queued is dropped (counted) and a request in flight is aborted. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.counts.dropped += this.queue.length - (this.sending ? 1 : 0);
    this.queue.splice(this.sending ? 1 : 0);
    this.abort.abort(new Error('closed'));
    this.settle();
  }

  private async drain(attempt = 1): Promise<void> {
    this.timer = null;
    const item = this.queue[0];
    if (item === undefined || this.closed) return this.settle();
    this.sending = true;
    let outcome: SendOutcome;
    try {
      outcome = await this.o.send(item, attempt, this.abort.signal);
    } catch (err) {
      outcome = { kind: 'retry', reason: err instanceof Error ? err.name : 'error' };
    }
    this.sending = false;
    if (this.closed) {
      this.queue.shift();
      if (outcome.kind === 'delivered') this.counts.delivered++;
      else this.counts.dropped++;
      return this.settle();
    }
    if (outcome.kind === 'retry' && attempt < this.o.maxAttempts) {
      this.counts.retries++;
      const delay =
        outcome.retryAfterMs ??
        backoffDelayMs(attempt, { baseMs: this.o.backoffBaseMs, maxMs: this.o.backoffMaxMs, random: this.o.random });
      this.timer = setTimeout(() => void this.drain(attempt + 1), delay);
      this.timer.unref();
      return;
    }
    this.queue.shift();
    if (outcome.kind === 'delivered') this.counts.delivered++;
    else {
      const final = outcome.kind === 'rejected' ? 'rejected' : 'failed';
      this.counts[final]++;
      this.o.onGiveUp?.(final, outcome.reason);
    }
    if (this.queue.length > 0) return this.drain();
    this.settle();
  }

  private settle(): void {
    if (this.queue.length > 0 || this.sending) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
