import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Appliance } from '../../../appliance/app/app.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authHeader, authedFetch } from '../../helpers/auth.js';
import { feedPaced, speechClip, wordErrors } from '../../helpers/speech.js';
import { plantedIn } from '../../helpers/planted.js';

let app: Appliance;
beforeAll(async () => {
  ({ app } = await startTestAppliance());
});
afterAll(async () => {
  await app?.close();
});

describe('calls through the real speech pipeline', () => {
  it('transcribes a leg, stores the utterances, streams events and answers the calls API', async () => {
    const { audio, reference } = speechClip('0.wav');
    const ws = new WebSocket(`${app.httpUrl.replace('http', 'ws')}/api/v1/events`, { headers: authHeader(app, 'viewer') });
    const streamed: ApplianceEvent[] = [];
    ws.on('message', (d: Buffer) => streamed.push(JSON.parse(d.toString()) as ApplianceEvent));
    await new Promise((r) => ws.once('open', r));

    expect(app.calls.admit()).toEqual({ ok: true });
    const call = app.calls.startCall({ source: 'sip', callerNumber: '+441234567890' });
    call.answer();
    const leg = call.addLeg({ label: 'caller', codec: 'L16', sampleRateHz: audio.sampleRateHz });
    await feedPaced(audio.samples, audio.sampleRateHz, (f) => leg.write(f, audio.sampleRateHz));
    await call.end('bye');
    await new Promise((r) => setTimeout(r, 100));

    const res = await authedFetch(app)(`/api/v1/calls/${call.id}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      state: string;
      endReason: string;
      callerHash: string;
      legs: unknown[];
      utterances: { text: string; words: unknown[] }[];
    };
    expect(body.state).toBe('ended');
    expect(body.endReason).toBe('bye');
    expect(body.legs).toHaveLength(1);
    expect(plantedIn(JSON.stringify(body), ['1234567890'])).toEqual([]);
    expect(body.callerHash).toMatch(/^[0-9a-f]{32}$/);
    const text = body.utterances.map((u) => u.text).join(' ');
    expect(wordErrors(reference, text)).toBeLessThanOrEqual(3);
    expect(body.utterances[0]?.words.length).toBeGreaterThan(5);

    const types = streamed.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['call.started', 'call.answered', 'call.leg.added', 'asr.final', 'call.ended']));
    expect(types.indexOf('call.started')).toBeLessThan(types.indexOf('call.ended'));
    ws.close();

    const list = (await (await authedFetch(app)(`/api/v1/calls?limit=5`)).json()) as { calls: { id: string }[] };
    expect(list.calls.map((c) => c.id)).toContain(call.id);
    const metrics = await (await authedFetch(app)(`/metrics`)).text();
    expect(metrics).toMatch(/^edgevox_calls_ended_total\{reason="bye"\} 1$/m);
    expect(metrics).toMatch(/^edgevox_asr_final_latency_seconds_count [1-9]/m);
  });

  it('rejects calls beyond capacity and while draining', async () => {
    const { app: small } = await startTestAppliance({ calls: { maxConcurrent: 1 } }, { transcribers: null });
    try {
      expect(small.calls.admit().ok).toBe(true);
      const c = small.calls.startCall({ source: 'sip' });
      expect(small.calls.admit()).toMatchObject({ ok: false, reason: 'capacity' });
      await c.end('bye');
      expect(small.calls.admit().ok).toBe(true);
      const open = small.calls.startCall({ source: 'sip' });
      await small.drain(50);
      expect(small.calls.admit()).toMatchObject({ ok: false, reason: 'draining' });
      expect(open.ended).toBe(true);
      expect(small.store.calls.get(open.id)?.endReason).toBe('shutdown');
    } finally {
      await small.close();
    }
  });

  it('rejects a bad calls query with a stable error code', async () => {
    const res = await authedFetch(app)(`/api/v1/calls?limit=100000`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'EVX_ERR_BAD_REQUEST' } });
    const missing = await authedFetch(app)(`/api/v1/calls/nope`);
    expect(missing.status).toBe(404);
  });
});
