/**
 * Payload signatures for upstream sync. HMAC-SHA256 with a key derived (HKDF) from the site's
 * enrollment key, or Ed25519 with the site's own key pair (private key in the data dir, 0600).
 * Header: `X-EdgeVox-Signature: hmac-sha256=<hex>` or `ed25519=<base64>`, over the exact body bytes.
 */
import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  hkdfSync,
  sign,
  timingSafeEqual,
  verify,
  type KeyObject,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evxError } from '../errors.js';

export const SIGNATURE_HEADER = 'x-edgevox-signature';

export interface Signer {
  readonly scheme: 'hmac-sha256' | 'ed25519';
  /** The header value for `body`. */
  sign(body: Buffer): string;
}

/** The HMAC key both ends derive from the enrollment key (the key itself never goes on the wire). */
export function hmacKeyFromEnrollment(enrollmentKey: string): Buffer {
  if (enrollmentKey.length < 16) throw evxError('EVX_ERR_SYNC_KEY', 'the enrollment key must be at least 16 characters');
  return Buffer.from(
    hkdfSync('sha256', Buffer.from(enrollmentKey, 'utf8'), Buffer.from('edgevox-sync'), Buffer.from('hmac-sha256-v1'), 32),
  );
}

export function hmacSigner(enrollmentKey: string): Signer {
  const key = hmacKeyFromEnrollment(enrollmentKey);
  return { scheme: 'hmac-sha256', sign: (body) => `hmac-sha256=${createHmac('sha256', key).update(body).digest('hex')}` };
}

/** The site's Ed25519 key pair from `<dataDir>/secrets/sync-ed25519.pem`, created on first use. */
export function ed25519Signer(dataDir: string): Signer & { publicKeyPem: string } {
  const dir = join(dataDir, 'secrets');
  const path = join(dir, 'sync-ed25519.pem');
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    try {
      writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const privateKey = createPrivateKey(readFileSync(path));
  const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  return { scheme: 'ed25519', publicKeyPem, sign: (body) => `ed25519=${sign(null, body, privateKey).toString('base64')}` };
}

/** What a receiver knows about a site: its enrollment key (HMAC) or its Ed25519 public key. */
export type SiteKey = { enrollmentKey: string } | { ed25519PublicKey: string };

export interface Verifier {
  verify(body: Buffer, header: string | undefined): boolean;
}

export function verifierFor(key: SiteKey): Verifier {
  if ('enrollmentKey' in key) {
    const hmacKey = hmacKeyFromEnrollment(key.enrollmentKey);
    return {
      verify(body, header) {
        const m = /^hmac-sha256=([0-9a-f]{64})$/.exec(header ?? '');
        if (m === null) return false;
        const expected = createHmac('sha256', hmacKey).update(body).digest();
        return timingSafeEqual(expected, Buffer.from(m[1]!, 'hex'));
      },
    };
  }
  let pub: KeyObject;
  try {
    pub = createPublicKey(key.ed25519PublicKey);
  } catch (err) {
    throw evxError('EVX_ERR_SYNC_KEY', 'invalid Ed25519 public key', { cause: err });
  }
  return {
    verify(body, header) {
      const m = /^ed25519=([A-Za-z0-9+/=]+)$/.exec(header ?? '');
      return m !== null && verify(null, body, pub, Buffer.from(m[1]!, 'base64'));
    },
  };
}
