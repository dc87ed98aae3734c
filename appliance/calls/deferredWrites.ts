/**
 * Store writes that failed for a retryable reason (disk full, I/O error) wait here, in order, and
 * are retried on a timer until the store accepts them again, so a full disk delays call records
 * instead of losing them. While anything waits, new writes queue behind it to keep their order
 * (an utterance is never written before its call). The queue is bounded: past `maxPending` the
 * oldest writes are dropped and counted.
 */
export interface DeferredWrite {
  readonly operation: string;
  readonly run: () => unknown;
}

export class DeferredWrites {
  private readonly queue: DeferredWrite[] = [];
  private timer: NodeJS.Timeout | undefined;
  dropped = 0;
  replayed = 0;

  constructor(
    private readonly maxPending: number,
    private readonly retryMs: number,
    private readonly isRetryable: (err: unknown) => boolean,
  ) {}

  get pending(): number {
    return this.queue.length;
  }

  add(write: DeferredWrite): void {
    this.queue.push(write);
    if (this.queue.length > this.maxPending) {
      this.queue.shift();
      this.dropped++;
    }
    this.schedule();
  }

  /** Replay in order until one fails again; returns how many were written. */
  flush(): number {
    let written = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      try {
        next.run();
      } catch (err) {
        if (this.isRetryable(err)) break;
        // A write that can never succeed (a constraint) must not block the others.
        this.dropped++;
      }
      this.queue.shift();
      written++;
    }
    this.replayed += written;
    if (this.queue.length > 0) this.schedule();
    return written;
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.retryMs);
    this.timer.unref();
  }
}
