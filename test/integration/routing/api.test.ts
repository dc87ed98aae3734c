/**
 * The routing runtime inside a running appliance (scripted transcripts; the ASR and SIP paths are
 * covered by test/e2e/routing): a caller's final utterance is classified by the shipped intent model,
 * routed, and explained; the API configures groups/agents/rules/scripts, serves decisions, queues,
 * the screen-pop, profiles and alerts; alerts are counted in the metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import type { TranscriberFactory } from '../../../appliance/calls/transcriber.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { banking77Sample } from '../../../appliance/routing/samples.js';
import { angryEmotion } from '../../helpers/alerts.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authHeader } from '../../helpers/auth.js';
import { plantedIn } from '../../helpers/planted.js';

/** Emits one final (the caller's request) once a second of audio has arrived. */
const TEXT = 'i lost my card can you block it';
const scripted: TranscriberFactory = (_opts, cb) => {
  let samples = 0;
  let done = false;
  return {
    write: (pcm) => {
      samples += pcm.length;
      if (!done && samples >= 8000) {
        done = true;
        cb.final({ text: TEXT, words: [], startMs: 0, endMs: 1000, confidence: 0.9, latencyMs: 50 });
      }
    },
    lagMs: () => 0,
    stats: () => ({ droppedFrames: 0, decodedMs: 0, skippedMs: 0, chunkLatencyP95Ms: 0 }),
    close: async () => {},
  };
};

let app: Appliance;
const events: ApplianceEvent[] = [];
const api = async (method: string, url: string, body?: unknown) => {
  const res = await app.http.inject({
    method: method as 'GET',
    url,
    headers: authHeader(app),
    ...(body === undefined ? {} : { payload: body as object }),
  });
  return { status: res.statusCode, body: res.body === '' ? null : (JSON.parse(res.body) as Record<string, unknown>) };
};
const until = async (ok: () => boolean) => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
};

beforeAll(async () => {
  ({ app } = await startTestAppliance(
    // The sample agents' phones are on pbx.test: callers may be sent there.
    { sip: { enabled: false, transferTargets: ['pbx.test'] }, console: { enabled: false }, webrtc: { enabled: false } },
    { transcribers: scripted },
  ));
  app.bus.subscribe((e) => events.push(e));
});
afterAll(async () => {
  await app?.close();
});

describe('routing runtime and API', () => {
  it('configures routing through the API and refuses an inconsistent change', async () => {
    const sample = banking77Sample((id) => `sip:${id}@pbx.test`);
    const put = await api('PUT', '/api/v1/routing/config', sample);
    expect(put.status).toBe(200);
    expect((put.body!['groups'] as unknown[]).length).toBe(8);
    const bad = await api('PUT', '/api/v1/routing/agents/zed', {
      id: 'zed',
      name: 'Zed',
      sipUri: 'sip:zed@pbx.test',
      senior: false,
      skills: [{ group: 'nope', level: 3 }],
    });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'EVX_ERR_ROUTING_CONFIG' } } });
    expect(
      (await api('PUT', '/api/v1/routing/agents/zed', { id: 'zed', name: 'Zed', sipUri: 'not a uri', senior: false, skills: [] })).status,
    ).toBe(400);
    expect((await api('PUT', '/api/v1/routing/rules', { angerThreshold: 0.6 })).body).toMatchObject({
      angerThreshold: 0.6,
      defaultGroup: 'general',
    });
    expect((await api('PUT', '/api/v1/routing/agents/dev/state', { state: 'offline' })).body).toMatchObject({
      id: 'dev',
      state: 'offline',
    });
  });

  it('routes a call from its first caller utterance, explains it, and serves the screen-pop', async () => {
    const call = app.calls.startCall({ source: 'sip', callerNumber: '+15550199' });
    call.answer();
    const leg = call.addLeg({ label: 'caller', codec: 'PCMU', sampleRateHz: 8000 });
    const tone = Int16Array.from({ length: 1600 }, (_, i) => Math.round(3000 * Math.sin(i / 5)));
    for (let i = 0; i < 10; i++) leg.write(tone, 8000);
    await until(() => events.some((e) => e.type === 'route.decision'));
    const intent = events.find((e): e is Extract<ApplianceEvent, { type: 'intent' }> => e.type === 'intent');
    expect(intent).toMatchObject({ callId: call.id, intent: 'lost_or_stolen_card', outOfScope: false });
    const decisions = await api('GET', `/api/v1/routing/decisions?callId=${call.id}`);
    const d = (
      decisions.body!['decisions'] as {
        decision: { action: string; groupId: string; agentId: string; reasons: { code: string }[] };
        latencyMs: number;
      }[]
    )[0]!;
    // security: cleo (senior, level 5) and dev (offline); ada has security at level 2 as an adjacent skill → least skilled adequate
    expect(d.decision).toMatchObject({ action: 'agent', groupId: 'security', agentId: 'ada' });
    expect(d.decision.reasons.map((r) => r.code)).toEqual(['intent.group', 'priority.normal', 'agent.longest-idle']);
    expect(d.latencyMs).toBeGreaterThanOrEqual(0);

    const pop = await api('GET', `/api/v1/calls/${call.id}/screen-pop`);
    expect(pop.status).toBe(200);
    expect(pop.body).toMatchObject({
      callId: call.id,
      now: { intent: { intent: 'lost_or_stolen_card' }, utterances: 1 },
      route: { agentId: 'ada', groupId: 'security' },
      caller: { known: false },
    });
    expect(plantedIn(JSON.stringify(pop.body), ['15550199', 'block it'])).toEqual([]);

    // an angry utterance (published as the emotion analyser would) raises an alert with a script
    angryEmotion(app, call.id, leg.id);
    const alerts = await api('GET', `/api/v1/alerts?callId=${call.id}`);
    const alert = (alerts.body!['alerts'] as { id: number; kind: string; severity: string; details: { script: { id: string } } }[])[0]!;
    expect(alert).toMatchObject({ kind: 'caller_angry', severity: 'critical', details: { script: { id: 'fraud-reassure' } } });
    expect((await api('POST', `/api/v1/alerts/${alert.id}/ack`, {})).body).toMatchObject({
      state: 'acknowledged',
      acknowledgedBy: expect.stringMatching(/^token:/),
    });
    const metrics = await app.http.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/edgevox_alerts_total\{kind="caller_angry",severity="critical"\} 1/);

    await call.end('bye');
    const hash = (pop.body!['caller'] as { callerHash: string }).callerHash;
    await until(() => app.store.db.prepare('SELECT 1 FROM caller_profiles WHERE caller_hash = ?').get(hash) !== undefined);
    const profile = await api('GET', `/api/v1/profiles/${hash}`);
    expect(profile.body).toMatchObject({
      callsTotal: 1,
      lastIntents: [{ intent: 'lost_or_stolen_card' }],
      lastEmotion: { category: 'angry' },
    });
    expect((await api('PUT', `/api/v1/profiles/${hash}/tags`, { vip: true, tags: ['gold'] })).body).toMatchObject({
      vip: true,
      derivedTags: expect.arrayContaining(['vip', 'gold', 'angry-last-call']),
    });
    expect((await api('GET', `/api/v1/profiles/${'0'.repeat(32)}`)).status).toBe(404);
    // the agent is free again: the call ended without a transfer (no SIP in this test)
    const agents = (await api('GET', '/api/v1/routing/agents')).body!['agents'] as { id: string; state: string }[];
    expect(agents.find((a) => a.id === 'ada')?.state).toBe('available');
  });

  it('serves queues and the OpenAPI description of the new routes', async () => {
    expect((await api('GET', '/api/v1/routing/queues')).body).toMatchObject({
      queues: expect.arrayContaining([{ groupId: 'cards', calls: [] }]),
    });
    const openapi = (await api('GET', '/api/v1/openapi.json')).body as { paths: Record<string, unknown> };
    for (const p of [
      '/api/v1/routing/config',
      '/api/v1/routing/agents/{id}/state',
      '/api/v1/calls/{id}/screen-pop',
      '/api/v1/alerts',
      '/api/v1/profiles/{hash}',
    ])
      expect(Object.keys(openapi.paths)).toContain(p);
  });
});
