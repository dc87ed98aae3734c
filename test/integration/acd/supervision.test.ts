/**
 * Supervision of a bridged SIP call over real RTP sockets: a caller's inbound call (TestUac)
 * bridged to a call the box placed to an agent's phone, and the supervisor's phone rung by
 * `Supervisions` (placeCall to its registered contact) and answered. Each peer sends its own tone
 * (caller 400 Hz, agent 800 Hz, supervisor 1200 Hz, μ-law, 20 ms packets) and what each peer
 * receives is measured (Goertzel) in listen, whisper and barge, switched mid-call; stopping hands
 * caller and agent back to the plain relay; the supervisor hanging up leaves the call going; the
 * caller's call ending ends the supervision and hangs up the supervisor; a hold by the agent's phone
 * ends it and leaves the bridge detached for the ACD; a hold by the caller's phone and a transfer the
 * box refuses end it with caller and agent relayed again. The mixer's and the
 * relay's added delay are printed (`[supervision delay]`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeMulaw, encodeMulaw } from '../../../appliance/codecs/g711.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { createLogger } from '../../../appliance/log/logger.js';
import { Supervisions, type SupervisionEvents } from '../../../appliance/acd/supervision.js';
import type { MediaBridge } from '../../../appliance/rtp/bridge.js';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import type { CallStartedEvent } from '../../../appliance/telephony/types.js';
import { answerInvite, phoneRequest, phoneSdp, RtpPeer, type ReceivedRtp } from '../sip/phone.js';
import { TestUac } from '../sip/uac.js';
import { until } from '../../e2e/acd/harness.js';

const open: Array<{ close(): unknown }> = [];
const timers: NodeJS.Timeout[] = [];
afterEach(async () => {
  for (const t of timers.splice(0)) clearInterval(t);
  for (const o of open.splice(0).reverse()) await o.close();
});

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Wait for `cond` (polled), failing with `what` after 5 s. */
const waitUntil = async (cond: () => boolean, what: string): Promise<void> => expect(await until(cond, 5000), what).toBe(true);

/** Stream a μ-law tone to `port` every 20 ms, phase-continuous, until the test ends. */
function streamTone(peer: RtpPeer, port: () => number, freqHz: number): void {
  let n = 0;
  const pcm = new Int16Array(160);
  const payload = new Uint8Array(160);
  timers.push(
    setInterval(() => {
      for (let i = 0; i < 160; i++, n++) pcm[i] = Math.round(6000 * Math.sin((2 * Math.PI * freqHz * n) / 8000));
      encodeMulaw(pcm, payload);
      let to: number;
      try {
        to = port();
      } catch {
        return; // its call has ended
      }
      peer.send(to, 0, payload);
    }, 20),
  );
}

/** Amplitude of `freqHz` in `pcm` (Goertzel; a full-scale sine of amplitude A gives about A). */
function goertzel(pcm: Int16Array, freqHz: number, rateHz = 8000): number {
  const k = 2 * Math.cos((2 * Math.PI * freqHz) / rateHz);
  let s1 = 0;
  let s2 = 0;
  for (const x of pcm) {
    const s0 = x + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - k * s1 * s2;
  return (2 * Math.sqrt(Math.max(0, power))) / pcm.length;
}

const TONES = { caller: 400, agent: 800, supervisor: 1200 } as const;
type Who = keyof typeof TONES;

/** Which of the three tones the packets received from `fromIndex` on carry (amplitude above 1000 of 6000). */
function tonesIn(pkts: readonly ReceivedRtp[], fromIndex: number): { heard: Who[]; amplitude: Record<Who, number> } {
  const audio = pkts.slice(fromIndex).filter((p) => p.payloadType === 0);
  const pcm = new Int16Array(audio.length * 160);
  audio.forEach((p, i) => decodeMulaw(p.payload, pcm.subarray(i * 160, i * 160 + p.payload.length)));
  const amplitude = { caller: 0, agent: 0, supervisor: 0 };
  for (const who of Object.keys(TONES) as Who[]) amplitude[who] = Math.round(goertzel(pcm, TONES[who]));
  const heard = (Object.keys(TONES) as Who[]).filter((who) => amplitude[who] > 1000);
  for (const who of Object.keys(TONES) as Who[]) {
    if (!heard.includes(who) && amplitude[who] > 300) throw new Error(`ambiguous ${who} tone: ${JSON.stringify(amplitude)}`);
  }
  return { heard, amplitude };
}

interface Rig {
  server: SipServer;
  callerId: string;
  agentCallId: string;
  bridge: MediaBridge;
  peers: Record<Who, RtpPeer>;
  /** The supervisor's phone now (a test may give them a fresh one). */
  current: { supPhone: TestUac };
  agentPhone: TestUac;
  caller: TestUac;
  supervisions: Supervisions;
  bus: ApplianceEvent[];
  ended: SupervisionEvents['ended'][];
  /** Calls the box placed that were answered (the supervisor's are the later ones). */
  answered: string[];
}

async function rig(): Promise<Rig> {
  const rtpBase = 30000 + 2 * Math.floor(Math.random() * 5000);
  const server = new SipServer({ port: 0, rtpPortMin: rtpBase, rtpPortMax: rtpBase + 19 });
  const started = new Promise<CallStartedEvent>((r) => server.events.on('call.started', r));
  const answered: string[] = [];
  server.events.on('call.outbound', (e) => e.state === 'answered' && answered.push(e.callId));
  await server.listen();
  open.push(server);
  const peers = { caller: await RtpPeer.open(), agent: await RtpPeer.open(), supervisor: await RtpPeer.open() };
  open.push(peers.caller, peers.agent, peers.supervisor);
  const caller = await new TestUac(server.port).open();
  open.push(caller);
  await caller.call(peers.caller.port);
  const callerId = (await started).callId;

  const agentPhone = await new TestUac(server.port).open();
  open.push(agentPhone);
  const oc = server.placeCall({ target: { uri: `sip:agent7@127.0.0.1:${agentPhone.port}` }, ringTimeoutMs: 5000, codecs: ['PCMU'] });
  await answerInvite(agentPhone, phoneSdp(peers.agent.port, 'PCMU'));
  const outcome = await oc.result;
  if (outcome.type !== 'answered') throw new Error('agent call not answered');
  const agentCallId = outcome.call.id;
  const bridge = server.bridge(callerId, agentCallId);

  const supPhone = await new TestUac(server.port).open();
  open.push(supPhone);
  const current = { supPhone };
  const bus: ApplianceEvent[] = [];
  const supervisions = new Supervisions({
    sip: server,
    calls: { bridged: (id) => (id === callerId && bridge.state !== 'closed' ? { agentId: 'a7', agentCallId, bridge } : undefined) },
    contactsOf: (agentId) =>
      agentId === 'sup1'
        ? [
            {
              target: { transport: 'udp', address: '127.0.0.1', port: current.supPhone.port },
              contact: `sip:sup1@127.0.0.1:${current.supPhone.port}`,
            },
          ]
        : [],
    bus: { publish: (e) => bus.push(e) },
    logger: createLogger({ level: 'silent', includePii: false }),
    now: () => Date.now(),
    ringTimeoutMs: 5000,
  });
  open.push(supervisions);
  const ended: SupervisionEvents['ended'][] = [];
  supervisions.events.on('ended', (e) => ended.push(e));

  streamTone(peers.caller, () => server.leg(callerId, 'leg0').rtp.localPort, TONES.caller);
  streamTone(peers.agent, () => server.leg(agentCallId, 'leg0').rtp.localPort, TONES.agent);
  return { server, callerId, agentCallId, bridge, peers, current, agentPhone, caller, supervisions, bus, ended, answered };
}

/** Start supervising; the supervisor's phone answers and starts sending its tone. */
async function join(r: Rig, mode: 'listen' | 'whisper' | 'barge'): Promise<string> {
  const view = r.supervisions.start(r.callerId, 'sup1', mode);
  expect(view).toMatchObject({ state: 'ringing', mode, supervisorId: 'sup1', mixer: null });
  await answerInvite(r.current.supPhone, phoneSdp(r.peers.supervisor.port, 'PCMU'));
  await waitUntil(() => r.supervisions.get(r.callerId)?.state === 'active', 'supervisor joined');
  const supCallId = r.answered.at(-1)!;
  streamTone(r.peers.supervisor, () => r.server.leg(supCallId, 'leg0').rtp.localPort, TONES.supervisor);
  return supCallId;
}

/** What each peer hears over the next `ms` (after a settling time). */
async function listen(r: Rig, ms = 600): Promise<Record<Who, Who[]>> {
  await tick(120);
  const marks = {
    caller: r.peers.caller.received.length,
    agent: r.peers.agent.received.length,
    supervisor: r.peers.supervisor.received.length,
  };
  await tick(ms);
  return {
    caller: tonesIn(r.peers.caller.received, marks.caller).heard,
    agent: tonesIn(r.peers.agent.received, marks.agent).heard,
    supervisor: tonesIn(r.peers.supervisor.received, marks.supervisor).heard,
  };
}

describe('supervision of a bridged SIP call (real RTP sockets)', () => {
  it('listen, whisper and barge decide who hears whom, switched mid-call; stop hands the call back to the plain relay', async () => {
    const r = await rig();
    // bridged: caller and agent hear each other
    const before = await listen(r, 400);
    expect(before.caller).toEqual(['agent']);
    expect(before.agent).toEqual(['caller']);
    const relayDelay = r.bridge.stats().delay;

    await join(r, 'listen');
    expect(r.bridge.state).toBe('unbridged');
    expect(await listen(r)).toEqual({ caller: ['agent'], agent: ['caller'], supervisor: ['caller', 'agent'] });
    r.supervisions.setMode(r.callerId, 'whisper');
    expect(await listen(r)).toEqual({ caller: ['agent'], agent: ['caller', 'supervisor'], supervisor: ['caller', 'agent'] });
    r.supervisions.setMode(r.callerId, 'barge');
    expect(await listen(r)).toEqual({ caller: ['agent', 'supervisor'], agent: ['caller', 'supervisor'], supervisor: ['caller', 'agent'] });
    r.supervisions.setMode(r.callerId, 'listen');
    expect(await listen(r)).toEqual({ caller: ['agent'], agent: ['caller'], supervisor: ['caller', 'agent'] });

    const mixer = r.supervisions.get(r.callerId)!.mixer!;
    expect(mixer.frames).toBeGreaterThan(100);
    // the figures quoted in the change's report
    console.log(`[supervision delay] relay before: ${JSON.stringify(relayDelay)}`);
    console.log(`[supervision delay] mixer: ${JSON.stringify(mixer)}`);
    expect(mixer.delay.p95Ms).toBeLessThan(60);

    // stop: the supervisor's phone gets a BYE, caller and agent are relayed again
    const bye = r.current.supPhone.waitRequest('BYE');
    r.supervisions.stop(r.callerId);
    r.current.supPhone.reply(await bye, 200);
    expect(r.bridge.state).toBe('bridged');
    const forwarded = r.bridge.stats().packetsForwarded;
    const after = await listen(r, 400);
    expect(after.caller).toEqual(['agent']);
    expect(after.agent).toEqual(['caller']);
    expect(r.bridge.stats().packetsForwarded).toBeGreaterThan(forwarded + 20);
    console.log(`[supervision delay] relay after: ${JSON.stringify(r.bridge.stats().delay)}`);
    expect(r.supervisions.get(r.callerId)).toBeUndefined();
    expect(r.ended.map((e) => e.reason)).toEqual(['stopped']);
    expect(r.bus.map((e) => e.type)).toEqual([
      'supervision.started',
      'supervision.mode',
      'supervision.mode',
      'supervision.mode',
      'supervision.ended',
    ]);
    // ids only: no URI or number in any event
    expect(JSON.stringify(r.bus)).not.toMatch(/sip:|127\.0\.0\.1/);
  });

  it('the supervisor hanging up leaves the call going; the caller’s call ending ends a supervision and hangs up the supervisor', async () => {
    const r = await rig();
    await join(r, 'barge');
    const ack = await r.current.supPhone.waitRequest('ACK');
    r.current.supPhone.sendRaw(phoneRequest(r.current.supPhone, ack, 'BYE', 20));
    await r.current.supPhone.waitResponse('BYE', 200, 20);
    await waitUntil(() => r.ended.length === 1, 'supervision ended');
    expect(r.ended[0]).toMatchObject({ reason: 'supervisor-left' });
    expect(r.bridge.state).toBe('bridged');
    const after = await listen(r, 400);
    expect(after.caller).toEqual(['agent']);
    expect(after.agent).toEqual(['caller']);

    // a second supervision, ended by the caller's call ending (the supervisor's phone afresh: new messages only)
    r.current.supPhone = await new TestUac(r.server.port).open();
    open.push(r.current.supPhone);
    await join(r, 'whisper');
    const supBye = r.current.supPhone.waitRequest('BYE');
    await Promise.all([r.server.hangup(r.callerId), r.caller.waitRequest('BYE').then((b) => r.caller.reply(b, 200))]);
    r.current.supPhone.reply(await supBye, 200);
    await waitUntil(() => r.ended.length === 2, 'second supervision ended');
    expect(r.ended[1]).toMatchObject({ reason: 'call-ended' });
    expect(r.supervisions.list()).toEqual([]);
    expect(() => r.supervisions.start(r.callerId, 'sup1', 'listen')).toThrow(/not bridged|no call/);
  });

  it('a hold by the agent’s phone ends the supervision and leaves the bridge to the ACD (detached for its hold music)', async () => {
    const r = await rig();
    await join(r, 'listen');
    const ack = await r.agentPhone.waitRequest('ACK');
    r.agentPhone.sendRaw(phoneRequest(r.agentPhone, ack, 'INVITE', 30, phoneSdp(r.peers.agent.port, 'PCMU', undefined, 'sendonly')));
    const bye = r.current.supPhone.waitRequest('BYE');
    await waitUntil(() => r.ended.length === 1, 'supervision ended by the hold');
    expect(r.ended[0]).toMatchObject({ reason: 'call-held' });
    r.current.supPhone.reply(await bye, 200);
    expect(r.bridge.state).toBe('unbridged');
    // the taps are free: the ACD's resume bridges again
    r.bridge.bridge();
    expect(r.bridge.state).toBe('bridged');
  });

  it('a hold by the caller’s phone ends the supervision and gives caller and agent back the relay (the ACD plays no music for it)', async () => {
    const r = await rig();
    await join(r, 'listen');
    const bye = r.current.supPhone.waitRequest('BYE');
    r.caller.sendRaw(r.caller.request('INVITE', { body: r.caller.sdp(r.peers.caller.port, ['a=sendonly']) }));
    await waitUntil(() => r.ended.length === 1, 'supervision ended by the hold');
    expect(r.ended[0]).toMatchObject({ reason: 'call-held' });
    r.current.supPhone.reply(await bye, 200);
    expect(r.bridge.state).toBe('bridged');
    // the caller resumes: caller and agent hear each other, nobody has to bridge them again
    r.caller.sendRaw(r.caller.request('INVITE', { body: r.caller.sdp(r.peers.caller.port, ['a=sendrecv']) }));
    const after = await listen(r, 400);
    expect(after.caller).toEqual(['agent']);
    expect(after.agent).toEqual(['caller']);
  });

  it('a transfer the agent asks for and the box refuses ends the supervision and leaves caller and agent bridged', async () => {
    const r = await rig();
    await join(r, 'listen');
    const ack = await r.agentPhone.waitRequest('ACK');
    const bye = r.current.supPhone.waitRequest('BYE');
    const refer = phoneRequest(r.agentPhone, ack, 'REFER', 31).replace(
      'Content-Length:',
      'Refer-To: <sip:+15550100@203.0.113.9>\r\nContent-Length:',
    );
    r.agentPhone.sendRaw(refer);
    await r.agentPhone.waitResponse('REFER', 202, 31);
    await waitUntil(() => r.ended.length === 1, 'supervision ended by the transfer');
    expect(r.ended[0]).toMatchObject({ reason: 'transfer' });
    r.current.supPhone.reply(await bye, 200);
    // the final NOTIFY says refused: the call stays with the agent
    const notify = await r.agentPhone.waitFor(
      (m) => m.kind === 'request' && m.method === 'NOTIFY' && /terminated/.test(m.headers.get('subscription-state') ?? ''),
    );
    expect(notify.body.toString()).toMatch(/^SIP\/2\.0 (403|603) /);
    expect(r.bridge.state).toBe('bridged');
    const after = await listen(r, 400);
    expect(after.caller).toEqual(['agent']);
    expect(after.agent).toEqual(['caller']);
  });

  it('refuses a call that is not bridged, a second supervision, and a supervisor without a phone; no answer ends it', async () => {
    const r = await rig();
    expect(() => r.supervisions.start('nope', 'sup1', 'listen')).toThrow(expect.objectContaining({ code: 'EVX_ERR_NOT_FOUND' }));
    expect(() => r.supervisions.start(r.callerId, 'nobody', 'listen')).toThrow(
      expect.objectContaining({ code: 'EVX_ERR_SUPERVISION_STATE' }),
    );
    expect(() => r.supervisions.start(r.callerId, 'a7', 'listen')).toThrow(/supervisor-is-agent/);
    r.supervisions.start(r.callerId, 'sup1', 'listen');
    expect(() => r.supervisions.start(r.callerId, 'sup1', 'barge')).toThrow(/already-supervised/);
    // the supervisor declines: ended, the bridge was never touched
    const invite = await r.current.supPhone.waitRequest('INVITE');
    r.current.supPhone.reply(invite, 486);
    await waitUntil(() => r.ended.length === 1, 'supervision ended');
    expect(r.ended[0]).toMatchObject({ reason: 'no-answer', mixer: null });
    expect(r.bridge.state).toBe('bridged');
  });
});
