/**
 * Token buckets by key (a visitor's conversation, a source address): `take` spends one token or
 * says no. Refilled continuously at `perMinute`; a bucket starts full (`burst`, default perMinute).
 * At most `maxKeys` buckets are kept (the least recently used go first): memory stays bounded under
 * a flood of new addresses.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly burst: number;

  constructor(
    private readonly perMinute: number,
    options: { burst?: number; maxKeys?: number; now?: () => number } = {},
  ) {
    this.burst = options.burst ?? perMinute;
    this.maxKeys = options.maxKeys ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  private readonly maxKeys: number;
  private readonly now: () => number;

  /** Spend `cost` tokens of `key`; false (nothing spent) when it has fewer. */
  take(key: string, cost = 1): boolean {
    const now = this.now();
    let b = this.buckets.get(key);
    if (b === undefined) {
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
      b = { tokens: this.burst, at: now };
    } else {
      this.buckets.delete(key); // re-inserted below: most recently used last
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) * this.perMinute) / 60_000);
      b.at = now;
    }
    this.buckets.set(key, b);
    if (b.tokens < cost) return false;
    b.tokens -= cost;
    return true;
  }

  get size(): number {
    return this.buckets.size;
  }
}
