/**
 * One customer across calls, chats and e-mail cases (migration 22). A customer owns verified salted
 * identifier hashes (phone: as calls.caller_hash; e-mail and customer id: CallerHasher.hashIdentifier).
 * Calls join through the phone hashes (the number came from the network); chats and e-mail cases join
 * only through `customer_conversations`, written by a site's signed identity token or an agent. The
 * hashes a visitor typed stay on the conversation as claims and link nothing. Merges and attaches
 * record exactly what they moved, so an unmerge moves exactly that back.
 */
import { randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { evxError } from '../errors.js';
import type { Writer } from '../store/repos/writer.js';
import { parseJson } from '../store/repos/writer.js';

export type IdentifierKind = 'phone' | 'email' | 'customerId';
export type IdentifierSource = 'network' | 'token' | 'agent';

export interface Identifier {
  readonly kind: IdentifierKind;
  readonly hash: string;
}

export interface MergeRecord {
  readonly id: number;
  readonly kind: 'merge' | 'attach';
  readonly fromCustomer: string | null;
  readonly intoCustomer: string;
  readonly moved: { identifiers: Identifier[]; conversations: string[] };
  readonly agent: string;
  readonly at: number;
  readonly undoneAt: number | null;
}

interface MergeRow {
  id: number;
  kind: 'merge' | 'attach';
  from_customer: string | null;
  into_customer: string;
  moved_json: string;
  agent: string;
  at: number;
  undone_at: number | null;
}

const notFound = (resource: string) => evxError('EVX_ERR_CUSTOMER_NOT_FOUND', `no such ${resource}`, { details: { resource } });
const conflict = (why: string) => evxError('EVX_ERR_CUSTOMER_MERGE', why);

export class CustomerRepo {
  constructor(
    private readonly db: Database,
    private readonly write: Writer,
  ) {}

  exists(id: string): boolean {
    return this.db.prepare(`SELECT 1 FROM customers WHERE id = ?`).get(id) !== undefined;
  }

  /** The customer owning a verified identifier, if any. */
  byIdentifier(kind: IdentifierKind, hash: string): string | undefined {
    const r = this.db.prepare(`SELECT customer_id FROM customer_identifiers WHERE kind = ? AND hash = ?`).get(kind, hash) as
      { customer_id: string } | undefined;
    return r?.customer_id;
  }

  identifiers(customerId: string): Identifier[] {
    return this.db
      .prepare(`SELECT kind, hash FROM customer_identifiers WHERE customer_id = ? ORDER BY kind, hash`)
      .all(customerId) as Identifier[];
  }

  /** The customer of a caller hash (a network-verified number), created on first sight. */
  ensureForPhone(phoneHash: string, at: number): string {
    return this.write('customers.phone', () =>
      this.db.transaction(() => {
        const found = this.byIdentifier('phone', phoneHash);
        if (found !== undefined) return found;
        const id = randomUUID();
        this.db.prepare(`INSERT INTO customers (id, created_at) VALUES (?, ?)`).run(id, at);
        this.db
          .prepare(`INSERT INTO customer_identifiers (kind, hash, customer_id, source, at) VALUES ('phone', ?, ?, 'network', ?)`)
          .run(phoneHash, id, at);
        return id;
      })(),
    );
  }

  /**
   * Links a conversation through a site-verified identity: the customer of its customer id, else of
   * its phone, else of its e-mail, else a new one; the token's identifiers no other customer owns are
   * added to it (one customer's identifier is never taken from another by a token).
   */
  linkVerified(conversationId: string, ids: readonly Identifier[], at: number): string {
    return this.write('customers.link', () =>
      this.db.transaction(() => {
        const order: IdentifierKind[] = ['customerId', 'phone', 'email'];
        let customer: string | undefined;
        for (const kind of order) {
          const id = ids.find((x) => x.kind === kind);
          customer ??= id === undefined ? undefined : this.byIdentifier(id.kind, id.hash);
        }
        if (customer === undefined) {
          customer = randomUUID();
          this.db.prepare(`INSERT INTO customers (id, created_at) VALUES (?, ?)`).run(customer, at);
        }
        const add = this.db.prepare(
          `INSERT INTO customer_identifiers (kind, hash, customer_id, source, at) VALUES (?, ?, ?, 'token', ?) ON CONFLICT (kind, hash) DO NOTHING`,
        );
        for (const x of ids) add.run(x.kind, x.hash, customer, at);
        this.db
          .prepare(
            `INSERT INTO customer_conversations (conversation_id, customer_id, source, at) VALUES (?, ?, 'token', ?)
             ON CONFLICT (conversation_id) DO UPDATE SET customer_id = excluded.customer_id, source = 'token', at = excluded.at`,
          )
          .run(conversationId, customer, at);
        return customer;
      })(),
    );
  }

  customerOfConversation(conversationId: string): string | undefined {
    const r = this.db.prepare(`SELECT customer_id FROM customer_conversations WHERE conversation_id = ?`).get(conversationId) as
      { customer_id: string } | undefined;
    return r?.customer_id;
  }

  /** An agent merges customer `from` into `into`: all of from's identifiers and conversations move. */
  merge(fromId: string, intoId: string, agent: string, at: number): MergeRecord {
    if (fromId === intoId) throw conflict('a customer cannot be merged into itself');
    if (!this.exists(fromId)) throw notFound('customer');
    if (!this.exists(intoId)) throw notFound('customer');
    const id = this.write('customers.merge', () =>
      this.db.transaction(() => {
        const identifiers = this.identifiers(fromId);
        const conversations = (
          this.db.prepare(`SELECT conversation_id FROM customer_conversations WHERE customer_id = ?`).all(fromId) as {
            conversation_id: string;
          }[]
        ).map((r) => r.conversation_id);
        if (identifiers.length === 0 && conversations.length === 0) throw conflict('the customer has nothing left to merge');
        this.db.prepare(`UPDATE customer_identifiers SET customer_id = ? WHERE customer_id = ?`).run(intoId, fromId);
        this.db.prepare(`UPDATE customer_conversations SET customer_id = ? WHERE customer_id = ?`).run(intoId, fromId);
        return this.insertMerge('merge', fromId, intoId, { identifiers, conversations }, agent, at);
      })(),
    );
    return this.mergeRecord(id)!;
  }

  /** An agent attaches a chat or e-mail case to a customer (e.g. the caller's on the line). */
  attach(conversationId: string, intoId: string, agent: string, at: number): MergeRecord {
    if (!this.exists(intoId)) throw notFound('customer');
    if (this.db.prepare(`SELECT 1 FROM conversations WHERE id = ?`).get(conversationId) === undefined) throw notFound('conversation');
    const before = this.customerOfConversation(conversationId);
    if (before === intoId) throw conflict('the conversation is already on this customer');
    const id = this.write('customers.attach', () =>
      this.db.transaction(() => {
        this.db
          .prepare(
            `INSERT INTO customer_conversations (conversation_id, customer_id, source, at) VALUES (?, ?, 'agent', ?)
             ON CONFLICT (conversation_id) DO UPDATE SET customer_id = excluded.customer_id, source = 'agent', at = excluded.at`,
          )
          .run(conversationId, intoId, at);
        return this.insertMerge('attach', before ?? null, intoId, { identifiers: [], conversations: [conversationId] }, agent, at);
      })(),
    );
    return this.mergeRecord(id)!;
  }

  /** Undo exactly one merge or attach; refused when a later merge moved any of its items on. */
  unmerge(mergeId: number, agent: string, at: number): MergeRecord {
    const m = this.mergeRecord(mergeId);
    if (m === undefined) throw notFound('merge');
    if (m.undoneAt !== null) throw conflict('the merge was already undone');
    this.write('customers.unmerge', () =>
      this.db.transaction(() => {
        const owner = this.db.prepare(`SELECT customer_id FROM customer_identifiers WHERE kind = ? AND hash = ?`);
        const convOwner = this.db.prepare(`SELECT customer_id FROM customer_conversations WHERE conversation_id = ?`);
        const stillThere =
          m.moved.identifiers.every(
            (x) => (owner.get(x.kind, x.hash) as { customer_id: string } | undefined)?.customer_id === m.intoCustomer,
          ) &&
          m.moved.conversations.every((c) => (convOwner.get(c) as { customer_id: string } | undefined)?.customer_id === m.intoCustomer);
        if (!stillThere) throw conflict('a later merge moved items of this merge; undo that one first');
        if (m.kind === 'merge') {
          const moveId = this.db.prepare(`UPDATE customer_identifiers SET customer_id = ? WHERE kind = ? AND hash = ?`);
          for (const x of m.moved.identifiers) moveId.run(m.fromCustomer, x.kind, x.hash);
          const moveConv = this.db.prepare(`UPDATE customer_conversations SET customer_id = ? WHERE conversation_id = ?`);
          for (const c of m.moved.conversations) moveConv.run(m.fromCustomer, c);
        } else if (m.fromCustomer === null) {
          this.db.prepare(`DELETE FROM customer_conversations WHERE conversation_id = ?`).run(m.moved.conversations[0]);
        } else {
          this.db
            .prepare(`UPDATE customer_conversations SET customer_id = ? WHERE conversation_id = ?`)
            .run(m.fromCustomer, m.moved.conversations[0]);
        }
        this.db.prepare(`UPDATE customer_merges SET undone_at = ?, undone_by = ? WHERE id = ?`).run(at, agent, mergeId);
      })(),
    );
    return this.mergeRecord(mergeId)!;
  }

  /**
   * Retention (privacy.retention.profilesHours, the retention sweep): deletes the customers with
   * nothing of theirs left on the box (no call from one of their numbers, no linked chat or e-mail
   * case: those go by their own retention first) and nothing new since `cutoffMs` (created, an
   * identifier added, a merge, attach or unmerge, a caller profile's last call), with their
   * identifiers and the merge records they are in. Returns how many customers went.
   */
  purgeIdle(cutoffMs: number): number {
    const hasProfiles =
      this.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'caller_profiles'`).get() !== undefined;
    const idle = this.db.prepare(
      `SELECT c.id FROM customers c
        WHERE c.created_at < @cutoff
          AND NOT EXISTS (SELECT 1 FROM customer_identifiers i WHERE i.customer_id = c.id AND i.at >= @cutoff)
          AND NOT EXISTS (SELECT 1 FROM customer_conversations cc WHERE cc.customer_id = c.id)
          AND c.id NOT IN (SELECT into_customer FROM customer_merges WHERE MAX(at, COALESCE(undone_at, 0)) >= @cutoff
                           UNION SELECT from_customer FROM customer_merges
                            WHERE from_customer IS NOT NULL AND MAX(at, COALESCE(undone_at, 0)) >= @cutoff)
          AND NOT EXISTS (SELECT 1 FROM customer_identifiers i
                           WHERE i.customer_id = c.id AND i.kind = 'phone'
                             AND i.hash IN (SELECT caller_hash FROM calls WHERE caller_hash IS NOT NULL))
          ${
            hasProfiles
              ? `AND NOT EXISTS (SELECT 1 FROM customer_identifiers i JOIN caller_profiles p ON p.caller_hash = i.hash
                                  WHERE i.customer_id = c.id AND i.kind = 'phone' AND p.last_call_at >= @cutoff)`
              : ''
          }`,
    );
    const dropIdentifiers = this.db.prepare(`DELETE FROM customer_identifiers WHERE customer_id = ?`);
    const dropMerges = this.db.prepare(`DELETE FROM customer_merges WHERE into_customer = ? OR from_customer = ?`);
    const dropCustomer = this.db.prepare(`DELETE FROM customers WHERE id = ?`);
    return this.write('retention.customers', () =>
      this.db.transaction(() => {
        const ids = (idle.all({ cutoff: cutoffMs }) as { id: string }[]).map((r) => r.id);
        for (const id of ids) {
          dropIdentifiers.run(id);
          dropMerges.run(id, id);
          dropCustomer.run(id);
        }
        return ids.length;
      })(),
    );
  }

  mergeRecord(id: number): MergeRecord | undefined {
    const r = this.db.prepare(`SELECT * FROM customer_merges WHERE id = ?`).get(id) as MergeRow | undefined;
    if (r === undefined) return undefined;
    return {
      id: r.id,
      kind: r.kind,
      fromCustomer: r.from_customer,
      intoCustomer: r.into_customer,
      moved: parseJson(r.moved_json, { identifiers: [], conversations: [] }),
      agent: r.agent,
      at: r.at,
      undoneAt: r.undone_at,
    };
  }

  private insertMerge(
    kind: 'merge' | 'attach',
    from: string | null,
    into: string,
    moved: MergeRecord['moved'],
    agent: string,
    at: number,
  ): number {
    return Number(
      this.db
        .prepare(`INSERT INTO customer_merges (kind, from_customer, into_customer, moved_json, agent, at) VALUES (?, ?, ?, ?, ?, ?)`)
        .run(kind, from, into, JSON.stringify(moved), agent, at).lastInsertRowid,
    );
  }
}
