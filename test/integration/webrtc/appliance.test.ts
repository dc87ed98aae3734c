/**
 * The WebRTC plane mounted in a real appliance: a node-webrtc web caller (the probe) streams
 * speech-en/0.wav as Opus, an agent leg joins with a token minted through the console API; the
 * caller leg is transcribed by the appliance's ASR, pushed live to the agent and stored, and
 * /api/v1/calls/:id shows it. Hangup releases the routers, taps and call sessions.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { WebRtcPeer } from '../../../tools/webrtc/client/peer.js';
import { runProbe } from '../../../tools/webrtc/probeClient.js';
import type { CallerSession } from '../../../appliance/webrtc/signalling.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { apiToken, authedFetch } from '../../helpers/auth.js';
import { SHARED_DIR } from '../../helpers/paths.js';
import { speechClip, wordErrors } from '../../helpers/speech.js';
import { SKIP_REASON, workerBin } from './harness.js';

describe.skipIf(workerBin === undefined)(`WebRTC in the appliance (${workerBin === undefined ? SKIP_REASON : 'real worker + ASR'})`, () => {
  let app: Appliance;
  beforeAll(async () => {
    ({ app } = await startTestAppliance({ webrtc: { workers: 1 } }));
  });
  afterAll(async () => {
    const pids = app?.webrtc?.plane.workerPids() ?? [];
    await app?.close();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });

  it('a web caller is transcribed live for the agent and stored in /api/v1/calls/:id; hangup releases everything', async () => {
    expect(app.webrtc).not.toBeNull();
    const { reference } = speechClip('0.wav');
    const report = await runProbe({
      wavPath: path.join(SHARED_DIR, 'datasets', 'speech-en', '0.wav'),
      target: app.httpUrl,
      apiToken: apiToken(app, 'supervisor'),
      timeoutMs: 15_000,
    });
    expect(report.packetsSent).toBeGreaterThan(100);
    expect(report.agent!.rmsMax).toBeGreaterThan(500);
    const t = report.transcript!;
    expect(wordErrors(reference, t.live), t.live).toBeLessThanOrEqual(4);
    expect(t.storedSource).toBe('webrtc');
    expect(wordErrors(reference, t.stored ?? ''), t.stored).toBeLessThanOrEqual(4);

    const call = (await (await authedFetch(app)(`/api/v1/calls/${report.callId}`)).json()) as {
      source: string;
      state: string;
      answeredAt: number | null;
      legs: { label: string; codec: string }[];
      utterances: { speaker: string }[];
    };
    expect(call).toMatchObject({ source: 'webrtc', state: 'ended' });
    expect(call.legs.map((l) => `${l.label}/${l.codec}`).sort()).toEqual(['caller/opus']);
    expect(call.utterances.every((u) => u.speaker === 'caller')).toBe(true);
    expect(app.webrtc!.plane.activeCalls).toBe(0);
    expect(app.webrtc!.registry.size).toBe(0);
    expect(app.calls.activeCount).toBe(0);
  });

  it('without credentials: caller sessions are public, agent tokens and the queue are not', async () => {
    const session = await fetch(`${app.httpUrl}/api/v1/webrtc/caller-sessions`, { method: 'POST' });
    expect(session.status).toBe(201);
    const mint = await fetch(`${app.httpUrl}/api/v1/webrtc/agent-tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ agentId: 'a1' }),
    });
    expect(mint.status).toBe(401);
    const viewer = await authedFetch(app, 'viewer')('/api/v1/webrtc/agent-tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ agentId: 'a1' }),
    });
    expect(viewer.status).toBe(403);
    expect((await fetch(`${app.httpUrl}/api/v1/webrtc/queue`)).status).toBe(401);
    const token = app.webrtc!.mintAgentToken('agent-7');
    const queue = await fetch(`${app.httpUrl}/api/v1/webrtc/queue`, { headers: { 'x-agent-token': token } });
    expect(queue.status).toBe(200);
    const metrics = await (await fetch(`${app.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^edgevox_webrtc_workers 1$/m);
    expect(metrics).toMatch(/^edgevox_webrtc_worker_deaths_total 0$/m);
  });

  it('admission control: at capacity a new caller session is refused with 503 + Retry-After', async () => {
    const { app: small } = await startTestAppliance({ webrtc: { workers: 1 }, calls: { maxConcurrent: 1, retryAfterS: 7 } });
    try {
      const first = (await (await fetch(`${small.httpUrl}/api/v1/webrtc/caller-sessions`, { method: 'POST' })).json()) as CallerSession;
      const caller = await WebRtcPeer.join({ url: `${small.httpUrl.replace('http', 'ws')}${first.signallingPath}`, token: first.token });
      try {
        expect(small.calls.activeCount).toBe(1);
        const refused = await fetch(`${small.httpUrl}/api/v1/webrtc/caller-sessions`, { method: 'POST' });
        expect(refused.status).toBe(503);
        expect(refused.headers.get('retry-after')).toBe('7');
        expect(await refused.json()).toMatchObject({ error: { code: 'EVX_ERR_NOT_READY', details: { reason: 'capacity' } } });
      } finally {
        await caller.hangup();
      }
      for (let i = 0; i < 50 && small.calls.activeCount > 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(small.calls.activeCount).toBe(0);
      expect((await fetch(`${small.httpUrl}/api/v1/webrtc/caller-sessions`, { method: 'POST' })).status).toBe(201);
    } finally {
      await small.close();
    }
  });
});
