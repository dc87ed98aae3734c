/**
 * SQLite rows that make e-mail conversations cases (migration 21): which case a Message-ID belongs to
 * — only its SHA-256 is stored, so the ids (which often name the sender's host) never sit in the
 * file — and where a reply goes: the customer's address and the ids a reply threads under, sealed
 * with the store key (privacy/secrets.ts) under the conversation's id, so the database file alone
 * holds no address.
 */
import { createHash } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { SecretBox } from '../privacy/secrets.js';
import type { Writer } from '../store/repos/writer.js';

/** Most ids kept in a reply's References (RFC 5322 allows trimming the middle of a long chain). */
const MAX_REFERENCES = 20;

/** Where and how a reply to a case is sent. */
export interface ReplyTarget {
  /** The customer's address. */
  readonly to: string;
  /** The last Message-ID the customer sent (a reply's In-Reply-To). */
  readonly inReplyTo: string | null;
  /** The thread's ids, oldest first (a reply's References). */
  readonly references: readonly string[];
}

export interface EmailCaseRow {
  readonly conversationId: string;
  /** The box's own address the customer wrote to. */
  readonly mailbox: string;
}

/** The opaque form of a Message-ID that is stored. */
export function messageIdHash(id: string): string {
  return createHash('sha256').update(id.trim().toLowerCase(), 'utf8').digest('hex');
}

/** A thread's References after a message: the earlier ones, then its own id, trimmed from the front. */
export function nextReferences(earlier: readonly string[], id: string | null): string[] {
  const all = id === null ? [...earlier] : [...earlier.filter((r) => r !== id), id];
  return all.length > MAX_REFERENCES ? [all[0]!, ...all.slice(all.length - MAX_REFERENCES + 1)] : all;
}

export class EmailThreads {
  constructor(
    private readonly db: Database,
    private readonly write: Writer,
    private readonly box: SecretBox,
  ) {}

  /** The case one of these Message-IDs belongs to (newest first when they disagree), if any. */
  caseOf(ids: readonly string[]): string | undefined {
    if (ids.length === 0) return undefined;
    const hashes = ids.map(messageIdHash);
    const row = this.db
      .prepare(
        `SELECT conversation_id FROM email_threads WHERE message_hash IN (${hashes.map(() => '?').join(',')}) ORDER BY at DESC LIMIT 1`,
      )
      .get(...hashes) as { conversation_id: string } | undefined;
    return row?.conversation_id;
  }

  /** Remember that these Message-IDs belong to the case (a known id keeps its first case). */
  remember(conversationId: string, ids: readonly string[], at: number): void {
    if (ids.length === 0) return;
    this.write('email.threads', () => {
      const insert = this.db.prepare(`INSERT OR IGNORE INTO email_threads (message_hash, conversation_id, at) VALUES (?, ?, ?)`);
      this.db.transaction(() => {
        for (const id of ids) insert.run(messageIdHash(id), conversationId, at);
      })();
    });
  }

  /** Store (sealed) where a reply to the case goes. */
  setReplyTarget(conversationId: string, mailbox: string, target: ReplyTarget, at: number): void {
    const sealed = this.box.seal(sealName(conversationId), JSON.stringify(target));
    this.write('email.cases', () =>
      this.db
        .prepare(
          `INSERT INTO email_cases (conversation_id, mailbox, reply_sealed, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (conversation_id) DO UPDATE SET reply_sealed = excluded.reply_sealed, updated_at = excluded.updated_at`,
        )
        .run(conversationId, mailbox, sealed, at),
    );
  }

  /** Where a reply to the case goes, opened; undefined for a conversation that is no e-mail case. */
  replyTarget(conversationId: string): (ReplyTarget & { mailbox: string }) | undefined {
    const row = this.db.prepare(`SELECT mailbox, reply_sealed FROM email_cases WHERE conversation_id = ?`).get(conversationId) as
      { mailbox: string; reply_sealed: string } | undefined;
    if (row === undefined) return undefined;
    const t = JSON.parse(this.box.open(sealName(conversationId), row.reply_sealed)) as ReplyTarget;
    return { to: t.to, inReplyTo: t.inReplyTo, references: t.references, mailbox: row.mailbox };
  }

  /** E-mail cases, newest activity first. */
  cases(opts: { open: boolean; limit: number }): EmailCaseRow[] {
    return (
      this.db
        .prepare(
          `SELECT e.conversation_id AS conversationId, e.mailbox AS mailbox FROM email_cases e JOIN conversations c ON c.id = e.conversation_id
           WHERE (? = 0 OR c.state != 'closed') ORDER BY c.updated_at DESC LIMIT ?`,
        )
        .all(opts.open ? 1 : 0, opts.limit) as EmailCaseRow[]
    ).map((r) => ({ conversationId: r.conversationId, mailbox: r.mailbox }));
  }
}

function sealName(conversationId: string): string {
  return `email-case:${conversationId}`;
}
