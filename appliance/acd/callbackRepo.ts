/**
 * Callback requests and callback offers in SQLite (migrations 9, 10 and 27): the rows acd/callbacks.ts
 * keeps and acd/callbackDialer.ts works through. Every state change is a guarded UPDATE (`WHERE
 * state = ?`), so two paths racing on one request (a supervisor cancelling while the dialler takes
 * it) cannot both win, and a request is never lost nor dialled twice.
 *
 *   pending ──(an agent answered for it)──▶ dialing ──(customer answered)──▶ done
 *      ▲  │                                    │
 *      │  └─(supervisor)──▶ cancelled          ├─(not answered, attempts left)──▶ pending (later)
 *      └──────(box restarted mid-dial)─────────┴─(not answered, last attempt / refused)──▶ failed
 */
import type { Database, Statement } from 'better-sqlite3';
import type { Writer } from '../store/repos/writer.js';

export const CALLBACK_STATES = ['pending', 'dialing', 'cancelled', 'done', 'failed'] as const;
export type CallbackState = (typeof CALLBACK_STATES)[number];

/** A request as stored: the number sealed. */
export interface StoredCallback {
  readonly id: string;
  /** null once the call record was deleted (retention), or when there was none. */
  readonly callId: string | null;
  readonly groupId: string;
  readonly numberSealed: string;
  readonly requestedAt: number;
  /** Its place in the queue: when the caller first queued. */
  readonly queuedAt: number;
  readonly state: CallbackState;
  /** Calls to the customer that were not answered. */
  readonly attempts: number;
  /** Not offered to an agent before this. */
  readonly nextAttemptAt: number;
  /** The call record of the attempt being dialled (state dialing). */
  readonly attemptCallId: string | null;
  /** Why the last attempt failed, or why the request was closed. */
  readonly reason: string | null;
  readonly updatedAt: number;
}

/** How a caller answered a callback offer: 1 or yes, another key or no, nothing in time, or hung up first. */
export type CallbackOfferAnswer = 'accepted' | 'declined' | 'none' | 'hung-up';

/** Callback figures over a time range (rows changed, or offers started, within it). */
export interface CallbackCounts {
  readonly offered: number;
  readonly accepted: number;
  /** Offers the caller hung up on before answering (answer 'hung-up'). */
  readonly hungUp: number;
  /** Offers the caller stayed through without answering in time (answer 'none'). */
  readonly noAnswer: number;
  readonly completed: number;
  readonly failed: number;
  readonly cancelled: number;
}

interface Row {
  id: string;
  call_id: string | null;
  group_id: string;
  number_sealed: string;
  requested_at: number;
  queued_at: number;
  state: CallbackState;
  attempts: number;
  next_attempt_at: number;
  attempt_call_id: string | null;
  reason: string | null;
  updated_at: number;
}

const fromRow = (r: Row): StoredCallback => ({
  id: r.id,
  callId: r.call_id,
  groupId: r.group_id,
  numberSealed: r.number_sealed,
  requestedAt: r.requested_at,
  queuedAt: r.queued_at,
  state: r.state,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  attemptCallId: r.attempt_call_id,
  reason: r.reason,
  updatedAt: r.updated_at,
});

const COLS = `id, call_id, group_id, number_sealed, requested_at, queued_at, state, attempts, next_attempt_at, attempt_call_id, reason, updated_at`;

export class CallbackRepo {
  private readonly insertStmt: Statement;
  private readonly getStmt: Statement<[string], Row>;
  private readonly listAll: Statement<[number], Row>;
  private readonly listState: Statement<[string, number], Row>;
  private readonly dueStmt: Statement<[number, number], Row>;
  private readonly dueByGroupStmt: Statement<[number, number], Row>;
  private readonly moveStmt: Statement;
  private readonly dialStmt: Statement;
  private readonly retryStmt: Statement;
  private readonly failStmt: Statement;
  private readonly countStmt: Statement<[string], { n: number }>;
  private readonly offerStmt: Statement;
  private readonly answerStmt: Statement;
  private readonly offeredCount: Statement<[number, number], { offered: number; accepted: number; hungUp: number; noAnswer: number }>;
  private readonly closedCount: Statement<[number, number], { state: CallbackState; n: number }>;

  constructor(
    db: Database,
    private readonly write: Writer,
  ) {
    // the call id only when the call record exists: a request is never lost to a missing record
    this.insertStmt = db.prepare(
      `INSERT INTO callback_requests (${COLS})
       VALUES (?, (SELECT id FROM calls WHERE id = ?), ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?)`,
    );
    this.getStmt = db.prepare(`SELECT ${COLS} FROM callback_requests WHERE id = ?`);
    this.listAll = db.prepare(`SELECT ${COLS} FROM callback_requests ORDER BY requested_at, id LIMIT ?`);
    this.listState = db.prepare(`SELECT ${COLS} FROM callback_requests WHERE state = ? ORDER BY requested_at, id LIMIT ?`);
    this.dueStmt = db.prepare(
      `SELECT ${COLS} FROM callback_requests WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY queued_at, id LIMIT ?`,
    );
    // the first `limit` of each group, so one group's backlog never hides another group's requests
    this.dueByGroupStmt = db.prepare(
      `SELECT ${COLS} FROM (
         SELECT ${COLS}, ROW_NUMBER() OVER (PARTITION BY group_id ORDER BY queued_at, id) AS n
         FROM callback_requests WHERE state = 'pending' AND next_attempt_at <= ?
       ) WHERE n <= ? ORDER BY queued_at, id`,
    );
    this.moveStmt = db.prepare(`UPDATE callback_requests SET state = ?, reason = ?, updated_at = ? WHERE id = ? AND state = ?`);
    this.dialStmt = db.prepare(
      `UPDATE callback_requests SET state = 'dialing', attempt_call_id = ?, updated_at = ? WHERE id = ? AND state = 'pending'`,
    );
    this.retryStmt = db.prepare(
      `UPDATE callback_requests SET state = 'pending', attempts = ?, next_attempt_at = ?, attempt_call_id = NULL, reason = ?, updated_at = ?
       WHERE id = ? AND state = 'dialing'`,
    );
    this.failStmt = db.prepare(
      `UPDATE callback_requests SET state = 'failed', attempts = ?, attempt_call_id = NULL, reason = ?, updated_at = ?
       WHERE id = ? AND state = 'dialing'`,
    );
    this.countStmt = db.prepare(`SELECT COUNT(*) AS n FROM callback_requests WHERE state = ?`);
    this.offerStmt = db.prepare(`INSERT INTO callback_offers (call_id, group_id, at) VALUES ((SELECT id FROM calls WHERE id = ?), ?, ?)`);
    this.answerStmt = db.prepare(`UPDATE callback_offers SET answer = ? WHERE id = ? AND answer IS NULL`);
    this.offeredCount = db.prepare(
      `SELECT COUNT(*) AS offered, COALESCE(SUM(answer = 'accepted'), 0) AS accepted,
              COALESCE(SUM(answer = 'hung-up'), 0) AS hungUp, COALESCE(SUM(answer = 'none'), 0) AS noAnswer
         FROM callback_offers WHERE at >= ? AND at < ?`,
    );
    this.closedCount = db.prepare(
      `SELECT state, COUNT(*) AS n FROM callback_requests
       WHERE state IN ('done', 'failed', 'cancelled') AND updated_at >= ? AND updated_at < ? GROUP BY state`,
    );
  }

  insert(r: Pick<StoredCallback, 'id' | 'callId' | 'groupId' | 'numberSealed' | 'requestedAt' | 'queuedAt'>): void {
    this.write('acd.callback.insert', () =>
      this.insertStmt.run(r.id, r.callId, r.groupId, r.numberSealed, r.requestedAt, r.queuedAt, 'pending', 0, r.requestedAt, r.requestedAt),
    );
  }

  get(id: string): StoredCallback | undefined {
    const row = this.getStmt.get(id);
    return row === undefined ? undefined : fromRow(row);
  }

  /** Oldest request first. */
  list(state: CallbackState | undefined, limit: number): StoredCallback[] {
    const rows = state === undefined ? this.listAll.all(limit) : this.listState.all(state, limit);
    return rows.map(fromRow);
  }

  /** Pending requests whose retry time has come, by their place in the queue. */
  due(now: number, limit: number): StoredCallback[] {
    return this.dueStmt.all(now, limit).map(fromRow);
  }

  /** Pending requests whose retry time has come, at most `limitPerGroup` of each group, by their place in the queue. */
  dueByGroup(now: number, limitPerGroup: number): StoredCallback[] {
    return this.dueByGroupStmt.all(now, limitPerGroup).map(fromRow);
  }

  /** Move `id` from `from` to `to` (with a reason); false when it is not in `from` (or unknown). */
  move(id: string, from: CallbackState, to: CallbackState, at: number, reason: string | null = null): boolean {
    return this.write('acd.callback.state', () => this.moveStmt.run(to, reason, at, id, from).changes > 0);
  }

  /** pending → dialing for the attempt whose call record is `attemptCallId`; false when it is no longer pending. */
  dialing(id: string, attemptCallId: string, at: number): boolean {
    return this.write('acd.callback.state', () => this.dialStmt.run(attemptCallId, at, id).changes > 0);
  }

  /** dialing → pending again, not before `nextAttemptAt`, with `attempts` failed so far. */
  retry(id: string, attempts: number, nextAttemptAt: number, reason: string | null, at: number): boolean {
    return this.write('acd.callback.state', () => this.retryStmt.run(attempts, nextAttemptAt, reason, at, id).changes > 0);
  }

  /** dialing → failed after its last attempt (`attempts` in all). */
  failed(id: string, attempts: number, reason: string, at: number): boolean {
    return this.write('acd.callback.state', () => this.failStmt.run(attempts, reason, at, id).changes > 0);
  }

  count(state: CallbackState): number {
    return this.countStmt.get(state)?.n ?? 0;
  }

  /** A callback offer started on `callId`; its row id, for `answered`. */
  offered(callId: string, groupId: string, at: number): number {
    return this.write('acd.callback.offer', () => Number(this.offerStmt.run(callId, groupId, at).lastInsertRowid));
  }

  offerAnswered(offerId: number, answer: CallbackOfferAnswer): void {
    this.write('acd.callback.offer', () => this.answerStmt.run(answer, offerId));
  }

  /** Offers started, accepted, hung up on and let pass unanswered, and requests closed (completed, failed, cancelled) in [from, to). */
  counts(from: number, to: number): CallbackCounts {
    const o = this.offeredCount.get(from, to) ?? { offered: 0, accepted: 0, hungUp: 0, noAnswer: 0 };
    const closed = new Map(this.closedCount.all(from, to).map((r) => [r.state, r.n]));
    return {
      offered: o.offered,
      accepted: o.accepted,
      hungUp: o.hungUp,
      noAnswer: o.noAnswer,
      completed: closed.get('done') ?? 0,
      failed: closed.get('failed') ?? 0,
      cancelled: closed.get('cancelled') ?? 0,
    };
  }
}
