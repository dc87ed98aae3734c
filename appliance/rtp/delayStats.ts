/**
 * Delay figures of a hot path (the media bridge's arrival-to-send time per packet): the largest
 * ever seen, and p50/p95 over the last `windowSize` samples. Fixed memory: one ring and one
 * scratch buffer allocated up front; percentiles are computed only when asked for.
 */

export interface DelaySummary {
  /** Samples recorded since the start (not only the window). */
  readonly samples: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
}

export class DelayStats {
  private readonly ring: Float64Array;
  private readonly scratch: Float64Array;
  private next = 0;
  private count = 0;
  private max = 0;

  constructor(readonly windowSize = 4096) {
    this.ring = new Float64Array(windowSize);
    this.scratch = new Float64Array(windowSize);
  }

  record(ms: number): void {
    this.ring[this.next] = ms;
    this.next = (this.next + 1) % this.ring.length;
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  /** p50/p95 of the window (nearest rank), the overall maximum; figures rounded to 1 µs. */
  summary(): DelaySummary {
    const n = Math.min(this.count, this.ring.length);
    if (n === 0) return { samples: 0, p50Ms: 0, p95Ms: 0, maxMs: 0 };
    const sorted = this.scratch.subarray(0, n);
    sorted.set(this.ring.subarray(0, n));
    sorted.sort();
    const at = (q: number): number => round(sorted[Math.min(n - 1, Math.ceil(q * n) - 1)]!);
    return { samples: this.count, p50Ms: at(0.5), p95Ms: at(0.95), maxMs: round(this.max) };
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
