/**
 * The CSRF check survives any header a client can send: a token of the right length in characters
 * but not in bytes (obs-text, which HTTP/1.1 lets through as latin-1) is a wrong token (403), not
 * an internal error.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { createUser, login, quietApplianceOverrides } from '../../helpers/auth.js';
import { rawRequest } from '../../helpers/rawHttp.js';

const running: Appliance[] = [];
afterAll(async () => {
  await Promise.all(running.map((a) => a.close()));
});

describe('CSRF header', () => {
  it('refuses a token with bytes outside ASCII as wrong, with 403', async () => {
    const { app } = await startTestAppliance(quietApplianceOverrides({ sip: { enabled: false }, console: { httpsPort: -1 } }), {
      transcribers: null,
    });
    running.push(app);
    await createUser(app, 'tech', 'technician');
    const s = await login(app.httpUrl, 'tech', 'correct horse battery');
    const res = await rawRequest(app.httpUrl, 'POST', '/api/v1/auth/logout', {
      headers: { cookie: s.cookie, 'x-csrf-token': '\u00e9'.repeat(s.csrf.length) },
    });
    expect(res.status).toBe(403);
    expect((JSON.parse(res.body) as { error: { code: string } }).error.code).toBe('EVX_ERR_CSRF');
    // the session is still there: the forged request changed nothing
    const ok = await rawRequest(app.httpUrl, 'POST', '/api/v1/auth/logout', { headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });
    expect(ok.status).toBe(200);
  });
});
