/**
 * Callback requests: a caller the ACD offered a callback pressed 1 (acd/acdCalls.ts), so the box
 * keeps the request until it calls back (the next step: placing that call) or a supervisor cancels
 * it. Kept in SQLite (migration 9), so a restart loses none; the request outlives the call record
 * (retention deleting the call leaves `callId` null).
 *
 * The caller's number (their SIP or tel URI) is personal data: it is sealed at rest with the store's
 * SecretBox under the request's own name (`callback:<id>`), listed only masked (the last two
 * characters of the user part), never logged, never in events or metrics. `open(id)` is the one way
 * to the number, for placing the call; it is not exposed over HTTP.
 */
import { randomUUID } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import { evxError } from '../errors.js';
import type { EventBus } from '../events/appEvents.js';
import type { SecretBox } from '../privacy/secrets.js';
import { parseNameAddr, parseUri } from '../sip/grammar.js';
import type { Writer } from '../store/repos/writer.js';

export const CALLBACK_STATES = ['pending', 'cancelled', 'done'] as const;
export type CallbackState = (typeof CALLBACK_STATES)[number];

/** A request as stored: the number sealed. */
export interface StoredCallback {
  readonly id: string;
  /** null once the call record was deleted (retention), or when there was none. */
  readonly callId: string | null;
  readonly groupId: string;
  readonly numberSealed: string;
  readonly requestedAt: number;
  readonly state: CallbackState;
  readonly updatedAt: number;
}

/** A request as listed: the number masked (`••••••42`). */
export interface CallbackEntry {
  readonly id: string;
  readonly callId: string | null;
  readonly groupId: string;
  readonly number: string;
  readonly requestedAt: number;
  readonly state: CallbackState;
  readonly updatedAt: number;
}

interface Row {
  id: string;
  call_id: string | null;
  group_id: string;
  number_sealed: string;
  requested_at: number;
  state: CallbackState;
  updated_at: number;
}

const fromRow = (r: Row): StoredCallback => ({
  id: r.id,
  callId: r.call_id,
  groupId: r.group_id,
  numberSealed: r.number_sealed,
  requestedAt: r.requested_at,
  state: r.state,
  updatedAt: r.updated_at,
});

export class CallbackRepo {
  private readonly insertStmt: Statement;
  private readonly getStmt: Statement<[string], Row>;
  private readonly listAll: Statement<[number], Row>;
  private readonly listState: Statement<[string, number], Row>;
  private readonly moveStmt: Statement;
  private readonly countStmt: Statement<[string], { n: number }>;

  constructor(
    db: Database,
    private readonly write: Writer,
  ) {
    // the call id only when the call record exists: a request is never lost to a missing record
    this.insertStmt = db.prepare(
      `INSERT INTO callback_requests (id, call_id, group_id, number_sealed, requested_at, state, updated_at)
       VALUES (?, (SELECT id FROM calls WHERE id = ?), ?, ?, ?, ?, ?)`,
    );
    const cols = `id, call_id, group_id, number_sealed, requested_at, state, updated_at`;
    this.getStmt = db.prepare(`SELECT ${cols} FROM callback_requests WHERE id = ?`);
    this.listAll = db.prepare(`SELECT ${cols} FROM callback_requests ORDER BY requested_at, id LIMIT ?`);
    this.listState = db.prepare(`SELECT ${cols} FROM callback_requests WHERE state = ? ORDER BY requested_at, id LIMIT ?`);
    this.moveStmt = db.prepare(`UPDATE callback_requests SET state = ?, updated_at = ? WHERE id = ? AND state = ?`);
    this.countStmt = db.prepare(`SELECT COUNT(*) AS n FROM callback_requests WHERE state = ?`);
  }

  insert(r: StoredCallback): void {
    this.write('acd.callback.insert', () =>
      this.insertStmt.run(r.id, r.callId, r.groupId, r.numberSealed, r.requestedAt, r.state, r.updatedAt),
    );
  }

  get(id: string): StoredCallback | undefined {
    const row = this.getStmt.get(id);
    return row === undefined ? undefined : fromRow(row);
  }

  /** Oldest first (the order to call back in). */
  list(state: CallbackState | undefined, limit: number): StoredCallback[] {
    const rows = state === undefined ? this.listAll.all(limit) : this.listState.all(state, limit);
    return rows.map(fromRow);
  }

  /** Move `id` from `from` to `to`; false when it is not in `from` (or unknown). */
  move(id: string, from: CallbackState, to: CallbackState, at: number): boolean {
    return this.write('acd.callback.state', () => this.moveStmt.run(to, at, id, from).changes > 0);
  }

  count(state: CallbackState): number {
    return this.countStmt.get(state)?.n ?? 0;
  }
}

/** User parts that say the caller withheld or has no number (RFC 3323 and what trunks send). */
const NO_NUMBER_USERS = new Set(['anonymous', 'unknown', 'restricted', 'unavailable', 'private', 'withheld']);

/**
 * The URI to call a caller back on, from their From header (`"Ann" <sip:+4930123@trunk>;tag=x`):
 * scheme, user, host and port (and `;user=phone`), without display name, tag or other parameters.
 * null when there is no usable number: unparsable, no user part, anonymous or withheld.
 */
export function callbackUri(fromHeader: string): string | null {
  const addr = parseNameAddr(fromHeader);
  if (addr === undefined) return null;
  const uri = addr.uri;
  const user = uri.user?.trim() ?? '';
  if (user === '' || NO_NUMBER_USERS.has(user.toLowerCase()) || uri.host.toLowerCase() === 'anonymous.invalid') return null;
  if (uri.scheme === 'tel') return `tel:${user}`;
  const port = uri.port === undefined ? '' : `:${uri.port}`;
  const userPhone = uri.params.get('user') === 'phone' ? ';user=phone' : '';
  return `${uri.scheme}:${user}@${uri.host}${port}${userPhone}`;
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

  /** Keep a caller's request to be called back on `numberUri` for `groupId`. Throws EVX_ERR_STORE_WRITE when the store fails. */
  request(callId: string, groupId: string, numberUri: string): CallbackEntry {
    if (numberUri.trim() === '') throw evxError('EVX_ERR_BAD_REQUEST', 'a callback needs a number', { details: { field: 'number' } });
    const id = (this.deps.newId ?? randomUUID)();
    const at = this.deps.now();
    const stored: StoredCallback = {
      id,
      callId,
      groupId,
      numberSealed: this.deps.box.seal(sealName(id), numberUri),
      requestedAt: at,
      state: 'pending',
      updatedAt: at,
    };
    this.deps.repo.insert(stored);
    const entry = this.view(this.deps.repo.get(id) ?? stored);
    this.deps.bus.publish({ type: 'callback.requested', at, id, callId: entry.callId, groupId });
    return entry;
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
    return this.deps.repo.count('pending');
  }

  /** The caller's URI in clear, for placing the callback; undefined for an unknown id. Throws EVX_ERR_SECRET when it does not open. */
  open(id: string): string | undefined {
    const r = this.deps.repo.get(id);
    return r === undefined ? undefined : this.deps.box.open(sealName(id), r.numberSealed);
  }

  private view(r: StoredCallback): CallbackEntry {
    let number = MASK;
    try {
      number = maskNumber(this.deps.box.open(sealName(r.id), r.numberSealed));
    } catch {
      // a sealed value that no longer opens (the store key was replaced) is listed fully masked
    }
    return { id: r.id, callId: r.callId, groupId: r.groupId, number, requestedAt: r.requestedAt, state: r.state, updatedAt: r.updatedAt };
  }
}

const sealName = (id: string): string => `callback:${id}`;
