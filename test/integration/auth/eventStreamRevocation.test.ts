/**
 * An open event stream (live transcripts, alerts) ends with the credential it was opened with: a
 * session signed out or whose account was deleted, and a revoked API token, get no further event
 * and the socket is closed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import type { Appliance } from '../../../appliance/app/app.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authedFetch, createUser, login, quietApplianceOverrides } from '../../helpers/auth.js';

let app: Appliance;
beforeAll(async () => {
  ({ app } = await startTestAppliance(quietApplianceOverrides({ sip: { enabled: false }, console: { httpsPort: -1 } }), {
    transcribers: null,
  }));
});
afterAll(async () => {
  await app.close();
});

const alert = (message: string) =>
  ({ type: 'alert', at: 1, callId: 'c-1', kind: 'test', severity: 'warning', message, details: {} }) as const;

/** Open the stream and wait for its hello. */
async function open(headers: Record<string, string>): Promise<WebSocket> {
  const { default: WS } = await import('ws');
  const ws = new WS(`${app.httpUrl.replace('http', 'ws')}/api/v1/events?types=alert`, { headers: { origin: app.httpUrl, ...headers } });
  await new Promise<void>((resolve, reject) => {
    ws.once('message', () => resolve());
    ws.once('error', reject);
  });
  return ws;
}

/** After `revoke`, an event is published: the socket must close without delivering it. */
async function expectEndedBy(ws: WebSocket, revoke: () => Promise<void>): Promise<void> {
  // still live before
  const seen = new Promise<void>((resolve) => ws.once('message', () => resolve()));
  app.bus.publish(alert('before'));
  await seen;
  await revoke();
  const outcome = new Promise<string>((resolve) => {
    ws.on('message', (data: Buffer) => resolve(`delivered ${data.toString()}`));
    ws.on('close', () => resolve('closed'));
  });
  app.bus.publish(alert('after'));
  expect(await outcome).toBe('closed');
}

describe('event stream', () => {
  it('ends when its session signs out', async () => {
    await createUser(app, 'watcher1', 'viewer');
    const s = await login(app.httpUrl, 'watcher1', 'correct horse battery');
    const ws = await open({ cookie: s.cookie });
    await expectEndedBy(ws, async () => {
      const r = await fetch(`${app.httpUrl}/api/v1/auth/logout`, { method: 'POST', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });
      expect(r.status).toBe(200);
    });
  });

  it("ends when its session's account is deleted", async () => {
    await createUser(app, 'watcher2', 'viewer');
    const s = await login(app.httpUrl, 'watcher2', 'correct horse battery');
    const ws = await open({ cookie: s.cookie });
    await expectEndedBy(ws, async () => {
      expect((await authedFetch(app)('/api/v1/users/watcher2', { method: 'DELETE' })).status).toBe(200);
    });
  });

  it('ends when its API token is revoked', async () => {
    const admin = authedFetch(app);
    const minted = (await (
      await admin('/api/v1/tokens', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'wallboard-feed', role: 'viewer' }),
      })
    ).json()) as { id: number; token: string };
    const ws = await open({ authorization: `Bearer ${minted.token}` });
    await expectEndedBy(ws, async () => {
      expect((await admin(`/api/v1/tokens/${minted.id}`, { method: 'DELETE' })).status).toBe(200);
    });
  });

  it('goes on for a credential that is still valid', async () => {
    await createUser(app, 'watcher3', 'viewer');
    const s = await login(app.httpUrl, 'watcher3', 'correct horse battery');
    const ws = await open({ cookie: s.cookie });
    // somebody else's sign-out is a revocation too, but not of this stream
    const other = await login(app.httpUrl, 'watcher3', 'correct horse battery');
    await fetch(`${app.httpUrl}/api/v1/auth/logout`, { method: 'POST', headers: { cookie: other.cookie, 'x-csrf-token': other.csrf } });
    const got = new Promise<string>((resolve) => ws.once('message', (d: Buffer) => resolve(d.toString())));
    app.bus.publish(alert('still here'));
    expect(await got).toContain('still here');
    ws.close();
  });
});
