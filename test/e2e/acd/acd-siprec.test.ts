/**
 * SIPREC in ACD mode: a recording session is observed, never routed. The appliance runs with
 * `acd.mode: 'acd'`, routing configured (banking77Sample) and alice's desk phone (baresip 1.0,
 * security) registered and available. sipp as the recording client (test/scenarios/
 * siprec-two-streams.xml, as in test/e2e/sip/siprec.test.ts) opens a session: the agent stream
 * (label 10) carries speech-en/0.wav, the caller stream (label 11, sent by this test) carries the
 * espeak-ng request "I lost my card. Can you block it please?", which routes a normal call to
 * security/alice.
 *
 * Checked: both participants are transcribed and the caller's intent is found; yet no routing
 * decision is made or stored, nothing is queued, no INVITE or REFER leaves the box (alice's phone
 * sees nothing, sipp's scenario sees only its own transaction), the box sends no RTP on either leg
 * (no greeting, music or prompt), the ACD counts nothing, and every resource is released.
 */
import dgram from 'node:dgram';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRtp } from '../../../appliance/rtp/packet.js';
import { haveBaresip, startBaresip } from '../../helpers/baresip.js';
import { freePort, haveTool, prepareClip, runSipp, SCENARIOS, SHARED, type Workdir } from '../sip/harness.js';
import {
  AGENT_SENTENCE,
  AGENT_SPEED,
  AGENT_VOICE,
  ALICE_PASSWORD,
  CALLER_SPEED,
  CALLER_VOICE,
  REQUEST,
  agentConfig,
  clipDir,
  getJson,
  micWav,
  putRouting,
  requireTools,
  sampleGroups,
  startAcdRig,
  until,
  wordsOf,
  type AcdRig,
  type BusEvent,
  type SipEvent,
  tally,
} from './harness.js';

/** Send raw μ-law bytes as 20 ms PCMU packets, paced on an absolute schedule (as siprec.test.ts). */
async function streamUlaw(sock: dgram.Socket, ulaw: Buffer, port: number): Promise<number> {
  const start = performance.now();
  let n = 0;
  for (let off = 0; off + 160 <= ulaw.length; off += 160, n++) {
    const due = start + n * 20 - performance.now();
    if (due > 0) await new Promise((r) => setTimeout(r, due));
    const buf = Buffer.alloc(12 + 160); // one buffer per datagram: dgram sends asynchronously
    const len = writeRtp(
      buf,
      { marker: n === 0, payloadType: 0, sequence: (1000 + n) & 0xffff, timestamp: 5000 + n * 160, ssrc: 0x1234abcd },
      ulaw.subarray(off, off + 160),
    );
    sock.send(buf.subarray(0, len), port, '127.0.0.1');
  }
  return n;
}

describe.skipIf(!haveBaresip())('ACD mode: a SIPREC session is transcribed but never routed, rung or played to', () => {
  let rig: AcdRig;
  let clips: { dir: string; remove: () => void } | undefined;
  let agentClip: Workdir | undefined;
  let callerClip: Workdir | undefined;
  let aliceWav = '';

  beforeAll(async () => {
    requireTools();
    if (!haveTool('sipp')) throw new Error('sipp (sip-tester) is required: run make setup');
    clips = clipDir();
    agentClip = prepareClip(path.join(SHARED, 'datasets/speech-en/0.wav'));
    // the caller asks at once and then stays silent (the end of the utterance is heard)
    const request = micWav(clips.dir, 'caller', REQUEST, CALLER_VOICE, CALLER_SPEED, 0.5, 3);
    callerClip = prepareClip(request, 'caller.ulaw');
    aliceWav = micWav(clips.dir, 'alice', AGENT_SENTENCE, AGENT_VOICE, AGENT_SPEED, 1, 100);
    rig = await startAcdRig({ acd: { ringTimeoutS: 5 } });
  });
  afterAll(async () => {
    await rig?.close();
    agentClip?.cleanup();
    callerClip?.cleanup();
    clips?.remove();
  });

  it('transcribes both participants; no decision, no INVITE or REFER, no prompt audio, nothing counted', async () => {
    const { app, bus, sip, phones, explain } = rig;
    await putRouting(app, sampleGroups(), [agentConfig('alice', 'security', ALICE_PASSWORD), agentConfig('bob', 'cards')]);
    const alice = await startBaresip({
      wav: aliceWav,
      user: 'alice',
      registrar: `127.0.0.1:${app.sip!.port}`,
      password: ALICE_PASSWORD,
      regint: 600,
      answerMode: 'auto',
    });
    phones.push(alice);
    await bus.wait((e) => e.type === 'agent.state' && e.agentId === 'alice' && e.to === 'available', 15_000, 'alice available', explain);
    const before = await tally(app);
    const aliceEventsBefore = alice.events.length;

    // the caller's stream: this socket sends it to the box's caller leg and counts what comes back
    const stream2 = dgram.createSocket('udp4');
    await new Promise<void>((r) => stream2.bind(0, '127.0.0.1', () => r()));
    let fromBox = 0;
    stream2.on('message', () => fromBox++);
    let sent = 0;
    let sending: Promise<void> = Promise.resolve();
    const onStarted = (e: Extract<SipEvent, { kind: 'started' }>): void => {
      const leg = e.legs.find((l) => l.label === 'caller');
      if (leg !== undefined) sending = streamUlaw(stream2, callerClip!.ulaw, leg.localRtpPort).then((n) => void (sent = n));
    };
    app.sip!.events.once('call.started', (e) => onStarted({ kind: 'started', ...e }));

    // the session lasts as long as the longer stream and a little more (the caller's final, its intent)
    const sessionMs = Math.max(agentClip!.ulaw.length, callerClip!.ulaw.length) / 8 + 1500;
    const t0 = Date.now();
    const r = await runSipp(
      [
        `127.0.0.1:${app.sip!.port}`,
        '-sf',
        path.join(SCENARIOS, 'siprec-two-streams.xml'),
        '-m',
        '1',
        '-d',
        String(Math.ceil(sessionMs)),
        '-i',
        '127.0.0.1',
        '-p',
        String(await freePort()),
        '-mi',
        '127.0.0.1',
        '-mp',
        String(await freePort(true)),
        '-key',
        'stream2_port',
        String(stream2.address().port),
        '-timeout',
        '30s',
        '-timeout_error',
      ],
      agentClip!.dir,
    );
    await sending;
    // sipp's scenario has no place for anything from the box but its answers: an INVITE, REFER or
    // BYE from the box would fail it (exit code ≠ 0)
    expect(r.code, `${r.stdout}\n${r.stderr}\n${explain()}`).toBe(0);
    const sessionWallMs = Date.now() - t0;

    const startedEv = await sip.wait((e) => e.kind === 'started', 5000, 'call.started', explain);
    const started = startedEv.e as Extract<SipEvent, { kind: 'started' }>;
    expect(started.mode).toBe('siprec');
    expect(started.legs.map((l) => l.label)).toEqual(['agent', 'caller']);
    const callId = started.callId;
    const ended = await sip.wait((e) => e.kind === 'ended' && e.callId === callId, 10_000, 'call.ended', explain);
    const endedEv = ended.e as Extract<SipEvent, { kind: 'ended' }>;
    expect(endedEv.reason).toBe('remote_bye');
    expect(sent).toBe(Math.floor(callerClip!.ulaw.length / 160));

    // transcribed: the caller's request (and its intent) and the agent stream
    const callerFinal = await bus.wait(
      (e) => e.type === 'asr.final' && e.callId === callId && e.speaker === 'caller',
      10_000,
      "the caller's words",
      explain,
    );
    await bus.wait((e) => e.type === 'asr.final' && e.callId === callId && e.speaker === 'agent', 10_000, "the agent's words", explain);
    const intent = await bus.wait(
      (e) => e.type === 'intent' && e.callId === callId && e.speaker === 'caller',
      10_000,
      "the caller's intent",
      explain,
    );
    expect((intent.e as BusEvent<'intent'>).intent, explain()).toBe('lost_or_stolen_card');
    expect(intent.at, 'the intent came while the session was up').toBeLessThan(ended.at);
    expect(wordsOf((callerFinal.e as BusEvent<'asr.final'>).text)).toContain('LOST');
    // let the calls settle: the stored call, every resource released
    expect(await until(() => app.calls.activeCount === 0, 10_000)).toBe(true);
    expect(
      await until(() => {
        const res = app.sip!.resources();
        return res.calls === 0 && res.rtpPortPairs === 0 && res.pendingInvites === 0;
      }, 10_000),
      JSON.stringify(app.sip!.resources()),
    ).toBe(true);
    const stored = await getJson<{ utterances: { speaker: string; text: string }[]; legs: { label: string }[] }>(
      app,
      `/api/v1/calls/${callId}`,
    );
    expect(stored.legs.map((l) => l.label).sort()).toEqual(['agent', 'caller']);
    expect(new Set(stored.utterances.map((u) => u.speaker))).toEqual(new Set(['agent', 'caller']));

    // never routed: no decision (on the bus or stored), no transfer, nothing queued
    expect(bus.filter((e) => e.type === 'route.decision' || e.type === 'route.transfer').map((i) => i.e)).toEqual([]);
    const decisions = await getJson<{ decisions: unknown[] }>(app, `/api/v1/routing/decisions?callId=${encodeURIComponent(callId)}`);
    expect(decisions.decisions).toEqual([]);
    const queues = await getJson<{ queues: { calls: unknown[] }[] }>(app, '/api/v1/routing/queues');
    expect(queues.queues.flatMap((q) => q.calls)).toEqual([]);

    // no INVITE out: the box placed no call, alice's phone saw nothing, alice stayed available
    expect(sip.filter((e) => e.kind === 'outbound').map((i) => i.e)).toEqual([]);
    expect(alice.events.slice(aliceEventsBefore).filter((e) => e.type.startsWith('CALL_'))).toEqual([]);
    expect(bus.filter((e) => e.type === 'agent.state').map((i) => (i.e as BusEvent<'agent.state'>).to)).toEqual(['available']);
    const aliceState = await getJson(app, '/api/v1/agents/alice/state');
    expect(aliceState).toMatchObject({ state: 'available', callId: null });

    // no audio from the box: a SIPREC session is received only (no greeting, music or prompt)
    const legsSent = Object.fromEntries(endedEv.legs.map((l) => [l.label, { sent: l.packetsSent, received: l.packetsReceived }]));
    console.log(
      `acd siprec e2e: session ${sessionWallMs} ms; caller "${(callerFinal.e as BusEvent<'asr.final'>).text}" → ${(intent.e as BusEvent<'intent'>).intent}; legs ${JSON.stringify(legsSent)}; RTP to the caller stream's socket ${fromBox}`,
    );
    expect(endedEv.legs.map((l) => [l.label, l.packetsSent])).toEqual([
      ['agent', 0],
      ['caller', 0],
    ]);
    expect(endedEv.legs.find((l) => l.label === 'caller')?.packetsReceived).toBe(sent);
    stream2.close();
    expect(fromBox, 'RTP from the box to the recording client').toBe(0);

    // the ACD counted nothing
    expect(await tally(app)).toEqual(before);
  }, 90_000);
});
