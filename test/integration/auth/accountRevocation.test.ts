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

describe('tokens minted with a token', () => {
  it('belong to the account behind the minting token, and go when that account is deleted', async () => {
    const app = await start();
    const admin = authedFetch(app);
    await createUser(app, 'tech3', 'technician');
    const s = await login(app.httpUrl, 'tech3', 'correct horse battery');
    const mint = async (headers: Record<string, string>, name: string) => {
      const res = await fetch(`${app.httpUrl}/api/v1/tokens`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ name, role: 'technician' }),
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { token: string }).token;
    };
    const first = await mint({ cookie: s.cookie, 'x-csrf-token': s.csrf }, 'tech3-first');
    const second = await mint({ authorization: `Bearer ${first}` }, 'tech3-second');
    const third = await mint({ authorization: `Bearer ${second}` }, 'tech3-third');
    const listed = (await (await admin('/api/v1/tokens')).json()) as { tokens: { name: string; createdBy: string }[] };
    expect(listed.tokens.filter((t) => t.name.startsWith('tech3-')).map((t) => t.createdBy)).toEqual(['tech3', 'tech3', 'tech3']);

    expect((await admin('/api/v1/users/tech3', { method: 'DELETE' })).status).toBe(200);

    for (const t of [first, second, third])
      expect((await fetch(`${app.httpUrl}/api/v1/users`, { headers: { authorization: `Bearer ${t}` } })).status).toBe(401);
    // the audit still names the token that minted each one
    const minted = app.store.audit.list().filter((e) => e.action === 'token.created');
    expect(minted.map((e) => e.actor)).toEqual(expect.arrayContaining(['tech3', 'token:tech3-first', 'token:tech3-second']));
  });
});
