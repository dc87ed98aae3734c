/**
 * Callback requests this box holds for its partner (migration 20, docs/cluster.md "Callbacks when a
 * box dies"): the partner mirrors each pending request to it (callbackMirror.ts); they are kept
 * sealed with this box's own key, held, never due, until either
 *
 *   held ──(the partner closed it: done, failed, cancelled)──▶ closed
 *   held ──(the partner is dead: adopt)──▶ adopted   (and a pending row in callback_requests, same id)
 *   held ──(the partner came back and asked: reconcile)──▶ returned ──(mirrored again)──▶ held
 *
 * Adoption and reconciliation are single transactions on this box's store, so a request is either
 * adopted before the partner's reconciliation (the partner closes it) or returned to it (this box can
 * no longer adopt it): never both, so each request is placed once.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { Writer } from '../store/repos/writer.js';

/** A request as the partner mirrors it (the number in clear, only in transit over the peer API). */
export interface MirroredCallback {
  readonly id: string;
  readonly groupId: string;
  readonly numberSealed: string;
  readonly requestedAt: number;
  readonly queuedAt: number;
}

export class HeldCallbacks {
  private readonly holdStmt: Statement;
  private readonly closeStmt: Statement;
  private readonly heldOf: Statement<
    [string],
    { id: string; group_id: string; number_sealed: string; requested_at: number; queued_at: number }
  >;
  private readonly adoptedOf: Statement<[string], { id: string }>;
  private readonly markStmt: Statement;
  private readonly returnStmt: Statement;
  private readonly insertRequest: Statement;
  private readonly homesStmt: Statement<[], { home: string; n: number }>;

  constructor(
    private readonly db: Database,
    private readonly write: Writer,
  ) {
    // a returned request is held again when mirrored again; an adopted or closed one never goes back
    this.holdStmt = db.prepare(
      `INSERT INTO callback_held (id, home, group_id, number_sealed, requested_at, queued_at, state, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 'held', ?)
       ON CONFLICT (id) DO UPDATE SET state = 'held', number_sealed = excluded.number_sealed, updated_at = excluded.updated_at
       WHERE callback_held.state = 'returned' AND callback_held.home = excluded.home`,
    );
    this.closeStmt = db.prepare(
      `UPDATE callback_held SET state = 'closed', updated_at = ? WHERE id = ? AND home = ? AND state IN ('held', 'returned')`,
    );
    this.heldOf = db.prepare(
      `SELECT id, group_id, number_sealed, requested_at, queued_at FROM callback_held WHERE home = ? AND state = 'held' ORDER BY queued_at, id`,
    );
    this.adoptedOf = db.prepare(`SELECT id FROM callback_held WHERE home = ? AND state = 'adopted' ORDER BY id`);
    this.markStmt = db.prepare(`UPDATE callback_held SET state = 'adopted', updated_at = ? WHERE id = ? AND state = 'held'`);
    this.returnStmt = db.prepare(`UPDATE callback_held SET state = 'returned', updated_at = ? WHERE home = ? AND state = 'held'`);
    // same id as on the home box; same seal name (callback:<id>), already sealed with this box's key
    this.insertRequest = db.prepare(
      `INSERT INTO callback_requests (id, call_id, group_id, number_sealed, requested_at, queued_at, state, attempts, next_attempt_at, updated_at)
       VALUES (?, NULL, ?, ?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT (id) DO NOTHING`,
    );
    this.homesStmt = db.prepare(`SELECT home, COUNT(*) AS n FROM callback_held WHERE state = 'held' GROUP BY home`);
  }

  /** Hold `r` for `home`; false when it was already held, adopted or closed (a repeated message). */
  hold(home: string, r: MirroredCallback, at: number): boolean {
    return this.write(
      'cluster.held.hold',
      () => this.holdStmt.run(r.id, home, r.groupId, r.numberSealed, r.requestedAt, r.queuedAt, at).changes > 0,
    );
  }

  /** `home` closed `id`: nothing to adopt any more. */
  close(home: string, id: string, at: number): boolean {
    return this.write('cluster.held.close', () => this.closeStmt.run(at, id, home).changes > 0);
  }

  /** Partners with requests held, and how many. */
  homes(): Map<string, number> {
    return new Map(this.homesStmt.all().map((r) => [r.home, r.n]));
  }

  /** `home` is dead: its held requests become this box's pending requests, under the same ids. Their ids. */
  adopt(home: string, at: number): string[] {
    return this.write('cluster.held.adopt', () =>
      this.db.transaction(() => {
        const ids: string[] = [];
        for (const r of this.heldOf.all(home)) {
          if (this.markStmt.run(at, r.id).changes === 0) continue;
          this.insertRequest.run(r.id, r.group_id, r.number_sealed, r.requested_at, r.queued_at, at, at);
          ids.push(r.id);
        }
        return ids;
      })(),
    );
  }

  /** `home` came back: the ids this box adopted (it closes them), and the rest returned to it (this box no longer adopts them). */
  reconcile(home: string, at: number): string[] {
    return this.write('cluster.held.reconcile', () =>
      this.db.transaction(() => {
        this.returnStmt.run(at, home);
        return this.adoptedOf.all(home).map((r) => r.id);
      })(),
    );
  }
}
