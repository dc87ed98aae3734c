/**
 * The routing webhook: every routing decision (`route.decision` on the bus) POSTed as signed JSON
 * to `routing.webhook.url`, so a PBX or CTI integration can act on it (docs/routing-webhook.md).
 *
 * What leaves the box is the decision and nothing about the caller: ids, groups, the agent, priority
 * and the reasons' stable codes; never the reasons' sentences or the summary (they quote profile
 * facts such as repeat counts, churn risk and anger), never numbers, names or transcripts.
 *
 * Signing, the attempt and the backoff are the box's common webhook pieces (webhooks/signedPost.ts):
 * `X-EdgeVox-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` with
 * `X-EdgeVox-Timestamp`; `X-EdgeVox-Delivery` (also the body's `id`) stays the same across retries.
 *
 * It never holds up routing: the bus listener only builds the body and queues it. Delivery is
 * asynchronous, at most `MAX_IN_FLIGHT` requests at a time (one hung receiver request does not stop
 * the next), each bounded by `timeoutMs`; the queue is bounded by `maxPending` (oldest dropped and
 * counted). Network errors, timeouts, 5xx and 429 are retried with backoff (Retry-After honoured,
 * capped) up to `maxAttempts`; any other answer (3xx, 4xx) is final.
 */
import { randomUUID } from 'node:crypto';
import { VERSION } from '../buildInfo.js';
import type { ApplianceEvent, EventBus } from '../events/appEvents.js';
import type { Logger } from '../log/logger.js';
import {
  backoffDelayMs,
  checkWebhookSecret as checkSecret,
  parseWebhookUrl as parseUrl,
  postSigned,
  type AttemptResult,
  type DeliveryCounters,
} from '../webhooks/signedPost.js';

export {
  signWebhook,
  verifyWebhookSignature,
  WEBHOOK_DELIVERY_HEADER,
  WEBHOOK_EVENT_HEADER,
  WEBHOOK_MIN_SECRET_LENGTH,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
} from '../webhooks/signedPost.js';

export type RouteDecisionEvent = Extract<ApplianceEvent, { type: 'route.decision' }>;

export const WEBHOOK_USER_AGENT = `EdgeVox/${VERSION} (routing-webhook)`;

/** Requests in flight at once: a hung one takes a slot until its timeout, the others go on. */
const MAX_IN_FLIGHT = 4;
/** SIPREC sessions remembered (never routed; a guard should a decision ever name one). */
const MAX_SIPREC = 10_000;

/** The JSON body of one delivery (version 1). */
export interface RouteDecisionPayload {
  readonly event: 'route.decision';
  readonly version: 1;
  /** Delivery id: the same on every attempt of this decision (X-EdgeVox-Delivery). */
  readonly id: string;
  readonly siteId: string;
  readonly callId: string;
  readonly decisionId: number | null;
  /** Epoch ms of the decision. */
  readonly at: number;
  /** utterance: decided from the caller's words; dequeue: a queued call handed to an agent who became available. */
  readonly trigger: 'utterance' | 'dequeue';
  readonly action: RouteDecisionEvent['action'];
  readonly requestedGroupId: string | null;
  readonly groupId: string | null;
  readonly agentId: string | null;
  readonly priority: number;
  readonly needsSenior: boolean;
  readonly estimatedWaitMs: number | null;
  readonly overflow: { readonly from: string; readonly action: string } | null;
  /** The stable codes of the decision's reasons (intent.group, priority.angry, agent.longest-idle ...). */
  readonly reasonCodes: readonly string[];
}

/** What happened to deliveries since start (a delivery is one decision); `pending` excludes those in flight. */
export interface RoutingWebhookCounters extends DeliveryCounters {
  inFlight: number;
}

export interface RoutingWebhookOptions {
  readonly url: string;
  readonly secret: string;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly maxPending: number;
  readonly siteId: string;
  readonly logger: Logger;
  /** First retry delay (doubles per attempt, with jitter in [0.5, 1)); default 500 ms. */
  readonly backoffBaseMs?: number;
  /** Longest retry delay, also the cap on a Retry-After; default 10 s. */
  readonly backoffMaxMs?: number;
  /** How long close() lets requests in flight finish before aborting them; default min(timeoutMs, 1000). */
  readonly closeGraceMs?: number;
  readonly random?: () => number;
}

interface Delivery {
  /** Order of arrival: the queue is kept in it (the oldest is dropped first, retries included). */
  readonly seq: number;
  readonly id: string;
  readonly callId: string;
  readonly decisionId: number | null;
  readonly body: string;
  attempts: number;
  /** Date.now() before which it is not sent (retry backoff). */
  notBefore: number;
}

/** The payload of a decision: only what may leave the box. */
export function decisionPayload(e: RouteDecisionEvent, ctx: { readonly id: string; readonly siteId: string }): RouteDecisionPayload {
  return {
    event: 'route.decision',
    version: 1,
    id: ctx.id,
    siteId: ctx.siteId,
    callId: e.callId,
    decisionId: e.decisionId,
    at: e.at,
    trigger: e.trigger,
    action: e.action,
    requestedGroupId: e.requestedGroupId,
    groupId: e.groupId,
    agentId: e.agentId,
    priority: e.priority,
    needsSenior: e.needsSenior,
    estimatedWaitMs: e.estimatedWaitMs,
    overflow: e.overflow === null ? null : { from: e.overflow.from, action: e.overflow.action },
    reasonCodes: e.reasons.map((r) => r.code),
  };
}

/** The webhook URL, parsed (EVX_ERR_CONFIG_INVALID naming routing.webhook.url; never quoting it). */
export function parseWebhookUrl(url: string): URL {
  return parseUrl(url, 'routing.webhook.url');
}

/** The secret, checked: long enough to be a key. The message never quotes it. */
export function checkWebhookSecret(secret: string): void {
  checkSecret(secret, 'routing.webhook.secret', 'routing.webhook.url');
}

export class RoutingWebhook {
  private readonly url: URL;
  /** Where deliveries go, for logs: scheme, host and port only (a path or query may hold a token). */
  private readonly origin: string;
  private readonly pending: Delivery[] = [];
  private readonly inFlight = new Set<Delivery>();
  private readonly settledWaiters = new Set<() => void>();
  private readonly siprec = new Set<string>();
  private readonly abort = new AbortController();
  private readonly counts = { delivered: 0, rejected: 0, failed: 0, dropped: 0, retries: 0 };
  private unsubscribe: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;
  private pumpScheduled = false;
  private seq = 0;
  private lastDropLogAt = -Infinity;
  private closing: Promise<void> | null = null;

  constructor(private readonly o: RoutingWebhookOptions) {
    this.url = parseWebhookUrl(o.url);
    checkWebhookSecret(o.secret);
    this.origin = this.url.origin;
  }

  /** Listen for decisions on the bus (and SIPREC sessions, never sent); returns the detach function. */
  attach(bus: EventBus): () => void {
    this.unsubscribe?.();
    const off = bus.subscribe((e) => {
      if (e.type === 'route.decision') this.enqueue(e);
      else if (e.type === 'call.started' && e.source === 'siprec') {
        if (this.siprec.size >= MAX_SIPREC) this.siprec.delete(this.siprec.values().next().value!);
        this.siprec.add(e.callId);
      } else if (e.type === 'call.ended') this.siprec.delete(e.callId);
    });
    this.unsubscribe = off;
    return () => {
      off();
      if (this.unsubscribe === off) this.unsubscribe = null;
    };
  }

  /** Queue a decision for delivery; cheap and synchronous (the routing path calls it through the bus). */
  enqueue(e: RouteDecisionEvent): void {
    if (this.closing !== null || this.siprec.has(e.callId)) return;
    const id = randomUUID();
    const body = JSON.stringify(decisionPayload(e, { id, siteId: this.o.siteId }));
    if (this.pending.length >= this.o.maxPending) this.dropOldest();
    this.pending.push({ seq: this.seq++, id, callId: e.callId, decisionId: e.decisionId, body, attempts: 0, notBefore: 0 });
    this.schedulePump();
  }

  counters(): RoutingWebhookCounters {
    return { ...this.counts, pending: this.pending.length, inFlight: this.inFlight.size };
  }

  /** Resolves once nothing is queued, waiting for a retry or in flight (tests, drain). */
  idle(): Promise<void> {
    if (this.pending.length === 0 && this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.add(resolve));
  }

  /**
   * Stop taking decisions; what is not sent yet is dropped (counted); requests in flight get up to
   * `closeGraceMs` to finish, then are aborted. Idempotent: later calls get the same promise.
   */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const unsent = this.pending.splice(0);
    this.counts.dropped += unsent.length;
    if (unsent.length > 0)
      this.o.logger.warn({ target: this.origin, dropped: unsent.length }, 'routing webhook closed with decisions unsent');
    const grace = Math.max(0, this.o.closeGraceMs ?? Math.min(this.o.timeoutMs, 1000));
    this.closing = (async () => {
      if (this.inFlight.size > 0) {
        let t: NodeJS.Timeout | undefined;
        await Promise.race([this.idle(), new Promise<void>((r) => (t = setTimeout(r, grace)))]);
        clearTimeout(t);
      }
      this.abort.abort(new Error('routing webhook closed'));
      if (this.inFlight.size > 0) await this.idle();
      this.siprec.clear();
    })();
    this.notifyIfIdle();
    return this.closing;
  }

  private dropOldest(): void {
    this.pending.shift();
    this.counts.dropped++;
    const now = Date.now();
    if (now - this.lastDropLogAt >= 60_000) {
      this.lastDropLogAt = now;
      this.o.logger.warn(
        { target: this.origin, maxPending: this.o.maxPending, dropped: this.counts.dropped },
        'routing webhook queue full: oldest decisions dropped',
      );
    }
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.closing !== null) return;
    const now = Date.now();
    while (this.inFlight.size < MAX_IN_FLIGHT) {
      const i = this.pending.findIndex((d) => d.notBefore <= now);
      if (i < 0) break;
      const [d] = this.pending.splice(i, 1);
      this.inFlight.add(d!);
      void this.send(d!);
    }
    this.armTimer(now);
  }

  /** One timer for the earliest retry due (while a slot is free to take it). */
  private armTimer(now: number): void {
    let next = Infinity;
    for (const d of this.pending) if (d.notBefore > now && d.notBefore < next) next = d.notBefore;
    if (next === Infinity || this.inFlight.size >= MAX_IN_FLIGHT) return;
    if (this.timer !== null && this.timerAt <= next) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pump();
    }, next - now);
    this.timer.unref();
  }

  private async send(d: Delivery): Promise<void> {
    d.attempts++;
    const result = await this.attempt(d);
    this.inFlight.delete(d);
    if (result.kind === 'delivered') this.counts.delivered++;
    else if (result.kind === 'retry' && result.reason === 'closed') this.counts.dropped++;
    else if (result.kind === 'rejected') {
      this.counts.rejected++;
      this.o.logger.warn(
        { target: this.origin, callId: d.callId, decisionId: d.decisionId, status: result.status, attempts: d.attempts },
        'routing webhook refused a decision (not retried)',
      );
    } else if (d.attempts >= this.o.maxAttempts || this.closing !== null) {
      this.counts.failed++;
      this.o.logger.warn(
        { target: this.origin, callId: d.callId, decisionId: d.decisionId, reason: result.reason, attempts: d.attempts },
        'routing webhook delivery failed',
      );
    } else {
      this.counts.retries++;
      d.notBefore = Date.now() + (result.retryAfterMs ?? this.backoff(d.attempts));
      // a retry keeps its place in the queue (the oldest goes first when it overflows, maybe itself)
      const at = this.pending.findIndex((x) => x.seq > d.seq);
      this.pending.splice(at < 0 ? this.pending.length : at, 0, d);
      if (this.pending.length > this.o.maxPending) this.dropOldest();
      this.o.logger.debug({ target: this.origin, callId: d.callId, reason: result.reason, attempts: d.attempts }, 'routing webhook retry');
    }
    this.pump();
    this.notifyIfIdle();
  }

  private attempt(d: Delivery): Promise<AttemptResult> {
    return postSigned({
      url: this.url,
      secret: this.o.secret,
      body: d.body,
      deliveryId: d.id,
      event: 'route.decision',
      userAgent: WEBHOOK_USER_AGENT,
      timeoutMs: this.o.timeoutMs,
      abort: this.abort.signal,
      retryAfterMaxMs: this.o.backoffMaxMs ?? 10_000,
    });
  }

  private backoff(attempt: number): number {
    return backoffDelayMs(attempt, { baseMs: this.o.backoffBaseMs ?? 500, maxMs: this.o.backoffMaxMs ?? 10_000, random: this.o.random });
  }

  private notifyIfIdle(): void {
    if (this.pending.length > 0 || this.inFlight.size > 0) return;
    for (const w of [...this.settledWaiters]) w();
    this.settledWaiters.clear();
  }
}
