/**
 * Upstream sync: closes aggregation windows into the outbox and drains the outbox to the endpoint.
 *
 * Each tick: (1) every window that ended more than `settleMs` ago and is not yet enqueued is built
 * (anonymised aggregates) and enqueued with its idempotency key `<site>:<windowStartMs>`; (2) due
 * outbox items are posted, signed, oldest first. Accepted or duplicate → removed and audited;
 * a permanent rejection (400/409/413/422) → removed and audited; anything else → audited and retried
 * with exponential backoff and jitter. The outbox is SQLite, so restarts and outages lose nothing.
 */
import { readFileSync } from 'node:fs';
import { buildAggregates } from '../aggregates/builder.js';
import type { EdgeVoxConfig } from '../config/schema.js';
import { evxError, isEdgeVoxError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Store } from '../store/database.js';
import { SyncOutbox } from './outbox.js';
import { ed25519Signer, hmacSigner, type Signer } from './signing.js';
import { backoffMs, postSigned } from './uploader.js';

export interface SyncOptions {
  siteId: string;
  endpoint: string;
  signer: Signer;
  windowMs: number;
  settleMs: number;
  intervalMs: number;
  k: number;
  epsilon: number;
  /** What the windows of the last `epsilonBudgetMs` may spend together (only with epsilon > 0). */
  epsilonBudget: number;
  epsilonBudgetMs: number;
  outboxMaxWindows: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  requestTimeoutMs: number;
  ca?: Buffer | undefined;
  /** On the very first run, build windows from this time on (default: only the newest settled window). */
  backfillFromMs?: number | undefined;
  /** Ed25519 public key to enroll with the collector (when signing with ed25519). */
  publicKeyPem?: string | undefined;
  /** Repeat contacts in the aggregates: the same caller and reason within this many days (default 7). */
  repeatWithinDays?: number | undefined;
}

export interface SyncDeps {
  store: Store;
  logger: Logger;
  now?: () => number;
  random?: () => number;
}

const PERMANENT = new Set([400, 409, 413, 422]);

export class SyncService {
  readonly outbox: SyncOutbox;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private closed = false;
  readonly counters = { windowsBuilt: 0, accepted: 0, duplicates: 0, rejected: 0, failures: 0, dropped: 0, withheld: 0 };
  lastError: string | null = null;

  constructor(
    readonly options: SyncOptions,
    private readonly deps: SyncDeps,
  ) {
    this.outbox = new SyncOutbox(deps.store.db, (op, fn) => deps.store.write(op, fn), options.outboxMaxWindows);
  }

  /** From config: null unless `sync.enabled` and `upstream.endpoint` are set. */
  static fromConfig(ctx: { config: EdgeVoxConfig; dataDir: string; store: Store; logger: Logger; now?: () => number }): SyncService | null {
    const { config } = ctx;
    if (!config.sync.enabled) return null;
    if (config.upstream.endpoint === '')
      throw evxError('EVX_ERR_SYNC_KEY', "sync.enabled needs upstream.endpoint; key 'upstream.endpoint'", {
        details: { key: 'upstream.endpoint' },
      });
    let signer: Signer;
    let publicKeyPem: string | undefined;
    if (config.sync.signing === 'ed25519') {
      const s = ed25519Signer(ctx.dataDir);
      signer = s;
      publicKeyPem = s.publicKeyPem;
    } else {
      if (config.upstream.enrollmentKey === '')
        throw evxError('EVX_ERR_SYNC_KEY', "HMAC signing needs upstream.enrollmentKey; key 'upstream.enrollmentKey'", {
          details: { key: 'upstream.enrollmentKey' },
        });
      signer = hmacSigner(config.upstream.enrollmentKey);
    }
    const s = config.sync;
    return new SyncService(
      {
        siteId: config.site.id,
        endpoint: config.upstream.endpoint,
        signer,
        publicKeyPem,
        windowMs: s.windowMs,
        settleMs: s.settleMs,
        intervalMs: s.intervalMs,
        k: s.kAnonymity,
        epsilon: s.epsilon,
        epsilonBudget: s.epsilonBudget,
        epsilonBudgetMs: s.epsilonBudgetDays * 86_400_000,
        outboxMaxWindows: s.outboxMaxWindows,
        backoffBaseMs: s.backoffBaseMs,
        backoffMaxMs: s.backoffMaxMs,
        requestTimeoutMs: s.requestTimeoutMs,
        ca: s.caFile === '' ? undefined : readFileSync(s.caFile),
        repeatWithinDays: config.routing.profiles.repeatWindowDays,
      },
      { store: ctx.store, logger: ctx.logger, ...(ctx.now ? { now: ctx.now } : {}) },
    );
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  start(): void {
    if (this.closed || this.timer !== null) return;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs);
    this.timer.unref();
  }

  /** Close due windows and drain the outbox once (a tick already running is awaited instead). */
  tick(): Promise<void> {
    this.running ??= (async () => {
      try {
        this.closeWindows();
        await this.drain();
      } catch (err) {
        this.lastError = err instanceof Error ? err.message : String(err);
        this.deps.logger.warn({ code: isEdgeVoxError(err) ? err.code : 'error', reason: this.lastError }, 'sync tick failed');
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  /** Build and enqueue every window that has settled and is not enqueued yet; returns how many. */
  closeWindows(): number {
    const { windowMs, settleMs } = this.options;
    const now = this.now();
    const lastClosable = Math.floor((now - settleMs) / windowMs) * windowMs - windowMs; // start of the newest settled window
    const last = this.outbox.lastWindowStart();
    // First run: start with the newest settled window (history before enrollment is not sent).
    const backfill = this.options.backfillFromMs;
    let start = last !== null ? last + windowMs : backfill !== undefined ? Math.floor(backfill / windowMs) * windowMs : lastClosable;
    let built = 0;
    for (; start <= lastClosable && built < this.options.outboxMaxWindows; start += windowMs) {
      const payload = buildAggregates(this.deps.store, {
        siteId: this.options.siteId,
        windowStartMs: start,
        windowMs,
        k: this.options.k,
        epsilon: this.options.epsilon,
        generatedAtMs: now,
        ...(this.deps.random ? { random: this.deps.random } : {}),
        ...(this.options.repeatWithinDays !== undefined ? { repeatWithinDays: this.options.repeatWithinDays } : {}),
      });
      const key = `${this.options.siteId}:${start}`;
      const spend = payload.privacy.noise?.epsilonSpent ?? 0;
      if (spend > 0) {
        // the budget: what the windows of the period before this one spent, plus this one
        const spent = this.outbox.epsilonSpentSince(start - this.options.epsilonBudgetMs);
        if (spent + spend > this.options.epsilonBudget) {
          if (this.outbox.withhold(key, start, spend, now, this.options.endpoint)) {
            this.counters.withheld++;
            this.deps.logger.warn(
              { windowStart: start, needs: spend, spent, budget: this.options.epsilonBudget, code: 'EVX_ERR_SYNC_PRIVACY_BUDGET' },
              'sync window withheld: the privacy budget of the period is spent',
            );
          }
          continue;
        }
      }
      const { enqueued, dropped } = this.outbox.enqueue(key, start, JSON.stringify(payload), now, this.options.endpoint, spend);
      if (enqueued) built++;
      if (dropped > 0) {
        this.counters.dropped += dropped;
        this.deps.logger.warn({ dropped, maxWindows: this.options.outboxMaxWindows }, 'sync outbox full: oldest windows dropped');
      }
    }
    this.counters.windowsBuilt += built;
    return built;
  }

  /** Post due items until one fails for a transient reason (then the endpoint is likely down). */
  async drain(): Promise<void> {
    for (;;) {
      if (this.closed) return;
      const batch = this.outbox.due(this.now(), 20);
      if (batch.length === 0) return;
      for (const item of batch) {
        if (this.closed) return;
        const ok = await this.send(item);
        if (!ok) return;
      }
    }
  }

  private async send(item: ReturnType<SyncOutbox['due']>[number]): Promise<boolean> {
    const body = Buffer.from(item.body, 'utf8');
    const endpoint = this.options.endpoint;
    let status: number | null = null;
    let reason: string;
    try {
      const res = await postSigned({
        url: endpoint,
        body,
        idempotencyKey: item.idempotencyKey,
        site: this.options.siteId,
        signature: this.options.signer.sign(body),
        timeoutMs: this.options.requestTimeoutMs,
        ca: this.options.ca,
      });
      status = res.status;
      if (res.status >= 200 && res.status < 300) {
        const duplicate = /"status"\s*:\s*"duplicate"/.test(res.body);
        this.outbox.settle(item, duplicate ? 'duplicate' : 'accepted', res.status, endpoint, this.now());
        if (duplicate) this.counters.duplicates++;
        else this.counters.accepted++;
        this.lastError = null;
        return true;
      }
      if (PERMANENT.has(res.status)) {
        this.outbox.settle(item, 'rejected', res.status, endpoint, this.now());
        this.counters.rejected++;
        this.deps.logger.error({ status: res.status, window: item.windowStart }, 'upstream rejected an aggregates payload');
        return true;
      }
      reason = `HTTP ${res.status}`;
    } catch (err) {
      reason = err instanceof Error ? err.message : String(err);
    }
    this.counters.failures++;
    this.lastError = reason;
    const next = this.now() + backoffMs(item.attempts, this.options.backoffBaseMs, this.options.backoffMaxMs, this.deps.random);
    this.outbox.retryLater(item, next, reason, status, endpoint, this.now());
    this.deps.logger.warn({ status, attempts: item.attempts + 1, retryInMs: next - this.now() }, 'aggregates upload failed, will retry');
    return false;
  }

  status(): {
    siteId: string;
    endpoint: string;
    signing: string;
    outbox: number;
    lastWindowStart: number | null;
    lastError: string | null;
    counters: SyncService['counters'];
    publicKeyPem: string | null;
    /** Epsilon per published count, the budget of the rolling period, and what that period spent. */
    privacy: { epsilon: number; budget: number; periodMs: number; spent: number };
  } {
    return {
      siteId: this.options.siteId,
      endpoint: this.options.endpoint,
      signing: this.options.signer.scheme,
      outbox: this.outbox.size,
      lastWindowStart: this.outbox.lastWindowStart(),
      lastError: this.lastError,
      counters: this.counters,
      publicKeyPem: this.options.publicKeyPem ?? null,
      privacy: {
        epsilon: this.options.epsilon,
        budget: this.options.epsilonBudget,
        periodMs: this.options.epsilonBudgetMs,
        spent: this.outbox.epsilonSpentSince(this.now() - this.options.epsilonBudgetMs),
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
