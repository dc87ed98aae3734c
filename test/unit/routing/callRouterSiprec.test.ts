/**
 * SIPREC sessions (recordings of calls another PBX handles) are observed and analysed, never routed:
 * the call router makes no decision for them, queues nothing and never asks for a REFER, while
 * ordinary calls on the same router still are routed. RoutingService.route refuses them as well.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { EventBus, type ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { CallRouter } from '../../../appliance/routing/callRouter.js';
import { banking77Sample } from '../../../appliance/routing/samples.js';
import { RoutingService, type Transferer } from '../../../appliance/routing/routingService.js';
import { Store } from '../../../appliance/store/database.js';
import { RoutingRepo } from '../../../appliance/routing/repo.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import type { CallSource } from '../../../appliance/store/repos/calls.js';
import { scratchDir } from '../../helpers/paths.js';
import { TransferTargetPolicy } from '../../../appliance/telephony/transferTargets.js';

const logger = pino({ level: 'silent' });
const targets = new TransferTargetPolicy(['pbx.test']);
const flush = () => new Promise((r) => setImmediate(r));

class RecordingTransferer implements Transferer {
  readonly calls: { callId: string; uri: string }[] = [];
  async transfer(callId: string, uri: string): Promise<number> {
    this.calls.push({ callId, uri });
    return 202;
  }
}

describe('CallRouter and SIPREC sessions', () => {
  let store: Store;
  let bus: EventBus;
  let service: RoutingService;
  let transferer: RecordingTransferer;
  let router: CallRouter;
  let events: ApplianceEvent[];
  const now = 1_000_000;

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
        id: 'gil',
        name: 'Gil',
        sipUri: 'sip:gil@pbx.test',
        senior: false,
        state: 'available' as const,
        skills: [{ group: 'general', level: 3 }],
      },
    ],
  };

  /** The events the call manager and the analysis publish for a call from `source`, caller speaking. */
  const callEvents = (callId: string, source: CallSource, utterances: number): ApplianceEvent[] => {
    const out: ApplianceEvent[] = [
      { type: 'call.started', at: now, callId, source, legs: [] },
      { type: 'call.leg.added', at: now, callId, legId: `${callId}:caller`, label: 'caller', codec: 'PCMU' },
      { type: 'call.leg.added', at: now, callId, legId: `${callId}:agent`, label: 'agent', codec: 'PCMU' },
      { type: 'call.answered', at: now, callId },
    ];
    for (let u = 1; u <= utterances; u++) {
      const base = { at: now, callId, legId: `${callId}:caller`, speaker: 'caller', utteranceId: u };
      out.push(
        { ...base, type: 'asr.final', text: '', words: [], startMs: 0, endMs: 2000, confidence: 1, latencyMs: 1 },
        { ...base, type: 'intent', intent: 'card_arrival', confidence: 0.7, outOfScope: false, top: [], latencyMs: 1 },
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
      );
    }
    return out;
  };
  const decisions = () => events.filter((e) => e.type === 'route.decision');

  beforeEach(() => {
    store = Store.open(scratchDir('routing-siprec'));
    bus = new EventBus();
    events = [];
    bus.subscribe((e) => events.push(e));
    const repo = new RoutingRepo(store.db, store.write.bind(store));
    transferer = new RecordingTransferer();
    service = new RoutingService({ repo, bus, logger, transferer, targets, now: () => now });
    service.configure(config);
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
    for (const [id, source] of [
      ['rec1', 'siprec'],
      ['sip1', 'sip'],
    ] as const)
      store.calls.create({ id, source, callerHash: null, startedAt: now });
  });
  afterEach(() => {
    router.close();
    service.close();
    store.close();
  });

  it('never routes, queues or transfers a SIPREC session, while an ordinary call is routed', async () => {
    const route = vi.spyOn(service, 'route');
    service.setAgentState('ann', 'offline'); // nobody free in cards: a routed call would be queued
    for (const e of callEvents('rec1', 'siprec', 3)) bus.publish(e);
    await flush();
    expect(route).not.toHaveBeenCalled();
    expect(decisions()).toEqual([]);
    expect(service.isRouted('rec1')).toBe(false);
    expect(service.queueState().flatMap((g) => g.calls.map((c) => c.callId))).not.toContain('rec1');
    expect(transferer.calls).toEqual([]);
    // analysis of the session still flows on the bus
    expect(events.filter((e) => e.type === 'intent' || e.type === 'emotion')).toHaveLength(6);

    // the same router still routes an ordinary call (and transfers it)
    service.setAgentState('ann', 'available');
    for (const e of callEvents('sip1', 'sip', 1)) bus.publish(e);
    await flush();
    expect(decisions()).toMatchObject([{ callId: 'sip1', agentId: 'ann' }]);
    expect(transferer.calls).toEqual([{ callId: 'sip1', uri: 'sip:ann@pbx.test' }]);

    // an agent who becomes available is never handed the SIPREC session either
    bus.publish({ type: 'call.ended', at: now, callId: 'rec1', reason: 'hangup', durationMs: 1000 });
    service.setAgentState('gil', 'available');
    await flush();
    expect(decisions().map((d) => d.callId)).toEqual(['sip1']);
  });

  it('RoutingService.route refuses a call that started as a SIPREC session', async () => {
    bus.publish({ type: 'call.started', at: now, callId: 'rec1', source: 'siprec', legs: [] });
    let err: unknown;
    try {
      service.route({
        callId: 'rec1',
        intent: { intent: 'card_arrival', confidence: 0.8, outOfScope: false },
        emotion: null,
        profile: null,
      });
    } catch (e) {
      err = e;
    }
    expect(isEdgeVoxError(err, 'EVX_ERR_BAD_REQUEST')).toBe(true);
    await flush();
    expect(decisions()).toEqual([]);
    expect(transferer.calls).toEqual([]);
  });
});
