/**
 * The ACD's orchestration of one caller, with the SIP server, routing and the prompt store replaced
 * by recorders (the end-to-end test with real phones is test/e2e/acd/acd-call.test.ts): what is
 * played, who is rung, what is bridged, which KPI facts and agent-state calls result.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AcdCalls } from '../../../appliance/acd/acdCalls.js';
import type { AcdSoftphones, RingOutcome } from '../../../appliance/acd/agentRing.js';
import type { SkillGroup } from '../../../appliance/routing/types.js';
import { GROUP, harness, until } from './acdHarness.js';

describe('ACD orchestration of a call', () => {
  let open: AcdCalls[] = [];
  afterEach(() => {
    for (const a of open) a.close();
    open = [];
  });

  it('greets, queues with music, rings every registered phone of the agent, bridges the first to answer and cancels the rest', async () => {
    const h = harness({ contacts: ['sip:alice@10.0.0.5:5062', 'sip:alice@10.0.0.6:5062'] });
    open.push(h.acd);
    const bridgeEnded: unknown[] = [];
    const settled: string[] = [];
    h.acd.events.on('bridge.ended', (e) => bridgeEnded.push(e));
    h.acd.events.on('offer.settled', (e) => settled.push(e.outcome));
    h.start('c1');
    await until(() => h.played.includes('greeting'));
    h.publish({ type: 'route.decision', callId: 'c1', action: 'queue', groupId: 'cards' });
    expect(h.facts).toEqual(['offered c1 cards']);
    await until(() => h.played.includes('hold-music'));
    expect(h.played.slice(0, 3)).toEqual(['greeting', 'position-1', 'hold-music']);
    h.publish({ type: 'route.decision', callId: 'c1', action: 'agent', groupId: 'cards', agentId: 'alice', trigger: 'dequeue' });
    expect(h.placed.map((l) => l.target)).toEqual(['sip:alice@10.0.0.5:5062', 'sip:alice@10.0.0.6:5062']);
    expect(h.acd.phases()).toEqual({ c1: 'offering' });
    h.placed[1]!.settle({ type: 'answered', call: {} as never });
    await until(() => h.bridged.length === 1);
    expect(h.bridged).toEqual([['c1', 'agent-call-2']]);
    expect(h.placed[0]!.cancelled).toBe(true);
    expect(h.facts).toEqual(['offered c1 cards', 'answered c1 alice']);
    expect(h.agentCalls).toEqual(['answered alice c1']);
    expect(h.acd.phases()).toEqual({ c1: 'bridged' });
    expect(h.sent[0]!.frames).toBeGreaterThan(0); // the caller heard the prompts and music

    // the agent hangs up: the caller's leg goes too, talk ends once
    h.events.emit('call.ended', { callId: 'agent-call-2' } as never);
    await until(() => h.acd.size === 0);
    expect(h.hungUp).toEqual(['c1']);
    expect(h.facts).toEqual(['offered c1 cards', 'answered c1 alice', 'talk-ended c1']);
    expect(bridgeEnded).toEqual([{ callId: 'c1', delay: { samples: 3, p50Ms: 0.03, p95Ms: 0.1, maxMs: 0.2 }, transcoding: false }]);
    expect(settled).toEqual(['answered']);
  });

  it('an agent who lets it ring is reported no-answer and the caller waits again in its old place; a caller hanging up while queued is an abandon', async () => {
    const h = harness();
    open.push(h.acd);
    h.start('c2');
    h.publish({ type: 'route.decision', callId: 'c2', action: 'agent', groupId: 'cards', agentId: 'alice' });
    expect(h.facts).toEqual(['offered c2 cards']);
    h.placed[0]!.settle({ type: 'failed', reason: 'ring_timeout', status: 487, error: new Error('x') as never });
    await until(() => h.requeued.length === 1);
    expect(h.agentCalls).toEqual(['no-answer alice c2']);
    expect(h.acd.phases()).toEqual({ c2: 'queued' });
    // waiting again: its place is announced (routing has it back before the announcer looks)
    await until(() => h.played.includes('position-1'));
    h.events.emit('call.ended', { callId: 'c2' } as never);
    expect(h.facts).toEqual(['offered c2 cards', 'abandoned c2']);
    expect(h.acd.size).toBe(0);
  });

  it('an answer the agent state refuses (they went logged out while their phone rang) still bridges the call and throws nowhere', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => void rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      const h = harness({ answerRefused: ['alice'] });
      open.push(h.acd);
      const settled: string[] = [];
      h.acd.events.on('offer.settled', (e) => settled.push(e.outcome));
      h.start('c1');
      h.publish({ type: 'route.decision', callId: 'c1', action: 'agent', groupId: 'cards', agentId: 'alice' });
      h.placed[0]!.settle({ type: 'answered', call: {} as never });
      await until(() => h.bridged.length === 1);
      await new Promise((r) => setTimeout(r, 20));
      expect(rejections).toEqual([]);
      expect(h.acd.phases()).toEqual({ c1: 'bridged' });
      expect(h.facts).toEqual(['offered c1 cards', 'answered c1 alice']);
      expect(settled).toEqual(['answered']);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  it('an agent with no registered phone is offer-failed; a busy 486 counts as not answered', async () => {
    const h = harness({ contacts: [] });
    open.push(h.acd);
    h.start('c3');
    h.publish({ type: 'route.decision', callId: 'c3', action: 'agent', groupId: 'cards', agentId: 'bob' });
    expect(h.agentCalls).toEqual(['offer-failed bob c3']);
    expect(h.requeued).toEqual(['c3']);

    const busy = harness();
    open.push(busy.acd);
    busy.start('c4');
    busy.publish({ type: 'route.decision', callId: 'c4', action: 'agent', groupId: 'cards', agentId: 'alice' });
    busy.placed[0]!.settle({ type: 'failed', reason: 'rejected', status: 486, error: new Error('x') as never });
    await until(() => busy.agentCalls.length === 1);
    expect(busy.agentCalls).toEqual(['no-answer alice c4']);
  });

  it('a closed queue plays the closed prompt and hangs up; the call is not queued and not counted as abandoned', async () => {
    const closed: SkillGroup = { ...GROUP, queue: { hours: { weekly: {} } } };
    const h = harness({ groups: [closed] });
    open.push(h.acd);
    h.start('c5');
    h.publish({ type: 'route.decision', callId: 'c5', action: 'queue', groupId: 'cards' });
    await until(() => h.hungUp.includes('c5'));
    expect(h.played).toEqual(['greeting', 'closed']);
    expect(h.queue.has('c5')).toBe(false);
    expect(h.facts).toEqual([]);
  });

  it('routes a caller who says nothing routable to the default group once the route timeout after the greeting passes', async () => {
    const h = harness({ routeTimeoutMs: 50 });
    open.push(h.acd);
    h.start('quiet');
    h.start('talker');
    await until(() => h.played.filter((p) => p === 'greeting').length === 2);
    h.publish({ type: 'route.decision', callId: 'talker', action: 'queue', groupId: 'cards' });
    await until(() => h.defaultRouted.length === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(h.defaultRouted).toEqual(['quiet']);
  });

  it('a closed group takes no call even when routing found a free agent: the agent is not rung and is freed, the caller hears closed', async () => {
    const closed: SkillGroup = { ...GROUP, queue: { hours: { weekly: {} } } };
    const h = harness({ groups: [closed] });
    open.push(h.acd);
    h.start('c6');
    h.publish({ type: 'route.decision', callId: 'c6', action: 'agent', groupId: 'cards', agentId: 'alice' });
    await until(() => h.hungUp.includes('c6'));
    expect(h.placed).toEqual([]);
    expect(h.agentCalls).toEqual(['offer-failed alice c6']);
    expect(h.played).toEqual(['greeting', 'closed']);
    expect(h.facts).toEqual([]);
  });

  it('a queued call the box ends itself (longest wait, message) leaves the KPI queue as dequeued, not abandoned', async () => {
    const limited: SkillGroup = { ...GROUP, queue: { maxWaitS: 10, maxWaitAction: 'message' } };
    const h = harness({ groups: [limited], maxWaitDueInMs: 30 });
    open.push(h.acd);
    h.start('c7');
    h.publish({ type: 'route.decision', callId: 'c7', action: 'queue', groupId: 'cards' });
    await until(() => h.hungUp.includes('c7'));
    expect(h.facts).toEqual(['offered c7 cards', 'dequeued c7']);
    expect(h.played).toContain('all-busy');
    expect(h.queue.has('c7')).toBe(false);
  });

  it('SIPREC sessions are never answered with media, queued or rung', async () => {
    const h = harness();
    open.push(h.acd);
    h.start('rec1', 'siprec');
    h.publish({ type: 'route.decision', callId: 'rec1', action: 'agent', groupId: 'cards', agentId: 'alice' });
    await new Promise((r) => setTimeout(r, 30));
    expect(h.played).toEqual([]);
    expect(h.placed).toEqual([]);
    expect(h.acd.size).toBe(0);
  });
  describe('callback offer', () => {
    const CALLER = 'sip:+4930123456@trunk.example;user=phone';

    it('a caller who presses 1 at the longest-wait callback offer is kept for a callback, hears the confirmation and is hung up; the call is dequeued, not abandoned', async () => {
      const limited: SkillGroup = { ...GROUP, queue: { maxWaitS: 10, maxWaitAction: 'callback' } };
      const h = harness({ groups: [limited], maxWaitDueInMs: 30 });
      open.push(h.acd);
      const requested: unknown[] = [];
      const refused: string[] = [];
      h.acd.events.on('callback.requested', (e) => requested.push(e));
      h.acd.events.on('call.refused', (e) => refused.push(e.reason));
      h.start('cb1');
      h.dtmf('cb1', '1'); // during the greeting: nothing is offered yet
      h.publish({ type: 'route.decision', callId: 'cb1', action: 'queue', groupId: 'cards' });
      await until(() => h.played.includes('callback-offer'));
      expect(h.acd.phases()).toEqual({ cb1: 'callback-offer' });
      expect(h.queue.has('cb1')).toBe(false);
      expect(h.callbacks).toEqual([]);
      h.dtmf('cb1', '1');
      await until(() => h.hungUp.includes('cb1'));
      expect(h.callbacks).toEqual([{ callId: 'cb1', groupId: 'cards', numberUri: CALLER }]);
      expect(h.offers).toEqual(['cb1 cards accepted']);
      // the request keeps the caller's place: when it first queued
      expect(h.queuedAts).toEqual([expect.any(Number)]);
      expect(h.queuedAts[0]).toBeLessThanOrEqual(Date.now());
      expect(h.played.slice(-2)).toEqual(['callback-offer', 'callback-confirmed']);
      expect(h.facts).toEqual(['offered cb1 cards', 'dequeued cb1']);
      expect(requested).toEqual([{ callId: 'cb1', groupId: 'cards' }]);
      expect(refused).toEqual(['max-wait']);
      expect(h.acd.size).toBe(0);
    });

    it('no key within acd.callbackOfferS: no request, goodbye and hang-up (a closed group offering a callback plays closed, then the offer)', async () => {
      const closed: SkillGroup = { ...GROUP, queue: { hours: { weekly: {} }, whenClosed: 'callback' } };
      const h = harness({ groups: [closed], callbackOfferMs: 50 });
      open.push(h.acd);
      h.start('cb2');
      h.publish({ type: 'route.decision', callId: 'cb2', action: 'queue', groupId: 'cards' });
      await until(() => h.hungUp.includes('cb2'));
      expect(h.played).toEqual(['greeting', 'closed', 'callback-offer', 'goodbye']);
      expect(h.callbacks).toEqual([]);
      expect(h.offers).toEqual(['cb2 cards none']);
      expect(h.facts).toEqual([]);
      // a key after the offer was settled changes nothing
      h.dtmf('cb2', '1');
      expect(h.callbacks).toEqual([]);
    });

    it('a spoken yes at the offer accepts it as 1 would; a spoken no declines; words before the offer or of the agent change nothing', async () => {
      const h = harness();
      open.push(h.acd);
      const said = (callId: string, text: string, speaker = 'caller') => h.publish({ type: 'asr.final', callId, speaker, text } as never);
      h.start('sy1');
      h.start('sn1');
      said('sy1', 'YES'); // the greeting: nothing offered yet
      h.publish({ type: 'route.decision', callId: 'sy1', action: 'callback', groupId: 'cards' });
      h.publish({ type: 'route.decision', callId: 'sn1', action: 'callback', groupId: 'cards' });
      await until(() => h.played.filter((p) => p === 'callback-offer').length === 2);
      said('sy1', 'YEAH', 'agent');
      said('sy1', 'I AM NOT SURE NO YES'); // both: no answer
      expect(h.callbacks).toEqual([]);
      said('sy1', 'YES PLEASE CALL ME BACK');
      said('sn1', 'NO THANKS');
      await until(() => h.hungUp.includes('sy1') && h.hungUp.includes('sn1'));
      expect(h.callbacks).toEqual([{ callId: 'sy1', groupId: 'cards', numberUri: CALLER }]);
      expect(h.offers.sort()).toEqual(['sn1 cards declined', 'sy1 cards accepted']);
      expect(h.played).toContain('callback-confirmed');
      expect(h.played).toContain('goodbye');
    });

    it('any other key declines: no request, goodbye and hang-up (routing offered the callback); keys of calls not at an offer are ignored', async () => {
      const h = harness();
      open.push(h.acd);
      h.start('cb3');
      h.start('other');
      h.publish({ type: 'route.decision', callId: 'other', action: 'queue', groupId: 'cards' });
      h.publish({ type: 'route.decision', callId: 'cb3', action: 'callback', groupId: 'cards' });
      await until(() => h.played.includes('callback-offer'));
      h.dtmf('other', '1');
      h.dtmf('cb3', '2');
      await until(() => h.hungUp.includes('cb3'));
      expect(h.played.filter((p) => p === 'goodbye')).toHaveLength(1);
      expect(h.played).not.toContain('callback-confirmed');
      expect(h.callbacks).toEqual([]);
      expect(h.offers).toEqual(['cb3 cards declined']);
      expect(h.acd.phases()).toEqual({ other: 'queued' });
    });

    it('an anonymous caller is not offered a callback: the message of the case plays instead', async () => {
      const closed: SkillGroup = { ...GROUP, queue: { hours: { weekly: {} }, whenClosed: 'callback' } };
      const h = harness({ groups: [closed] });
      open.push(h.acd);
      h.start('anon1', 'call', '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=x');
      h.publish({ type: 'route.decision', callId: 'anon1', action: 'queue', groupId: 'cards' });
      await until(() => h.hungUp.includes('anon1'));
      expect(h.played).toEqual(['greeting', 'closed']);

      const busy = harness();
      open.push(busy.acd);
      busy.start('anon2', 'call', '<sip:trunk.example>;tag=y'); // no user part: no number
      busy.publish({ type: 'route.decision', callId: 'anon2', action: 'callback', groupId: 'cards' });
      await until(() => busy.hungUp.includes('anon2'));
      expect(busy.played).toEqual(['greeting', 'all-busy']);
      busy.dtmf('anon2', '1');
      expect(busy.callbacks).toEqual([]);
    });

    it('a full queue whose overflow is callback offers one; without a callback store it plays queue-full', async () => {
      const full: SkillGroup = { ...GROUP, queue: { maxQueued: 1 }, overflow: { maxWaitMs: 600_000, action: 'callback' } };
      const h = harness({ groups: [full] });
      open.push(h.acd);
      h.start('first');
      h.publish({ type: 'route.decision', callId: 'first', action: 'queue', groupId: 'cards' });
      h.start('cb4');
      h.publish({ type: 'route.decision', callId: 'cb4', action: 'queue', groupId: 'cards' });
      await until(() => h.played.includes('callback-offer'));
      h.dtmf('cb4', '1');
      await until(() => h.hungUp.includes('cb4'));
      expect(h.callbacks).toEqual([{ callId: 'cb4', groupId: 'cards', numberUri: CALLER }]);

      const bare = harness({ groups: [full], callbackStore: 'none' });
      open.push(bare.acd);
      bare.start('first');
      bare.publish({ type: 'route.decision', callId: 'first', action: 'queue', groupId: 'cards' });
      bare.start('cb5');
      bare.publish({ type: 'route.decision', callId: 'cb5', action: 'queue', groupId: 'cards' });
      await until(() => bare.hungUp.includes('cb5'));
      expect(bare.played).toContain('queue-full');
      expect(bare.played).not.toContain('callback-offer');
    });

    it('a request the store cannot keep is not confirmed: the caller hears all-busy', async () => {
      const h = harness({ callbackStore: 'fail' });
      open.push(h.acd);
      const requested: unknown[] = [];
      h.acd.events.on('callback.requested', (e) => requested.push(e));
      h.start('cb6');
      h.publish({ type: 'route.decision', callId: 'cb6', action: 'callback', groupId: 'cards' });
      await until(() => h.played.includes('callback-offer'));
      h.dtmf('cb6', '1');
      await until(() => h.hungUp.includes('cb6'));
      expect(h.played.slice(-1)).toEqual(['all-busy']);
      expect(requested).toEqual([]);
    });

    it('a caller who hangs up at the offer is not an abandon, leaves no request, and the offer is kept as hung-up (not left unanswered)', async () => {
      const limited: SkillGroup = { ...GROUP, queue: { maxWaitS: 10, maxWaitAction: 'callback' } };
      const h = harness({ groups: [limited], maxWaitDueInMs: 30, callbackOfferMs: 30 });
      open.push(h.acd);
      h.start('cb7');
      h.publish({ type: 'route.decision', callId: 'cb7', action: 'queue', groupId: 'cards' });
      await until(() => h.played.includes('callback-offer'));
      h.events.emit('call.ended', { callId: 'cb7' } as never);
      await new Promise((r) => setTimeout(r, 80));
      expect(h.facts).toEqual(['offered cb7 cards', 'dequeued cb7']);
      expect(h.callbacks).toEqual([]);
      expect(h.offers).toEqual(['cb7 cards hung-up']);
      expect(h.hungUp).toEqual([]);
      expect(h.acd.size).toBe(0);
    });

    it('a caller who hangs up before the offer is heard (still in the greeting) is kept as hung-up too; an answered offer is not changed by the hang-up', async () => {
      const h = harness();
      open.push(h.acd);
      h.start('cb8');
      h.publish({ type: 'route.decision', callId: 'cb8', action: 'callback', groupId: 'cards' });
      h.events.emit('call.ended', { callId: 'cb8' } as never);
      expect(h.offers).toEqual(['cb8 cards hung-up']);

      h.start('cb9');
      h.publish({ type: 'route.decision', callId: 'cb9', action: 'callback', groupId: 'cards' });
      await until(() => h.played.includes('callback-offer'));
      h.dtmf('cb9', '2');
      await until(() => h.hungUp.includes('cb9'));
      expect(h.offers).toEqual(['cb8 cards hung-up', 'cb9 cards declined']);
    });
  });
});

describe('ACD transfers and hold asked by the agent’s phone', () => {
  let open: AcdCalls[] = [];
  afterEach(() => {
    for (const a of open) a.close();
    open = [];
  });

  const contactsByAgent = { alice: ['sip:alice@10.0.0.5:5062'], bob: ['sip:bob@10.0.0.7:5062'] };
  const billing: SkillGroup = { ...GROUP, id: 'billing', name: 'Billing' };

  /** c1 offered to alice from the cards queue, her phone answered (agent-call-1): bridged. */
  const bridgedToAlice = async (opts: Parameters<typeof harness>[0] = {}) => {
    const h = harness({ contactsByAgent, groups: [GROUP, billing], ...opts });
    open.push(h.acd);
    h.start('c1');
    h.publish({ type: 'route.decision', callId: 'c1', action: 'agent', groupId: 'cards', agentId: 'alice', priority: 3 } as never);
    h.placed[0]!.settle({ type: 'answered', call: {} as never });
    await until(() => h.bridged.length === 1);
    expect(h.acd.ownsReferral('agent-call-1')).toBe(true);
    expect(h.acd.ownsReferral('c1')).toBe(false); // the caller's own REFERs are not the ACD's
    return h;
  };
  const musicCount = (h: ReturnType<typeof harness>) => h.played.filter((p) => p === 'hold-music').length;

  it('blind transfer to another agent: bob rings with music to the caller, answers, is bridged as the same call; alice is released to wrap-up', async () => {
    const h = await bridgedToAlice();
    const outcomes: string[] = [];
    h.acd.events.on('call.transferred', (e) => outcomes.push(`${e.kind} ${e.outcome}`));
    const music = musicCount(h);
    const final = h.acd.referral('agent-call-1', 'sip:bob@192.0.2.10');
    expect(h.placed.map((l) => l.target)).toEqual(['sip:alice@10.0.0.5:5062', 'sip:bob@10.0.0.7:5062']);
    expect(h.agentCalls).toEqual(['answered alice c1', 'offer bob c1']);
    expect(h.bridgeOps).toEqual(['unbridge c1 agent-call-1']);
    await until(() => musicCount(h) > music); // the caller hears music while bob's phone rings
    expect(h.sinks).toEqual(['c1', 'c1']); // bob's leg is transcribed as the agent leg of the caller's call

    h.placed[1]!.settle({ type: 'answered', call: {} as never });
    expect(await final).toBe(200);
    expect(h.bridged).toEqual([
      ['c1', 'agent-call-1'],
      ['c1', 'agent-call-2'],
    ]);
    expect(h.facts).toEqual(['offered c1 cards', 'answered c1 alice', 'transferred c1', 'answered c1 bob']);
    expect(h.agentCalls).toEqual(['answered alice c1', 'offer bob c1', 'leg-ended alice c1', 'answered bob c1']);
    expect(h.reassigned).toEqual(['c1 bob']);
    expect(outcomes).toEqual(['agent completed']);
    expect(h.acd.counters.transfers).toBe(1);
    expect(h.acd.bridged('c1')).toMatchObject({ agentId: 'bob', agentCallId: 'agent-call-2' });
    // alice's leg ends after the final NOTIFY (her phone did not hang up itself); the caller stays
    await until(() => h.hungUp.includes('agent-call-1'));
    expect(h.hungUp).toEqual(['agent-call-1']);
    expect(h.acd.phases()).toEqual({ c1: 'bridged' });
    // bob hangs up: the call ends once, one talk end
    h.events.emit('call.ended', { callId: 'agent-call-2' } as never);
    await until(() => h.acd.size === 0);
    expect(h.hungUp).toEqual(['agent-call-1', 'c1']);
    expect(h.facts.filter((f) => f.startsWith('talk-ended'))).toEqual(['talk-ended c1']);
  });

  it('the target does not answer: NOTIFY 480 and the caller is bridged back to alice, still on the call', async () => {
    const h = await bridgedToAlice();
    const final = h.acd.referral('agent-call-1', 'sip:bob@10.0.0.5'); // bob's configured sipUri names him too
    h.placed[1]!.settle({ type: 'failed', reason: 'ring_timeout', status: 487, error: new Error('x') as never });
    expect(await final).toBe(480);
    expect(h.agentCalls).toEqual(['answered alice c1', 'offer bob c1', 'no-answer bob c1']);
    expect(h.bridgeOps).toEqual(['unbridge c1 agent-call-1', 'bridge c1 agent-call-1']);
    expect(h.facts).toEqual(['offered c1 cards', 'answered c1 alice']);
    expect(h.acd.bridged('c1')).toMatchObject({ agentId: 'alice', agentCallId: 'agent-call-1' });
    expect(h.hungUp).toEqual([]);
  });

  it('alice hangs up while bob rings and bob does not answer: the caller waits again in its group, priority and place kept', async () => {
    const h = await bridgedToAlice();
    const final = h.acd.referral('agent-call-1', 'sip:bob@192.0.2.10');
    h.events.emit('call.ended', { callId: 'agent-call-1' } as never); // her phone's BYE after the REFER
    expect(h.acd.phases()).toEqual({ c1: 'transferring' });
    expect(h.hungUp).toEqual([]); // the caller is not hung up with her
    expect(h.agentCalls).toEqual(['answered alice c1', 'offer bob c1', 'leg-ended alice c1']);
    h.placed[1]!.settle({ type: 'failed', reason: 'rejected', status: 486, error: new Error('x') as never });
    expect(await final).toBe(480);
    expect(h.requeuedTo).toEqual(['c1 cards 3']);
    expect(h.acd.phases()).toEqual({ c1: 'queued' });
    expect(h.facts).toEqual(['offered c1 cards', 'answered c1 alice', 'transferred c1']);
    // the caller hangs up while waiting: no abandon of a second queue, the KPI engine closes the transferred call
    h.events.emit('call.ended', { callId: 'c1' } as never);
    expect(h.facts).toEqual(['offered c1 cards', 'answered c1 alice', 'transferred c1', 'abandoned c1']);
  });

  it('blind transfer to a queue: NOTIFY 200, alice released at once, the caller re-queued in billing with its priority', async () => {
    const h = await bridgedToAlice();
    expect(await h.acd.referral('agent-call-1', 'sip:queue-billing@192.0.2.10:5060;transport=udp')).toBe(200);
    expect(h.requeuedTo).toEqual(['c1 billing 3']);
    expect(h.acd.phases()).toEqual({ c1: 'queued' });
    expect(h.agentCalls).toEqual(['answered alice c1', 'leg-ended alice c1']);
    expect(h.facts).toEqual(['offered c1 cards', 'answered c1 alice', 'transferred c1']);
    expect(h.bridgeOps).toEqual(['close c1 agent-call-1']);
    expect(h.acd.ownsReferral('agent-call-1')).toBe(false);
    await until(() => h.hungUp.includes('agent-call-1'));
    // routing offers it to bob: rung and answered like any queued call, one interaction
    h.publish({ type: 'route.decision', callId: 'c1', action: 'agent', groupId: 'billing', agentId: 'bob', trigger: 'dequeue' });
    h.placed[1]!.settle({ type: 'answered', call: {} as never });
    await until(() => h.bridged.length === 2);
    expect(h.facts).toEqual(['offered c1 cards', 'answered c1 alice', 'transferred c1', 'answered c1 bob']);
  });

  it('refuses unknown agents and groups (404), external, off-network, attended and self transfers (403), each audited without the number', async () => {
    const h = await bridgedToAlice();
    const refusals: string[] = [];
    h.acd.events.on('call.transferred', (e) => refusals.push(`${e.outcome} ${e.reason}`));
    expect(await h.acd.referral('agent-call-1', 'sip:zed@192.0.2.10')).toBe(404);
    expect(await h.acd.referral('agent-call-1', 'sip:queue-nope@192.0.2.10')).toBe(404);
    expect(await h.acd.referral('agent-call-1', 'sip:+4930123456@198.51.100.7')).toBe(403);
    expect(await h.acd.referral('agent-call-1', 'sip:+4930123456@203.0.113.9')).toBe(403);
    expect(await h.acd.referral('agent-call-1', 'sip:bob@192.0.2.10?Replaces=abc%3Bto-tag%3D1%3Bfrom-tag%3D2')).toBe(403);
    expect(await h.acd.referral('agent-call-1', 'sip:alice@192.0.2.10')).toBe(403);
    expect(await h.acd.referral('agent-call-9', 'sip:bob@192.0.2.10')).toBe(481); // not a leg the ACD has
    expect(refusals).toEqual([
      'refused unknown-agent',
      'refused unknown-agent',
      'refused external-unsupported',
      'refused target-not-allowed',
      'refused attended-unsupported',
      'refused same-agent',
    ]);
    expect(h.audits.map((a) => `${a.actor} ${a.action} ${a.target} ${String(a.details['reason'])} ${String(a.details['status'])}`)).toEqual(
      [
        'agent:alice acd.transfer.refused call:c1 unknown-agent 404',
        'agent:alice acd.transfer.refused call:c1 unknown-agent 404',
        'agent:alice acd.transfer.refused call:c1 external-unsupported 403',
        'agent:alice acd.transfer.refused call:c1 target-not-allowed 403',
        'agent:alice acd.transfer.refused call:c1 attended-unsupported 403',
        'agent:alice acd.transfer.refused call:c1 same-agent 403',
      ],
    );
    expect(JSON.stringify(h.audits)).not.toContain('4930123456');
    // nothing moved: still bridged to alice, nobody rung
    expect(h.placed).toHaveLength(1);
    expect(h.bridgeOps).toEqual([]);
    expect(h.acd.bridged('c1')).toMatchObject({ agentId: 'alice' });
  });

  it('a target agent who is not available gets nothing rung (486); one with no phone is offer-failed (480); a second REFER while one rings is 491', async () => {
    const busy = await bridgedToAlice({ busyAgents: ['bob'] });
    expect(await busy.acd.referral('agent-call-1', 'sip:bob@192.0.2.10')).toBe(486);
    expect(busy.placed).toHaveLength(1);
    expect(busy.audits).toEqual([]);

    const unreachable = await bridgedToAlice({ contactsByAgent: { ...contactsByAgent, carol: [] } });
    expect(await unreachable.acd.referral('agent-call-1', 'sip:carol@192.0.2.10')).toBe(480);
    expect(unreachable.agentCalls).toEqual(['answered alice c1', 'offer carol c1', 'offer-failed carol c1']);
    expect(unreachable.bridgeOps).toEqual([]);

    const h = await bridgedToAlice();
    const first = h.acd.referral('agent-call-1', 'sip:bob@192.0.2.10');
    expect(await h.acd.referral('agent-call-1', 'sip:queue-billing@192.0.2.10')).toBe(491);
    // the caller hangs up while bob rings: bob's ring is cancelled, the REFER ends 487, alice's leg goes
    h.events.emit('call.ended', { callId: 'c1' } as never);
    expect(await first).toBe(487);
    expect(h.placed[1]!.cancelled).toBe(true);
    expect(h.hungUp).toEqual(['agent-call-1']);
    expect(h.agentCalls).toEqual(['answered alice c1', 'offer bob c1', 'leg-ended bob c1']);
    expect(h.facts).toEqual(['offered c1 cards', 'answered c1 alice', 'talk-ended c1']);
  });

  it('the agent’s phone holds: the bridge is detached and the caller hears hold music; resume bridges again', async () => {
    const h = await bridgedToAlice();
    const music = musicCount(h);
    const before = h.sent.find((x) => x.callId === 'c1')!.frames;
    h.events.emit('call.held', { callId: 'agent-call-1' });
    expect(h.bridgeOps).toEqual(['unbridge c1 agent-call-1']);
    await until(() => musicCount(h) > music);
    await until(() => h.sent.find((x) => x.callId === 'c1')!.frames > before); // music frames reach the caller's leg
    expect(h.facts).toEqual(['offered c1 cards', 'answered c1 alice', 'held c1']);
    h.events.emit('call.resumed', { callId: 'agent-call-1' });
    expect(h.bridgeOps).toEqual(['unbridge c1 agent-call-1', 'bridge c1 agent-call-1']);
    const after = h.sent.find((x) => x.callId === 'c1')!.frames;
    await new Promise((r) => setTimeout(r, 100));
    expect(h.sent.find((x) => x.callId === 'c1')!.frames).toBe(after); // the music stopped
    // the caller holding is only a fact: nothing is played to them
    h.events.emit('call.held', { callId: 'c1' });
    expect(h.bridgeOps).toHaveLength(2);
  });

  it('the caller holding (their leg’s re-INVITE) is not the agent’s hold: her hold state is not moved, no music, the bridge stays', async () => {
    const h = await bridgedToAlice();
    h.events.emit('call.held', { callId: 'c1' });
    h.events.emit('call.resumed', { callId: 'c1' });
    expect(h.agentCalls).toEqual(['answered alice c1']);
    expect(h.bridgeOps).toEqual([]);
    expect(h.acd.holdByAgent('c1', 'alice', true)).toBe(481); // her SIP phone’s call: the phone holds it
    // her own phone’s hold is hers
    h.events.emit('call.held', { callId: 'agent-call-1' });
    expect(h.agentCalls).toEqual(['answered alice c1', 'held alice c1 true']);
  });
});

describe('ACD attended transfer: consult call, then REFER with Replaces', () => {
  let open: { close(): void }[] = [];
  afterEach(() => {
    for (const a of open) a.close();
    open = [];
  });

  const contactsByAgent = { alice: ['sip:alice@10.0.0.5:5062'], bob: ['sip:bob@10.0.0.7:5062'] };
  /** The consult call k1 as the box sees its dialog: alice's phone (its registered source) is the UAC. */
  const k1Dialog = {
    sipCallId: 'cons-1@10.0.0.5',
    localTag: 'box-k1',
    remoteTag: 'alice-k1',
    peer: { transport: 'udp' as const, address: '10.0.0.5', port: 5062 },
  };
  const replaces = (callId: string, toTag: string, fromTag: string) =>
    `sip:bob@192.0.2.10?Replaces=${encodeURIComponent(`${callId};to-tag=${toTag};from-tag=${fromTag}`)}`;

  /** c1 bridged to alice (agent-call-1), her phone holds it, then dials bob at the box (k1): bob's phone rings (agent-call-2). */
  const consulting = async (opts: Parameters<typeof harness>[0] = {}) => {
    const h = harness({ contactsByAgent, consultDialogs: new Map([['k1', k1Dialog]]), ...opts });
    open.push(h.acd, h.consults!);
    h.start('c1');
    h.publish({ type: 'route.decision', callId: 'c1', action: 'agent', groupId: 'cards', agentId: 'alice', priority: 3 } as never);
    h.placed[0]!.settle({ type: 'answered', call: {} as never });
    await until(() => h.bridged.length === 1);
    h.events.emit('call.held', { callId: 'agent-call-1' });
    h.start('k1', 'call', '<sip:alice@10.0.0.5>;tag=alice-k1', '<sip:bob@192.0.2.10>');
    return h;
  };

  it('the consult call is not a caller: bob’s phone rings, is bridged with alice’s consult call on answer; not routed', async () => {
    const h = await consulting();
    expect(h.acd.phases()).toEqual({ c1: 'bridged' }); // no greeting, queue or KPI for k1
    expect(h.routedNever).toEqual(['k1']);
    expect(h.placed.map((l) => l.target)).toEqual(['sip:alice@10.0.0.5:5062', 'sip:bob@10.0.0.7:5062']);
    expect(h.agentCalls).toEqual(['answered alice c1', 'held alice c1 true', 'offer bob k1']);
    h.placed[1]!.settle({ type: 'answered', call: {} as never });
    await until(() => h.bridged.length === 2);
    expect(h.bridged[1]).toEqual(['k1', 'agent-call-2']);
    expect(h.agentCalls.at(-1)).toBe('answered bob k1');
    expect(h.facts).toEqual(['offered c1 cards', 'answered c1 alice', 'held c1']);
    expect(h.sinks).toEqual(['c1']); // only alice's leg; bob's consult talk is not the caller's
    expect(h.acd.bridged('c1')).toMatchObject({ agentId: 'alice', agentCallId: 'agent-call-1' });
    expect(h.consults!.size).toBe(1);
  });

  it('REFER with Replaces on alice’s leg: the caller is bridged with bob’s leg, alice’s two legs end, one interaction', async () => {
    const h = await consulting();
    const outcomes: string[] = [];
    h.acd.events.on('call.transferred', (e) => outcomes.push(`${e.kind} ${e.outcome}`));
    h.placed[1]!.settle({ type: 'answered', call: {} as never });
    await until(() => h.bridged.length === 2);

    expect(await h.acd.referral('agent-call-1', replaces('cons-1@10.0.0.5', 'box-k1', 'alice-k1'))).toBe(200);
    expect(h.bridged.at(-1)).toEqual(['c1', 'agent-call-2']);
    expect(h.bridgeOps).toEqual(['unbridge c1 agent-call-1', 'close k1 agent-call-2', 'close c1 agent-call-1']);
    expect(h.acd.bridged('c1')).toMatchObject({ agentId: 'bob', agentCallId: 'agent-call-2' });
    expect(h.agentCalls.slice(3)).toEqual(['answered bob k1', 'moved bob k1 c1', 'leg-ended alice c1']);
    expect(h.facts).toEqual(['offered c1 cards', 'answered c1 alice', 'held c1', 'transferred c1', 'answered c1 bob']);
    expect(h.reassigned).toEqual(['c1 bob']);
    expect(h.sinks).toEqual(['c1', 'c1']); // bob's leg transcribed as the caller's agent leg from now on
    expect(outcomes).toEqual(['attended completed']);
    expect(h.acd.counters.transfers).toBe(1);
    expect(h.consults!.counters.taken).toBe(1);
    // the consult call ends at once, alice's ACD leg after the NOTIFY; the caller and bob stay
    await until(() => h.hungUp.includes('agent-call-1'));
    expect(h.hungUp).toEqual(['k1', 'agent-call-1']);
    expect(h.acd.phases()).toEqual({ c1: 'bridged' });
    expect(h.consults!.size).toBe(0);
    // bob hangs up: the caller's call ends once
    h.events.emit('call.ended', { callId: 'agent-call-2' } as never);
    await until(() => h.acd.size === 0);
    expect(h.hungUp).toEqual(['k1', 'agent-call-1', 'c1']);
  });

  it('a Replaces naming no consult dialog of the agent is refused 481 and audited; a malformed one 403; nothing moves', async () => {
    const h = await consulting();
    h.placed[1]!.settle({ type: 'answered', call: {} as never });
    await until(() => h.bridged.length === 2);
    expect(await h.acd.referral('agent-call-1', replaces('other@10.0.0.5', 'box-k1', 'alice-k1'))).toBe(481);
    // the tags as alice's side sees them (to-tag = her own) do not match the box's side of the dialog
    expect(await h.acd.referral('agent-call-1', replaces('cons-1@10.0.0.5', 'alice-k1', 'box-k1'))).toBe(481);
    expect(await h.acd.referral('agent-call-1', 'sip:bob@192.0.2.10?Replaces=cons-1%4010.0.0.5%3Bto-tag%3Dbox-k1')).toBe(403);
    expect(h.audits.map((a) => `${a.actor} ${a.action} ${a.target} ${String(a.details['reason'])} ${String(a.details['status'])}`)).toEqual(
      [
        'agent:alice acd.transfer.refused call:c1 unknown-replaces 481',
        'agent:alice acd.transfer.refused call:c1 unknown-replaces 481',
        'agent:alice acd.transfer.refused call:c1 malformed 403',
      ],
    );
    expect(JSON.stringify(h.audits)).not.toContain('cons-1');
    expect(h.acd.bridged('c1')).toMatchObject({ agentId: 'alice', agentCallId: 'agent-call-1' });
    expect(h.bridgeOps).toEqual(['unbridge c1 agent-call-1']); // the consult bridge stays, the caller stays on hold
    expect(h.hungUp).toEqual([]);
    expect(h.consults!.size).toBe(1);
  });

  it('bob does not answer the consult call: it ends (BYE to alice), the caller stays on hold with alice; a later Replaces is 481', async () => {
    const h = await consulting();
    h.placed[1]!.settle({ type: 'failed', reason: 'ring_timeout', status: 487, error: new Error('x') as never });
    await until(() => h.hungUp.includes('k1'));
    expect(h.agentCalls.at(-1)).toBe('no-answer bob k1');
    expect(h.bridged).toHaveLength(1);
    expect(h.bridgeOps).toEqual(['unbridge c1 agent-call-1']);
    expect(h.acd.bridged('c1')).toMatchObject({ agentId: 'alice', agentCallId: 'agent-call-1' });
    const frames = h.sent.find((x) => x.callId === 'c1')!.frames;
    await until(() => h.sent.find((x) => x.callId === 'c1')!.frames > frames); // the caller still hears hold music
    expect(h.hungUp).toEqual(['k1']);
    expect(h.consults!.size).toBe(0);
    expect(await h.acd.referral('agent-call-1', replaces('cons-1@10.0.0.5', 'box-k1', 'alice-k1'))).toBe(481);
    // alice's phone resumes: back with the caller
    h.events.emit('call.resumed', { callId: 'agent-call-1' });
    expect(h.bridgeOps).toEqual(['unbridge c1 agent-call-1', 'bridge c1 agent-call-1']);
  });

  it('bob hangs up the consult call: alice’s consult leg is hung up; an unknown source or user at the box is a caller', async () => {
    const h = await consulting();
    h.placed[1]!.settle({ type: 'answered', call: {} as never });
    await until(() => h.bridged.length === 2);
    h.events.emit('call.ended', { callId: 'agent-call-2' } as never);
    expect(h.hungUp).toEqual(['k1']);
    expect(h.bridgeOps).toEqual(['unbridge c1 agent-call-1', 'close k1 agent-call-2']);
    expect(h.acd.bridged('c1')).toMatchObject({ agentId: 'alice' });

    const other = { ...k1Dialog, peer: { ...k1Dialog.peer, address: '10.0.0.99' } };
    const g = harness({
      contactsByAgent,
      consultDialogs: new Map([
        ['x1', other],
        ['x2', k1Dialog],
      ]),
    });
    open.push(g.acd, g.consults!);
    g.start('x1', 'call', '<sip:mallory@10.0.0.99>;tag=m', '<sip:bob@192.0.2.10>'); // not a registered contact
    g.start('x2', 'call', '<sip:alice@10.0.0.5>;tag=a', '<sip:zed@192.0.2.10>'); // no such agent
    expect(g.acd.phases()).toEqual({ x1: 'greeting', x2: 'greeting' });
    expect(g.routedNever).toEqual([]);
  });
});

describe('ACD hold and transfer asked by the agent’s browser softphone', () => {
  let open: AcdCalls[] = [];
  afterEach(() => {
    for (const a of open) a.close();
    open = [];
  });

  const billing: SkillGroup = { ...GROUP, id: 'billing', name: 'Billing' };

  /** Softphones of alice and bob (no registered phones): each ring answered or not by the test. */
  const softphoneFake = () => {
    const rings: { agentId: string; callId: string; settle: (o: RingOutcome) => void; cancelled: boolean }[] = [];
    const softphones: AcdSoftphones = {
      ring: (agentId, callId) => {
        let settle: (o: RingOutcome) => void = () => {};
        const result = new Promise<RingOutcome>((r) => (settle = r));
        const ring = { agentId, callId, settle, cancelled: false };
        rings.push(ring);
        return {
          result,
          cancel: () => {
            ring.cancelled = true;
            settle({ type: 'failed', noAnswer: false });
          },
          hangUpAnswered: () => undefined,
        };
      },
    };
    return { softphones, rings };
  };

  /** c1 offered to alice from the cards queue, her softphone joined the call (no SIP leg, no bridge). */
  const onAlicesSoftphone = async () => {
    const fake = softphoneFake();
    const h = harness({ contactsByAgent: { alice: [], bob: [], carol: [] }, groups: [GROUP, billing], softphones: fake.softphones });
    open.push(h.acd);
    h.start('c1');
    h.publish({ type: 'route.decision', callId: 'c1', action: 'agent', groupId: 'cards', agentId: 'alice', priority: 3 } as never);
    await until(() => fake.rings.length === 1);
    fake.rings[0]!.settle({ type: 'answered', agentCallId: null });
    await until(() => h.agentCalls.includes('answered alice c1'));
    expect(h.acd.phases()).toEqual({ c1: 'bridged' });
    return { h, rings: fake.rings };
  };
  const musicCount = (h: ReturnType<typeof harness>) => h.played.filter((p) => p === 'hold-music').length;
  const frames = (h: ReturnType<typeof harness>) => h.sent.find((x) => x.callId === 'c1')!.frames;

  it('hold plays hold music to the caller (their leg gets frames), resume stops it; held / resumed facts; only once each', async () => {
    const { h } = await onAlicesSoftphone();
    const music = musicCount(h);
    const before = frames(h);
    expect(h.acd.holdByAgent('c1', 'alice', true)).toBe(200);
    await until(() => musicCount(h) > music);
    await until(() => frames(h) > before);
    expect(h.acd.holdByAgent('c1', 'alice', true)).toBe(409);
    expect(h.acd.holdByAgent('c1', 'alice', false)).toBe(200);
    const after = frames(h);
    await new Promise((r) => setTimeout(r, 100));
    expect(frames(h)).toBe(after); // the music stopped
    expect(h.facts).toEqual(['offered c1 cards', 'answered c1 alice', 'held c1', 'resumed c1']);
    expect(h.agentCalls).toEqual(['answered alice c1', 'held alice c1 true', 'held alice c1 false']);
    expect(h.bridged).toEqual([]); // a softphone is in the caller's call: no SIP bridge
  });

  it('only the agent on the call may hold or transfer it: another agent, another call are 481 (transfers audited), nothing moves', async () => {
    const { h } = await onAlicesSoftphone();
    expect(h.acd.holdByAgent('c1', 'bob', true)).toBe(481);
    expect(h.acd.holdByAgent('c9', 'alice', true)).toBe(481);
    expect(await h.acd.transferByAgent('c1', 'bob', { kind: 'group', groupId: 'billing' })).toBe(481);
    expect(await h.acd.transferByAgent('c9', 'alice', { kind: 'group', groupId: 'billing' })).toBe(481);
    expect(h.audits.map((a) => `${a.actor} ${a.action} ${a.target} ${String(a.details['reason'])} ${String(a.details['status'])}`)).toEqual(
      ['agent:bob acd.transfer.refused call:c1 not-on-call 481', 'agent:alice acd.transfer.refused call:c9 not-on-call 481'],
    );
    expect(h.facts).toEqual(['offered c1 cards', 'answered c1 alice']);
    expect(h.requeued).toEqual([]);
    expect(h.acd.phases()).toEqual({ c1: 'bridged' });
  });

  it('a SIP agent’s call is not the softphone’s: holdByAgent / transferByAgent refuse it (their phone holds and REFERs)', async () => {
    const h = harness({ contactsByAgent: { alice: ['sip:alice@10.0.0.5:5062'] } });
    open.push(h.acd);
    h.start('c1');
    h.publish({ type: 'route.decision', callId: 'c1', action: 'agent', groupId: 'cards', agentId: 'alice' } as never);
    h.placed[0]!.settle({ type: 'answered', call: {} as never });
    await until(() => h.bridged.length === 1);
    expect(h.acd.holdByAgent('c1', 'alice', true)).toBe(481);
    expect(await h.acd.transferByAgent('c1', 'alice', { kind: 'group', groupId: 'cards' })).toBe(481);
    expect(h.bridgeOps).toEqual([]);
  });

  it('unknown agents and groups are 404, the agent themselves 403, each audited and reported refused; the call stays', async () => {
    const { h } = await onAlicesSoftphone();
    const refusals: string[] = [];
    h.acd.events.on('call.transferred', (e) => refusals.push(`${e.outcome} ${e.reason}`));
    expect(await h.acd.transferByAgent('c1', 'alice', { kind: 'agent', agentId: 'zed' })).toBe(404);
    expect(await h.acd.transferByAgent('c1', 'alice', { kind: 'group', groupId: 'nope' })).toBe(404);
    expect(await h.acd.transferByAgent('c1', 'alice', { kind: 'agent', agentId: 'alice' })).toBe(403);
    expect(refusals).toEqual(['refused unknown-agent', 'refused unknown-agent', 'refused same-agent']);
    expect(h.audits.map((a) => `${a.actor} ${a.target} ${String(a.details['reason'])} ${String(a.details['status'])}`)).toEqual([
      'agent:alice call:c1 unknown-agent 404',
      'agent:alice call:c1 unknown-agent 404',
      'agent:alice call:c1 same-agent 403',
    ]);
    expect(h.acd.phases()).toEqual({ c1: 'bridged' });
    expect(h.agentCalls).toEqual(['answered alice c1']);
  });

  it('to a queue: 200 at once, alice released to wrap-up, the caller re-queued in billing with its priority; one interaction', async () => {
    const { h, rings } = await onAlicesSoftphone();
    expect(await h.acd.transferByAgent('c1', 'alice', { kind: 'group', groupId: 'billing' })).toBe(200);
    expect(h.requeuedTo).toEqual(['c1 billing 3']);
    expect(h.acd.phases()).toEqual({ c1: 'queued' });
    expect(h.agentCalls).toEqual(['answered alice c1', 'leg-ended alice c1']);
    expect(h.facts).toEqual(['offered c1 cards', 'answered c1 alice', 'transferred c1']);
    expect(h.hungUp).toEqual([]); // no SIP leg of hers to hang up; the caller stays
    expect(h.acd.counters.transfers).toBe(1);
    // routing offers it to bob's softphone: the same call
    h.publish({ type: 'route.decision', callId: 'c1', action: 'agent', groupId: 'billing', agentId: 'bob', trigger: 'dequeue' });
    await until(() => rings.length === 2);
    expect(rings[1]).toMatchObject({ agentId: 'bob', callId: 'c1' });
    rings[1]!.settle({ type: 'answered', agentCallId: null });
    await until(() => h.agentCalls.includes('answered bob c1'));
    expect(h.facts).toEqual(['offered c1 cards', 'answered c1 alice', 'transferred c1', 'answered c1 bob']);
  });

  it('to an agent: bob’s softphone rings with music to the caller, answers: 200, bob is the call’s agent; alice may no longer hold it', async () => {
    const { h, rings } = await onAlicesSoftphone();
    const music = musicCount(h);
    const final = h.acd.transferByAgent('c1', 'alice', { kind: 'agent', agentId: 'bob' });
    expect(rings.map((r) => `${r.agentId} ${r.callId}`)).toEqual(['alice c1', 'bob c1']);
    await until(() => musicCount(h) > music);
    rings[1]!.settle({ type: 'answered', agentCallId: null });
    expect(await final).toBe(200);
    expect(h.agentCalls).toEqual(['answered alice c1', 'offer bob c1', 'leg-ended alice c1', 'answered bob c1']);
    expect(h.facts).toEqual(['offered c1 cards', 'answered c1 alice', 'transferred c1', 'answered c1 bob']);
    expect(h.reassigned).toEqual(['c1 bob']);
    expect(h.acd.holdByAgent('c1', 'alice', true)).toBe(481);
    expect(h.acd.holdByAgent('c1', 'bob', true)).toBe(200);
  });

  it('to an agent who does not answer: 480, the call is back with alice (music stops), she may transfer again', async () => {
    const { h, rings } = await onAlicesSoftphone();
    const final = h.acd.transferByAgent('c1', 'alice', { kind: 'agent', agentId: 'bob' });
    expect(await h.acd.transferByAgent('c1', 'alice', { kind: 'group', groupId: 'billing' })).toBe(491);
    await until(() => musicCount(h) > 0);
    rings[1]!.settle({ type: 'failed', noAnswer: true });
    expect(await final).toBe(480);
    const after = frames(h);
    await new Promise((r) => setTimeout(r, 100));
    expect(frames(h)).toBe(after);
    expect(h.agentCalls).toEqual(['answered alice c1', 'offer bob c1', 'no-answer bob c1']);
    expect(h.facts).toEqual(['offered c1 cards', 'answered c1 alice']);
    expect(await h.acd.transferByAgent('c1', 'alice', { kind: 'group', groupId: 'billing' })).toBe(200);
  });
});
