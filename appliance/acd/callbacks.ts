/**
 * Callback requests: a caller the ACD offered a callback pressed 1 (acd/acdCalls.ts), so the box
 * keeps the request until it has called back (acd/callbackDialer.ts places the call: agent first,
 * then the customer), the attempts run out, or a supervisor cancels it. Kept in SQLite
 * (callbackRepo.ts), so a restart neither loses nor repeats one; the request outlives the call
 * record (retention deleting the call leaves `callId` null). Offers are kept too (offered, and
 * how each was answered: accepted, hung up on, let pass) for the KPIs.
 *
 * The caller's number (their SIP or tel URI) is personal data: it is sealed at rest with the store's
 * SecretBox under the request's own name (`callback:<id>`), listed only masked (the last two
 * characters of the user part), never logged, never in events or metrics. `open(id)` is the one way
 * to the number, for placing the call; it is not exposed over HTTP.
 */
import { randomUUID } from 'node:crypto';
import { evxError } from '../errors.js';
import type { EventBus } from '../events/appEvents.js';
import type { SecretBox } from '../privacy/secrets.js';
import { parseNameAddr, parseUri } from '../sip/grammar.js';
import { dialableNumber } from '../telephony/trunkDialer.js';
import type { CallbackCounts, CallbackOfferAnswer, CallbackRepo, CallbackState, StoredCallback } from './callbackRepo.js';

export { CALLBACK_STATES, type CallbackState } from './callbackRepo.js';

/** A request as listed: the number masked (`••••••42`). */
export interface CallbackEntry {
  readonly id: string;
  readonly callId: string | null;
  readonly groupId: string;
  readonly number: string;
  readonly requestedAt: number;
  readonly state: CallbackState;
  /** Calls to the customer that were not answered so far. */
  readonly attempts: number;
  /** Not offered to an agent before this (unix ms). */
  readonly nextAttemptAt: number;
  /** Why the last attempt failed or why it was closed; null when nothing failed. */
  readonly reason: string | null;
  readonly updatedAt: number;
}

/** User parts that say the caller withheld or has no number (RFC 3323 and what trunks send). */
const NO_NUMBER_USERS = new Set(['anonymous', 'unknown', 'restricted', 'unavailable', 'private', 'withheld']);

/**
 * The URI to call a caller back on, from their From header (`"Ann" <sip:+4930123@trunk>;tag=x`):
 * scheme, user, host and port (and `;user=phone`), without display name, tag or other parameters.
 * null when there is no usable number: unparsable, no user part, anonymous or withheld, or a user
 * part that is not a dialable number (telephony/trunkDialer.ts `dialableNumber`).
 */
export function callbackUri(fromHeader: string): string | null {
  const addr = parseNameAddr(fromHeader);
  if (addr === undefined) return null;
  const uri = addr.uri;
  const user = uri.user?.trim() ?? '';
  if (user === '' || NO_NUMBER_USERS.has(user.toLowerCase()) || uri.host.toLowerCase() === 'anonymous.invalid') return null;
  const port = uri.port === undefined ? '' : `:${uri.port}`;
  const userPhone = uri.params.get('user') === 'phone' ? ';user=phone' : '';
  const out = uri.scheme === 'tel' ? `tel:${user}` : `${uri.scheme}:${user}@${uri.host}${port}${userPhone}`;
  // only a number the trunk can dial back (a name like sip:bob@host is not one)
  return dialableNumber(out) === null ? null : out;
}

const MASK = '••••••';

/** `••••••` and the last two characters of the URI's user part (none of it when the user part is 4 or shorter). */
export function maskNumber(numberUri: string): string {
  const user = parseUri(numberUri)?.user ?? '';
  return user.length > 4 ? MASK + user.slice(-2) : MASK;
}

export interface CallbacksDeps {
  readonly repo: CallbackRepo;
  /** Seals the caller's URI at rest (the store's SecretBox). */
  readonly box: Pick<SecretBox, 'seal' | 'open'>;
  readonly bus: Pick<EventBus, 'publish'>;
  readonly now: () => number;
  readonly newId?: () => string;
}

export const MAX_CALLBACK_LIST = 1000;

export class Callbacks {
  constructor(private readonly deps: CallbacksDeps) {}

  /**
   * Keep a caller's request to be called back on `numberUri` for `groupId`; `queuedAt` is its place
   * in the queue (when the caller first queued; default now). Throws EVX_ERR_STORE_WRITE when the store fails.
   */
  request(callId: string, groupId: string, numberUri: string, queuedAt?: number): CallbackEntry {
    if (numberUri.trim() === '') throw evxError('EVX_ERR_BAD_REQUEST', 'a callback needs a number', { details: { field: 'number' } });
    const id = (this.deps.newId ?? randomUUID)();
    const at = this.deps.now();
    this.deps.repo.insert({
      id,
      callId,
      groupId,
      numberSealed: this.deps.box.seal(sealName(id), numberUri),
      requestedAt: at,
      queuedAt: queuedAt ?? at,
    });
    const entry = this.get(id)!;
    this.deps.bus.publish({ type: 'callback.requested', at, id, callId: entry.callId, groupId });
    return entry;
  }

  /** The ACD offered a callback on `callId`: kept for the KPIs; the offer's id for `offerAnswered`, null when the store failed. */
  offered(callId: string, groupId: string): number | null {
    try {
      return this.deps.repo.offered(callId, groupId, this.deps.now());
    } catch {
      return null; // a KPI row: the store counts its write errors, the offer goes on
    }
  }

  /** How the caller answered the offer `offerId`. */
  offerAnswered(offerId: number | null, answer: CallbackOfferAnswer): void {
    if (offerId === null) return;
    try {
      this.deps.repo.offerAnswered(offerId, answer);
    } catch {
      // as in offered()
    }
  }

  /** Offers (accepted, hung up on, unanswered) and closed requests in [from, to). */
  counts(from: number, to: number): CallbackCounts {
    return this.deps.repo.counts(from, to);
  }

  /** Requests oldest first, numbers masked; `state` filters. */
  list(opts: { readonly state?: CallbackState; readonly limit?: number } = {}): CallbackEntry[] {
    const limit = Math.max(1, Math.min(MAX_CALLBACK_LIST, opts.limit ?? MAX_CALLBACK_LIST));
    return this.deps.repo.list(opts.state, limit).map((r) => this.view(r));
  }

  get(id: string): CallbackEntry | undefined {
    const r = this.deps.repo.get(id);
    return r === undefined ? undefined : this.view(r);
  }

  /** A supervisor withdraws a pending request. Throws EVX_ERR_NOT_FOUND, or EVX_ERR_CALLBACK_STATE when it is not pending. */
  cancel(id: string): CallbackEntry {
    const at = this.deps.now();
    if (!this.deps.repo.move(id, 'pending', 'cancelled', at)) {
      const r = this.deps.repo.get(id);
      if (r === undefined) throw evxError('EVX_ERR_NOT_FOUND', 'no such callback request', { details: { resource: 'callback' } });
      throw evxError('EVX_ERR_CALLBACK_STATE', `the callback request is ${r.state}, not pending`, { details: { state: r.state } });
    }
    const entry = this.get(id)!;
    this.deps.bus.publish({ type: 'callback.cancelled', at, id, callId: entry.callId, groupId: entry.groupId });
    return entry;
  }

  /** Requests waiting to be called back. */
  pending(): number {
    return this.deps.repo.count('pending') + this.deps.repo.count('dialing');
  }

  /** The caller's URI in clear, for placing the callback; undefined for an unknown id. Throws EVX_ERR_SECRET when it does not open. */
  open(id: string): string | undefined {
    const r = this.deps.repo.get(id);
    return r === undefined ? undefined : this.deps.box.open(sealName(id), r.numberSealed);
  }

  // --- placing the callback (acd/callbackDialer.ts) ----------------------------------------------

  /** Pending requests due now, by their place in the queue. */
  due(limit: number): StoredCallback[] {
    return this.deps.repo.due(this.deps.now(), limit);
  }

  /** Pending requests due now, at most `limitPerGroup` of each group, by their place in the queue. */
  dueByGroup(limitPerGroup: number): StoredCallback[] {
    return this.deps.repo.dueByGroup(this.deps.now(), limitPerGroup);
  }

  stored(id: string): StoredCallback | undefined {
    return this.deps.repo.get(id);
  }

  /** An agent answered for `id`: it is being dialled by the attempt `attemptCallId`; false when it is no longer pending (cancelled meanwhile). */
  dialing(id: string, attemptCallId: string): boolean {
    return this.deps.repo.dialing(id, attemptCallId, this.deps.now());
  }

  /** The customer answered: the callback is done (never dialled again, whatever happens next). */
  completed(id: string): void {
    const at = this.deps.now();
    if (this.deps.repo.move(id, 'dialing', 'done', at)) this.publishClosed('callback.completed', id, at, null);
  }

  /**
   * The customer did not answer (`reason`: no-answer, busy, failed...): tried again not before
   * `retryAt`, or closed as failed when that was the last attempt (`retryAt` null). What it became.
   */
  attemptFailed(id: string, reason: string, retryAt: number | null): 'retry' | 'failed' | 'gone' {
    const at = this.deps.now();
    const r = this.deps.repo.get(id);
    if (r === undefined || r.state !== 'dialing') return 'gone';
    if (retryAt === null) {
      if (!this.deps.repo.failed(id, r.attempts + 1, reason, at)) return 'gone';
      this.publishClosed('callback.failed', id, at, reason);
      return 'failed';
    }
    return this.deps.repo.retry(id, r.attempts + 1, retryAt, reason, at) ? 'retry' : 'gone';
  }

  /**
   * The attempt ended before the customer could answer (the agent hung up, the box stopped, the
   * trunk was at a cap): pending again, from `retryAt` (default: at once), no attempt counted.
   */
  undial(id: string, reason: string, retryAt?: number): void {
    const r = this.deps.repo.get(id);
    if (r?.state === 'dialing') this.deps.repo.retry(id, r.attempts, retryAt ?? r.nextAttemptAt, reason, this.deps.now());
  }

  /** Close a pending or dialling request that can never be placed (its number was refused, it no longer opens). */
  close(id: string, reason: string): void {
    const at = this.deps.now();
    const r = this.deps.repo.get(id);
    if (r === undefined || (r.state !== 'pending' && r.state !== 'dialing')) return;
    if (this.deps.repo.move(id, r.state, 'failed', at, reason)) this.publishClosed('callback.failed', id, at, reason);
  }

  /**
   * The partner box adopted `id` while this box was down (cluster/callbackHandover.ts): closed here
   * as cancelled with reason `taken-over`, so it is placed once, by the partner. false when it was
   * already closed. Called before the dialler starts (a request left dialling is closed too).
   */
  takenOver(id: string): boolean {
    const at = this.deps.now();
    const r = this.deps.repo.get(id);
    if (r === undefined || (r.state !== 'pending' && r.state !== 'dialing')) return false;
    if (!this.deps.repo.move(id, r.state, 'cancelled', at, 'taken-over')) return false;
    this.deps.bus.publish({ type: 'callback.cancelled', at, id, callId: r.callId, groupId: r.groupId });
    return true;
  }

  /** At start: requests left dialling by a stopped box go back to pending (the customer had not answered, or they would be done). */
  recover(): number {
    let n = 0;
    for (const r of this.deps.repo.list('dialing', MAX_CALLBACK_LIST)) {
      this.undial(r.id, 'restart');
      n++;
    }
    return n;
  }

  private publishClosed(type: 'callback.completed' | 'callback.failed', id: string, at: number, reason: string | null): void {
    const r = this.deps.repo.get(id);
    if (r === undefined) return;
    this.deps.bus.publish({ type, at, id, callId: r.callId, groupId: r.groupId, attempts: r.attempts, reason });
  }

  private view(r: StoredCallback): CallbackEntry {
    let number = MASK;
    try {
      number = maskNumber(this.deps.box.open(sealName(r.id), r.numberSealed));
    } catch {
      // a sealed value that no longer opens (the store key was replaced) is listed fully masked
    }
    return {
      id: r.id,
      callId: r.callId,
      groupId: r.groupId,
      number,
      requestedAt: r.requestedAt,
      state: r.state,
      attempts: r.attempts,
      nextAttemptAt: r.nextAttemptAt,
      reason: r.reason,
      updatedAt: r.updatedAt,
    };
  }
}

const sealName = (id: string): string => `callback:${id}`;
