/**
 * A site's signed identity token: the site that embeds the chat knows who its signed-in visitor is
 * and says so with `base64url(JSON payload) "." base64url(HMAC-SHA256(secret, payload part))`,
 * payload `{ "cid": customer id, "phone"?, "email"?, "exp": unix seconds }`. Only such a token (or
 * an agent) links a chat to a customer; what a visitor types is a claim and links nothing.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CallerHasher } from '../calls/callerHash.js';
import { evxError } from '../errors.js';
import type { CustomerRepo, Identifier } from './customerRepo.js';

export interface SiteIdentity {
  readonly customerId: string;
  readonly phone?: string;
  readonly email?: string;
  /** Unix ms. */
  readonly expiresAtMs: number;
}

const MAX_TOKEN_CHARS = 2000;
const MIN_SECRET_CHARS = 32;

function mac(secret: string, payload: string): Buffer {
  return createHmac('sha256', secret).update(payload).digest();
}

/** A token for `identity` (what a site's backend does; here for tests and the docs' example). */
export function mintIdentityToken(secret: string, identity: SiteIdentity): string {
  const payload = Buffer.from(
    JSON.stringify({
      cid: identity.customerId,
      ...(identity.phone !== undefined ? { phone: identity.phone } : {}),
      ...(identity.email !== undefined ? { email: identity.email } : {}),
      exp: Math.floor(identity.expiresAtMs / 1000),
    }),
  ).toString('base64url');
  return `${payload}.${mac(secret, payload).toString('base64url')}`;
}

const refused = (why: string) => evxError('EVX_ERR_CUSTOMER_IDENTITY', `identity token refused: ${why}`);
const field = (v: unknown, max: number): string | undefined =>
  typeof v === 'string' && v.trim() !== '' && v.length <= max ? v : undefined;

/** The identity a token vouches for; throws EVX_ERR_CUSTOMER_IDENTITY when it is bad, forged or expired. */
export function verifyIdentityToken(secret: string, token: string, nowMs: number): SiteIdentity {
  if (secret.length < MIN_SECRET_CHARS) throw refused('no identity secret is configured');
  if (token.length > MAX_TOKEN_CHARS) throw refused('too long');
  const dot = token.indexOf('.');
  if (dot <= 0 || dot !== token.lastIndexOf('.')) throw refused('malformed');
  const payload = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  const expected = mac(secret, payload);
  // constant time: the lengths are compared first only because timingSafeEqual needs them equal
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw refused('bad signature');
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw refused('malformed');
  }
  if (typeof body !== 'object' || body === null) throw refused('malformed');
  const customerId = field(body['cid'], 200);
  const exp = body['exp'];
  if (customerId === undefined || typeof exp !== 'number' || !Number.isFinite(exp)) throw refused('malformed');
  if (exp * 1000 <= nowMs) throw refused('expired');
  const phone = field(body['phone'], 40);
  const email = field(body['email'], 320);
  return { customerId, ...(phone !== undefined ? { phone } : {}), ...(email !== undefined ? { email } : {}), expiresAtMs: exp * 1000 };
}

/**
 * The chat socket's check of a `start` frame's identity token: verifies it (throws when bad) and
 * returns what links the new conversation to the token's customer, through salted hashes only.
 */
export function identityLinker(deps: {
  secret: string;
  hasher: Pick<CallerHasher, 'hash' | 'hashIdentifier'>;
  repo: Pick<CustomerRepo, 'linkVerified'>;
  now?: () => number;
}): (token: string) => (conversationId: string) => void {
  const now = deps.now ?? Date.now;
  return (token) => {
    const id = verifyIdentityToken(deps.secret, token, now());
    const ids: Identifier[] = [{ kind: 'customerId', hash: deps.hasher.hashIdentifier('customer', id.customerId) }];
    if (id.phone !== undefined) ids.push({ kind: 'phone', hash: deps.hasher.hash(id.phone) });
    if (id.email !== undefined) ids.push({ kind: 'email', hash: deps.hasher.hashIdentifier('email', id.email) });
    return (conversationId) => void deps.repo.linkVerified(conversationId, ids, now());
  };
}
