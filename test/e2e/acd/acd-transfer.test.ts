/**
 * A blind transfer by the agent's phone, end to end with real phones (baresip 1.0): the caller is
 * routed by intent to alice (security) and bridged; alice speaks, then her phone REFERs the call to
 * `sip:bob@<box>` (baresip's `/transfer`). The box rings bob's registered phone (cards) with music to
 * the caller, bridges caller and bob on answer and releases alice's leg; bob speaks.
 *
 * Checked: the REFER's final NOTIFY is 200 (alice's phone reports the transfer done and her call
 * closed), alice goes to wrap-up and bob on-call, the caller's SIP call is the same one throughout
 * (never ended by the transfer), bob's words are transcribed as an `agent` final of that same call
 * after his answer, the KPI API counts one transfer, and everything is released after the caller
 * hangs up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { haveBaresip, startBaresip } from '../../helpers/baresip.js';
import {
  AGENT_SENTENCE,
  AGENT_SPEED,
  AGENT_VOICE,
  ALICE_PASSWORD,
  CALLER_SPEED,
  CALLER_VOICE,
  REQUEST,
  TRAIL_S,
  agentConfig,
  clipDir,
  tally,
  micWav,
  prompt,
  putRouting,
  requireTools,
  sampleGroups,
  stamped,
  startAcdRig,
  until,
  wordsOf,
  type AcdRig,
} from './harness.js';

const BOB_PASSWORD = 'bob-desk-phone-1';
const BOB_SENTENCE = 'Hello, this is Bob. Your new card is on the way today.';
const BOB_WORDS = ['BOB', 'NEW', 'CARD', 'WAY', 'TODAY'];

describe.skipIf(!haveBaresip())('ACD: blind transfer by the agent’s phone to another agent, one interaction', () => {
  let rig: AcdRig;
  let clips: { dir: string; remove: () => void } | undefined;
  let greetingMs = 0;
  let callerWav = '';
  let aliceWav = '';
  let bobWav = '';

  beforeAll(async () => {
    requireTools();
    ({ durationMs: greetingMs } = prompt('greeting'));
    clips = clipDir();
    callerWav = micWav(clips.dir, 'caller', REQUEST, CALLER_VOICE, CALLER_SPEED, greetingMs / 1000 + 1, TRAIL_S);
    aliceWav = micWav(clips.dir, 'alice', AGENT_SENTENCE, AGENT_VOICE, AGENT_SPEED, 1.5, TRAIL_S);
    bobWav = micWav(clips.dir, 'bob', BOB_SENTENCE, CALLER_VOICE, AGENT_SPEED, 1.5, TRAIL_S);
    rig = await startAcdRig({ acd: { ringTimeoutS: 10 } });
  });
  afterAll(async () => {
    await rig?.close();
    clips?.remove();
  });

  it('alice REFERs the caller to bob: bob rings, answers, is bridged and transcribed on the same call; alice is released', async () => {
    const { app, bus, sip, phones, explain } = rig;
    const sipPort = app.sip!.port;
    await putRouting(app, sampleGroups(), [agentConfig('alice', 'security', ALICE_PASSWORD), agentConfig('bob', 'cards', BOB_PASSWORD)]);

    const register = async (user: string, password: string, wav: string) => {
      const phone = await startBaresip({ wav, user, registrar: `127.0.0.1:${sipPort}`, password, regint: 600, answerMode: 'auto' });
      phones.push(phone);
      await bus.wait((e) => e.type === 'agent.state' && e.agentId === user && e.to === 'available', 15_000, `${user} available`, explain);
      return phone;
    };
    const alice = await register('alice', ALICE_PASSWORD, aliceWav);
    const bob = await register('bob', BOB_PASSWORD, bobWav);
    const aliceEstablished = stamped(alice, 'CALL_ESTABLISHED', 90_000);
    const bobEstablished = stamped(bob, 'CALL_ESTABLISHED', 120_000);
    aliceEstablished.catch(() => undefined);
    bobEstablished.catch(() => undefined);

    const caller = await startBaresip({ wav: callerWav, user: 'caller' });
    phones.push(caller);
    await caller.dial(`sip:support@127.0.0.1:${sipPort}`);
    const started = await sip.wait((e) => e.kind === 'started', 15_000, 'call.started', explain);
    const callId = started.e.kind === 'started' ? started.e.callId : '';

    const decision = await bus.wait((e) => e.type === 'route.decision' && e.callId === callId, greetingMs + 30_000, 'decision', explain);
    expect(decision.e, explain()).toMatchObject({ action: 'agent', agentId: 'alice' });
    await aliceEstablished;
    await bus.wait((e) => e.type === 'asr.final' && e.callId === callId && e.speaker === 'agent', 30_000, "alice's words", explain);

    // alice's phone transfers the caller to bob (REFER, Refer-To sip:bob@<box>)
    const aliceClosed = stamped(alice, 'CALL_CLOSED', 40_000);
    aliceClosed.catch(() => undefined);
    await alice.transfer(`sip:bob@127.0.0.1:${sipPort}`);
    const bobAnswered = await bobEstablished.catch((err: Error) => {
      throw new Error(`${err.message}\n${explain()}`);
    });
    await bus.wait((e) => e.type === 'agent.state' && e.agentId === 'bob' && e.to === 'on-call', 10_000, 'bob on-call', explain);
    await bus.wait((e) => e.type === 'agent.state' && e.agentId === 'alice' && e.to === 'wrap-up', 10_000, 'alice wrap-up', explain);
    await aliceClosed.catch((err: Error) => {
      throw new Error(`${err.message}\n${explain()}`);
    });

    // bob's words: an agent final of the caller's same call, after his answer
    const bobFinal = await bus.wait(
      (e) =>
        e.type === 'asr.final' &&
        e.callId === callId &&
        e.speaker === 'agent' &&
        e.at >= bobAnswered.at &&
        wordsOf(e.text).some((w) => BOB_WORDS.includes(w)),
      40_000,
      "bob's words on the call's agent leg",
      explain,
    );
    expect((bobFinal.e as Extract<ApplianceEvent, { type: 'asr.final' }>).text).toBeTruthy();
    expect(
      sip.find((e) => e.kind === 'ended' && e.callId === callId),
      explain(),
    ).toBeUndefined();
    expect(await tally(app)).toMatchObject({ transferred: 1, answered: 1 });

    // the caller hangs up: bob's leg ends too, nothing is left
    await caller.hangup();
    await sip.wait((e) => e.kind === 'ended' && e.callId === callId, 10_000, 'caller call.ended', explain);
    const released = await until(() => {
      const r = app.sip!.resources();
      return r.calls === 0 && r.rtpPortPairs === 0 && r.pendingInvites === 0;
    }, 10_000);
    expect(released, JSON.stringify(app.sip!.resources())).toBe(true);
  });
});
