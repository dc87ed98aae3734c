/* eslint-disable @typescript-eslint/no-explicit-any -- API JSON is validated and typed by the server; the screens read it loosely. */
// The console's HTTP client: same-origin fetch with the session cookie, the CSRF header on writes,
// and one error shape ({ error: { code, message } }) turned into ApiError.
import { fmtDateTime, fmtDuration as fmtLocaleDuration } from '../../i18n/i18n.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function csrfToken(): string {
  const m = /(?:^|;\s*)evx_csrf=([^;]*)/.exec(document.cookie);
  return m?.[1] ? decodeURIComponent(m[1]) : '';
}

let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

export async function api<T = any>(method: string, path: string, body?: unknown, opts: { raw?: boolean } = {}): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken();
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (!res.ok) {
    let code = 'EVX_ERR_HTTP';
    let message = `${res.status} ${res.statusText}`;
    let details: Record<string, unknown> = {};
    try {
      const j = (await res.json()) as { error?: { code: string; message: string; details?: Record<string, unknown> } };
      if (j.error) {
        code = j.error.code;
        message = j.error.message;
        details = j.error.details ?? {};
      }
    } catch {
      // not JSON
    }
    if (res.status === 401 && code === 'EVX_ERR_AUTH_REQUIRED') onUnauthorized();
    throw new ApiError(res.status, code, message, details);
  }
  if (opts.raw) return res as unknown as T;
  return (await res.json()) as T;
}

export const get = <T = any,>(path: string) => api<T>('GET', path);
export const post = <T = any,>(path: string, body?: unknown) => api<T>('POST', path, body ?? {});

export interface Session {
  authenticated: boolean;
  username: string | null;
  role: 'technician' | 'supervisor' | 'viewer' | 'kiosk' | null;
  csrfToken: string | null;
  setupRequired: boolean;
  setupComplete: boolean;
  site: { id: string; name: string };
}

/** Save a Response body as a download. */
export async function download(res: Response, fallbackName: string): Promise<void> {
  const blob = await res.blob();
  const cd = res.headers.get('content-disposition') ?? '';
  const name = /filename="([^"]+)"/.exec(cd)?.[1] ?? fallbackName;
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/** Date and time in the page's language (i18n's locale formatting). */
export function fmtTime(ms: number | null | undefined): string {
  return fmtDateTime(ms);
}

/** A duration in the page's language, e.g. "1 min 5 s" / "1分钟5秒". */
export function fmtDuration(ms: number | null | undefined): string {
  return fmtLocaleDuration(ms);
}
