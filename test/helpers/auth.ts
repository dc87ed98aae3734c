/** Credentials for tests: API tokens minted straight in the appliance's store, and fetch wrappers that send them. */
import type { Appliance } from '../../appliance/app/app.js';
import { issueApiToken, type Role } from '../../appliance/auth/authService.js';
import { ConfigSchema } from '../../appliance/config/schema.js';

/** A fresh bearer token with `role` for this appliance. */
export function apiToken(app: Appliance, role: Role = 'technician'): string {
  return issueApiToken(app.store, `test-${role}-${Math.random().toString(36).slice(2, 8)}`, role, 'test').token;
}

/** The Authorization header for a fresh token. */
export function authHeader(app: Appliance, role: Role = 'technician'): { authorization: string } {
  return { authorization: `Bearer ${apiToken(app, role)}` };
}

/**
 * `fetch` bound to the appliance with a fresh API token: `authedFetch(app)('/api/v1/calls')`.
 * Absolute URLs are used as given; relative ones are resolved against `app.httpUrl`.
 */
export function authedFetch(app: Appliance, role: Role = 'technician'): (url: string, init?: RequestInit) => Promise<Response> {
  const { authorization } = authHeader(app, role);
  return (url, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set('authorization', authorization);
    return fetch(url.startsWith('http') ? url : `${app.httpUrl}${url}`, { ...init, headers });
  };
}

/** A signed-in console session: the cookie header to send and the CSRF token for writes. */
export interface TestSession {
  cookie: string;
  csrf: string;
  setCookie: string[];
}

/** Sign in through the API like the console does. */
export async function login(baseUrl: string, username: string, password: string): Promise<TestSession> {
  const res = await fetch(`${baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  const setCookie = res.headers.getSetCookie();
  const pairs = setCookie.map((c) => c.split(';')[0]!);
  const csrf = pairs.find((p) => p.startsWith('evx_csrf='))!.slice('evx_csrf='.length);
  return { cookie: pairs.join('; '), csrf, setCookie };
}

/** Create a console account (through the API, as a technician token). */
export async function createUser(
  app: Appliance,
  username: string,
  role: Role,
  password = 'correct horse battery',
): Promise<{ username: string; password: string }> {
  const res = await authedFetch(app)('/api/v1/users', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, role, password }),
  });
  if (res.status !== 200) throw new Error(`create user failed: ${res.status} ${await res.text()}`);
  return { username, password };
}

/**
 * Overrides for console tests that need neither SIP nor the WebRTC media plane: keeps them fast
 * (no mediasoup workers). The webrtc section is only named when the schema has it.
 */
export function quietApplianceOverrides(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...(hasWebrtcSection() ? { webrtc: { enabled: false } } : {}), ...extra };
}

/** True when this build's config schema has the WebRTC section. */
export function hasWebrtcSection(): boolean {
  return 'webrtc' in (ConfigSchema.properties as Record<string, unknown>);
}
