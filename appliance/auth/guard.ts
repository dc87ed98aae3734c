/**
 * The one place `/api/*` is protected: a root onRequest hook that identifies the caller (session
 * cookie or `Authorization: Bearer` API token), enforces the route's role and, for cookie sessions,
 * the session-bound CSRF token on every state-changing method. Routes written elsewhere are covered
 * without knowing about it; a route can only *raise* the bar for reads or *lower* it for writes via
 * `config: { minRole }`, and the API tests enumerate every write route to prove the policy holds.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { evxError } from '../errors.js';
import {
  CSRF_COOKIE,
  CSRF_HEADER,
  SESSION_COOKIE,
  isRole,
  roleAtLeast,
  type AuthService,
  type Principal,
  type Role,
} from './authService.js';

/** Routes reachable without credentials: login and first-boot setup, and the OpenAPI document. */
export const PUBLIC_ROUTES: readonly string[] = [
  'GET /api/v1/openapi.json',
  'GET /api/v1/auth/session',
  'POST /api/v1/auth/login',
  'GET /api/v1/setup/status',
  'POST /api/v1/setup/admin',
  // WebRTC signalling authenticates callers and agents itself (signed caller/agent tokens in the
  // protocol, appliance/webrtc/tokens.ts): web callers are not console users.
  'GET /api/v1/webrtc/signal',
  'POST /api/v1/webrtc/caller-sessions',
  // The softphone's call queue: checks the agent token in its x-agent-token header (webrtc/service.ts).
  'GET /api/v1/webrtc/queue',
];

/** State-changing routes every signed-in role may use (they act on the caller's own session/account). */
export const SELF_SERVICE_ROUTES: readonly string[] = ['POST /api/v1/auth/logout', 'POST /api/v1/auth/password'];

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth guard for every authenticated /api request. */
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Least role a route needs (default: viewer for reads, technician for writes). */
    minRole?: Role;
  }
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (header === undefined) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    try {
      out.set(name, decodeURIComponent(value));
    } catch {
      // A malformed cookie is ignored, not an error: it may belong to another app on the host.
    }
  }
  return out;
}

/** Identify the caller from a bearer token or the session cookie. */
export function identify(request: FastifyRequest, auth: AuthService): Principal | null {
  const authz = request.headers.authorization;
  if (authz !== undefined) {
    const m = /^Bearer\s+(\S+)$/i.exec(authz);
    return m?.[1] !== undefined ? auth.authenticateToken(m[1]) : null;
  }
  const sessionId = parseCookies(request.headers.cookie).get(SESSION_COOKIE);
  return sessionId === undefined ? null : auth.authenticateSession(sessionId);
}

/** The role a route needs for this method. */
export function requiredRole(method: string, config: { minRole?: unknown } | undefined): Role {
  const declared = config?.minRole;
  if (isRole(declared)) return declared;
  return SAFE_METHODS.has(method) ? 'viewer' : 'technician';
}

export function installAuthGuard(app: FastifyInstance, auth: AuthService): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request: FastifyRequest, _reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? '';
    if (!path.startsWith('/api/')) return;
    const route = `${request.method} ${request.routeOptions.url ?? path}`;
    // Unknown /api paths fall through to the 404 handler only for callers who are signed in.
    const principal = identify(request, auth);
    request.principal = principal;
    if (PUBLIC_ROUTES.includes(route) || (request.method === 'HEAD' && PUBLIC_ROUTES.includes(`GET ${request.routeOptions.url ?? path}`)))
      return;
    if (principal === null) throw evxError('EVX_ERR_AUTH_REQUIRED', 'sign in, or send an API token as Authorization: Bearer <token>');
    const needed = requiredRole(request.method, request.routeOptions.config);
    if (!roleAtLeast(principal.role, needed)) {
      throw evxError('EVX_ERR_FORBIDDEN', `this needs the ${needed} role; you are signed in as ${principal.role}`, {
        details: { required: needed, role: principal.role },
      });
    }
    // Cookies ride along on cross-site WebSocket handshakes (SameSite does not cover every browser
    // path there), so an upgrade on a session must come from the console's own origin.
    if (principal.kind === 'session' && request.headers.upgrade?.toLowerCase() === 'websocket') {
      const origin = request.headers.origin;
      if (origin !== undefined && originHost(origin) !== request.headers.host)
        throw evxError('EVX_ERR_FORBIDDEN', 'WebSocket origin does not match the console');
    }
    if (!SAFE_METHODS.has(request.method) && principal.kind === 'session') {
      const sent = request.headers[CSRF_HEADER];
      const expected = principal.csrfToken ?? '';
      const ok =
        typeof sent === 'string' &&
        sent.length === expected.length &&
        expected.length > 0 &&
        timingSafeEqual(Buffer.from(sent), Buffer.from(expected));
      if (!ok)
        throw evxError(
          'EVX_ERR_CSRF',
          `missing or wrong ${CSRF_HEADER} header (read it from the ${CSRF_COOKIE} cookie or GET /api/v1/auth/session)`,
        );
    }
  });
}

function originHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}

/** Set-Cookie values for a new session: HttpOnly session id, readable CSRF token; Secure under TLS. */
export function sessionCookies(sessionId: string, csrfToken: string, maxAgeS: number, secure: boolean): string[] {
  const flags = `Path=/; SameSite=Strict; Max-Age=${maxAgeS}${secure ? '; Secure' : ''}`;
  return [`${SESSION_COOKIE}=${sessionId}; HttpOnly; ${flags}`, `${CSRF_COOKIE}=${csrfToken}; ${flags}`];
}

export function clearedCookies(secure: boolean): string[] {
  const flags = `Path=/; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
  return [`${SESSION_COOKIE}=; HttpOnly; ${flags}`, `${CSRF_COOKIE}=; ${flags}`];
}
