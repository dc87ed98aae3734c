/**
 * The one access decision for every HTTP route and WebSocket upgrade. It runs first (a root
 * `onRequest` hook, before body parsing and every handler) and decides on the route the router
 * actually matched — its declared `config` — never on the raw URL string, so a spelling of a path
 * that the router decodes to a protected route (`/%61pi/...`) gets that route's protection.
 *
 * Every route needs a signed-in principal unless its definition says `config: { public: true }`.
 * Reads need at least a viewer, writes at least a technician; a route may declare another role
 * with `config: { minRole }`. Cookie sessions must echo the session-bound CSRF token on every
 * state-changing method, and their WebSocket upgrades must come from the console's own origin.
 * Requests the router matched nowhere reach the 404 handler, which changes nothing.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { evxError } from '../errors.js';
import { CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, isRole, roleAtLeast, type Principal, type Role } from './authService.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the access guard for every request: who it acts as, or null. */
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Least role a route needs (default: viewer for reads, technician for writes). */
    minRole?: Role;
    /**
     * Reachable without credentials. Only for what must be: health probes, the metrics scrape, the
     * sign-in and first-boot routes, the static pages, and routes that check their own tokens.
     */
    public?: true;
  }
}

/** What identifies a caller: the auth service, or a stand-in that knows nobody. */
export interface Authenticator {
  authenticateToken(token: string): Principal | null;
  authenticateSession(sessionId: string): Principal | null;
}

/** One registered route and what it asks of its callers. */
export interface RouteAccessEntry {
  readonly method: string;
  /** The route pattern as registered (`/api/v1/calls/:id`). */
  readonly url: string;
  readonly access: 'public' | Role;
  readonly websocket: boolean;
}

/** Why a request was refused (the label of `edgevox_http_access_denied_total`). */
export type DenialReason = 'unauthenticated' | 'role' | 'csrf' | 'origin';

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
export function identify(request: FastifyRequest, auth: Authenticator): Principal | null {
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

/** What a route asks of its callers: nothing ('public') or at least this role. */
export function routeAccess(method: string, config: { minRole?: unknown; public?: unknown } | undefined): 'public' | Role {
  return config?.public === true ? 'public' : requiredRole(method, config);
}

/** True for methods that change state (they need a CSRF token on a session, and are audited). */
export function isStateChanging(method: string): boolean {
  return !SAFE_METHODS.has(method);
}

/** Refuse, at registration, a route whose access declaration is not one the guard understands. */
function checkDeclaration(route: RouteOptions): void {
  const config = route.config as { minRole?: unknown; public?: unknown } | undefined;
  const methods = Array.isArray(route.method) ? route.method.join(',') : route.method;
  if (config?.minRole !== undefined && !isRole(config.minRole))
    throw evxError('EVX_ERR_INTERNAL', `route ${methods} ${route.url} declares an unknown minRole`, { details: { route: route.url } });
  if (config?.public !== undefined && config.public !== true)
    throw evxError('EVX_ERR_INTERNAL', `route ${methods} ${route.url} declares public: it must be true or absent`, {
      details: { route: route.url },
    });
  if (config?.public === true && config.minRole !== undefined)
    throw evxError('EVX_ERR_INTERNAL', `route ${methods} ${route.url} is both public and role-protected`, {
      details: { route: route.url },
    });
}

/**
 * Install the guard on the root instance. Call it before any route or plugin is registered: child
 * plugin contexts copy their parent's hooks when they are created. Returns the access table: every
 * route the router was given, with the access the guard will apply to it.
 */
export function installAccessGuard(
  app: FastifyInstance,
  auth: Authenticator,
  onDenied: (reason: DenialReason) => void = () => {},
): readonly RouteAccessEntry[] {
  const table: RouteAccessEntry[] = [];
  app.decorateRequest('principal', null);
  app.addHook('onRoute', (route) => {
    checkDeclaration(route);
    // Read when asked, not now: an onRoute hook of a plugin scope (the static pages') may still
    // declare the route public after this one has run.
    for (const method of Array.isArray(route.method) ? route.method : [route.method])
      table.push({
        method,
        url: route.url,
        get access() {
          return routeAccess(method, route.config);
        },
        websocket: (route as { websocket?: unknown }).websocket === true,
      });
  });
  app.addHook('onRequest', async (request: FastifyRequest, _reply: FastifyReply) => {
    const principal = identify(request, auth);
    request.principal = principal;
    // Matched nowhere: the 404 handler answers and changes nothing.
    if (request.routeOptions.url === undefined) return;
    const access = routeAccess(request.method, request.routeOptions.config);
    if (access === 'public') return;
    if (principal === null) {
      onDenied('unauthenticated');
      throw evxError('EVX_ERR_AUTH_REQUIRED', 'sign in, or send an API token as Authorization: Bearer <token>');
    }
    if (!roleAtLeast(principal.role, access)) {
      onDenied('role');
      throw evxError('EVX_ERR_FORBIDDEN', `this needs the ${access} role; you are signed in as ${principal.role}`, {
        details: { required: access, role: principal.role },
      });
    }
    // Cookies ride along on cross-site WebSocket handshakes (SameSite does not cover every browser
    // path there), so an upgrade on a session must come from the console's own origin.
    if (principal.kind === 'session' && request.headers.upgrade?.toLowerCase() === 'websocket') {
      const origin = request.headers.origin;
      if (origin !== undefined && !sameOrigin(origin, request.headers.host, request.protocol)) {
        onDenied('origin');
        throw evxError('EVX_ERR_FORBIDDEN', 'WebSocket origin does not match the console');
      }
    }
    if (isStateChanging(request.method) && principal.kind === 'session') {
      const sent = request.headers[CSRF_HEADER];
      const expected = Buffer.from(principal.csrfToken ?? '', 'utf8');
      // Lengths compared in bytes: a header of the right length in characters but not in bytes
      // (latin-1 obs-text) would make timingSafeEqual throw.
      const given = typeof sent === 'string' ? Buffer.from(sent, 'utf8') : null;
      const ok = given !== null && expected.length > 0 && given.length === expected.length && timingSafeEqual(given, expected);
      if (!ok) {
        onDenied('csrf');
        throw evxError(
          'EVX_ERR_CSRF',
          `missing or wrong ${CSRF_HEADER} header (read it from the ${CSRF_COOKIE} cookie or GET /api/v1/auth/session)`,
        );
      }
    }
  });
  return table;
}

/**
 * Whether a browser Origin names the host the request was sent to. Both sides are parsed as URLs
 * (lower-cased host, default port dropped), so `HOST:80` and `host` compare equal and nothing that
 * does not parse is ever equal.
 */
export function sameOrigin(origin: string, hostHeader: string | undefined, protocol: string): boolean {
  if (hostHeader === undefined || hostHeader === '') return false;
  try {
    const o = new URL(origin);
    const h = new URL(`${protocol}://${hostHeader}`);
    if (o.username !== '' || h.username !== '' || h.pathname !== '/' || h.search !== '') return false;
    return (o.protocol === 'http:' || o.protocol === 'https:') && o.host === h.host;
  } catch {
    return false;
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
