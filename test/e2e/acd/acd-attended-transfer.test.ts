/**
 * An attended transfer by the agent's phone, end to end (RFC 5589 with the box in the middle): the
 * caller (baresip) is routed by intent to alice and bridged. Alice's phone is a scripted UA
 * (baresip 1.0 has no attended-transfer commands): registered with digest, it answers the box's
 * INVITE, holds the caller (re-INVITE sendonly), dials `sip:bob@<box>` from its registered source
 * (the consult call), which rings bob's registered baresip, then sends a REFER on its first leg with
 * `Refer-To: <sip:bob@<box>?Replaces=<consult dialog>>`.
 *
 * Checked: the consult call is never routed and bob goes on-call for it; the REFER gets 202 and a
 * final NOTIFY 200; the box ends both of alice's legs (BYE) and alice goes to wrap-up while bob
 * stays on-call; the caller's SIP call is never ended; bob's words after the hand-over are an
 * `agent` final of the caller's call; the KPIs count one transfer and Prometheus one attended
 * transfer; a Replaces naming no consult dialog first gets NOTIFY 481; everything is released
 * after the caller hangs up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { answerChallenge } from '../../../appliance/sip/auth.js';
import type { SipMessage, SipRequest, SipResponse } from '../../../appliance/sip/message.js';
import { randomToken, tagOf } from '../../../appliance/sip/serialize.js';
import { haveBaresip, startBaresip } from '../../helpers/baresip.js';
import { answerInvite, phoneRequest, RtpPeer } from '../../integration/sip/phone.js';
import { TestUac } from '../../integration/sip/uac.js';
import {
  AGENT_SPEED,
  ALICE_PASSWORD,
  BOB_PASSWORD,
  BOB_SENTENCE,
  BOB_WORDS,
  CALLER_SPEED,
  CALLER_VOICE,
  REQUEST,
  TRAIL_S,
  agentConfig,
  agentWords,
  clipDir,
  tally,
  micWav,
  prompt,
  putRouting,
  requireTools,
  sampleGroups,
  sipReleased,
  startAcdRig,
  stamped,
  type AcdRig,
} from './harness.js';

/** The next message matching `pred` that arrived after `from` messages (the UA keeps every message). */
const next = <T extends SipMessage>(ua: TestUac, from: number, pred: (m: SipMessage) => boolean, timeoutMs = 10_000): Promise<T> =>
  ua.waitFor((m) => ua.received.indexOf(m) >= from && pred(m), timeoutMs) as Promise<T>;
const ofCall = (m: SipMessage, callId: string) => m.headers.get('call-id') === callId;

describe.skipIf(!haveBaresip())('ACD: attended transfer by the agent’s phone (consult call, REFER with Replaces)', () => {
  let rig: AcdRig;
  let clips: { dir: string; remove: () => void } | undefined;
  let alice: TestUac | undefined;
  let rtp: RtpPeer | undefined;
  let greetingMs = 0;
  let callerWav = '';
  let bobWav = '';

  beforeAll(async () => {
    requireTools();
    ({ durationMs: greetingMs } = prompt('greeting'));
    clips = clipDir();
    callerWav = micWav(clips.dir, 'caller', REQUEST, CALLER_VOICE, CALLER_SPEED, greetingMs / 1000 + 1, TRAIL_S);
    // bob speaks a while after answering: after the hand-over, which follows his answer at once
    bobWav = micWav(clips.dir, 'bob', BOB_SENTENCE, CALLER_VOICE, AGENT_SPEED, 4, TRAIL_S);
    rig = await startAcdRig({ acd: { ringTimeoutS: 10 } });
  });
  afterAll(async () => {
    alice?.close();
    rtp?.close();
    await rig?.close();
    clips?.remove();
  });

  it('alice consults bob through the box, then REFERs with Replaces: caller and bob bridged on the same call, alice’s legs ended', async () => {
    const { app, bus, sip, phones, explain } = rig;
    const sipPort = app.sip!.port;
    await putRouting(app, sampleGroups(), [agentConfig('alice', 'security', ALICE_PASSWORD), agentConfig('bob', 'cards', BOB_PASSWORD)]);

    // alice: a scripted phone registered with digest
    alice = await new TestUac(sipPort).open();
    rtp = await RtpPeer.open();
    const ua = alice;
    const register = async (authorization?: string): Promise<SipResponse> => {
      const cseq = ua.cseq++;
      const from = ua.received.length;
      ua.sendRaw(ua.registerRequest({ user: 'alice', expires: 600, cseq, ...(authorization === undefined ? {} : { authorization }) }));
      return next<SipResponse>(ua, from, (m) => m.kind === 'response' && m.status >= 200 && m.headers.get('cseq') === `${cseq} REGISTER`);
    };
    const challenge = await register();
    expect(challenge.status).toBe(401);
    const auth = answerChallenge(challenge.headers.getAll('www-authenticate'), {
      method: 'REGISTER',
      uri: ua.registerUri,
      username: 'alice',
      password: ALICE_PASSWORD,
      nc: 1,
      cnonce: randomToken(),
    });
    expect((await register(auth)).status).toBe(200);
    await bus.wait((e) => e.type === 'agent.state' && e.agentId === 'alice' && e.to === 'available', 15_000, 'alice available', explain);
    const bob = await startBaresip({
      wav: bobWav,
      user: 'bob',
      registrar: `127.0.0.1:${sipPort}`,
      password: BOB_PASSWORD,
      regint: 600,
      answerMode: 'auto',
    });
    phones.push(bob);
    await bus.wait((e) => e.type === 'agent.state' && e.agentId === 'bob' && e.to === 'available', 15_000, 'bob available', explain);
    const bobEstablished = stamped(bob, 'CALL_ESTABLISHED', 120_000);
    bobEstablished.catch(() => undefined);

    // the caller is routed to alice; her phone answers and holds the caller
    const caller = await startBaresip({ wav: callerWav, user: 'caller' });
    phones.push(caller);
    await caller.dial(`sip:support@127.0.0.1:${sipPort}`);
    const started = await sip.wait((e) => e.kind === 'started', 15_000, 'call.started', explain);
    const callId = started.e.kind === 'started' ? started.e.callId : '';
    await bus.wait((e) => e.type === 'route.decision' && e.callId === callId, greetingMs + 30_000, 'decision', explain);
    await ua.waitFor((m) => m.kind === 'request' && m.method === 'INVITE', 10_000);
    const invite = await answerInvite(ua, ua.sdp(rtp.port));
    const legCallId = invite.headers.get('call-id')!;
    const ack = (await ua.waitFor((m) => m.kind === 'request' && m.method === 'ACK' && ofCall(m, legCallId))) as SipRequest;
    await bus.wait((e) => e.type === 'agent.state' && e.agentId === 'alice' && e.to === 'on-call', 10_000, 'alice on-call', explain);
    let from = ua.received.length;
    ua.sendRaw(phoneRequest(ua, ack, 'INVITE', 1, ua.sdp(rtp.port, ['a=sendonly'])));
    await next(ua, from, (m) => m.kind === 'response' && m.status === 200 && ofCall(m, legCallId));
    ua.sendRaw(phoneRequest(ua, ack, 'ACK', 1));

    // the consult call: alice's phone dials bob at the box from its registered source
    const consultCallId = `consult-${randomToken()}@127.0.0.1`;
    const consultBody = ua.sdp(rtp.port);
    const consultInvite = (method: 'INVITE' | 'ACK', toTag = ''): string =>
      [
        `${method} sip:bob@127.0.0.1:${sipPort} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${ua.port};branch=z9hG4bK-consult-${method};rport`,
        'Max-Forwards: 70',
        `From: <sip:alice@127.0.0.1>;tag=alice-consult`,
        `To: <sip:bob@127.0.0.1:${sipPort}>${toTag}`,
        `Call-ID: ${consultCallId}`,
        `CSeq: 1 ${method}`,
        `Contact: <sip:alice@127.0.0.1:${ua.port}>`,
        ...(method === 'INVITE'
          ? ['Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(consultBody)}`, '', consultBody]
          : ['Content-Length: 0', '', '']),
      ].join('\r\n');
    from = ua.received.length;
    ua.sendRaw(consultInvite('INVITE'));
    const consultOk = await next<SipResponse>(ua, from, (m) => m.kind === 'response' && m.status === 200 && ofCall(m, consultCallId));
    const boxTag = tagOf(consultOk.headers.get('to'))!;
    ua.sendRaw(consultInvite('ACK', `;tag=${boxTag}`));
    const consultStarted = await sip.wait((e) => e.kind === 'started' && e.sipCallId === consultCallId, 10_000, 'consult started', explain);
    const consultId = consultStarted.e.kind === 'started' ? consultStarted.e.callId : '';
    const bobAnswered = await bobEstablished.catch((err: Error) => {
      throw new Error(`${err.message}\n${explain()}`);
    });
    await bus.wait((e) => e.type === 'agent.state' && e.agentId === 'bob' && e.to === 'on-call', 10_000, 'bob on-call', explain);

    const refer = (replaces: string, cseq: number): string =>
      phoneRequest(ua, ack, 'REFER', cseq).replace(
        'Content-Length:',
        `Refer-To: <sip:bob@127.0.0.1:${sipPort}?Replaces=${encodeURIComponent(replaces)}>\r\nReferred-By: <sip:alice@127.0.0.1>\r\nContent-Length:`,
      );
    /** The REFER's 202 and its final NOTIFY's sipfrag status (each NOTIFY answered 200). */
    const referOutcome = async (text: string, cseq: number): Promise<string> => {
      const at = ua.received.length;
      ua.sendRaw(text);
      await next(ua, at, (m) => m.kind === 'response' && m.status === 202 && m.headers.get('cseq') === `${cseq} REFER`);
      for (let seen = at; ;) {
        const notify = await next<SipRequest>(ua, seen, (m) => m.kind === 'request' && m.method === 'NOTIFY' && ofCall(m, legCallId));
        seen = ua.received.indexOf(notify) + 1;
        ua.reply(notify, 200);
        if ((notify.headers.get('subscription-state') ?? '').startsWith('terminated')) return notify.body.toString().trim();
      }
    };

    // a Replaces naming no consult dialog: NOTIFY 481, nothing moves
    expect(await referOutcome(refer(`${consultCallId};to-tag=alice-consult;from-tag=${boxTag}`, 2), 2), explain()).toMatch(
      /^SIP\/2\.0 481/,
    );
    expect(
      bus.find((e) => e.type === 'agent.state' && e.from === 'on-call'),
      explain(),
    ).toBeUndefined();
    expect(ua.received.some((m) => m.kind === 'request' && m.method === 'BYE')).toBe(false);

    // the real one: to-tag is the box's tag of the consult dialog, from-tag alice's
    from = ua.received.length;
    const referAt = Date.now();
    expect(await referOutcome(refer(`${consultCallId};to-tag=${boxTag};from-tag=alice-consult`, 3), 3), explain()).toMatch(
      /^SIP\/2\.0 200/,
    );
    const byes = [consultCallId, legCallId].map((id) =>
      next<SipRequest>(ua, from, (m) => m.kind === 'request' && m.method === 'BYE' && ofCall(m, id)).then((bye) => {
        ua.reply(bye, 200);
        return bye;
      }),
    );
    await Promise.all(byes).catch((err: Error) => {
      throw new Error(`${err.message}\n${explain()}`);
    });
    await bus.wait((e) => e.type === 'agent.state' && e.agentId === 'alice' && e.to === 'wrap-up', 10_000, 'alice wrap-up', explain);

    // bob's words after the hand-over: an agent final of the caller's same call
    const bobFinal = await agentWords(rig, callId, BOB_WORDS, Math.max(bobAnswered.at, referAt), "bob's words on the call's agent leg");
    expect((bobFinal.e as Extract<ApplianceEvent, { type: 'asr.final' }>).text).toBeTruthy();
    expect(
      sip.find((e) => e.kind === 'ended' && e.callId === callId),
      explain(),
    ).toBeUndefined();
    expect(
      bus.find((e) => e.type === 'route.decision' && e.callId === consultId),
      explain(),
    ).toBeUndefined();
    expect(
      bus.find((e) => e.type === 'agent.state' && e.agentId === 'bob' && e.from === 'on-call'),
      explain(),
    ).toBeUndefined();
    expect(await tally(app)).toMatchObject({ transferred: 1 });
    const metrics = (await app.http.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/edgevox_acd_transfers_total\{kind="attended",outcome="completed"\} 1/);
    expect(metrics).toMatch(/edgevox_acd_transfers_total\{kind="other",outcome="refused"\} 1/);

    // the caller hangs up: bob's leg ends too, nothing is left
    await caller.hangup();
    await sip.wait((e) => e.kind === 'ended' && e.callId === callId, 10_000, 'caller call.ended', explain);
    await bus.wait((e) => e.type === 'agent.state' && e.agentId === 'bob' && e.to === 'wrap-up', 10_000, 'bob wrap-up', explain);
    const released = await sipReleased(app);
    expect(released, JSON.stringify(app.sip!.resources())).toBe(true);
  });
});
