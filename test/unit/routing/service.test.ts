/**
 * RoutingService and CallRouter on a real store and event bus: decisions stored and published,
 * agent states, the queue and its hand-out, transfers (through a recording transferer: the real
 * REFER is in test/e2e/routing), and when a call gets routed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { EventBus, type ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { CallRouter } from '../../../appliance/routing/callRouter.js';
import { banking77Sample } from '../../../appliance/routing/samples.js';
import { RoutingService, type Transferer } from '../../../appliance/routing/routingService.js';
import { Store } from '../../../appliance/store/database.js';
import { RoutingRepo } from '../../../appliance/routing/repo.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { scratchDir } from '../../helpers/paths.js';
import { TransferTargetPolicy } from '../../../appliance/telephony/transferTargets.js';

/** The test agents' phones are on pbx.test: callers may be sent there. */
const targets = new TransferTargetPolicy(['pbx.test']);

const logger = pino({ level: 'silent' });
type Decision = Extract<ApplianceEvent, { type: 'route.decision' }>;

class RecordingTransferer implements Transferer {
  readonly calls: { callId: string; uri: string }[] = [];
  status = 202;
  async transfer(callId: string, uri: string): Promise<number> {
    this.calls.push({ callId, uri });
    return this.status;
  }
}

const flush = () => new Promise((r) => setImmediate(r));

describe('RoutingService', () => {
  let store: Store;
  let bus: EventBus;
  let repo: RoutingRepo;
  let service: RoutingService;
  let transferer: RecordingTransferer;
  let events: ApplianceEvent[];
  let now: number;

  const config = {
    groups: banking77Sample().groups,
    agents: [
      {
        id: 'ann',
        name: 'Ann',
        sipUri: 'sip:ann@pbx.test',
        senior: false,
        state: 'available' as const,
        skills: [{ group: 'cards', level: 3 }],
      },
      {
        id: 'sam',
        name: 'Sam',
        sipUri: 'sip:sam@pbx.test',
        senior: true,
        state: 'offline' as const,
        skills: [{ group: 'cards', level: 5 }],
      },
      {
        id: 'gil',
        name: 'Gil',
        sipUri: 'sip:gil@pbx.test',
        senior: false,
        state: 'available' as const,
        skills: [{ group: 'general', level: 3 }],
      },
    ],
  };
  const call = (id: string) => store.calls.create({ id, source: 'sip', callerHash: null, startedAt: now });
  const req = (callId: string, intent = 'card_arrival', angry = 0) => ({
    callId,
    intent: { intent, confidence: 0.8, outOfScope: false },
    emotion: angry > 0 ? { category: 'angry', angry, arousal: 0.6, valence: -0.6, trend: 'steady' as const } : null,
    profile: null,
  });

  beforeEach(() => {
    now = 1_000_000;
    store = Store.open(scratchDir('routing'));
    bus = new EventBus();
    events = [];
    bus.subscribe((e) => events.push(e));
    repo = new RoutingRepo(store.db, store.write.bind(store));
    transferer = new RecordingTransferer();
    service = new RoutingService({ repo, bus, logger, transferer, targets, now: () => now });
    service.configure(config);
    for (const id of ['c1', 'c2', 'c3']) call(id);
  });
  afterEach(() => {
    service.close();
    store.close();
  });

  it('routes to a free agent, marks them busy, stores and publishes the decision, and transfers', async () => {
    const d = service.route(req('c1'), performance.now() - 5);
    expect(d).toMatchObject({ action: 'agent', agentId: 'ann', groupId: 'cards' });
    await flush();
    expect(service.agentList().find((a) => a.id === 'ann')?.state).toBe('busy');
    expect(transferer.calls).toEqual([{ callId: 'c1', uri: 'sip:ann@pbx.test' }]);
    const published = events.find((e): e is Decision => e.type === 'route.decision')!;
    expect(published).toMatchObject({ callId: 'c1', agentId: 'ann', trigger: 'utterance' });
    expect(published.latencyMs).toBeGreaterThanOrEqual(5);
    expect(events.filter((e) => e.type === 'route.transfer').map((e) => (e as { state: string }).state)).toEqual(['requested', 'accepted']);
    const stored = repo.decisions({ callId: 'c1', limit: 5 });
    expect(stored[0]).toMatchObject({ transferState: 'accepted', decision: { agentId: 'ann' } });
    expect(JSON.stringify(published)).not.toContain('pbx.test');
  });

  it('queues when the group has nobody free and hands the call to the next available agent', async () => {
    service.route(req('c1'));
    const q = service.route(req('c2'));
    expect(q).toMatchObject({ action: 'queue', groupId: 'cards' });
    expect(
      service
        .queueState()
        .find((g) => g.groupId === 'cards')
        ?.calls.map((c) => c.callId),
    ).toEqual(['c2']);
    now += 30_000;
    expect(service.queueWaits().get('cards')).toBe(30_000);
    service.setAgentState('sam', 'available');
    await flush();
    const handed = events.filter((e): e is Decision => e.type === 'route.decision').at(-1)!;
    expect(handed).toMatchObject({ callId: 'c2', agentId: 'sam', trigger: 'dequeue', action: 'agent' });
    expect(handed.reasons[0]!.text).toContain('waited 30 s');
    expect(service.queueState().find((g) => g.groupId === 'cards')?.calls).toEqual([]);
    expect(transferer.calls.map((c) => c.uri)).toEqual(['sip:ann@pbx.test', 'sip:sam@pbx.test']);
  });

  it('re-queues a call in its old place and offers it to an available agent at once; a call can be taken out of its queue', async () => {
    service.setAgentState('gil', 'offline'); // no overflow to general
    service.route(req('c1')); // ann takes c1
    service.route(req('c2')); // queued in cards at 1 000 000
    now += 10_000;
    service.route(req('c3')); // queued behind c2
    expect(service.removeFromQueue('c2')).toBe(true);
    expect(service.removeFromQueue('c2')).toBe(false);
    expect(
      service
        .queueState()
        .find((g) => g.groupId === 'cards')
        ?.calls.map((c) => c.callId),
    ).toEqual(['c3']);
    // c2 comes back (its agent did not answer) with its first queueing time: ahead of c3
    service.requeue({ callId: 'c2', groupId: 'cards', priority: 0, needsSenior: false }, 1_000_000);
    expect(
      service
        .queueState()
        .find((g) => g.groupId === 'cards')
        ?.calls.map((c) => c.callId),
    ).toEqual(['c2', 'c3']);
    // requeue again: still one entry
    service.requeue({ callId: 'c2', groupId: 'cards', priority: 0, needsSenior: false }, 1_000_000);
    expect(service.queueState().find((g) => g.groupId === 'cards')?.calls).toHaveLength(2);
    // an agent who is available when a call is re-queued is offered it at once
    service.setAgentState('sam', 'available');
    await flush();
    const handed = events.filter((e): e is Decision => e.type === 'route.decision').at(-1)!;
    expect(handed).toMatchObject({ callId: 'c2', agentId: 'sam', trigger: 'dequeue' });
    service.setAgentState('gil', 'available');
    service.requeue({ callId: 'c2', groupId: 'general', priority: 0, needsSenior: false }, 1_000_000);
    await flush();
    expect(events.filter((e): e is Decision => e.type === 'route.decision').at(-1)).toMatchObject({ callId: 'c2', agentId: 'gil' });
  });

  it('frees the agent when the transfer is refused, and when the caller hangs up before it completes', async () => {
    transferer.status = 603;
    service.route(req('c1'));
    await flush();
    expect(service.agentList().find((a) => a.id === 'ann')?.state).toBe('available');
    expect(repo.decisions({ callId: 'c1', limit: 1 })[0]).toMatchObject({ transferState: 'failed', transferStatus: 603 });
    transferer.status = 202;
    service.route(req('c2'));
    await flush();
    bus.publish({ type: 'call.ended', at: now, callId: 'c2', reason: 'bye', durationMs: 1000 });
    expect(service.agentList().find((a) => a.id === 'ann')?.state).toBe('available');
  });

  it('keeps the agent busy after a completed transfer, and drops ended calls from the queue', async () => {
    service.route(req('c1'));
    await flush();
    service.transferProgress('c1', 'completed', 200);
    bus.publish({ type: 'call.ended', at: now, callId: 'c1', reason: 'transfer', durationMs: 1000 });
    expect(service.agentList().find((a) => a.id === 'ann')?.state).toBe('busy');
    service.route(req('c2'));
    bus.publish({ type: 'call.ended', at: now, callId: 'c2', reason: 'bye', durationMs: 1000 });
    expect(service.queueWaits().size).toBe(0);
  });

  it('gives an angry caller the senior agent when one is available', () => {
    service.setAgentState('sam', 'available');
    expect(service.route(req('c1', 'card_arrival', 0.9))).toMatchObject({ agentId: 'sam', needsSenior: true });
  });

  it('persists configuration and agent states across a restart', () => {
    service.setAgentState('gil', 'wrap-up');
    service.setRules({ angerThreshold: 0.7 });
    const again = new RoutingService({ repo, bus, logger, targets, now: () => now });
    expect(again.groupList().map((g) => g.id)).toEqual(config.groups.map((g) => g.id));
    expect(again.agentList().find((a) => a.id === 'gil')?.state).toBe('wrap-up');
    expect(again.rules().angerThreshold).toBe(0.7);
    again.close();
  });

  it('refuses an inconsistent change with EVX_ERR_ROUTING_CONFIG and keeps the old configuration', () => {
    let code = '';
    try {
      service.putAgent({ id: 'x', name: 'X', sipUri: 'sip:x@pbx.test', senior: false, skills: [{ group: 'nope', level: 2 }] });
    } catch (err) {
      code = isEdgeVoxError(err) ? err.code : 'other';
    }
    expect(code).toBe('EVX_ERR_ROUTING_CONFIG');
    expect(service.agentList()).toHaveLength(3);
  });

  describe('CallRouter', () => {
    const final = (callId: string, utteranceId: number, durMs = 2000): ApplianceEvent => ({
      type: 'asr.final',
      at: now,
      callId,
      legId: `${callId}:caller`,
      speaker: 'caller',
      utteranceId,
      text: '',
      words: [],
      startMs: 0,
      endMs: durMs,
      confidence: 1,
      latencyMs: 1,
    });
    const intent = (callId: string, utteranceId: number, name: string | null, outOfScope = false): ApplianceEvent => ({
      type: 'intent',
      at: now,
      callId,
      legId: `${callId}:caller`,
      speaker: 'caller',
      utteranceId,
      intent: name,
      confidence: outOfScope ? 0.05 : 0.7,
      outOfScope,
      top: [],
      latencyMs: 1,
    });
    const emotion = (callId: string, utteranceId: number, angry: number): ApplianceEvent => ({
      type: 'emotion',
      at: now,
      callId,
      legId: `${callId}:caller`,
      speaker: 'caller',
      utteranceId,
      category: angry > 0.5 ? 'angry' : 'neutral',
      confidence: 0.8,
      arousal: 0.5,
      valence: -0.5,
      scores: { angry },
      agitation: angry,
      trend: 'unknown',
      audioMs: 2000,
      latencyMs: 2,
    });
    const router = (emotionWaitMs: number) =>
      new CallRouter({
        bus,
        service,
        profileOf: () => null,
        logger,
        options: {
          speakers: ['caller'],
          emotionSpeakers: ['caller'],
          minEmotionAudioMs: 500,
          emotionWaitMs,
          maxUtterancesBeforeDefault: 2,
        },
      });
    const decisions = () => events.filter((e): e is Decision => e.type === 'route.decision');

    it('waits for the utterance emotion, so an angry caller goes to the senior agent', () => {
      const r = router(10_000);
      service.setAgentState('sam', 'available');
      bus.publish(final('c1', 1));
      bus.publish(intent('c1', 1, 'card_arrival'));
      expect(decisions()).toHaveLength(0);
      bus.publish(emotion('c1', 1, 0.9));
      expect(decisions()).toMatchObject([{ callId: 'c1', agentId: 'sam', needsSenior: true }]);
      expect(decisions()[0]!.latencyMs).not.toBeNull();
      r.close();
    });

    it('routes at once when no emotion will come (short utterance) and only once per call', () => {
      const r = router(10_000);
      bus.publish(final('c1', 1, 300));
      bus.publish(intent('c1', 1, 'card_arrival'));
      expect(decisions()).toHaveLength(1);
      bus.publish(final('c1', 2, 300));
      bus.publish(intent('c1', 2, 'card_arrival'));
      expect(decisions()).toHaveLength(1);
      r.close();
    });

    it('routes on the emotion timeout when the emotion never arrives', async () => {
      const r = router(20);
      bus.publish(final('c1', 1));
      bus.publish(intent('c1', 1, 'card_arrival'));
      expect(decisions()).toHaveLength(0);
      await new Promise((res) => setTimeout(res, 60));
      expect(decisions()).toHaveLength(1);
      r.close();
    });

    it('sends a call to the default group after two utterances without an in-scope intent', () => {
      const r = router(0);
      bus.publish(final('c1', 1, 300));
      bus.publish(intent('c1', 1, 'card_arrival', true));
      expect(decisions()).toHaveLength(0);
      bus.publish(final('c1', 2, 300));
      bus.publish(intent('c1', 2, null, true));
      expect(decisions()).toMatchObject([{ groupId: 'general', agentId: 'gil' }]);
      r.close();
    });
  });
});
