/**
 * The ACD's queue policy with a real caller (baresip 1.0, espeak-ng "I lost my card..." → the
 * security group): the box answers, greets, routes, and then
 *
 *  - security closed by its weekly hours (no interval today, in the site's zone `acd.timeZone:
 *    UTC`): the caller hears the `closed` prompt and the box hangs up; no agent phone rings, nothing
 *    is queued, the call is neither offered nor abandoned in the KPIs;
 *  - security open, nobody to take the call, `maxWaitS: 10` with `maxWaitAction: message`: the
 *    caller is queued, hears "You are number one in the queue" and music, and after 10 s the
 *    `all-busy` prompt, then the box hangs up; the KPIs count it offered, not answered, not
 *    abandoned, and nobody waits any more;
 *  - security closed for a holiday today while alice's registered phone is available: still the
 *    closed prompt, and alice's phone never rings.
 *
 * What the caller heard (baresip's sndfile dump, on the call's clock: the box sends silence
 * between prompts) is cut where the box's audio starts after the caller's request, or back from
 * the hang-up, and transcribed with the appliance's own recogniser.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WavAudio } from '../../../appliance/audio/wav.js';
import { haveBaresip, startBaresip, type BaresipControl } from '../../helpers/baresip.js';
import { wordErrors } from '../../helpers/speech.js';
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
  envelope,
  getJson,
  heardBy,
  kpis,
  logLines,
  micWav,
  onsetMs,
  prompt,
  putRouting,
  requireTools,
  sampleGroups,
  slice,
  stamped,
  startAcdRig,
  transcribeHeard,
  until,
  untilAsync,
  wordsOf,
  type AcdRig,
  type BusEvent,
  tally,
  type Tally,
} from './harness.js';

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
/** Today and tomorrow on the site's clock (UTC): a call near midnight still lands on a closed day. */
const closedDays = (): { dates: string[]; weekdays: (typeof WEEKDAYS)[number][] } => {
  const now = Date.now();
  const days = [new Date(now), new Date(now + 86_400_000)];
  return { dates: days.map((d) => d.toISOString().slice(0, 10)), weekdays: days.map((d) => WEEKDAYS[d.getUTCDay()]!) };
};

type Queues = { queues: { groupId: string; calls: { callId: string }[] }[] };
const queuedIds = (q: Queues): string[] => q.queues.flatMap((g) => g.calls.map((c) => c.callId));
/** The box's counts overall and in the security group (the group these callers ask for). */
const views = async (app: AcdRig['app']): Promise<{ overall: Tally; security: Tally }> => ({
  overall: await tally(app),
  security: await tally(app, 'security'),
});

describe.skipIf(!haveBaresip())('ACD queue policy: closed hours and the longest wait, heard by a real caller', () => {
  let rig: AcdRig;
  let clips: { dir: string; remove: () => void } | undefined;
  let greetingMs = 0;
  let closedPrompt = { text: '', durationMs: 0 };
  let allBusy = { text: '', durationMs: 0 };
  let position1 = { text: '', durationMs: 0 };
  let callerWav = '';
  let agentWav = '';

  beforeAll(async () => {
    requireTools();
    greetingMs = prompt('greeting').durationMs;
    closedPrompt = prompt('closed');
    allBusy = prompt('all-busy');
    position1 = prompt('position-1');
    clips = clipDir();
    callerWav = micWav(clips.dir, 'caller', REQUEST, CALLER_VOICE, CALLER_SPEED, greetingMs / 1000 + 1, TRAIL_S);
    agentWav = micWav(clips.dir, 'alice', AGENT_SENTENCE, AGENT_VOICE, AGENT_SPEED, 1.5, TRAIL_S);
    rig = await startAcdRig({ acd: { ringTimeoutS: 5, timeZone: 'UTC' } });
  });
  afterAll(async () => {
    await rig?.close();
    clips?.remove();
  });

  interface RoutedCall {
    readonly caller: BaresipControl;
    readonly callId: string;
    /** When the caller's phone saw the call established (the recording's start, near enough). */
    readonly established: number;
    readonly decision: { at: number; e: BusEvent<'route.decision'> };
  }

  /** A caller dials, is answered and asks; resolves once the box has decided where the call goes. */
  async function dialAndRoute(): Promise<RoutedCall> {
    const { app, bus, sip, phones, explain } = rig;
    const startedBefore = sip.filter((e) => e.kind === 'started').length;
    const caller = await startBaresip({ wav: callerWav, user: 'caller', record: true });
    phones.push(caller);
    const callerEstablished = stamped(caller, 'CALL_ESTABLISHED', 15_000);
    await caller.dial(`sip:support@127.0.0.1:${app.sip!.port}`);
    const established = await callerEstablished.catch(failWith);
    expect(await until(() => sip.filter((e) => e.kind === 'started').length > startedBefore, 5000)).toBe(true);
    const started = sip.filter((e) => e.kind === 'started')[startedBefore]!.e;
    const callId = started.kind === 'started' ? started.callId : '';
    const decision = await bus.wait(
      (e) => e.type === 'route.decision' && e.callId === callId,
      greetingMs + 30_000,
      'route.decision for the call',
      explain,
    );
    return { caller, callId, established: established.at, decision: decision as { at: number; e: BusEvent<'route.decision'> } };
  }

  /** The box hangs up on the caller (the caller never hangs up here): when, and what the caller heard. */
  async function boxHangsUp(call: RoutedCall, maxMs: number): Promise<{ closed: { at: number; param: string }; heard: WavAudio }> {
    const { app, sip, explain } = rig;
    const closed = await stamped(call.caller, 'CALL_CLOSED', maxMs).catch(failWith);
    const ended = await sip.wait((e) => e.kind === 'ended' && e.callId === call.callId, 10_000, 'call.ended', explain);
    // the box hung up (BYE from the box), not the caller
    expect(ended.e, explain()).toMatchObject({ direction: 'inbound', reason: 'local_hangup' });
    expect(
      await until(() => {
        const r = app.sip!.resources();
        return r.calls === 0 && r.rtpPortPairs === 0 && r.pendingInvites === 0;
      }, 10_000),
      JSON.stringify(app.sip!.resources()),
    ).toBe(true);
    return { closed: { at: closed.at, param: String(closed.e.param ?? '') }, heard: heardBy(call.caller) };
  }

  const failWith = (err: Error): never => {
    throw new Error(`${err.message}\n${rig.explain()}`);
  };

  /** What the caller heard from `fromMs` (on the call's clock) to the end, against a prompt's text. */
  async function heardPromptAtEnd(heard: WavAudio, fromMs: number, name: string): Promise<string> {
    return transcribeHeard(rig.app, heard, Math.max(0, fromMs), heard.durationMs, name);
  }

  it('closed by its weekly hours: the closed prompt, then the box hangs up; nothing queued, rung or counted', async () => {
    const { app, log, sip, explain } = rig;
    const { weekdays } = closedDays();
    // open 09:00-17:00 on the days that are neither today nor tomorrow: closed all day today
    const weekly = Object.fromEntries(WEEKDAYS.filter((d) => !weekdays.includes(d)).map((d) => [d, [{ from: '09:00', to: '17:00' }]]));
    await putRouting(app, sampleGroups({ security: { queue: { hours: { weekly } } } }), [
      agentConfig('bob', 'cards'),
      agentConfig('carol', 'general'),
    ]);
    const before = await views(app);

    const routed = await dialAndRoute();
    const call = { ...routed, ...(await boxHangsUp(routed, closedPrompt.durationMs + 10_000)) };
    // routing queued it in security (nobody there); the queue policy refused it: closed
    expect(call.decision.e, explain()).toMatchObject({ action: 'queue', groupId: 'security' });
    expect(
      logLines(log, 'call not queued').find((l) => l['callId'] === call.callId),
      explain(),
    ).toMatchObject({
      groupId: 'security',
      outcome: 'closed',
    });
    expect(logLines(log, 'call leaving the queue').find((l) => l['callId'] === call.callId)).toMatchObject({ why: 'closed' });
    expect(queuedIds(await getJson<Queues>(app, '/api/v1/routing/queues'))).toEqual([]);
    expect(
      sip.filter((e) => e.kind === 'outbound'),
      'no agent phone was called',
    ).toEqual([]);

    // heard: the greeting, silence while asking, then "We are closed now..." until the box hung up
    // the prompt starts where the silence after the caller's request ends (the box sends silence meanwhile)
    const decisionMs = call.decision.at - call.established;
    const promptMs = onsetMs(call.heard, Math.max(greetingMs + 300, decisionMs - 1000));
    expect(promptMs, `rms per 500 ms ${envelope(call.heard).join(' ')}`).not.toBeNull();
    const heardClosed = await heardPromptAtEnd(call.heard, promptMs! - 200, 'caller-heard-closed');
    const afterDecisionMs = call.heard.durationMs - promptMs!;
    console.log(
      `acd closed e2e: decision ${decisionMs} ms into the call, hung up ${call.closed.at - call.decision.at} ms after it (${call.closed.param}); heard "${heardClosed}" (prompt: "${closedPrompt.text}"); rms per 500 ms ${envelope(call.heard).join(' ')}`,
    );
    expect(afterDecisionMs, 'the closed prompt played to its end before the hang-up').toBeGreaterThan(closedPrompt.durationMs - 500);
    expect(call.closed.at - call.decision.at).toBeLessThan(closedPrompt.durationMs + 5000);
    expect(wordErrors(closedPrompt.text, heardClosed), heardClosed).toBeLessThanOrEqual(4);
    expect(wordsOf(heardClosed), heardClosed).toEqual(expect.arrayContaining(['OPENING', 'HOURS']));

    // neither offered nor abandoned
    expect(await views(app)).toEqual(before);
  }, 90_000);

  it('longest wait reached with nobody to answer: position and music, then all-busy and the box hangs up; offered, not abandoned', async () => {
    const { app, log, sip, bus, explain } = rig;
    const MAX_WAIT_S = 10; // the schema's minimum
    await putRouting(app, sampleGroups({ security: { queue: { maxWaitS: MAX_WAIT_S, maxWaitAction: 'message' } } }), [
      agentConfig('bob', 'cards'),
      agentConfig('carol', 'general'),
    ]);
    const before = await views(app);
    const outboundBefore = sip.filter((e) => e.kind === 'outbound').length;

    // while the caller waits: queued in security, counted waiting
    let whileWaiting: { queued: string[]; security: Tally } | null = null;
    const decided = bus.next((e) => e.type === 'route.decision', greetingMs + 30_000, 'route.decision', explain);
    const watchWaiting = decided.then(async (d) => {
      const q = await untilAsync(
        () => getJson<Queues>(app, '/api/v1/routing/queues'),
        (x) => queuedIds(x).includes((d.e as BusEvent<'route.decision'>).callId),
        3000,
      );
      whileWaiting = { queued: queuedIds(q), security: await tally(app, 'security') };
    });
    watchWaiting.catch(() => undefined);
    const routed = await dialAndRoute();
    const call = { ...routed, ...(await boxHangsUp(routed, MAX_WAIT_S * 1000 + allBusy.durationMs + 10_000)) };
    await watchWaiting;
    expect(call.decision.e, explain()).toMatchObject({ action: 'queue', groupId: 'security' });
    expect(whileWaiting!.queued).toEqual([call.callId]);
    expect(whileWaiting!.security).toEqual({ ...before.security, offered: before.security.offered + 1, waiting: 1 });
    const maxWait = logLines(log, 'longest wait reached').find((l) => l['callId'] === call.callId);
    expect(maxWait, explain()).toMatchObject({ groupId: 'security', action: 'message' });
    expect(logLines(log, 'call leaving the queue').find((l) => l['callId'] === call.callId)).toMatchObject({ why: 'max-wait' });
    expect(sip.filter((e) => e.kind === 'outbound').length, 'no agent phone was called').toBe(outboundBefore);
    expect(queuedIds(await getJson<Queues>(app, '/api/v1/routing/queues'))).toEqual([]);
    const waitedMs = call.closed.at - call.decision.at;
    expect(waitedMs, 'max wait, then the all-busy prompt').toBeGreaterThanOrEqual(MAX_WAIT_S * 1000 + allBusy.durationMs - 1000);
    expect(waitedMs).toBeLessThan(MAX_WAIT_S * 1000 + allBusy.durationMs + 6000);

    // heard: position 1 on entering the queue, music, then all-busy up to the hang-up
    const decisionMs = call.decision.at - call.established;
    const endMs = call.heard.durationMs;
    const positionMs = onsetMs(call.heard, Math.max(greetingMs + 300, decisionMs - 1000));
    expect(positionMs, `rms per 500 ms ${envelope(call.heard).join(' ')}`).not.toBeNull();
    const heardPosition = await transcribeHeard(
      app,
      call.heard,
      positionMs! - 200,
      positionMs! + position1.durationMs + 300,
      'caller-heard-position',
    );
    const music = slice(call.heard, positionMs! + position1.durationMs + 500, endMs - allBusy.durationMs - 1000);
    const heardBusy = await heardPromptAtEnd(call.heard, endMs - allBusy.durationMs - 800, 'caller-heard-all-busy');
    console.log(
      `acd max-wait e2e: decision ${decisionMs} ms into the call, hung up ${waitedMs} ms after it (${call.closed.param}); heard "${heardPosition}" … "${heardBusy}" (prompts: "${position1.text}" … "${allBusy.text}"); rms per 500 ms ${envelope(call.heard).join(' ')}`,
    );
    expect(
      wordsOf(heardPosition).filter((w) => ['NUMBER', 'ONE', 'QUEUE'].includes(w)).length,
      `"${heardPosition}"`,
    ).toBeGreaterThanOrEqual(2);
    expect(music.durationMs).toBeGreaterThan(MAX_WAIT_S * 1000 - position1.durationMs - 4000);
    expect(
      envelope(music).filter((v) => v < 100),
      `silent windows in the music: ${envelope(call.heard).join(' ')}`,
    ).toEqual([]);
    // flite's "busy" and "agents" come out differently with each cut ("ALL OUR HAGENS THAT ARE VIDE
    // PLEASE CALL AGAIN LATER", "ALL OUR AGE AND OUR VIDE ..."): the rest is stable, and not the closed prompt
    expect(wordsOf(heardBusy), heardBusy).toEqual(expect.arrayContaining(['ALL', 'OUR', 'PLEASE', 'CALL', 'AGAIN', 'LATER']));
    expect(
      wordsOf(heardBusy).filter((w) => ['CLOSED', 'OPENING', 'HOURS'].includes(w)),
      heardBusy,
    ).toEqual([]);

    // the figures: offered, neither answered nor abandoned, and nobody waits any more
    const counted = await views(app);
    expect(counted.overall).toEqual({ ...before.overall, offered: before.overall.offered + 1 });
    expect(counted.security).toEqual({ ...before.security, offered: before.security.offered + 1 });
    const after = await kpis(app);
    expect(
      { overall: after.overall.waiting, security: after.groups['security']?.waiting, longest: after.overall.longestWaitingS },
      'nobody waits once the box has hung up',
    ).toEqual({ overall: 0, security: 0, longest: null });
  }, 120_000);

  it('closed for a holiday while alice is available: the closed prompt, and her registered phone never rings', async () => {
    const { app, sip, bus, phones, explain } = rig;
    const { dates } = closedDays();
    const allDay = [{ from: '00:00', to: '24:00' }];
    const weekly = Object.fromEntries(WEEKDAYS.map((d) => [d, allDay]));
    const holidays = dates.map((date) => ({ date, name: 'Test holiday' }));
    await putRouting(app, sampleGroups({ security: { queue: { hours: { weekly, holidays } } } }), [
      agentConfig('alice', 'security', ALICE_PASSWORD),
      agentConfig('bob', 'cards'),
    ]);
    const alice = await startBaresip({
      wav: agentWav,
      user: 'alice',
      registrar: `127.0.0.1:${app.sip!.port}`,
      password: ALICE_PASSWORD,
      regint: 600,
      answerMode: 'auto',
    });
    phones.push(alice);
    await bus.wait((e) => e.type === 'agent.state' && e.agentId === 'alice' && e.to === 'available', 15_000, 'alice available', explain);
    const before = await tally(app);
    const outboundBefore = sip.filter((e) => e.kind === 'outbound').length;

    const aliceRings = alice.waitForEvent((e) => e.type === 'CALL_INCOMING' || e.type === 'CALL_REMOTE_SDP', greetingMs + 60_000);
    aliceRings.catch(() => undefined);
    const routed = await dialAndRoute();
    // either the box hangs up after the closed prompt, or (wrongly) it rings alice
    const hangUp = boxHangsUp(routed, closedPrompt.durationMs + 10_000);
    hangUp.catch(() => undefined);
    const first = await Promise.race([hangUp.then(() => 'hung up'), aliceRings.then(() => 'alice rang')]).catch(failWith);
    const aliceEvents = alice.events.map((e) => e.type);
    console.log(
      `acd holiday e2e: decision ${routed.decision.e.action}:${routed.decision.e.groupId}:${routed.decision.e.agentId}; first: ${first}; alice's phone saw [${aliceEvents.join(', ')}]`,
    );
    expect(
      { first, alicePhone: aliceEvents.filter((t) => t.startsWith('CALL_')) },
      `alice's phone must not ring while security is closed\n${explain()}`,
    ).toEqual({ first: 'hung up', alicePhone: [] });
    const call = { ...routed, ...(await hangUp) };
    const promptMs = onsetMs(call.heard, Math.max(greetingMs + 300, call.decision.at - call.established - 1000)) ?? 0;
    const heardClosed = await heardPromptAtEnd(call.heard, promptMs - 200, 'caller-heard-holiday');
    console.log(`acd holiday e2e: caller heard after the decision "${heardClosed}"`);
    expect(sip.filter((e) => e.kind === 'outbound').length, 'no INVITE to an agent').toBe(outboundBefore);
    expect(queuedIds(await getJson<Queues>(app, '/api/v1/routing/queues'))).toEqual([]);
    expect(wordErrors(closedPrompt.text, heardClosed), heardClosed).toBeLessThanOrEqual(4);
    expect(await tally(app)).toEqual(before);
  }, 90_000);
});
