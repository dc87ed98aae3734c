/**
 * Signalling credentials.
 *
 * Caller tokens: short-lived, signed with HMAC-SHA256 under a secret only the appliance knows, and
 * bound to one call id. Format `v1.<base64url(JSON claims)>.<base64url(mac)>`; claims carry no PII.
 * Agent tokens: the signalling takes a pluggable verifier. The appliance's own agent tokens are
 * minted here too (`a1.` prefix, same HMAC construction under a different label, carrying the agent
 * id and role) by a console-authenticated route, so the softphone needs no console session.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { evxError } from '../errors.js';

export type ParticipantRole = 'caller' | 'agent' | 'supervisor';

export interface AgentPrincipal {
  /** Stable agent id for audit (never a name). */
  readonly subject: string;
  readonly role: 'agent' | 'supervisor';
  /** When the token stops being valid (a softphone's presence socket closes then). */
  readonly expiresAtMs?: number;
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
    throw evxError('EVX_ERR_CONFIG_INVALID', `The caller-token secret must be at least ${MIN_SECRET_BYTES} bytes`, {
      details: { key: 'webrtc.callerTokenSecret' },
    });
  }
  return b;
}

/**
 * Decode a signature only if `text` is its one canonical base64url spelling. Node's decoder skips
 * characters outside the alphabet and padding, so without this check `sig`, `sig=` and `s!ig`
 * would all be the same valid token.
 */
function canonicalBase64url(text: string): Buffer | null {
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : null;
}

function mac(secret: Buffer, body: string, label = 'edgevox-webrtc-caller'): Buffer {
  return createHmac('sha256', secret).update(`${label}.${body}`).digest();
}

export function isValidCallId(callId: string): boolean {
  return CALL_ID_PATTERN.test(callId);
}

/** Mints a caller token for one call, valid for `ttlMs` (default 5 minutes). */
export function mintCallerToken(secret: string | Uint8Array, callId: string, options: { ttlMs?: number; nowMs?: number } = {}): string {
  if (!isValidCallId(callId)) throw evxError('EVX_ERR_BAD_REQUEST', 'A call id is 1-128 characters of [A-Za-z0-9_-]');
  const ttlMs = options.ttlMs ?? 300_000;
  if (!Number.isInteger(ttlMs) || ttlMs <= 0 || ttlMs > 86_400_000)
    throw evxError('EVX_ERR_BAD_REQUEST', 'Caller token TTL must be 1 ms .. 24 h');
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
  const given = canonicalBase64url(parts[2]!);
  const expected = mac(key, body);
  if (given === null || given.length !== expected.length || !timingSafeEqual(given, expected)) throw fail('signature');
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

const AGENT_LABEL = 'edgevox-webrtc-agent';
const SUBJECT_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Mints an agent/supervisor token for `subject` (an agent id, never a name), valid `ttlMs` (default 12 h). */
export function mintAgentToken(
  secret: string | Uint8Array,
  principal: AgentPrincipal,
  options: { ttlMs?: number; nowMs?: number } = {},
): string {
  if (!SUBJECT_PATTERN.test(principal.subject))
    throw evxError('EVX_ERR_BAD_REQUEST', 'An agent id is 1-128 characters of [A-Za-z0-9_.:-]', { details: { field: 'agentId' } });
  if (principal.role !== 'agent' && principal.role !== 'supervisor')
    throw evxError('EVX_ERR_BAD_REQUEST', 'role is agent or supervisor', { details: { field: 'role' } });
  const ttlMs = options.ttlMs ?? 12 * 3_600_000;
  if (!Number.isInteger(ttlMs) || ttlMs <= 0 || ttlMs > 86_400_000)
    throw evxError('EVX_ERR_BAD_REQUEST', 'Agent token TTL must be 1 ms .. 24 h', { details: { field: 'ttlMs' } });
  const claims = {
    s: principal.subject,
    r: principal.role,
    e: (options.nowMs ?? Date.now()) + ttlMs,
    n: randomBytes(8).toString('base64url'),
  };
  const body = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
  return `a1.${body}.${mac(secretBytes(secret), body, AGENT_LABEL).toString('base64url')}`;
}

/** Verifies an `a1.` agent token: the principal, or undefined when invalid/expired (no reason given). */
export function verifyAgentToken(
  secret: string | Uint8Array,
  token: string,
  nowMs = Date.now(),
): (AgentPrincipal & { expiresAtMs: number }) | undefined {
  const key = secretBytes(secret);
  if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== 'a1') return undefined;
  const body = parts[1]!;
  const given = canonicalBase64url(parts[2]!);
  const expected = mac(key, body, AGENT_LABEL);
  if (given === null || given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  let claims: { s?: unknown; r?: unknown; e?: unknown };
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as typeof claims;
  } catch {
    return undefined;
  }
  if (
    typeof claims.s !== 'string' ||
    !SUBJECT_PATTERN.test(claims.s) ||
    (claims.r !== 'agent' && claims.r !== 'supervisor') ||
    typeof claims.e !== 'number'
  )
    return undefined;
  if (nowMs >= claims.e) return undefined;
  return { subject: claims.s, role: claims.r, expiresAtMs: claims.e };
}
