/** Credentials for tests: API tokens minted straight in the appliance's store, and fetch wrappers that send them. */
import type { Appliance } from '../../appliance/app.js';
import { issueApiToken, type Role } from '../../appliance/auth/authService.js';

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
