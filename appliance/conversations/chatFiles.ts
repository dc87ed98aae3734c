/**
 * Files visitors send in a chat (chat.uploads, off unless enabled): what a file must be to be kept
 * (an allowed type whose first bytes say the same, within the size limit, a cleaned name) and its
 * SQLite rows (migration 25). A file is personal data like the chat itself: it stays on the box, is
 * served only to the visitor's own chat and the agent holding it (chatFileRoutes.ts), and is deleted
 * with its conversation or by privacy.retention.chatFilesHours. Its content is not redacted.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import { evxError } from '../errors.js';
import type { Writer } from '../store/repos/writer.js';

export const CHAT_FILE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf'] as const;
export type ChatFileType = (typeof CHAT_FILE_TYPES)[number];

/** How each type starts (its signature); a file that does not start like its declared type is refused. */
const SIGNATURES: Record<ChatFileType, (b: Buffer) => boolean> = {
  'image/png': (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/jpeg': (b) => b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  'image/gif': (b) => ['GIF87a', 'GIF89a'].includes(b.subarray(0, 6).toString('latin1')),
  'image/webp': (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
  'application/pdf': (b) => b.subarray(0, 5).toString('latin1') === '%PDF-',
};

/** The file's type: `declared` (a Content-Type, parameters ignored) when allowed and the bytes start like it. */
export function checkFileType(declared: string | undefined, bytes: Buffer, allowed: readonly string[]): ChatFileType {
  const type = (declared ?? '').split(';')[0]!.trim().toLowerCase();
  const known = (CHAT_FILE_TYPES as readonly string[]).includes(type) ? (type as ChatFileType) : null;
  if (known === null || !allowed.includes(known))
    throw evxError('EVX_ERR_CHAT_FILE_TYPE', `files of type '${type.slice(0, 100)}' are not accepted here`, {
      details: { accepted: [...allowed] },
    });
  if (!SIGNATURES[known](bytes)) throw evxError('EVX_ERR_CHAT_FILE_TYPE', `the file does not start like a ${known} file`);
  return known;
}

/** A message that shows a file (its text is the file's name, not something the customer wrote). */
export function isFileMessage(m: { readonly meta: Readonly<Record<string, unknown>> }): boolean {
  return m.meta['file'] !== undefined;
}

/** The extensions a saved file of each type may end with (the first is added when it ends otherwise). */
const EXTENSIONS: Record<ChatFileType, readonly string[]> = {
  'image/png': ['png'],
  'image/jpeg': ['jpg', 'jpeg'],
  'image/gif': ['gif'],
  'image/webp': ['webp'],
  'application/pdf': ['pdf'],
};

/**
 * `name` ending with an extension of the file's checked type: whoever saves the file opens it as
 * what it was checked to be, never as what its sender named it ("invoice.html" that starts like a
 * PDF is kept as "invoice.html.pdf").
 */
export function withTypeExtension(name: string, type: ChatFileType): string {
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
  return EXTENSIONS[type].includes(ext) ? name : `${name}.${EXTENSIONS[type][0]!}`;
}

/** The longest file name kept (characters). */
const MAX_NAME_CHARS = 120;

/**
 * A file name safe to store and show: percent-decoding of what the page sent (a malformed one is
 * taken as it is), no directory part, no control or bidi-override characters, underscores as
 * spaces (so redaction sees "card_4111..." as words), at most 120 characters; an empty result
 * becomes `file`.
 */
export function cleanFileName(raw: string | undefined): string {
  let name = raw ?? '';
  try {
    name = decodeURIComponent(name);
  } catch {
    // not percent-encoded: used as sent
  }
  name = name.normalize('NFC');
  name = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
  // eslint-disable-next-line no-control-regex
  name = name.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '').trim();
  name = name.replace(/_/g, ' ').replace(/^\.+/, '').trim();
  return [...name].slice(0, MAX_NAME_CHARS).join('') || 'file';
}

export interface ChatFile {
  readonly id: string;
  readonly conversationId: string;
  readonly name: string;
  readonly type: ChatFileType;
  readonly bytes: number;
  readonly sha256: string;
  readonly createdAt: number;
}

interface FileRow {
  id: string;
  conversation_id: string;
  name: string;
  type: ChatFileType;
  bytes: number;
  sha256: string;
  created_at: number;
}

const fromRow = (r: FileRow): ChatFile => ({
  id: r.id,
  conversationId: r.conversation_id,
  name: r.name,
  type: r.type,
  bytes: r.bytes,
  sha256: r.sha256,
  createdAt: r.created_at,
});

export class ChatFileRepo {
  private readonly getStmt: Statement<[string], FileRow>;
  private readonly dataStmt: Statement<[string], { data: Buffer }>;
  private readonly insertStmt: Statement;
  private readonly deleteStmt: Statement;
  private readonly sinceStmt: Statement<[string, number], { n: number }>;

  constructor(
    db: Database,
    private readonly write: Writer,
  ) {
    this.getStmt = db.prepare(`SELECT id, conversation_id, name, type, bytes, sha256, created_at FROM conversation_files WHERE id = ?`);
    this.dataStmt = db.prepare(`SELECT data FROM conversation_files WHERE id = ?`);
    this.insertStmt = db.prepare(
      `INSERT INTO conversation_files (id, conversation_id, name, type, bytes, sha256, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.deleteStmt = db.prepare(`DELETE FROM conversation_files WHERE id = ?`);
    this.sinceStmt = db.prepare(`SELECT COUNT(*) AS n FROM conversation_files WHERE conversation_id = ? AND created_at >= ?`);
  }

  add(f: { conversationId: string; name: string; type: ChatFileType; data: Buffer; at: number }): ChatFile {
    const file: ChatFile = {
      id: randomBytes(16).toString('base64url'),
      conversationId: f.conversationId,
      name: f.name,
      type: f.type,
      bytes: f.data.length,
      sha256: createHash('sha256').update(f.data).digest('hex'),
      createdAt: f.at,
    };
    this.write('conversationFiles.add', () =>
      this.insertStmt.run(file.id, file.conversationId, file.name, file.type, file.bytes, file.sha256, f.data, file.createdAt),
    );
    return file;
  }

  get(id: string): ChatFile | undefined {
    const row = this.getStmt.get(id);
    return row === undefined ? undefined : fromRow(row);
  }

  data(id: string): Buffer | undefined {
    return this.dataStmt.get(id)?.data;
  }

  delete(id: string): void {
    this.write('conversationFiles.delete', () => this.deleteStmt.run(id));
  }

  /** Files the conversation sent since `at` (the hourly limit). */
  countSince(conversationId: string, at: number): number {
    return this.sinceStmt.get(conversationId, at)?.n ?? 0;
  }
}
