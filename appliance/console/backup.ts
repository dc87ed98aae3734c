/**
 * Encrypted configuration backups: configuration, console accounts (password hashes), the TLS pair
 * and the caller-hash salt (so hashes stay comparable on a replacement box). Call history and
 * transcripts are not included. The file is `EVXBAK1\n` + 4-byte header length + JSON header (kdf
 * parameters, salt, iv; authenticated as AAD) + AES-256-GCM ciphertext + 16-byte tag; the key comes
 * from the passphrase through scrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
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
    if (h.kdf !== 'scrypt' || ![h.N, h.r, h.p].every((x) => Number.isInteger(x) && x > 0 && x <= 1 << 20)) throw new Error('kdf');
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
  const payload = JSON.parse(text) as BackupPayload;
  if (payload.format !== 'edgevox-backup' || payload.version !== 1)
    throw evxError('EVX_ERR_BACKUP_INVALID', 'unknown backup format version');
  return payload;
}
