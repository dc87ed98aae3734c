/**
 * Routing end to end with real SIP peers: a sipp caller speaks a request ("I lost my card ...",
 * synthesised with espeak-ng, sent as 8 kHz PCMU); the appliance recognises it, classifies the
 * intent, routes the call to the security group's agent and transfers it with a blind REFER. The
 * caller (as a phone would) INVITEs the Refer-To target, which is a second sipp acting as the
 * agent's phone; the caller's NOTIFY (sipfrag 200) completes the transfer and the appliance leaves
 * the call. Afterwards the stored decision explains the route and the screen-pop is served.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { banking77Sample } from '../../../appliance/routing/samples.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authedFetch } from '../../helpers/auth.js';
import { freePort, haveTool, prepareClip, runSipp, SCENARIOS, type Workdir } from '../sip/harness.js';
import { plantedIn } from '../../helpers/planted.js';

/** The API as a technician (every /api route needs a principal). */
const apiFetch = (app: Appliance, url: string, init?: RequestInit) => authedFetch(app)(url, init);

// espeak-ng's voice through the small 8 kHz recogniser: this voice and wording come out as
// "I LOST MY CARD CAN YOU ... LOCK IT ..." (see make eval-routing for accuracy over many utterances).
const REQUEST = 'I lost my card. Can you block it please?';
const VOICE = 'en-us+m3';

describe('a SIP call routed by intent and transferred to the agent with REFER', () => {
  let app: Appliance;
  let work: Workdir;
  const events: ApplianceEvent[] = [];

  beforeAll(async () => {
    for (const tool of ['sipp', 'sox', 'espeak-ng']) if (!haveTool(tool)) throw new Error(`${tool} is required: run make setup`);
    const wav = path.join(process.env['TMPDIR'] ?? '/tmp', `evx-routing-${process.pid}.wav`);
    execFileSync('espeak-ng', ['-v', VOICE, '-s', '140', '-w', wav, REQUEST]);
    // trailing silence so the recogniser sees the end of the utterance while the call is still up
    work = prepareClip(wav, 'speech.ulaw', ['pad', '0.3', '3']);
    ({ app } = await startTestAppliance({ console: { enabled: false }, webrtc: { enabled: false } }));
    app.bus.subscribe((e) => {
      if (e.type !== 'asr.partial') events.push(e);
    });
  });
  afterAll(async () => {
    await app?.close();
    work?.cleanup();
  });

  it('routes "lost my card" to the security agent, who receives the transferred call', async () => {
    const sipPort = app.sip!.port;
    const agentPort = await freePort();
    const deadPort = await freePort();
    // The sample groups; alice (security) answers on the agent sipp, everyone else on a dead port.
    const sample = banking77Sample();
    const agent = (id: string, group: string, port: number) => ({
      id,
      name: id,
      sipUri: `sip:${id}@127.0.0.1:${port}`,
      senior: false,
      state: 'available' as const,
      skills: [{ group, level: 3 }],
    });
    const config = {
      groups: sample.groups,
      rules: sample.rules,
      agents: [
        agent('alice', 'security', agentPort),
        agent('bob', 'cards', deadPort),
        agent('carol', 'general', deadPort),
        agent('dan', 'payments', deadPort),
      ],
    };
    const put = await apiFetch(app, `/api/v1/routing/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(config),
    });
    expect(put.status, await put.clone().text()).toBe(200);

    const agentSipp = runSipp(
      [
        '-sf',
        path.join(SCENARIOS, 'uas-agent-phone.xml'),
        '-m',
        '1',
        '-i',
        '127.0.0.1',
        '-p',
        String(agentPort),
        '-mp',
        String(await freePort(true)),
        '-trace_logs',
        '-timeout',
        '60s',
        '-timeout_error',
      ],
      work.dir,
      65_000,
    );
    const caller = await runSipp(
      [
        `127.0.0.1:${sipPort}`,
        '-sf',
        path.join(SCENARIOS, 'uac-speech-transferred.xml'),
        '-m',
        '1',
        '-i',
        '127.0.0.1',
        '-p',
        String(await freePort()),
        '-mi',
        '127.0.0.1',
        '-mp',
        String(await freePort(true)),
        '-key',
        'apphost',
        '127.0.0.1',
        '-key',
        'appport',
        String(sipPort),
        '-trace_logs',
        '-timeout',
        '80s',
        '-timeout_error',
      ],
      work.dir,
      85_000,
    );
    const agentRun = await agentSipp;
    const seen = events
      .map((e) => (e.type === 'asr.final' ? `final:${e.text}` : e.type === 'intent' ? `intent:${e.intent}:${e.confidence}` : e.type))
      .join(', ');
    const logs = readdirSync(work.dir)
      .filter((f) => f.endsWith('_logs.log'))
      .map((f) => readFileSync(path.join(work.dir, f), 'utf8'))
      .join('\n');
    expect(caller.code, `caller sipp: ${caller.stdout}${caller.stderr}\n${logs}\nevents: ${seen}`).toBe(0);
    expect(agentRun.code, `agent sipp: ${agentRun.stdout}${agentRun.stderr}\n${logs}`).toBe(0);
    expect(logs).toContain(`CALLER-REFER alice@127.0.0.1:${agentPort}`);
    expect(logs).toContain(`AGENT-INVITE sip:alice@127.0.0.1:${agentPort}`);

    for (let i = 0; i < 100 && app.calls.activeCount > 0; i++) await new Promise((r) => setTimeout(r, 50));
    const final = events.find((e) => e.type === 'asr.final');
    const intent = events.find((e): e is Extract<ApplianceEvent, { type: 'intent' }> => e.type === 'intent');
    const decision = events.find((e): e is Extract<ApplianceEvent, { type: 'route.decision' }> => e.type === 'route.decision');
    expect(final, JSON.stringify(events.map((e) => e.type))).toBeDefined();
    expect(intent?.intent, JSON.stringify(intent)).toBe('lost_or_stolen_card');
    expect(decision).toMatchObject({ action: 'agent', groupId: 'security', agentId: 'alice', trigger: 'utterance' });
    // the emotion of the same utterance (from its audio) was in before the decision (events nest on
    // the bus, so compare times, not positions)
    const emotion = events.find(
      (e): e is Extract<ApplianceEvent, { type: 'emotion' }> => e.type === 'emotion' && e.utteranceId === intent!.utteranceId,
    );
    expect(emotion, 'emotion event for the request utterance').toBeDefined();
    expect(emotion!.at).toBeLessThanOrEqual(decision!.at);
    console.log(
      `routing e2e: intent ${intent!.latencyMs} ms, emotion ${emotion!.latencyMs} ms, final → decision ${decision!.latencyMs} ms (decision function ${decision!.decideMs} ms)`,
    );
    expect(decision!.reasons.map((r) => r.code)).toContain('intent.group');
    expect(decision!.latencyMs).not.toBeNull();
    const transfers = events.filter((e) => e.type === 'route.transfer').map((e) => e.state);
    expect(transfers).toEqual(['requested', 'accepted', 'completed']);

    const callId = decision!.callId;
    const call = (await (await apiFetch(app, `/api/v1/calls/${callId}`)).json()) as {
      endReason: string;
      utterances: { analysis: Record<string, unknown> }[];
    };
    expect(call.endReason).toBe('transfer');
    expect(call.utterances[0]!.analysis['intent']).toMatchObject({ intent: 'lost_or_stolen_card' });
    const stored = (await (await apiFetch(app, `/api/v1/routing/decisions?callId=${callId}`)).json()) as {
      decisions: { transferState: string; decision: { agentId: string } }[];
    };
    expect(stored.decisions).toHaveLength(1);
    expect(stored.decisions[0]).toMatchObject({ transferState: 'completed', decision: { agentId: 'alice' } });
    const pop = (await (await apiFetch(app, `/api/v1/calls/${callId}/screen-pop`)).json()) as Record<string, unknown>;
    expect(pop).toMatchObject({
      callId,
      now: { intent: { intent: 'lost_or_stolen_card' } },
      route: { agentId: 'alice', groupId: 'security' },
    });
    expect(plantedIn(JSON.stringify(pop), ['15550142'])).toEqual([]);
    // the agent keeps the call: busy until their desktop (or the API) says otherwise
    const agents = (await (await apiFetch(app, `/api/v1/routing/agents`)).json()) as { agents: { id: string; state: string }[] };
    expect(agents.agents.find((a) => a.id === 'alice')?.state).toBe('busy');
    // the caller's profile was created at call end
    const profile = await apiFetch(app, `/api/v1/profiles/${(pop as { caller: { callerHash: string } }).caller.callerHash}`);
    expect(profile.status).toBe(200);
    expect(await profile.json()).toMatchObject({ callsTotal: 1, lastIntents: [{ intent: 'lost_or_stolen_card' }] });
  }, 150_000);
});
