/**
 * What the OpenAPI document says about access and operations: the security schemes the access
 * guard (auth/guard.ts) accepts, each route's security requirement from the same declaration the
 * guard enforces (`config.public`, `config.minRole`, the method), and an operationId derived from
 * the method and path. Used as @fastify/swagger's `transform`, so no route repeats it by hand.
 */
import type { RouteOptions } from 'fastify';
import { CSRF_HEADER, SESSION_COOKIE } from '../auth/authService.js';
import { isStateChanging, routeAccess } from '../auth/guard.js';

export const SECURITY_SCHEMES = {
  bearerAuth: {
    type: 'http',
    scheme: 'bearer',
    description: 'An API token (`npx edgevox console-token` or the console\u2019s accounts page) as `Authorization: Bearer <token>`',
  },
  sessionCookie: {
    type: 'apiKey',
    in: 'cookie',
    name: SESSION_COOKIE,
    description: 'The console\u2019s session cookie, set by POST /api/v1/auth/login',
  },
  csrfHeader: {
    type: 'apiKey',
    in: 'header',
    name: CSRF_HEADER,
    description: 'With a session cookie, every state-changing request echoes the session\u2019s CSRF token (the evx_csrf cookie)',
  },
} as const;

type SecurityRequirement = Record<string, string[]>;

/** Who may call `method` on a route declared with `config`: nobody needs credentials (public), or a token or a session (with the CSRF header on writes). */
export function securityOf(method: string, config: { minRole?: unknown; public?: unknown } | undefined): SecurityRequirement[] {
  if (routeAccess(method, config) === 'public') return [];
  return [{ bearerAuth: [] }, isStateChanging(method) ? { sessionCookie: [], csrfHeader: [] } : { sessionCookie: [] }];
}

/**
 * The operationId of `method` on `url`: the method, then the path's segments after /api/v1 in
 * camel case, parameters as `By<Name>` (GET /api/v1/calls/:id/transcript → getCallsByIdTranscript).
 */
export function operationIdOf(method: string, url: string): string {
  const words = url
    .replace(/^\/api\/v\d+(?=\/|$)/, '')
    .split('/')
    .filter((s) => s !== '')
    .flatMap((segment) => {
      if (segment === '*') return ['Any'];
      const param = /^:(\w+)/.exec(segment);
      const parts = (param ? param[1]! : segment).split(/[^A-Za-z0-9]+/).filter((p) => p !== '');
      return param ? ['By', ...parts] : parts;
    })
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1));
  return method.toLowerCase() + (words.length === 0 ? 'Root' : words.join(''));
}

/** @fastify/swagger's `transform`: adds the operationId, the security requirement and the least role (`x-min-role`). */
export function openapiTransform({ schema, url, route }: { schema: unknown; url: string; route: RouteOptions }): {
  schema: Record<string, unknown>;
  url: string;
} {
  const method = (Array.isArray(route.method) ? route.method[0] : route.method) ?? 'GET';
  const own = (schema ?? {}) as Record<string, unknown>;
  const access = routeAccess(method, route.config);
  return {
    url,
    schema: {
      ...own,
      operationId: own['operationId'] ?? operationIdOf(method, url),
      security: own['security'] ?? securityOf(method, route.config),
      'x-min-role': access,
    },
  };
}
