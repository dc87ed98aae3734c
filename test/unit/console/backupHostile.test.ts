/**
 * A backup file is hostile input until proven otherwise: a header whose key derivation would eat
 * the box's CPU or memory, or a payload (authentic under its passphrase, but made by anyone who
 * chose that passphrase) whose accounts or sections are malformed, is refused as a whole with
 * EVX_ERR_BACKUP_INVALID before anything of it is applied; and a stored password hash whose scrypt
 * parameters are out of bounds never verifies instead of failing or running for minutes.
 */
import { createCipheriv, randomBytes, scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../../appliance/auth/passwords.js';
import { backupHeader, decryptBackup, encryptBackup, type BackupPayload } from '../../../appliance/console/backup.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';

const PASS = 'a long passphrase';
const MAGIC = Buffer.from('EVXBAK1\n', 'ascii');

/** A backup file written by hand: any header fields, any payload (encrypted with N=2^10 to stay fast). */
function craft(header: Record<string, unknown>, payload: unknown, kdf = { N: 1 << 10, r: 8, p: 1 }): Buffer {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const headerBytes = Buffer.from(
    JSON.stringify({
      kdf: 'scrypt',
      ...kdf,
      salt: salt.toString('base64'),
      iv: iv.toString('base64'),
      createdAt: 1,
      siteId: 'x',
      ...header,
    }),
  );
  const cipher = createCipheriv('aes-256-gcm', scryptSync(PASS, salt, 32, { ...kdf, maxmem: 64 * 1024 * 1024 }), iv);
  cipher.setAAD(headerBytes);
  const body = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(headerBytes.length);
  return Buffer.concat([MAGIC, len, headerBytes, body, cipher.getAuthTag()]);
}

const good = (): BackupPayload => ({
  format: 'edgevox-backup',
  version: 1,
  createdAt: 1,
  appVersion: '0',
  siteId: 'leeds-01',
  config: { site: { name: 'Leeds' } },
  users: [],
  tls: null,
  callerSalt: null,
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'accepted',
    (e: unknown) => (isEdgeVoxError(e) ? e.code : `raw: ${String(e)}`),
  );
}

describe('backup header', () => {
  it('refuses key-derivation parameters beyond what a backup is written with', () => {
    // p = 4096 would cost thousands of times a normal derivation on the thread pool
    for (const kdf of [
      { N: 1 << 15, r: 8, p: 1 << 12 },
      { N: 1 << 20, r: 1, p: 1 },
      { N: 1 << 10, r: 1 << 10, p: 1 },
    ]) {
      const file = craft(kdf, good(), { N: 1 << 10, r: 8, p: 1 });
      expect(() => backupHeader(file), JSON.stringify(kdf)).toThrow(expect.objectContaining({ code: 'EVX_ERR_BACKUP_INVALID' }));
    }
  });

  it('refuses a cost that is not a power of two as an invalid backup, not an internal error', async () => {
    expect(await codeOf(decryptBackup(craft({ N: 1000 }, good()), PASS))).toBe('EVX_ERR_BACKUP_INVALID');
  });
});

describe('backup payload', () => {
  it('accepts what the box writes', async () => {
    const payload = {
      ...good(),
      users: [{ username: 'admin', role: 'technician', passwordHash: await hashPassword('x'.repeat(12)), createdAt: 5 }],
    };
    expect(await decryptBackup(await encryptBackup(payload, PASS), PASS)).toEqual(payload);
  });

  it('refuses malformed sections as a whole', async () => {
    const hash = 'scrypt$1024$8$1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U';
    const user = { username: 'admin', role: 'technician', passwordHash: hash, createdAt: 1 };
    const hostile: Record<string, unknown>[] = [
      { users: 'everyone' },
      { users: [null] },
      { users: [{ ...user, username: '../../etc' }] },
      { users: [{ ...user, username: '' }] },
      { users: [{ ...user, passwordHash: 42 }] },
      // a hash whose parameters would make every sign-in as that name fail with 500 or run for minutes
      { users: [{ ...user, passwordHash: 'scrypt$1048576$8$1$c2FsdA$a2V5' }] },
      { users: [{ ...user, passwordHash: 'scrypt$16384$8$4096$c2FsdA$a2V5' }] },
      { config: 'not an object' },
      { config: null },
      { tls: { cert: 1, key: 2 } },
      { callerSalt: 7 },
      { siteId: { not: 'a string' } },
      { createdAt: 'yesterday' },
    ];
    for (const change of hostile) {
      const code = await codeOf(decryptBackup(craft({}, { ...good(), ...change }), PASS));
      expect(code, JSON.stringify(change)).toBe('EVX_ERR_BACKUP_INVALID');
    }
  });
});

describe('stored password hashes', () => {
  it('never verify when their parameters are out of bounds (no error, no minutes of CPU)', async () => {
    const salt = 'c2FsdHNhbHRzYWx0c2FsdA';
    const key = 'a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U';
    for (const params of ['1048576$8$1', '1000$8$1', '16384$8$4096', '1024$100000$1'])
      await expect(verifyPassword('whatever', `scrypt$${params}$${salt}$${key}`), params).resolves.toBe(false);
  });
});
