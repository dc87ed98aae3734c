/**
 * What an account's deletion takes with it: its sessions and the API tokens it minted, so a removed
 * operator keeps no way in.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authedFetch, createUser, login, quietApplianceOverrides } from '../../helpers/auth.js';

const running: Appliance[] = [];
afterAll(async () => {
  await Promise.all(running.map((a) => a.close()));
});

async function start(): Promise<Appliance> {
  const { app } = await startTestAppliance(quietApplianceOverrides({ sip: { enabled: false }, console: { httpsPort: -1 } }), {
    transcribers: null,
  });
  running.push(app);
  return app;
}

describe('deleting an account', () => {
  it('revokes the API tokens that account created, and only those', async () => {
    const app = await start();
    const admin = authedFetch(app);
    await createUser(app, 'tech2', 'technician');
    const s = await login(app.httpUrl, 'tech2', 'correct horse battery');
    const minted = await fetch(`${app.httpUrl}/api/v1/tokens`, {
      method: 'POST',
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'tech2-script', role: 'technician' }),
    });
    expect(minted.status).toBe(200);
    const { token } = (await minted.json()) as { token: string };
    const other = await admin('/api/v1/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'monitoring', role: 'viewer' }),
    });
    const otherToken = ((await other.json()) as { token: string }).token;
    const withToken = (t: string) => fetch(`${app.httpUrl}/api/v1/users`, { headers: { authorization: `Bearer ${t}` } });
    expect((await withToken(token)).status).toBe(200);

    expect((await admin('/api/v1/users/tech2', { method: 'DELETE' })).status).toBe(200);

    expect((await withToken(token)).status).toBe(401);
    expect((await fetch(`${app.httpUrl}/api/v1/calls`, { headers: { cookie: s.cookie } })).status).toBe(401);
    // a token somebody else minted lives on
    expect((await fetch(`${app.httpUrl}/api/v1/calls`, { headers: { authorization: `Bearer ${otherToken}` } })).status).toBe(200);
    const listed = (await (await admin('/api/v1/tokens')).json()) as { tokens: { name: string }[] };
    expect(listed.tokens.map((t) => t.name)).not.toContain('tech2-script');
    expect(app.store.audit.list().find((e) => e.action === 'user.deleted')?.details).toMatchObject({ tokensRevoked: 1 });
  });

  it('does not hand a later account of the same name the old tokens', async () => {
    const app = await start();
    const admin = authedFetch(app);
    await createUser(app, 'sam', 'technician');
    const s = await login(app.httpUrl, 'sam', 'correct horse battery');
    const minted = await fetch(`${app.httpUrl}/api/v1/tokens`, {
      method: 'POST',
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'sam-script', role: 'technician' }),
    });
    const { token } = (await minted.json()) as { token: string };
    expect((await admin('/api/v1/users/sam', { method: 'DELETE' })).status).toBe(200);
    await createUser(app, 'sam', 'viewer');
    expect((await fetch(`${app.httpUrl}/api/v1/users`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
  });
});
