/**
 * The longest-wait rule of the group a call waits in now, with the ACD on a real routing queue and
 * queue view (acd/queueView.ts): a call that moves to another group (an agent's transfer to a
 * queue, an overflow at the longest wait) starts that group's clock when it enters it, not when it
 * first queued. The SIP server is a recorder; routing's clock is moved by hand.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AcdCalls } from '../../../appliance/acd/acdCalls.js';
import { KpiService } from '../../../appliance/acd/kpiService.js';
import { AcdQueues } from '../../../appliance/acd/queueView.js';
import { AcdRepo } from '../../../appliance/acd/repo.js';
import { EventBus, type ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { TypedEmitter } from '../../../appliance/events/typedEmitter.js';
import { createLogger } from '../../../appliance/log/logger.js';
import { RoutingRepo } from '../../../appliance/routing/repo.js';
import { RoutingService } from '../../../appliance/routing/routingService.js';
import type { SkillGroupInput } from '../../../appliance/routing/schemas.js';
import { Store } from '../../../appliance/store/database.js';
import type { OutboundOutcome } from '../../../appliance/telephony/outbound.js';
import { TransferTargetPolicy } from '../../../appliance/telephony/transferTargets.js';
import type { TelephonyEvents } from '../../../appliance/telephony/types.js';
import { scratchDir } from '../../helpers/paths.js';

const logger = createLogger({ level: 'silent', includePii: false });
const T0 = 1_800_000_000_000;
const BOX = '192.0.2.10';

const group = (id: string, queue: SkillGroupInput['queue'], adjacent: string[] = []): SkillGroupInput => ({
  id,
  name: id,
  intents: [],
  adjacent,
  overflow: { maxWaitMs: 86_400_000, action: 'none' },
  queue,
});

describe('the longest wait of the group a call waits in', () => {
  let store: Store;
  let routing: RoutingService;
  let kpis: KpiService;
  let acd: AcdCalls;
  let now: number;
  /** Routing's and the ACD's clock: `now`, or the fake timers' clock. */
  let clock: () => number;
  const listeners: ((e: ApplianceEvent) => void)[] = [];
  const events = new TypedEmitter<TelephonyEvents>();
  let hungUp: string[];
  let played: string[];
  let placed: { id: string; settle: (o: OutboundOutcome) => void }[];

  const setup = (groups: SkillGroupInput[]) => {
    routing.configure({
      groups,
      agents: [
        // busy: routing offers nothing by itself, the test says who is rung
        { id: 'alice', name: 'Alice', sipUri: 'sip:alice@pbx.test', senior: false, state: 'busy', skills: [{ group: 'cards', level: 3 }] },
      ],
      rules: { defaultGroup: 'cards', avgHandleMs: 240_000 },
    });
  };
  const publish = (e: Record<string, unknown>) => {
    for (const l of [...listeners])
      l({
        type: 'route.decision',
        at: now,
        decisionId: 1,
        trigger: 'utterance',
        requestedGroupId: null,
        priority: 0,
        needsSenior: false,
        estimatedWaitMs: null,
        overflow: null,
        reasons: [],
        summary: '',
        latencyMs: null,
        decideMs: 0,
        agentId: null,
        groupId: null,
        ...e,
      } as unknown as ApplianceEvent);
  };
  const until = async (cond: () => boolean) => {
    for (let i = 0; i < 600 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
    expect(cond()).toBe(true);
  };

  beforeEach(() => {
    now = T0;
    clock = () => now;
    // this test's own records: a timer left by the one before (a released agent leg) cannot write here
    const ended: string[] = (hungUp = []);
    const prompts: string[] = (played = []);
    const legs: typeof placed = (placed = []);
    listeners.length = 0;
    store = Store.open(scratchDir('acd-queue-wait'));
    const bus = new EventBus();
    routing = new RoutingService({
      repo: new RoutingRepo(store.db, store.write.bind(store)),
      bus,
      logger,
      transfer: false,
      targets: new TransferTargetPolicy(['pbx.test']),
      now: () => clock(),
    });
    kpis = new KpiService(
      { repo: new AcdRepo(store.db, store.write.bind(store)), bus, logger, groups: () => routing.groupList(), now: () => clock() },
      { serviceLevelS: 20, shortAbandonS: 5, intervalMs: 900_000 },
    );
    const queues = new AcdQueues({ routing, kpis, serviceLevelS: 20, timeZone: 'UTC' });
    let n = 0;
    acd = new AcdCalls({
      sip: {
        events,
        placeCall: () => {
          const id = `agent-call-${++n}`;
          let settle: (o: OutboundOutcome) => void = () => {};
          const result = new Promise<OutboundOutcome>((r) => (settle = r));
          legs.push({ id, settle });
          return { id, result, cancel: () => settle({ type: 'failed', reason: 'cancelled', status: 487 } as never) } as never;
        },
        bridge: () =>
          ({ close: () => {}, unbridge: () => {}, bridge: () => {}, stats: () => ({ transcoding: false, delay: {} }) }) as never,
        hangup: async (callId) => {
          ended.push(callId);
          events.emit('call.ended', { callId } as never);
        },
        transfer: async () => 202,
        leg: () => ({ rtp: { sendPayload: () => {}, isClosed: false }, info: { codec: 'PCMU' } }) as never,
      },
      routing,
      bus: {
        subscribe: (l) => {
          listeners.push(l);
          return () => listeners.splice(listeners.indexOf(l), 1);
        },
      },
      agents: { answered: () => {}, noAnswer: () => {}, offerFailed: () => {}, held: () => {}, offer: () => {}, legEnded: () => {} },
      contactsOf: () => [{ contact: 'sip:alice@10.0.0.5:5062', target: { transport: 'udp', address: '10.0.0.5', port: 5062 } }],
      facts: kpis.facts,
      queues,
      prompt: async (_lang, name) => {
        prompts.push(name);
        return new Int16Array(name === 'hold-music' ? 1600 : 160); // music: 200 ms a loop
      },
      agentSink: () => undefined,
      transfers: { boxHosts: [BOX], problem: () => 'outside the transfer networks' },
      logger,
      now: () => clock(),
      options: { ringTimeoutMs: 5000, routeTimeoutMs: 600_000, lang: 'en', callbackOfferMs: 5000 },
    });
  });
  afterEach(() => {
    vi.useRealTimers();
    acd.close();
    kpis.close();
    routing.close();
    store.close();
  });

  it("a call an agent transfers to a queue waits there its group's longest wait from the transfer, not from its first queueing", async () => {
    setup([group('cards', {}), group('loans', { maxWaitS: 300, maxWaitAction: 'message', announceIntervalS: 0 })]);
    events.emit('call.started', {
      callId: 'c1',
      mode: 'call',
      pii: { from: '<sip:+4930123456@trunk.example>', to: '', remoteAddress: '' },
    } as never);
    publish({ callId: 'c1', action: 'agent', groupId: 'cards', agentId: 'alice' });
    placed[0]!.settle({ type: 'answered', call: {} as never });
    await until(() => acd.phases()['c1'] === 'bridged');
    // ten minutes of talk, then the agent's phone transfers the caller to the loans queue
    now = T0 + 600_000;
    expect(await acd.referral('agent-call-1', `sip:queue-loans@${BOX}`)).toBe(200);
    expect(acd.phases()).toEqual({ c1: 'queued' });
    expect(
      routing
        .queueState()
        .find((q) => q.groupId === 'loans')!
        .calls.map((c) => c.callId),
    ).toEqual(['c1']);
    expect(hungUp).not.toContain('c1');
  });

  it('a call overflowed at the longest wait of its first group waits the next group its own longest wait from the overflow', async () => {
    vi.useFakeTimers({ now: T0 });
    clock = () => Date.now();
    setup([
      group('cards', { maxWaitS: 300, maxWaitAction: 'overflow', maxWaitGroup: 'loans', announceIntervalS: 0 }),
      group('loans', { maxWaitS: 120, maxWaitAction: 'message', announceIntervalS: 0 }),
    ]);
    routing.route({ callId: 'c2', intent: null, emotion: null, profile: null }); // queued in cards (routing's default group)
    events.emit('call.started', {
      callId: 'c2',
      mode: 'call',
      pii: { from: '<sip:+4930123456@trunk.example>', to: '', remoteAddress: '' },
    } as never);
    publish({ callId: 'c2', action: 'queue', groupId: 'cards' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(acd.phases()).toEqual({ c2: 'queued' });
    // five minutes in cards: its longest wait sends the call to loans, whose own longest wait starts now
    await vi.advanceTimersByTimeAsync(300_000);
    expect(
      routing
        .queueState()
        .find((q) => q.groupId === 'loans')!
        .calls.map((c) => c.callId),
    ).toEqual(['c2']);
    expect(acd.phases()).toEqual({ c2: 'queued' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(acd.phases()).toEqual({ c2: 'queued' });
    expect(hungUp).toEqual([]);
    // two minutes in loans: its rule (message) ends the wait
    await vi.advanceTimersByTimeAsync(61_000);
    expect(played).toContain('all-busy');
    expect(hungUp).toEqual(['c2']);
  });

  it('a call kept waiting at the longest wait (no group could take it) has the rule applied again one longest wait later, not never', async () => {
    vi.useFakeTimers({ now: T0 });
    clock = () => Date.now();
    const cards = group('cards', { maxWaitS: 300, maxWaitAction: 'overflow', maxWaitGroup: 'loans', announceIntervalS: 0 });
    setup([cards, group('loans', { maxQueued: 0, announceIntervalS: 0 })]); // loans takes no call
    routing.route({ callId: 'c3', intent: null, emotion: null, profile: null });
    events.emit('call.started', {
      callId: 'c3',
      mode: 'call',
      pii: { from: '<sip:+4930123456@trunk.example>', to: '', remoteAddress: '' },
    } as never);
    publish({ callId: 'c3', action: 'queue', groupId: 'cards' });
    const waitingIn = (groupId: string) =>
      routing
        .queueState()
        .find((q) => q.groupId === groupId)!
        .calls.map((c) => c.callId);
    await vi.advanceTimersByTimeAsync(301_000);
    // five minutes: loans is full, the call stays in cards
    expect(waitingIn('cards')).toEqual(['c3']);
    // loans opens its queue; the rule is not applied before another longest wait has passed
    setup([cards, group('loans', { announceIntervalS: 0 })]);
    await vi.advanceTimersByTimeAsync(200_000);
    expect(waitingIn('cards')).toEqual(['c3']);
    await vi.advanceTimersByTimeAsync(100_000);
    expect(waitingIn('loans')).toEqual(['c3']);
    expect(acd.phases()).toEqual({ c3: 'queued' });
    expect(hungUp).toEqual([]);
  });

  it('a call kept waiting again and again is re-checked each longest wait: a message rule of the next group ends it', async () => {
    vi.useFakeTimers({ now: T0 });
    clock = () => Date.now();
    setup([
      group('cards', { maxWaitS: 60, maxWaitAction: 'overflow', maxWaitGroup: 'loans', announceIntervalS: 0 }),
      group('loans', { maxQueued: 0, announceIntervalS: 0 }),
    ]);
    routing.route({ callId: 'c4', intent: null, emotion: null, profile: null });
    events.emit('call.started', {
      callId: 'c4',
      mode: 'call',
      pii: { from: '<sip:+4930123456@trunk.example>', to: '', remoteAddress: '' },
    } as never);
    publish({ callId: 'c4', action: 'queue', groupId: 'cards' });
    // three longest waits pass with loans full: still waiting in cards, checked each time
    await vi.advanceTimersByTimeAsync(181_000);
    expect(acd.phases()).toEqual({ c4: 'queued' });
    // cards' rule turns to a message: the next check (at 240 s) ends the wait
    setup([group('cards', { maxWaitS: 60, maxWaitAction: 'message', announceIntervalS: 0 }), group('loans', { maxQueued: 0 })]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(played).toContain('all-busy');
    expect(hungUp).toEqual(['c4']);
  });
});
