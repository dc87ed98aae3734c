/**
 * Encryption at rest for secrets kept in the store (SIP trunk passwords, upstream keys).
 *
 * AES-256-GCM with a random 96-bit IV per value and the secret's name as associated data, so a sealed
 * value copied onto another name does not open. The 256-bit key lives in `<dataDir>/secrets/store-key`
 * (created at first start, mode 0600, directory 0700), never in the database: a copied database
 * file alone reveals nothing.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database, Statement } from 'better-sqlite3';
import { evxError } from '../errors.js';
import type { Writer } from '../store/repos/writer.js';

const PREFIX = 'evx1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /** Load (creating on first use) the store key from `<dataDir>/secrets/store-key`. */
  static fromDataDir(dataDir: string): SecretBox {
    const dir = join(dataDir, 'secrets');
    const path = join(dir, 'store-key');
    if (!existsSync(path)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      try {
        writeFileSync(path, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
      } catch (err) {
        // Another process created it first: use theirs.
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    // A key that others can read is no key: tighten it rather than keep running exposed.
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
    const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'hex');
    if (key.length !== 32) throw evxError('EVX_ERR_SECRET', `store key ${path} is not 32 bytes of hex`, { details: { path } });
    return new SecretBox(key);
  }

  static fromKey(key: Buffer): SecretBox {
    if (key.length !== 32) throw evxError('EVX_ERR_SECRET', 'store key must be 32 bytes');
    return new SecretBox(Buffer.from(key));
  }

  /** Encrypt `plaintext`, bound to `name` (associated data). */
  seal(name: string, plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(name, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  /** Decrypt a value sealed under `name`; a wrong key, name or any altered byte is an error. */
  open(name: string, sealed: string): string {
    if (!sealed.startsWith(PREFIX)) throw evxError('EVX_ERR_SECRET', 'sealed secret has an unknown format', { details: { name } });
    const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) throw evxError('EVX_ERR_SECRET', 'sealed secret is truncated', { details: { name } });
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(name, 'utf8'));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch (err) {
      throw evxError('EVX_ERR_SECRET', 'sealed secret does not open (wrong key, wrong name or tampered)', {
        cause: err,
        details: { name },
      });
    }
  }
}

/** Named secrets in the store, sealed with a SecretBox; plaintext exists only in the caller's memory. */
export class SecretsRepo {
  private readonly upsert: Statement;
  private readonly get: Statement<[string], { sealed: string }>;
  private readonly del: Statement;
  private readonly names: Statement<[], { name: string; updated_at: number }>;

  constructor(
    db: Database,
    private readonly write: Writer,
    private readonly box: SecretBox,
  ) {
    this.upsert = db.prepare(
      `INSERT INTO secrets (name, sealed, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at`,
    );
    this.get = db.prepare(`SELECT sealed FROM secrets WHERE name = ?`);
    this.del = db.prepare(`DELETE FROM secrets WHERE name = ?`);
    this.names = db.prepare(`SELECT name, updated_at FROM secrets ORDER BY name`);
  }

  put(name: string, value: string, at = Date.now()): void {
    const sealed = this.box.seal(name, value);
    this.write('secrets.put', () => this.upsert.run(name, sealed, at));
  }

  /** The plaintext, or undefined when no secret has that name. */
  read(name: string): string | undefined {
    const row = this.get.get(name);
    return row === undefined ? undefined : this.box.open(name, row.sealed);
  }

  delete(name: string): boolean {
    return this.write('secrets.delete', () => this.del.run(name).changes > 0);
  }

  /** Names and update times only. */
  list(): { name: string; updatedAt: number }[] {
    return this.names.all().map((r) => ({ name: r.name, updatedAt: r.updated_at }));
  }
}
