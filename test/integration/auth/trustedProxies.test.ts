/**
 * Behind the site's reverse proxy every request arrives from the proxy's address. Without
 * `http.trustedProxies` the box could not tell one visitor from another there: one guesser locked
 * the supervisor out for the whole office, chat limits were shared by every visitor, the audit
 * trail named the proxy, and cookies issued over the proxy's TLS lacked Secure. With the proxy
 * listed, its X-Forwarded-For and X-Forwarded-Proto count; from anyone else they are ignored, so
 * no client picks the address it is throttled under.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { API_CHANGE_ACTION } from '../../../appliance/auth/auditTrail.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { createUser, quietApplianceOverrides } from '../../helpers/auth.js';
import { rawRequest } from '../../helpers/rawHttp.js';

const PROXY = '127.0.0.9';
const OTHER = '127.0.0.10';

const running: Appliance[] = [];
afterAll(async () => {
  await Promise.all(running.map((a) => a.close()));
});

async function start(trustedProxies: string[]): Promise<Appliance> {
  const { app } = await startTestAppliance(
    quietApplianceOverrides({
      sip: { enabled: false },
      http: { trustedProxies },
      console: { httpsPort: -1, lockoutThreshold: 3, lockoutMs: 60_000, loginBackoffAfter: 100 },
    }),
    { transcribers: null },
  );
  running.push(app);
  await createUser(app, 'sup', 'supervisor');
  return app;
}

function signIn(app: Appliance, password: string, from: string, headers: Record<string, string> = {}) {
  return rawRequest(app.httpUrl, 'POST', '/api/v1/auth/login', {
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ username: 'sup', password }),
    localAddress: from,
  });
}

describe('reverse proxies in front of the console', () => {
  it('locks a name from the client behind a trusted proxy, not from the proxy: the real user signs in through it', async () => {
    const app = await start([PROXY]);
    for (let i = 0; i < 3; i++) await signIn(app, `wrong password ${i}`, PROXY, { 'x-forwarded-for': '198.51.100.7' });
    expect((await signIn(app, 'correct horse battery', PROXY, { 'x-forwarded-for': '198.51.100.7' })).status).toBe(423);
    // The real supervisor, through the same proxy from her own desk.
    expect((await signIn(app, 'correct horse battery', PROXY, { 'x-forwarded-for': '198.51.100.8' })).status).toBe(200);
    // the audit trail names the client, not the proxy
    const from = app.store.audit
      .list()
      .filter((e) => e.action.startsWith('login'))
      .map((e) => `${e.action} ${String(e.details['from'])}`);
    expect(from).toEqual(
      expect.arrayContaining([
        'login.failed 198.51.100.7',
        'login.locked 198.51.100.7',
        'login.refused 198.51.100.7',
        'login 198.51.100.8',
      ]),
    );
    expect(from.some((l) => l.endsWith(PROXY))).toBe(false);
  });

  it('ignores forwarded headers from an address that is not a listed proxy: a client cannot dodge its lockout', async () => {
    const app = await start([PROXY]);
    for (let i = 0; i < 3; i++) await signIn(app, `wrong password ${i}`, OTHER, { 'x-forwarded-for': `198.51.100.${20 + i}` });
    expect((await signIn(app, 'correct horse battery', OTHER, { 'x-forwarded-for': '198.51.100.99' })).status).toBe(423);
  });

  it('ignores forwarded headers altogether by default', async () => {
    const app = await start([]);
    for (let i = 0; i < 3; i++) await signIn(app, `wrong password ${i}`, PROXY, { 'x-forwarded-for': `198.51.100.${30 + i}` });
    expect((await signIn(app, 'correct horse battery', PROXY, { 'x-forwarded-for': '198.51.100.99' })).status).toBe(423);
  });

  it('marks cookies Secure when a trusted proxy says the browser used https, and only then', async () => {
    const app = await start(['127.0.0.0/30', '2001:db8::/32']);
    const viaProxy = await signIn(app, 'correct horse battery', '127.0.0.2', { 'x-forwarded-proto': 'https' });
    expect(viaProxy.status).toBe(200);
    const secure = [viaProxy.headers['set-cookie'] ?? []].flat();
    expect(secure.length).toBeGreaterThan(0);
    for (const c of secure) expect(c).toMatch(/;\s*Secure/i);
    const spoofed = await signIn(app, 'correct horse battery', OTHER, { 'x-forwarded-proto': 'https' });
    expect(spoofed.status).toBe(200);
    for (const c of [spoofed.headers['set-cookie'] ?? []].flat()) expect(c).not.toMatch(/;\s*Secure/i);
  });

  it('records the client behind the proxy in the audit trail', async () => {
    const app = await start([PROXY]);
    const signedIn = await signIn(app, 'correct horse battery', PROXY, { 'x-forwarded-for': '203.0.113.5, 198.51.100.40' });
    expect(signedIn.status).toBe(200);
    const cookies = [signedIn.headers['set-cookie'] ?? []].flat().map((c) => c.split(';')[0]!);
    const csrf = cookies.find((c) => c.startsWith('evx_csrf='))!.slice('evx_csrf='.length);
    const out = await rawRequest(app.httpUrl, 'POST', '/api/v1/auth/logout', {
      headers: { cookie: cookies.join('; '), 'x-csrf-token': csrf, 'x-forwarded-for': '198.51.100.41' },
      localAddress: PROXY,
    });
    expect(out.status).toBe(200);
    const change = app.store.audit.list().find((e) => e.action === API_CHANGE_ACTION && e.target.includes('/auth/logout'));
    // the nearest address the proxy saw; anything before it is the client's own claim
    expect(change?.details['from']).toBe('198.51.100.41');
  });
});
