/**
 * Sign-in throttling that tells an attacker nothing about which accounts exist and cannot be turned
 * against a real operator:
 *
 * - a lock per (username, client address): after `lockoutThreshold` bad passwords in a row for a
 *   name from one address, that name is refused *from that address* for `lockoutMs`. A name that
 *   does not exist locks exactly like one that does, and the real supervisor signing in from her
 *   own desk is not locked out by someone guessing from elsewhere;
 * - a backoff per client address: after `loginBackoffAfter` failures from one address (any names,
 *   none more than `lockoutMs` after the one before), each further attempt must wait twice as long
 *   as the one before (1 s, 2 s, 4 s ... up to `maxBackoffMs`), so guessing across many names from
 *   one place slows to a crawl while an office behind one NAT address is not stopped by one typo.
 *
 * A successful sign-in clears both for that address. Both tables are bounded: the least recently
 * touched entries are evicted first, so a flood of addresses or names cannot grow memory.
 */

export interface LoginThrottleSettings {
  lockoutThreshold: number;
  lockoutMs: number;
  loginBackoffAfter: number;
}

/** What the throttle says about an attempt before the password is checked. */
export type ThrottleVerdict = { ok: true } | { ok: false; kind: 'locked' | 'backoff'; retryAfterMs: number };

interface PairState {
  failures: number;
  lockedUntil: number;
}

interface SourceState {
  failures: number;
  lastFailureAt: number;
  notBefore: number;
}

export class LoginThrottle {
  private readonly pairs = new Map<string, PairState>();
  private readonly sources = new Map<string, SourceState>();

  constructor(
    private readonly settings: LoginThrottleSettings,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 10_000,
    private readonly maxBackoffMs = 5 * 60_000,
  ) {}

  /** May this attempt go on to the password check? The per-name lock is checked first. */
  check(username: string, source: string): ThrottleVerdict {
    const now = this.now();
    const pair = this.pairs.get(pairKey(username, source));
    if (pair !== undefined && pair.lockedUntil > now) return { ok: false, kind: 'locked', retryAfterMs: pair.lockedUntil - now };
    const src = this.sources.get(source);
    if (src !== undefined && src.notBefore > now) return { ok: false, kind: 'backoff', retryAfterMs: src.notBefore - now };
    return { ok: true };
  }

  /** A bad password (or unknown name). Returns true when this failure locked the pair. */
  failed(username: string, source: string): { locked: boolean; failuresInARow: number } {
    const now = this.now();
    const { lockoutThreshold, lockoutMs, loginBackoffAfter } = this.settings;
    const key = pairKey(username, source);
    const pair = touch(this.pairs, key, { failures: 0, lockedUntil: 0 }, this.maxEntries);
    if (pair.lockedUntil !== 0 && pair.lockedUntil <= now) pair.failures = 0; // an expired lock starts afresh
    pair.failures++;
    const locked = pair.failures >= lockoutThreshold;
    if (locked) pair.lockedUntil = now + lockoutMs;
    const src = touch(this.sources, source, { failures: 0, lastFailureAt: now, notBefore: 0 }, this.maxEntries);
    if (now - src.lastFailureAt > lockoutMs) src.failures = 0;
    src.failures++;
    src.lastFailureAt = now;
    const over = src.failures - loginBackoffAfter;
    if (over >= 0) src.notBefore = now + Math.min(this.maxBackoffMs, 1000 * 2 ** Math.min(over, 30));
    return { locked, failuresInARow: pair.failures };
  }

  /** A successful sign-in from `source`: that address starts afresh. */
  succeeded(username: string, source: string): void {
    this.pairs.delete(pairKey(username, source));
    this.sources.delete(source);
  }

  /** Whether `username` is locked from any address right now (for the accounts list). */
  lockedAnywhere(username: string): boolean {
    const now = this.now();
    const prefix = `${username}\u0000`;
    for (const [key, pair] of this.pairs) if (key.startsWith(prefix) && pair.lockedUntil > now) return true;
    return false;
  }

  get size(): { pairs: number; sources: number } {
    return { pairs: this.pairs.size, sources: this.sources.size };
  }
}

function pairKey(username: string, source: string): string {
  return `${username}\u0000${source}`;
}

/** Get-or-create `key`, moving it to the most recently used end; evict the oldest past `max`. */
function touch<T>(map: Map<string, T>, key: string, fresh: T, max: number): T {
  const existing = map.get(key);
  const value = existing ?? fresh;
  map.delete(key);
  map.set(key, value);
  while (map.size > max) {
    const oldest = map.keys().next();
    if (oldest.done === true) break;
    map.delete(oldest.value);
  }
  return value;
}
