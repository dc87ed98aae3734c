/**
 * What every outgoing webhook of the box shares (the routing decision webhook, the alert push):
 * the signature, one bounded POST attempt and what its outcome means, and the retry delay.
 *
 * Signing: `X-EdgeVox-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` with
 * `X-EdgeVox-Timestamp` (Unix seconds, fresh on every attempt), so a receiver can refuse stale
 * replays; `X-EdgeVox-Delivery` stays the same across retries of one delivery, for dedup;
 * `X-EdgeVox-Event` names the payload. A receiver verifies as verifyWebhookSignature does.
 *
 * Outcomes: 2xx delivered; network errors, timeouts, 5xx and 429 retry (Retry-After in seconds
 * honoured, capped); any other answer (3xx, 4xx) is final.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { evxError } from '../errors.js';
import { secureUniform } from '../randomness.js';

export const WEBHOOK_SIGNATURE_HEADER = 'x-edgevox-signature';
export const WEBHOOK_TIMESTAMP_HEADER = 'x-edgevox-timestamp';
export const WEBHOOK_DELIVERY_HEADER = 'x-edgevox-delivery';
export const WEBHOOK_EVENT_HEADER = 'x-edgevox-event';
/** Shortest signing secret accepted. */
export const WEBHOOK_MIN_SECRET_LENGTH = 16;

/** `sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>.<body>"). */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * What a receiver does (and the tests): the signature matches (constant time) and the timestamp is
 * within `toleranceS` of now.
 */
export function verifyWebhookSignature(
  secret: string,
  headers: { readonly timestamp: string | undefined; readonly signature: string | undefined },
  body: string,
  options: { readonly nowMs?: number; readonly toleranceS?: number } = {},
): boolean {
  const { timestamp, signature } = headers;
  if (timestamp === undefined || signature === undefined || !/^\d{1,12}$/.test(timestamp)) return false;
  const age = Math.abs((options.nowMs ?? Date.now()) / 1000 - Number(timestamp));
  if (age > (options.toleranceS ?? 300)) return false;
  const want = Buffer.from(signWebhook(secret, timestamp, body));
  const got = Buffer.from(signature);
  return want.length === got.length && timingSafeEqual(want, got);
}

/**
 * A webhook URL, parsed: http(s), no credentials in it (fetch refuses them, and they would be
 * logged with it). Throws EVX_ERR_CONFIG_INVALID naming `key`; the message never quotes the URL.
 */
export function parseWebhookUrl(url: string, key: string): URL {
  const fail = (problem: string): never => {
    throw evxError('EVX_ERR_CONFIG_INVALID', `invalid configuration: key '${key}' ${problem}`, { details: { key, problem } });
  };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return fail('is not a URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') fail(`must be an http or https URL, got ${parsed.protocol}`);
  if (parsed.username !== '' || parsed.password !== '') fail('must not carry a user name or password');
  return parsed;
}

/** The secret under `key`, checked: long enough to be a key (`urlKey` names what needs it). The message never quotes it. */
export function checkWebhookSecret(secret: string, key: string, urlKey: string): void {
  if (secret.length < WEBHOOK_MIN_SECRET_LENGTH) {
    const problem = `must be at least ${WEBHOOK_MIN_SECRET_LENGTH} characters when ${urlKey} is set (it signs every request)`;
    throw evxError('EVX_ERR_CONFIG_INVALID', `invalid configuration: key '${key}' ${problem}`, { details: { key, problem } });
  }
}

/** What happened to a sender's deliveries since start (a delivery counts once, whatever its attempts). */
export interface DeliveryCounters {
  /** Accepted by the receiver (2xx, or the SMTP server took the message). */
  delivered: number;
  /** Refused for good (3xx, 4xx other than 429; SMTP 5xx): not retried. */
  rejected: number;
  /** Still failing (network, timeout, 5xx, 429) after maxAttempts. */
  failed: number;
  /** Never sent or given up unsent: the queue was full (oldest dropped) or the box was closing. */
  dropped: number;
  /** Attempts that were retried. */
  retries: number;
  /** Waiting now (queued, waiting for a retry or being sent). */
  pending: number;
}

export type AttemptResult =
  { kind: 'delivered' } | { kind: 'rejected'; status: number } | { kind: 'retry'; reason: string; retryAfterMs: number | null };

export interface SignedPost {
  readonly url: URL;
  readonly secret: string;
  readonly body: string;
  readonly deliveryId: string;
  readonly event: string;
  readonly userAgent: string;
  readonly timeoutMs: number;
  /** Aborts the request (the sender is closing); the outcome is then a retry with reason 'closed'. */
  readonly abort: AbortSignal;
  /** Cap on a Retry-After delay. */
  readonly retryAfterMaxMs: number;
}

/** One signed POST attempt, bounded by its timeout; the answer's body is never read. */
export async function postSigned(p: SignedPost): Promise<AttemptResult> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signal = AbortSignal.any([AbortSignal.timeout(p.timeoutMs), p.abort]);
  let res: Response;
  try {
    res = await fetch(p.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': p.userAgent,
        [WEBHOOK_EVENT_HEADER]: p.event,
        [WEBHOOK_DELIVERY_HEADER]: p.deliveryId,
        [WEBHOOK_TIMESTAMP_HEADER]: timestamp,
        [WEBHOOK_SIGNATURE_HEADER]: signWebhook(p.secret, timestamp, p.body),
      },
      body: p.body,
      redirect: 'manual',
      signal,
    });
  } catch (err) {
    return { kind: 'retry', reason: failureReason(err, signal), retryAfterMs: null };
  }
  // free the connection
  await res.body?.cancel().catch(() => undefined);
  if (res.status >= 200 && res.status < 300) return { kind: 'delivered' };
  if (res.status >= 500 || res.status === 429)
    return { kind: 'retry', reason: `status ${res.status}`, retryAfterMs: retryAfterMs(res.headers.get('retry-after'), p.retryAfterMaxMs) };
  return { kind: 'rejected', status: res.status };
}

/** Exponential backoff with jitter: base × 2^(attempt-1), capped at maxMs, times a factor in [0.5, 1). */
export function backoffDelayMs(attempt: number, o: { baseMs: number; maxMs: number; random?: (() => number) | undefined }): number {
  const exp = Math.min(o.maxMs, o.baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(exp * (0.5 + (o.random ?? secureUniform)() * 0.5));
}

/** Retry-After in seconds (the HTTP-date form is ignored), capped. */
export function retryAfterMs(header: string | null, capMs: number): number | null {
  if (header === null || !/^\d{1,6}$/.test(header.trim())) return null;
  return Math.min(Number(header.trim()) * 1000, capMs);
}

/** A short, secret-free reason for a failed request: timeout, closed, or the socket error's code. */
export function failureReason(err: unknown, signal: AbortSignal): string {
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    return reason instanceof Error && reason.name === 'TimeoutError' ? 'timeout' : 'closed';
  }
  const cause = err instanceof Error ? (err.cause as NodeJS.ErrnoException | undefined) : undefined;
  return typeof cause?.code === 'string' ? cause.code : 'network error';
}
