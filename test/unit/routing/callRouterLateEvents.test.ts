/**
 * Results that arrive after their call ended (an emotion or intent analysis finishing past the
 * call's analysis drain) must not bring the call's routing state back, nor route the ended call;
 * the router's memory of ended calls is bounded like its live calls.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { EventBus, type ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { CallRouter } from '../../../appliance/routing/callRouter.js';
import { banking77Sample } from '../../../appliance/routing/samples.js';
import { RoutingService, type Transferer } from '../../../appliance/routing/routingService.js';
import { RoutingRepo } from '../../../appliance/routing/repo.js';
import { Store } from '../../../appliance/store/database.js';
import { TransferTargetPolicy } from '../../../appliance/telephony/transferTargets.js';
import { scratchDir } from '../../helpers/paths.js';

const logger = pino({ level: 'silent' });
const flush = () => new Promise((r) => setImmediate(r));
const now = 1_000_000;

class RecordingTransferer implements Transferer {
  readonly calls: { callId: string; uri: string }[] = [];
  async transfer(callId: string, uri: string): Promise<number> {
    this.calls.push({ callId, uri });
    return 202;
  }
}

/** The caller's final, intent and emotion of one utterance, as the leg's analysis publishes them. */
const utterance = (callId: string, utteranceId: number): ApplianceEvent[] => {
  const base = { at: now, callId, legId: `${callId}:caller`, speaker: 'caller', utteranceId };
  return [
    { ...base, type: 'asr.final', text: '', words: [], startMs: 0, endMs: 2000, confidence: 1, latencyMs: 1 },
    {
      ...base,
      type: 'emotion',
      category: 'angry',
      confidence: 0.8,
      arousal: 0.6,
      valence: -0.6,
      scores: { angry: 0.9 },
      agitation: 0.9,
      trend: 'unknown',
      audioMs: 2000,
      latencyMs: 2,
    },
    { ...base, type: 'intent', intent: 'card_arrival', confidence: 0.7, outOfScope: false, top: [], latencyMs: 1 },
  ];
};

describe('CallRouter and events of calls that ended', () => {
  let store: Store;
  let bus: EventBus;
  let service: RoutingService;
  let transferer: RecordingTransferer;
  let router: CallRouter;
  let events: ApplianceEvent[];
  const internals = () => router as unknown as { calls: Map<string, unknown>; ended: Set<string> };

  beforeEach(() => {
    store = Store.open(scratchDir('routing-late'));
    bus = new EventBus();
    events = [];
    bus.subscribe((e) => events.push(e));
    transferer = new RecordingTransferer();
    service = new RoutingService({
      repo: new RoutingRepo(store.db, store.write.bind(store)),
      bus,
      logger,
      transferer,
      targets: new TransferTargetPolicy(['pbx.test']),
      now: () => now,
    });
    service.configure({
      groups: banking77Sample().groups,
      agents: [
        { id: 'ann', name: 'Ann', sipUri: 'sip:ann@pbx.test', senior: true, state: 'available', skills: [{ group: 'cards', level: 3 }] },
      ],
    });
    router = new CallRouter({
      bus,
      service,
      profileOf: () => null,
      logger,
      options: {
        speakers: ['caller'],
        emotionSpeakers: ['caller'],
        minEmotionAudioMs: 500,
        emotionWaitMs: 0,
        maxUtterancesBeforeDefault: 2,
      },
    });
    for (const id of ['c1', 'c2']) {
      store.calls.create({ id, source: 'sip', callerHash: null, startedAt: now });
      bus.publish({ type: 'call.started', at: now, callId: id, source: 'sip', legs: [] });
    }
  });
  afterEach(() => {
    router.close();
    service.close();
    store.close();
  });

  it('a late emotion or intent for an ended call keeps no state and routes nothing; a live call is still routed', async () => {
    bus.publish({ type: 'call.ended', at: now, callId: 'c1', reason: 'hangup', durationMs: 3000 });
    expect(internals().calls.size).toBe(0);
    const [final, emotion, intent] = utterance('c1', 1);
    bus.publish(emotion!);
    expect(internals().calls.has('c1')).toBe(false);
    bus.publish(final!);
    bus.publish(intent!);
    await flush();
    expect(internals().calls.has('c1')).toBe(false);
    expect(events.filter((e) => e.type === 'route.decision')).toEqual([]);
    expect(transferer.calls).toEqual([]);

    for (const e of utterance('c2', 1)) bus.publish(e);
    await flush();
    expect(events.filter((e) => e.type === 'route.decision')).toMatchObject([{ callId: 'c2', agentId: 'ann' }]);
  });

  it('remembers ended calls within the same bound as live ones (oldest forgotten first)', () => {
    for (let i = 0; i <= 10_000; i++) bus.publish({ type: 'call.ended', at: now, callId: `e${i}`, reason: 'hangup', durationMs: 1 });
    expect(internals().ended.size).toBe(10_000);
    expect(internals().ended.has('e0')).toBe(false);
    expect(internals().ended.has('e10000')).toBe(true);
  });
});
