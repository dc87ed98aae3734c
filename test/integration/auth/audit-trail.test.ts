/**
 * Every state change through the API is in the audit log: who (user or API token), what (method,
 * route, its parameters), when, and from where — for changes made with a console session and with
 * an API token alike. Refused changes change nothing and so are not changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { API_CHANGE_ACTION } from '../../../appliance/auth/auditTrail.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { apiToken, createUser, login, quietApplianceOverrides, type TestSession } from '../../helpers/auth.js';
import { rawRequest } from '../../helpers/rawHttp.js';

let app: Appliance;
let tech: TestSession;

beforeAll(async () => {
  ({ app } = await startTestAppliance(quietApplianceOverrides({ sip: { enabled: false }, console: { httpsPort: -1 } }), {
    transcribers: null,
  }));
  const t = await createUser(app, 'tech1', 'technician');
  tech = await login(app.httpUrl, t.username, t.password);
});
afterAll(async () => {
  await app?.close();
});

describe('the audit trail of the API', () => {
  it('records who changed what, when and from where, for sessions and API tokens', async () => {
    const token = apiToken(app, 'technician');
    const tokenName = app.store.db.prepare(`SELECT name FROM api_tokens ORDER BY id DESC LIMIT 1`).get() as { name: string };
    const asToken = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const asSession = { cookie: tech.cookie, 'x-csrf-token': tech.csrf, 'content-type': 'application/json' };
    const since = Date.now();
    const changes: [Record<string, string>, string, string, unknown, string][] = [
      [
        asToken,
        'PUT',
        '/api/v1/routing/groups/general',
        { id: 'general', name: 'General', intents: [], adjacent: [], overflow: { maxWaitMs: 60000, action: 'none' } },
        'PUT /api/v1/routing/groups/:id',
      ],
      [
        asToken,
        'PUT',
        '/api/v1/routing/agents/ann',
        { id: 'ann', name: 'Ann', sipUri: 'sip:ann@127.0.0.1:5090', senior: false, skills: [{ group: 'general', level: 3 }] },
        'PUT /api/v1/routing/agents/:id',
      ],
      [asSession, 'PUT', '/api/v1/routing/agents/ann/state', { state: 'available' }, 'PUT /api/v1/routing/agents/:id/state'],
      [asSession, 'PUT', '/api/v1/routing/rules', { angerThreshold: 0.8 }, 'PUT /api/v1/routing/rules'],
      [
        asToken,
        'PUT',
        '/api/v1/qa/rules',
        { rules: [{ id: 'greet', kind: 'greeting', weight: 1, withinMs: 15000, phrases: ['GOOD MORNING'] }] },
        'PUT /api/v1/qa/rules',
      ],
      [asSession, 'POST', '/api/v1/tokens', { name: 'wallboard', role: 'viewer' }, 'POST /api/v1/tokens'],
      [asToken, 'POST', '/api/v1/users', { username: 'view2', role: 'viewer', password: 'correct horse battery' }, 'POST /api/v1/users'],
      [asSession, 'PATCH', '/api/v1/config', { changes: { 'site.name': 'Audit test' } }, 'PATCH /api/v1/config'],
      [asToken, 'POST', '/api/v1/backup/export', { passphrase: 'backup passphrase 1' }, 'POST /api/v1/backup/export'],
      [asToken, 'DELETE', '/api/v1/users/view2', undefined, 'DELETE /api/v1/users/:username'],
    ];
    for (const [headers, method, path, body] of changes) {
      const sent = body === undefined ? { headers: { ...headers, 'content-type': 'text/plain' } } : { headers, body: JSON.stringify(body) };
      const res = await rawRequest(app.httpUrl, method, path, sent);
      expect(res.status, `${method} ${path}: ${res.body.slice(0, 200)}`).toBeLessThan(300);
    }
    const trail = app.store.audit
      .list(1000)
      .filter((e) => e.action === API_CHANGE_ACTION && e.at >= since)
      .reverse();
    expect(trail.map((e) => e.target)).toEqual(changes.map((c) => c[4]));
    trail.forEach((entry, i) => {
      const bySession = changes[i]![0] === asSession;
      expect(entry.actor).toBe(bySession ? 'tech1' : `token:${tokenName.name}`);
      expect(entry.details).toMatchObject({ via: bySession ? 'session' : 'token', role: 'technician', from: '127.0.0.1' });
      expect(entry.at).toBeGreaterThanOrEqual(since);
    });
    expect(trail[1]!.details['params']).toEqual({ id: 'ann' });
    // Nothing of the bodies: no passwords, no passphrases.
    expect(JSON.stringify(trail)).not.toMatch(/correct horse|passphrase 1/);
  });

  it('records nothing for a refused change, and names the address it came from', async () => {
    const viewer = apiToken(app, 'viewer');
    const before = app.store.audit.list(1000).length;
    const refused = await rawRequest(app.httpUrl, 'PUT', '/api/v1/routing/rules', {
      headers: { authorization: `Bearer ${viewer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ angerThreshold: 0.1 }),
      localAddress: '127.0.0.9',
    });
    expect(refused.status).toBe(403);
    expect(app.store.audit.list(1000).length).toBe(before);
    const ok = await rawRequest(app.httpUrl, 'PUT', '/api/v1/routing/rules', {
      headers: { authorization: `Bearer ${apiToken(app, 'technician')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ angerThreshold: 0.7 }),
      localAddress: '127.0.0.9',
    });
    expect(ok.status).toBe(200);
    expect(app.store.audit.list(1)[0]).toMatchObject({ action: API_CHANGE_ACTION, details: { from: '127.0.0.9' } });
  });
});
