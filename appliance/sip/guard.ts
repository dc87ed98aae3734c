/**
 * Trunk admission guards: a source IP allow-list (CIDR, IPv4 and IPv6) and a per-source token
 * bucket on requests. Both are O(1) per packet; the bucket table is bounded (oldest evicted).
 */
import net from 'node:net';
import { evxError } from '../errors.js';

/** Source allow-list; an empty list allows everyone. */
export class AllowList {
  private readonly list: net.BlockList;
  readonly empty: boolean;

  constructor(entries: readonly string[]) {
    this.list = new net.BlockList();
    this.empty = entries.length === 0;
    for (const e of entries) {
      const [addr, bits] = e.split('/') as [string, string | undefined];
      const type = net.isIPv6(addr) ? 'ipv6' : net.isIPv4(addr) ? 'ipv4' : undefined;
      if (type === undefined)
        throw evxError('EVX_ERR_CONFIG_INVALID', 'SIP allow-list entry is not an IP address or CIDR', { details: { entry: e } });
      if (bits === undefined) this.list.addAddress(addr, type);
      else {
        const prefix = Number(bits);
        if (!Number.isInteger(prefix) || prefix < 0 || prefix > (type === 'ipv4' ? 32 : 128)) {
          throw evxError('EVX_ERR_CONFIG_INVALID', 'SIP allow-list entry has a bad prefix length', { details: { entry: e } });
        }
        this.list.addSubnet(addr, prefix, type);
      }
    }
  }

  allows(address: string): boolean {
    if (this.empty) return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    const a = mapped !== null ? mapped[1]! : address;
    return this.list.check(a, net.isIPv6(a) ? 'ipv6' : 'ipv4');
  }
}

/** Per-source token bucket: `ratePerSec` sustained, `burst` at once. */
export class SourceRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; lastMs: number }>();

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly maxSources = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Take one token for `source`; false when the source is over its rate. */
  take(source: string): boolean {
    if (this.ratePerSec <= 0) return true;
    const t = this.now();
    let b = this.buckets.get(source);
    if (b === undefined) {
      if (this.buckets.size >= this.maxSources) {
        const oldest = this.buckets.keys().next();
        if (oldest.done !== true) this.buckets.delete(oldest.value);
      }
      b = { tokens: this.burst, lastMs: t };
      this.buckets.set(source, b);
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((t - b.lastMs) / 1000) * this.ratePerSec);
      b.lastMs = t;
      // keep recently active sources at the end of the insertion order (LRU eviction)
      this.buckets.delete(source);
      this.buckets.set(source, b);
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  get trackedSources(): number {
    return this.buckets.size;
  }
}
