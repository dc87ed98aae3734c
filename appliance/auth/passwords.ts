/**
 * Password hashing with scrypt (node:crypto). The stored form carries its own parameters,
 * `scrypt$N$r$p$salt$hash` (base64url), so they can be raised later without breaking old hashes.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const N = 1 << 15;
const R = 8;
const P = 1;
const KEY_BYTES = 32;
/** scrypt needs 128 * N * r bytes; give it headroom over the 32 MiB default. */
const MAX_MEM_BYTES = 64 * 1024 * 1024;

/** The shortest password the console accepts. */
export const MIN_PASSWORD_LENGTH = 10;

function scryptAsync(password: string, salt: Buffer, keyLen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, keyLen, options, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, KEY_BYTES, { N, r: R, p: P, maxmem: MAX_MEM_BYTES });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/**
 * Whether scrypt parameters are ones this box will run: N a power of two, r and p small, and the
 * memory scrypt needs (as OpenSSL counts it) within MAX_MEM_BYTES. Hashes and backup headers can
 * come from elsewhere (a restored backup): parameters past these would make scrypt throw, or
 * occupy the thread pool for minutes per attempt.
 */
export function scryptParamsOk(N: number, r: number, p: number): boolean {
  if (![N, r, p].every((x) => Number.isSafeInteger(x) && x > 0)) return false;
  if (N < 2 || (N & (N - 1)) !== 0 || r > 32 || p > 4) return false;
  return 128 * r * (N + 2) + 128 * r * p <= MAX_MEM_BYTES;
}

interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

function parseHash(stored: string): ParsedHash | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (!scryptParamsOk(N, r, p)) return null;
  const salt = Buffer.from(parts[4] ?? '', 'base64url');
  const key = Buffer.from(parts[5] ?? '', 'base64url');
  if (salt.length === 0 || salt.length > 64 || key.length < 16 || key.length > 64) return null;
  return { N, r, p, salt, key };
}

/** True for a stored hash that verifyPassword can check (`scrypt$N$r$p$salt$hash`, parameters in bounds). */
export function isPasswordHash(stored: unknown): stored is string {
  return typeof stored === 'string' && stored.length <= 500 && parseHash(stored) !== null;
}

/** Constant-time check of a password against a stored hash; false for malformed hashes. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const h = parseHash(stored);
  if (h === null) return false;
  const key = await scryptAsync(password, h.salt, h.key.length, { N: h.N, r: h.r, p: h.p, maxmem: MAX_MEM_BYTES });
  return timingSafeEqual(key, h.key);
}

/** A problem with a new password, or null when it is acceptable. */
export function passwordProblem(password: string, username: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `password must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > 200) return 'password must be at most 200 characters';
  if (password.toLowerCase().includes(username.toLowerCase())) return 'password must not contain the username';
  return null;
}
