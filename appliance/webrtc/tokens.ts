/**
 * Signalling credentials.
 *
 * Caller tokens: short-lived, signed with HMAC-SHA256 under a secret only the appliance knows, and
 * bound to one call id. Format `v1.<base64url(JSON claims)>.<base64url(mac)>`; claims carry no PII.
 * Agent tokens: opaque to this module; a pluggable verifier (the lead's auth) turns them into a
 * principal.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { evxError } from '../errors.js';

export type ParticipantRole = 'caller' | 'agent' | 'supervisor';

export interface AgentPrincipal {
  /** Stable agent id for audit (never a name). */
  readonly subject: string;
  readonly role: 'agent' | 'supervisor';
}

/** Returns the principal for a valid agent token, undefined for an invalid one. */
export type AgentTokenVerifier = (token: string) => AgentPrincipal | undefined | Promise<AgentPrincipal | undefined>;

export interface CallerTokenClaims {
  readonly callId: string;
  readonly expiresAtMs: number;
}

export const MIN_SECRET_BYTES = 32;
const MAX_TOKEN_CHARS = 2048;
const CALL_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

function secretBytes(secret: string | Uint8Array): Buffer {
  const b = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  if (b.length < MIN_SECRET_BYTES) {
    throw evxError('EVX_ERR_CONFIG_INVALID', `The caller-token secret must be at least ${MIN_SECRET_BYTES} bytes`, { details: { key: 'webrtc.callerTokenSecret' } });
  }
  return b;
}

function mac(secret: Buffer, body: string): Buffer {
  return createHmac('sha256', secret).update(`edgevox-webrtc-caller.${body}`).digest();
}

export function isValidCallId(callId: string): boolean {
  return CALL_ID_PATTERN.test(callId);
}

/** Mints a caller token for one call, valid for `ttlMs` (default 5 minutes). */
export function mintCallerToken(secret: string | Uint8Array, callId: string, options: { ttlMs?: number; nowMs?: number } = {}): string {
  if (!isValidCallId(callId)) throw evxError('EVX_ERR_BAD_REQUEST', 'A call id is 1-128 characters of [A-Za-z0-9_-]');
  const ttlMs = options.ttlMs ?? 300_000;
  if (!Number.isInteger(ttlMs) || ttlMs <= 0 || ttlMs > 86_400_000) throw evxError('EVX_ERR_BAD_REQUEST', 'Caller token TTL must be 1 ms .. 24 h');
  const claims = { c: callId, e: (options.nowMs ?? Date.now()) + ttlMs, n: randomBytes(8).toString('base64url') };
  const body = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
  return `v1.${body}.${mac(secretBytes(secret), body).toString('base64url')}`;
}

/** Verifies signature and expiry; throws EVX_ERR_WEBRTC_AUTH (without saying which check failed). */
export function verifyCallerToken(secret: string | Uint8Array, token: string, nowMs = Date.now()): CallerTokenClaims {
  const key = secretBytes(secret);
  const fail = (reason: string) => evxError('EVX_ERR_WEBRTC_AUTH', 'Invalid or expired caller token', { details: { reason } });
  if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS) throw fail('shape');
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== 'v1') throw fail('shape');
  const body = parts[1]!;
  const given = Buffer.from(parts[2]!, 'base64url');
  const expected = mac(key, body);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw fail('signature');
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw fail('shape');
  }
  const c = claims as { c?: unknown; e?: unknown };
  if (typeof c.c !== 'string' || !isValidCallId(c.c) || typeof c.e !== 'number') throw fail('shape');
  if (nowMs >= c.e) throw fail('expired');
  return { callId: c.c, expiresAtMs: c.e };
}
