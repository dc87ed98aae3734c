/**
 * Encrypted configuration backups: configuration, console accounts (password hashes), the TLS pair
 * and the caller-hash salt (so hashes stay comparable on a replacement box). Call history and
 * transcripts are not included. The file is `EVXBAK1\n` + 4-byte header length + JSON header (kdf
 * parameters, salt, iv; authenticated as AAD) + AES-256-GCM ciphertext + 16-byte tag; the key comes
 * from the passphrase through scrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import { isUsername } from '../auth/authService.js';
import { isPasswordHash, scryptParamsOk } from '../auth/passwords.js';
import { evxError } from '../errors.js';

const MAGIC = Buffer.from('EVXBAK1\n', 'ascii');
const KDF = { N: 1 << 15, r: 8, p: 1 };
export const MIN_PASSPHRASE_LENGTH = 12;

export interface BackupPayload {
  format: 'edgevox-backup';
  version: 1;
  createdAt: number;
  appVersion: string;
  siteId: string;
  config: Record<string, unknown>;
  users: { username: string; role: string; passwordHash: string; createdAt: number }[];
  tls: { cert: string; key: string } | null;
  callerSalt: string | null;
}

interface Header {
  kdf: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
  iv: string;
  createdAt: number;
  siteId: string;
}

/** scrypt on the libuv thread pool: ~0.2 s of CPU that must not stall the event loop (and the media path). */
function deriveKey(passphrase: string, salt: Buffer, h: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(passphrase, salt, 32, { N: h.N, r: h.r, p: h.p, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function encryptBackup(payload: BackupPayload, passphrase: string): Promise<Buffer> {
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
    throw evxError('EVX_ERR_BAD_REQUEST', `the backup passphrase must be at least ${MIN_PASSPHRASE_LENGTH} characters`, {
      details: { field: 'passphrase' },
    });
  }
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const header: Header = {
    kdf: 'scrypt',
    ...KDF,
    salt: salt.toString('base64'),
    iv: iv.toString('base64'),
    createdAt: payload.createdAt,
    siteId: payload.siteId,
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const cipher = createCipheriv('aes-256-gcm', await deriveKey(passphrase, salt, KDF), iv);
  cipher.setAAD(headerBytes);
  const body = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(headerBytes.length);
  return Buffer.concat([MAGIC, len, headerBytes, body, cipher.getAuthTag()]);
}

/** Read the unencrypted header (site, date) without the passphrase. */
export function backupHeader(file: Buffer): Header {
  if (file.length < MAGIC.length + 4 + 16 || !file.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw evxError('EVX_ERR_BACKUP_INVALID', 'this is not an EdgeVox backup file');
  }
  const len = file.readUInt32BE(MAGIC.length);
  if (len > 4096 || MAGIC.length + 4 + len + 16 > file.length) throw evxError('EVX_ERR_BACKUP_INVALID', 'the backup file is truncated');
  try {
    const h = JSON.parse(file.subarray(MAGIC.length + 4, MAGIC.length + 4 + len).toString('utf8')) as Header;
    // Bounded before anything is derived: the header is only authenticated after the key exists.
    if (h.kdf !== 'scrypt' || !scryptParamsOk(h.N, h.r, h.p)) throw new Error('kdf');
    if (typeof h.salt !== 'string' || typeof h.iv !== 'string') throw new Error('salt');
    return h;
  } catch (err) {
    throw evxError('EVX_ERR_BACKUP_INVALID', 'the backup header is malformed', { cause: err });
  }
}

export async function decryptBackup(file: Buffer, passphrase: string): Promise<BackupPayload> {
  const header = backupHeader(file);
  const len = file.readUInt32BE(MAGIC.length);
  const headerBytes = file.subarray(MAGIC.length + 4, MAGIC.length + 4 + len);
  const body = file.subarray(MAGIC.length + 4 + len, file.length - 16);
  const tag = file.subarray(file.length - 16);
  const key = await deriveKey(passphrase, Buffer.from(header.salt, 'base64'), header);
  let text: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(header.iv, 'base64'));
    decipher.setAAD(headerBytes);
    decipher.setAuthTag(tag);
    text = Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch (err) {
    throw evxError('EVX_ERR_BACKUP_INVALID', 'wrong passphrase, or the backup file was altered', { cause: err });
  }
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (err) {
    throw evxError('EVX_ERR_BACKUP_INVALID', 'the backup contents are not readable', { cause: err });
  }
  return checkPayload(payload);
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const MAX_USERS = 1000;

/**
 * The decrypted payload, checked as a whole before the caller applies any of it: the passphrase only
 * proves who made the file, not that it is well formed, and a restore that failed half way would
 * leave the box with another box's configuration and its own accounts.
 */
function checkPayload(x: unknown): BackupPayload {
  const invalid = (what: string) => evxError('EVX_ERR_BACKUP_INVALID', `the backup is malformed: ${what}`, { details: { field: what } });
  if (!isObject(x)) throw invalid('payload');
  if (x['format'] !== 'edgevox-backup' || x['version'] !== 1) throw evxError('EVX_ERR_BACKUP_INVALID', 'unknown backup format version');
  if (typeof x['createdAt'] !== 'number' || !Number.isFinite(x['createdAt'])) throw invalid('createdAt');
  if (typeof x['siteId'] !== 'string' || x['siteId'].length > 200) throw invalid('siteId');
  if (typeof x['appVersion'] !== 'string') throw invalid('appVersion');
  if (!isObject(x['config'])) throw invalid('config');
  const users = x['users'];
  if (!Array.isArray(users) || users.length > MAX_USERS) throw invalid('users');
  for (const u of users as unknown[]) {
    if (!isObject(u) || !isUsername(u['username']) || typeof u['role'] !== 'string') throw invalid('users');
    if (!isPasswordHash(u['passwordHash'])) throw invalid('users');
    if (typeof u['createdAt'] !== 'number' || !Number.isFinite(u['createdAt'])) throw invalid('users');
  }
  const tls = x['tls'];
  if (tls !== null && !(isObject(tls) && typeof tls['cert'] === 'string' && typeof tls['key'] === 'string')) throw invalid('tls');
  if (x['callerSalt'] !== null && typeof x['callerSalt'] !== 'string') throw invalid('callerSalt');
  return x as unknown as BackupPayload;
}
