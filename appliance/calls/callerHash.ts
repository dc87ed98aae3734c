/**
 * Caller numbers are stored only as salted hashes: HMAC-SHA256 with a per-site secret salt kept in
 * the data dir (created at first start, mode 0600). The same number maps to the same hash on this
 * box (so profiles and repeat-caller detection work) but cannot be reversed or joined across sites.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** User parts that say the caller withheld the number or has none (RFC 3323 and what trunks send). */
const NO_NUMBER_USERS = new Set(['anonymous', 'unknown', 'restricted', 'unavailable', 'private', 'withheld']);

/**
 * Whether a caller identity (a number, a URI or a From header value) names nobody: an anonymous or
 * withheld user, the anonymous.invalid host, or a SIP URI without a user part. Such calls get no
 * caller hash: hashed, every one of them would be the same caller.
 */
export function withheldCaller(callerNumber: string): boolean {
  const { scheme, address } = callerAddress(callerNumber);
  const rest = address.split(';')[0]!;
  const at = rest.lastIndexOf('@');
  // a sip: URI without an @ is a host alone: no user
  const user = at >= 0 ? rest.slice(0, at) : scheme === 'sip' || scheme === 'sips' ? '' : rest;
  const host =
    at >= 0
      ? rest
          .slice(at + 1)
          .split(':')[0]!
          .toLowerCase()
      : '';
  return user.replace(/[^0-9a-z+]/gi, '') === '' || NO_NUMBER_USERS.has(user.toLowerCase()) || host === 'anonymous.invalid';
}

/**
 * The address of a caller identity (a number, a URI or a From header value: its angled URI, the
 * display name and tag never count) without its scheme: `user@host;params`, or the number itself.
 */
function callerAddress(callerNumber: string): { scheme: string | undefined; address: string } {
  const uri = (/<([^>]*)>/.exec(callerNumber)?.[1] ?? callerNumber).trim();
  const scheme = /^(sips?|tel):/i.exec(uri)?.[1]?.toLowerCase();
  return { scheme, address: uri.slice(scheme === undefined ? 0 : scheme.length + 1) };
}

export class CallerHasher {
  private constructor(private readonly salt: Buffer) {}

  static fromDataDir(dataDir: string): CallerHasher {
    const dir = join(dataDir, 'secrets');
    const path = join(dir, 'caller-salt');
    if (!existsSync(path)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(path, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
    }
    return new CallerHasher(Buffer.from(readFileSync(path, 'utf8').trim(), 'hex'));
  }

  /**
   * Hash a caller identity: an E.164 number, a SIP user, a sip:/tel: URI or a From header value (its
   * URI's user part: the display name and tag never count, so a call's hash matches the same number
   * given by a chat's identity token or a callback); digits-only normalisation first.
   */
  hash(callerNumber: string): string {
    const normalised = callerAddress(callerNumber)
      .address.split(/[@;]/)[0]!
      .replace(/[^0-9a-z+]/gi, '')
      .toLowerCase();
    return createHmac('sha256', this.salt).update(normalised).digest('hex').slice(0, 32);
  }

  /**
   * Hash another identifier a customer gave (chat, e-mail): the kind is part of the hashed input, so
   * a customer id never equals an e-mail's hash; case and surrounding/inner runs of space are folded.
   * Phone numbers go through `hash` so a chat's phone matches the calls from that number.
   */
  hashIdentifier(kind: 'name' | 'customer' | 'email', value: string): string {
    const normalised = value.trim().replace(/\s+/g, ' ').toLowerCase();
    return createHmac('sha256', this.salt).update(`${kind}:${normalised}`).digest('hex').slice(0, 32);
  }
}
