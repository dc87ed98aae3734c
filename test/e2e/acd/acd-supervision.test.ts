/**
 * Supervision end to end with real phones (baresip 1.0): in ACD mode a caller is routed by intent
 * to alice's registered desk phone and bridged; a supervisor asks through the API
 * (POST /api/v1/acd/calls/:callId/supervision, supervisor token) for bob — an agent account whose
 * phone is registered to the box — to barge in. Bob's phone rings and answers; then each phone plays
 * its own tone (caller 400 Hz after its request, alice 800 Hz, bob 1200 Hz) and what each phone heard
 * (baresip's sndfile dump) is measured: in barge each hears the other two and not itself.
 *
 * Also checked: a viewer is refused (403), PATCH switches the mode (and back), the audit trail has
 * the POST and the PATCHes (refused requests are not audited), the bus has
 * supervision.started with ids only, the counter edgevox_acd_supervision_sessions_total{mode="barge"}
 * counts it, and the caller hanging up ends the supervision and bob's leg.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_CHANGE_ACTION } from '../../../appliance/auth/auditTrail.js';
import type { WavAudio } from '../../../appliance/audio/wav.js';
import { authedFetch } from '../../helpers/auth.js';
import { haveBaresip, startBaresip } from '../../helpers/baresip.js';
import {
  ALICE_PASSWORD,
  CALLER_SPEED,
  CALLER_VOICE,
  REQUEST,
  agentConfig,
  apiFetch,
  clipDir,
  heardBy,
  incomingInvite,
  micWav,
  prompt,
  putRouting,
  requireTools,
  sampleGroups,
  slice,
  stamped,
  startAcdRig,
  until,
  untilAsync,
  type AcdRig,
} from './harness.js';

const BOB_PASSWORD = 'bob-desk-phone-12';
const TONES = { caller: 400, alice: 800, bob: 1200 } as const;
type Who = keyof typeof TONES;

/** `seconds` of a sine at `freqHz` (amplitude 0.25 of full scale), mono 16-bit 8 kHz, after `leadS` of silence. */
function toneWav(dir: string, name: string, freqHz: number, leadS: number, seconds: number): string {
  const out = path.join(dir, `${name}.wav`);
  execFileSync('sox', [
    '-n',
    '-r',
    '8000',
    '-c',
    '1',
    '-b',
    '16',
    out,
    'synth',
    String(seconds),
    'sine',
    String(freqHz),
    'vol',
    '0.25',
    'pad',
    String(leadS),
    '0',
  ]);
  return out;
}

/** Goertzel amplitude of `freqHz` in the audio (a sine of amplitude A gives about A). */
function amplitude(a: WavAudio, freqHz: number): number {
  const k = 2 * Math.cos((2 * Math.PI * freqHz) / a.sampleRateHz);
  let s1 = 0;
  let s2 = 0;
  for (const x of a.samples) {
    const s0 = x + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (2 * Math.sqrt(Math.max(0, s1 * s1 + s2 * s2 - k * s1 * s2))) / a.samples.length;
}

/** Which tones a slice carries: above 800 (of about 8000 sent), anything between 300 and 800 is a failure. */
function tones(a: WavAudio): { heard: Who[]; amp: Record<Who, number> } {
  const amp = { caller: 0, alice: 0, bob: 0 };
  for (const who of Object.keys(TONES) as Who[]) amp[who] = Math.round(amplitude(a, TONES[who]));
  return { heard: (Object.keys(TONES) as Who[]).filter((w) => amp[w] > 800), amp };
}

describe.skipIf(!haveBaresip())('ACD supervision with real phones: a supervisor barges into a SIP-agent call', () => {
  let rig: AcdRig;
  let clips: { dir: string; remove: () => void } | undefined;
  let callerWav = '';
  let aliceWav = '';
  let bobWav = '';
  /** When the caller's tone starts, from its call's answer. */
  let callerToneAtMs = 0;

  beforeAll(async () => {
    requireTools();
    const { durationMs: greetingMs } = prompt('greeting');
    clips = clipDir();
    // the request (routed to security/alice), then 400 Hz from well after it
    const request = micWav(clips.dir, 'request', REQUEST, CALLER_VOICE, CALLER_SPEED, greetingMs / 1000 + 1, 8);
    callerToneAtMs = Number(execFileSync('sox', ['--i', '-D', request]).toString().trim()) * 1000;
    const tone = toneWav(clips.dir, 'caller-tone', TONES.caller, 0, 100);
    callerWav = path.join(clips.dir, 'caller.wav');
    execFileSync('sox', [request, tone, callerWav]);
    aliceWav = toneWav(clips.dir, 'alice', TONES.alice, 1, 100);
    bobWav = toneWav(clips.dir, 'bob', TONES.bob, 0.5, 100);
    rig = await startAcdRig({ acd: { ringTimeoutS: 10 } });
  });
  afterAll(async () => {
    await rig?.close();
    clips?.remove();
  });

  it('rings bob’s registered phone, mixes the three legs in barge, audits the request, and ends with the call', async () => {
    const { app, bus, sip, phones, explain } = rig;
    const sipPort = app.sip!.port;
    await putRouting(app, sampleGroups(), [agentConfig('alice', 'security', ALICE_PASSWORD), agentConfig('bob', 'cards', BOB_PASSWORD)]);
    const register = async (user: string, password: string, wav: string) => {
      const phone = await startBaresip({
        wav,
        user,
        registrar: `127.0.0.1:${sipPort}`,
        password,
        regint: 600,
        answerMode: 'auto',
        record: true,
      });
      phones.push(phone);
      await bus.wait(
        (e) => e.type === 'agent.registration' && e.agentId === user && e.change === 'registered',
        15_000,
        `${user} registered`,
        explain,
      );
      return phone;
    };
    const alice = await register('alice', ALICE_PASSWORD, aliceWav);
    const bob = await register('bob', BOB_PASSWORD, bobWav);
    await bus.wait((e) => e.type === 'agent.state' && e.agentId === 'alice' && e.to === 'available', 5000, 'alice available', explain);
    const aliceEstablished = stamped(alice, 'CALL_ESTABLISHED', 90_000);
    aliceEstablished.catch(() => undefined);

    const caller = await startBaresip({ wav: callerWav, user: 'caller', record: true });
    phones.push(caller);
    await caller.dial(`sip:support@127.0.0.1:${sipPort}`);
    const started = await sip.wait((e) => e.kind === 'started', 15_000, 'call.started', explain);
    const callId = started.e.kind === 'started' ? started.e.callId : '';
    await aliceEstablished;
    await bus.wait((e) => e.type === 'agent.state' && e.agentId === 'alice' && e.to === 'on-call', 10_000, 'alice on-call', explain);

    const url = `/api/v1/acd/calls/${callId}/supervision`;
    const body = JSON.stringify({ supervisorId: 'bob', mode: 'barge' });
    const post = (role: 'supervisor' | 'technician') =>
      apiFetch(app, url, { method: 'POST', headers: { 'content-type': 'application/json' }, body }, role);
    // viewers may not; an unknown call is 404
    const asViewer = await authedFetch(app, 'viewer')(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(asViewer.status).toBe(403);
    const unknown = await apiFetch(
      app,
      '/api/v1/acd/calls/nope/supervision',
      { method: 'POST', headers: { 'content-type': 'application/json' }, body },
      'supervisor',
    );
    expect(unknown.status).toBe(404);

    const bobRings = stamped(bob, incomingInvite, 15_000);
    const bobEstablished = stamped(bob, 'CALL_ESTABLISHED', 15_000);
    bobEstablished.catch(() => undefined);
    const since = Date.now() - 1;
    const res = await post('supervisor');
    expect(res.status, await res.clone().text()).toBe(202);
    expect(await res.json()).toMatchObject({ callId, supervisorId: 'bob', mode: 'barge', state: 'ringing' });
    await bobRings;
    await bobEstablished;
    const joined = await bus.wait((e) => e.type === 'supervision.started' && e.callId === callId, 10_000, 'supervision.started', explain);
    expect(joined.e).toEqual({ type: 'supervision.started', at: expect.any(Number), callId, supervisorId: 'bob', mode: 'barge' });
    expect((await post('technician')).status).toBe(409); // one supervision per call
    // a mode change and back (PATCH), each published; GET of an unsupervised call is 404
    const patch = (mode: string) =>
      apiFetch(
        app,
        url,
        { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode }) },
        'supervisor',
      );
    expect(await (await patch('listen')).json()).toMatchObject({ mode: 'listen', state: 'active' });
    expect((await patch('barge')).status).toBe(200);
    expect((await patch('shout')).status).toBe(400);
    expect(bus.filter((e) => e.type === 'supervision.mode').map((e) => (e.e as { mode: string }).mode)).toEqual(['listen', 'barge']);
    expect((await apiFetch(app, '/api/v1/acd/calls/nope/supervision', undefined, 'supervisor')).status).toBe(404);

    // the three talk for a while (the caller's tone starts ~8 s after its request; bob's at once)
    const view = await untilAsync(
      async () => (await (await apiFetch(app, url, undefined, 'supervisor')).json()) as { mixer: { frames: number } | null },
      (v) => (v.mixer?.frames ?? 0) > 400,
      20_000,
    );
    expect(view.mixer!.frames).toBeGreaterThan(400);
    // until the caller's tone has played for 3 s
    await new Promise((r) => setTimeout(r, Math.max(0, started.at + callerToneAtMs + 3000 - Date.now())));
    const figures = (await (await apiFetch(app, url, undefined, 'supervisor')).json()) as { mixer: unknown };
    console.log(`[supervision e2e] mixer ${JSON.stringify(figures.mixer)}`);

    const metrics = await (await fetch(`${app.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/edgevox_acd_supervision_sessions_total\{mode="barge"\} 1/);
    const audit = app.store.audit.list(100).filter((e) => e.action === API_CHANGE_ACTION && e.at >= since);
    expect(audit.map((e) => e.target).sort()).toEqual([
      'PATCH /api/v1/acd/calls/:callId/supervision',
      'PATCH /api/v1/acd/calls/:callId/supervision',
      'POST /api/v1/acd/calls/:callId/supervision',
    ]);
    expect(audit.find((e) => e.target.startsWith('POST'))!.details).toMatchObject({ role: 'supervisor', params: { callId } });

    // the caller hangs up: the supervision ends and bob's leg too
    const bobClosed = stamped(bob, 'CALL_CLOSED', 15_000);
    await caller.hangup();
    await bobClosed;
    const ended = await bus.wait((e) => e.type === 'supervision.ended' && e.callId === callId, 10_000, 'supervision.ended', explain);
    expect(ended.e).toMatchObject({ reason: 'call-ended' });
    expect(JSON.stringify(bus.filter((e) => e.type.startsWith('supervision.')))).not.toMatch(/sip:|127\.0\.0\.1|password/);
    expect(await until(() => app.sip!.resources().calls === 0, 10_000)).toBe(true);

    // what each phone heard over the last 2 s before the hang-up (all three tones playing, barge)
    const last = (a: WavAudio) => slice(a, a.durationMs - 2500, a.durationMs - 500);
    const heard = { caller: tones(last(heardBy(caller))), alice: tones(last(heardBy(alice))), bob: tones(last(heardBy(bob))) };
    console.log(`[supervision e2e] heard ${JSON.stringify(heard)}`);
    expect(heard.caller.heard, explain()).toEqual(['alice', 'bob']);
    expect(heard.alice.heard).toEqual(['caller', 'bob']);
    expect(heard.bob.heard).toEqual(['caller', 'alice']);
  }, 150_000);
});
