/**
 * A callback end to end with real peers, across a restart of the box.
 *
 * 1. After hours: a caller (sipp, From +4930123456) dials the box; the default group is closed and
 *    offers a callback; the caller presses 1 (RFC 4733 telephone-event); the box confirms and hangs up.
 *    The request is kept (masked in the API).
 * 2. The box stops and starts again on the same data directory (the request waits in the store).
 * 3. Morning: the group is open, alice's desk phone (baresip) registers; the box queues the callback
 *    in the caller's place, rings alice first (she answers), then dials +4930123456 through the trunk
 *    (sipp as the provider: it challenges the INVITE with 407 and checks the credentials), the
 *    customer answers and speaks, alice speaks; both are transcribed on the one outbound interaction
 *    (`caller` and `agent` legs). Alice hangs up: the box ends the customer's leg.
 *
 * Checked: the request is done (exactly one call to the customer), the KPIs (offered, accepted,
 * completed) in the API and Prometheus, nothing of the number in the API or the bus.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { haveBaresip, startBaresip } from '../../helpers/baresip.js';
import { scratchDir } from '../../helpers/paths.js';
import { startSippUas, type SippUas } from '../../helpers/sipp.js';
import { prepareClip, runSipp, sippUacArgs } from '../sip/harness.js';
import {
  AGENT_SPEED,
  AGENT_VOICE,
  ALICE_PASSWORD,
  CALLER_SPEED,
  CALLER_VOICE,
  agentConfig,
  clipDir,
  getJson,
  micWav,
  prompt,
  putRouting,
  requireTools,
  sampleGroups,
  startAcdRig,
  type AcdRig,
} from './harness.js';

const DTMF_PCAP = '/usr/share/sip-tester/dtmf_2833_1.pcap';
const CUSTOMER_NUMBER = '+4930123456';
// what each side says once bridged (espeak-ng, transcribed by the box's small 8 kHz model)
const CUSTOMER_SENTENCE = 'Thank you for calling me back. My card was stolen yesterday.';
const CUSTOMER_WORDS = ['THANK', 'CALLING', 'BACK', 'STOLEN', 'YESTERDAY'];
const AGENT_SENTENCE = 'This is Alice from card security. I have blocked your card.';
const AGENT_WORDS = ['ALICE', 'MALICE', 'SECURE', 'SECURITY', 'BLOCKED'];

const TRUNK = { username: 'branch-7', password: 'trunk secret 7' };

describe.skipIf(!haveBaresip())('ACD: a callback asked for by DTMF, kept across a restart, placed agent first then customer', () => {
  let clips: { dir: string; remove: () => void } | undefined;
  const dataDir = scratchDir('acd-callback');
  let first: AcdRig | undefined;
  let second: AcdRig | undefined;
  let trunk: SippUas | undefined;

  const acd = { ringTimeoutS: 10, routeTimeoutS: 1, callbackOfferS: 30, callbacks: { maxAttempts: 2, retryS: 60, ringS: 20 } };

  beforeAll(() => {
    requireTools();
    clips = clipDir();
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
    trunk?.kill();
    trunk?.cleanup();
    clips?.remove();
  });

  it('keeps the request across a restart and bridges alice with the customer through the authenticating trunk', async () => {
    // --- 1. after hours: the caller asks for a callback --------------------------------------------
    first = await startAcdRig({ dataDir, acd });
    const app1 = first.app;
    await putRouting(app1, sampleGroups({ general: { queue: { hours: { weekly: {} }, whenClosed: 'callback' } } }), [
      agentConfig('alice', 'general', ALICE_PASSWORD),
    ]);
    const callerDir = mkdtempSync(path.join(tmpdir(), 'evx-sipp-callback-'));
    copyFileSync(DTMF_PCAP, path.join(callerDir, 'dtmf_2833_1.pcap'));
    const caller = await runSipp(
      await sippUacArgs(`127.0.0.1:${app1.sip!.port}`, 'uac-callback-dtmf.xml', [
        // greeting, the default route and the offer's start: then 1
        '-d',
        String(prompt('greeting').durationMs + acd.routeTimeoutS * 1000 + 3000),
        '-timeout',
        '60s',
        '-timeout_error',
      ]),
      callerDir,
      70_000,
    );
    rmSync(callerDir, { recursive: true, force: true });
    expect(caller.code, `${caller.stdout}\n${caller.stderr}\n${first.explain()}`).toBe(0);
    const requested = first.bus.find((e) => e.type === 'callback.requested');
    expect(requested, first.explain()).toBeDefined();
    const pending = await getJson<{ callbacks: Record<string, unknown>[] }>(app1, '/api/v1/acd/callbacks?state=pending', 'supervisor');
    expect(pending.callbacks).toEqual([expect.objectContaining({ groupId: 'general', number: '••••••56', state: 'pending', attempts: 0 })]);
    const callbackId = pending.callbacks[0]!['id'] as string;
    await first.close();
    first = undefined;

    // --- 2. the box starts again on the same data; the trunk (sipp) is configured ------------------
    const customerWav = micWav(clips!.dir, 'customer', CUSTOMER_SENTENCE, CALLER_VOICE, CALLER_SPEED, 2, 12);
    const customerClip = prepareClip(customerWav);
    trunk = await startSippUas('uas-trunk-customer.xml', {
      files: { 'speech.ulaw': customerClip.ulaw },
      args: ['-trace_logs'],
      timeoutMs: 150_000,
    });
    customerClip.cleanup();
    second = await startAcdRig({
      dataDir,
      acd,
      sip: {
        trunks: [
          {
            name: 'pstn',
            host: '127.0.0.1',
            port: trunk.port,
            transport: 'udp',
            keepaliveSec: 0,
            outbound: { enabled: true, ...TRUNK, callerId: '+4930999000', allow: ['+4930'], maxPerHour: 10, maxConcurrent: 2 },
          },
        ],
      },
    });
    const { app, bus, explain } = second;
    // morning: the group is open
    await putRouting(app, sampleGroups(), [agentConfig('alice', 'general', ALICE_PASSWORD)]);

    // --- 3. alice's phone registers; the callback is placed ------------------------------------------
    const aliceWav = micWav(clips!.dir, 'alice', AGENT_SENTENCE, AGENT_VOICE, AGENT_SPEED, 6, 8);
    const alice = await startBaresip({
      wav: aliceWav,
      user: 'alice',
      registrar: `127.0.0.1:${app.sip!.port}`,
      password: ALICE_PASSWORD,
      regint: 600,
      answerMode: 'auto',
    });
    second.phones.push(alice);
    const decision = await bus.wait(
      (e) => e.type === 'route.decision' && e.action === 'agent' && e.agentId === 'alice',
      30_000,
      'the callback offered to alice',
      explain,
    );
    const interactionId = (decision.e as Extract<ApplianceEvent, { type: 'route.decision' }>).callId;
    await bus.wait((e) => e.type === 'agent.state' && e.agentId === 'alice' && e.to === 'on-call', 20_000, 'alice on-call', explain);
    await bus.wait((e) => e.type === 'callback.completed' && e.id === callbackId, 20_000, 'customer answered', explain);
    const finals = async (speaker: 'caller' | 'agent') =>
      bus.wait((e) => e.type === 'asr.final' && e.callId === interactionId && e.speaker === speaker, 40_000, `${speaker} words`, explain);
    await finals('caller');
    await finals('agent');
    // alice's file ends: her phone hangs up, the box ends the customer's leg (sipp gets its BYE)
    const trunkDone = await trunk.done;
    expect(trunkDone.code, trunkDone.output).toBe(0);
    const dialled = readdirSync(trunk.dir)
      .filter((f) => f.endsWith('_logs.log'))
      .map((f) => readFileSync(path.join(trunk!.dir, f), 'latin1'))
      .join('');
    expect(dialled).toContain(`CUSTOMER-DIALLED ${CUSTOMER_NUMBER}`);
    await bus.wait((e) => e.type === 'call.ended' && e.callId === interactionId, 15_000, 'interaction ended', explain);

    // one interaction, outbound, with both sides' words on their own legs
    const call = await getJson<Record<string, any>>(app, `/api/v1/calls/${interactionId}`);
    expect(call['direction'], JSON.stringify(call)).toBe('outbound');
    const legs = (call['legs'] as { label: string }[]).map((l) => l.label).sort();
    expect(legs).toEqual(['agent', 'caller']);
    const text = (speaker: string) =>
      bus.items
        .filter(({ e }) => e.type === 'asr.final' && e.callId === interactionId && e.speaker === speaker)
        .map(({ e }) => (e as Extract<ApplianceEvent, { type: 'asr.final' }>).text)
        .join(' ')
        .toUpperCase()
        .split(/\s+/);
    const customerHeard = text('caller');
    const aliceHeard = text('agent');
    expect(
      CUSTOMER_WORDS.some((w) => customerHeard.includes(w)),
      customerHeard.join(' '),
    ).toBe(true);
    expect(
      AGENT_WORDS.some((w) => aliceHeard.includes(w)),
      aliceHeard.join(' '),
    ).toBe(true);

    // the request is done, called once; KPIs in the API and Prometheus
    const done = await getJson<{ callbacks: Record<string, unknown>[] }>(app, '/api/v1/acd/callbacks', 'supervisor');
    expect(done.callbacks).toEqual([expect.objectContaining({ id: callbackId, state: 'done', attempts: 0 })]);
    const kpis = await getJson<Record<string, number>>(app, '/api/v1/acd/callbacks/kpis', 'supervisor');
    expect(kpis).toMatchObject({ offered: 1, accepted: 1, completed: 1, failed: 0, pending: 0 });
    const metrics = (await app.http.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^edgevox_acd_callbacks_total\{outcome="completed"\} 1$/m);
    expect(JSON.stringify(done) + JSON.stringify(bus.items.map(({ e }) => e))).not.toContain('4930123456');
    console.log(
      `callback e2e: decision → customer answered ${
        (bus.find((e) => e.type === 'callback.completed')?.at ?? 0) - decision.at
      } ms (alice rung, answered, trunk 407 + re-INVITE, customer 180/200)`,
    );
  }, 240_000);
});
