/**
 * Malformed API and WebSocket input gets a clear 4xx with a stable error code, and the appliance
 * keeps serving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Appliance } from '../../../appliance/app/app.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authHeader } from '../../helpers/auth.js';

let app: Appliance;
beforeAll(async () => {
  ({ app } = await startTestAppliance({}, { transcribers: null }));
});
afterAll(async () => {
  await app?.close();
});

const codeOf = async (res: Response) => ((await res.json()) as { error?: { code?: string } }).error?.code;

describe('malformed input', () => {
  it('answers bad HTTP requests with 4xx and a stable code', async () => {
    const url = app.httpUrl;
    const badJson = await fetch(`${url}/api/v1/calls`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a": ' });
    expect(badJson.status).toBeGreaterThanOrEqual(400);
    expect(badJson.status).toBeLessThan(500);
    expect(await codeOf(badJson)).toMatch(/^EVX_ERR_/);

    const huge = await fetch(`${url}/api/v1/calls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ x: 'y'.repeat(2 * 1024 * 1024) }),
    });
    expect([401, 403, 404, 405, 413]).toContain(huge.status);

    const nonsense = await fetch(`${url}/api/v1/${'%FF'.repeat(10)}`);
    expect(nonsense.status).toBeGreaterThanOrEqual(400);
    expect(nonsense.status).toBeLessThan(500);

    // Signed in, so the query reaches validation rather than the access guard.
    const badQuery = await fetch(`${url}/api/v1/calls?limit=abc&state=%00`, { headers: authHeader(app) });
    expect(badQuery.status).toBeGreaterThanOrEqual(400);
    expect(badQuery.status).toBeLessThan(500);
    expect(await codeOf(badQuery)).toMatch(/^EVX_ERR_/);
  });

  it('survives garbage on the events WebSocket', async () => {
    const ws = new WebSocket(`${app.httpUrl.replace('http', 'ws')}/api/v1/events?types=${'x'.repeat(5000)}`);
    const opened = await new Promise<boolean>((resolve) => {
      ws.once('open', () => resolve(true));
      ws.once('unexpected-response', () => resolve(false));
      ws.once('error', () => resolve(false));
    });
    if (opened) {
      ws.send(Buffer.alloc(100_000, 0xff)); // over the 64 KiB frame limit: the server drops the client
      ws.send('{"not": "a command"');
      await new Promise((r) => setTimeout(r, 200));
      ws.terminate();
    }
    // Raw garbage on the HTTP port.
    const net = await import('node:net');
    const port = Number(new URL(app.httpUrl).port);
    await new Promise<void>((resolve) => {
      const sock = net.connect(port, '127.0.0.1', () => {
        sock.write('GARBAGE / HTTP/9.9\r\n\0\0\0\r\n\r\n');
        sock.on('data', () => sock.destroy());
        sock.on('close', () => resolve());
        setTimeout(() => sock.destroy(), 1000);
      });
    });
    expect((await fetch(`${app.httpUrl}/healthz`)).status).toBe(200);
  });
});
