/**
 * Trunk admission guards: a source IP allow-list (CIDR, IPv4 and IPv6) and a per-source token
 * bucket on requests. Both are O(1) per packet; the bucket table is bounded (oldest evicted).
 */
import net from 'node:net';
import { evxError } from '../errors.js';

/**
 * Add an IP address or CIDR to `list`. Returns 'not-ip' for anything else (the caller decides whether
 * that is a host name or an error) and 'bad-prefix' for a CIDR with an impossible prefix length.
 */
export function addNetwork(list: net.BlockList, entry: string): 'ok' | 'not-ip' | 'bad-prefix' {
  const [addr, bits] = entry.split('/') as [string, string | undefined];
  const type = net.isIPv6(addr) ? 'ipv6' : net.isIPv4(addr) ? 'ipv4' : undefined;
  if (type === undefined) return 'not-ip';
  if (bits === undefined) {
    list.addAddress(addr, type);
    return 'ok';
  }
  if (!/^\d+$/.test(bits) || Number(bits) > (type === 'ipv4' ? 32 : 128)) return 'bad-prefix';
  list.addSubnet(addr, Number(bits), type);
  return 'ok';
}

/** Whether `address` is in `list`; an IPv4-mapped IPv6 address is judged as the IPv4 address it is. */
export function inNetworks(list: net.BlockList, address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const a = mapped !== null ? mapped[1]! : address;
  return list.check(a, net.isIPv6(a) ? 'ipv6' : 'ipv4');
}

/** Source allow-list; an empty list allows everyone. */
export class AllowList {
  private readonly list: net.BlockList;
  readonly empty: boolean;

  constructor(entries: readonly string[]) {
    this.list = new net.BlockList();
    this.empty = entries.length === 0;
    for (const e of entries) {
      const added = addNetwork(this.list, e);
      if (added === 'not-ip')
        throw evxError('EVX_ERR_CONFIG_INVALID', 'SIP allow-list entry is not an IP address or CIDR', { details: { entry: e } });
      if (added === 'bad-prefix')
        throw evxError('EVX_ERR_CONFIG_INVALID', 'SIP allow-list entry has a bad prefix length', { details: { entry: e } });
    }
  }

  allows(address: string): boolean {
    return this.empty || inNetworks(this.list, address);
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
