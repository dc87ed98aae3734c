/** The alert service on a real store and event bus: what is raised, stored, published and de-duplicated. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { AlertService } from '../../../appliance/alerts/alertService.js';
import { EventBus, type ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { DEFAULT_RULES } from '../../../appliance/routing/types.js';
import { Store } from '../../../appliance/store/database.js';
import { AlertsRepo } from '../../../appliance/alerts/repo.js';
import { scratchDir } from '../../helpers/paths.js';

type Emotion = Extract<ApplianceEvent, { type: 'emotion' }>;

describe('AlertService', () => {
  let store: Store;
  let bus: EventBus;
  let repo: AlertsRepo;
  let service: AlertService;
  let published: Extract<ApplianceEvent, { type: 'alert' }>[];
  let waits: Map<string, number>;
  let now: number;

  beforeEach(() => {
    store = Store.open(scratchDir('alerts'));
    store.calls.create({ id: 'c1', source: 'sip', callerHash: null, startedAt: 1 });
    bus = new EventBus();
    repo = new AlertsRepo(store.db, store.write.bind(store));
    waits = new Map();
    now = 1_000_000;
    published = [];
    bus.subscribe((e) => {
      if (e.type === 'alert') published.push(e);
    });
    service = new AlertService({
      repo,
      bus,
      logger: pino({ level: 'silent' }),
      rules: () => ({ ...DEFAULT_RULES, queueAlertWaitMs: 60_000 }),
      scripts: () => [
        {
          id: 'refund',
          title: 'Refund anger',
          when: { alertKinds: ['caller_angry'], groups: ['payments'] },
          steps: ['Acknowledge the amount.'],
        },
      ],
      queueWaits: () => waits,
      spike: { bucketMs: 60_000, baselineBuckets: 4, factor: 3, minCount: 3 },
      queueCheckMs: 60_000,
      now: () => now,
    });
  });
  afterEach(() => {
    service.close();
    store.close();
  });

  const emotion = (category: string, angry: number, trend: Emotion['trend']): Emotion => ({
    type: 'emotion',
    at: now,
    callId: 'c1',
    legId: 'l1',
    speaker: 'caller',
    utteranceId: null,
    category,
    confidence: 0.8,
    arousal: 0.5,
    valence: -0.5,
    scores: { angry, neutral: 1 - angry },
    agitation: 0.7,
    trend,
    audioMs: 2000,
    latencyMs: 3,
  });

  it('raises an angry-caller alert with the matching script, stores it, and upgrades it once to critical', () => {
    bus.publish({
      type: 'route.decision',
      at: now,
      callId: 'c1',
      decisionId: 1,
      trigger: 'utterance',
      action: 'agent',
      requestedGroupId: 'payments',
      groupId: 'payments',
      agentId: 'ada',
      priority: 25,
      needsSenior: true,
      estimatedWaitMs: 0,
      overflow: null,
      reasons: [],
      summary: '',
      latencyMs: 10,
      decideMs: 0.1,
    });
    bus.publish(emotion('angry', 0.9, 'unknown'));
    bus.publish(emotion('angry', 0.9, 'steady'));
    bus.publish(emotion('angry', 0.95, 'escalating'));
    bus.publish(emotion('angry', 0.95, 'escalating'));
    expect(published.map((a) => [a.kind, a.severity])).toEqual([
      ['caller_angry', 'warning'],
      ['caller_angry', 'critical'],
    ]);
    expect(published[0]!.details).toMatchObject({
      groupId: 'payments',
      agentId: 'ada',
      script: { id: 'refund', steps: ['Acknowledge the amount.'] },
    });
    const stored = repo.list({ limit: 10, callId: 'c1' });
    expect(stored).toHaveLength(2);
    expect(stored[1]).toMatchObject({ kind: 'caller_angry', severity: 'warning', callId: 'c1' });
    expect(published[0]!.details['alertId']).toBe(stored[1]!.id);
  });

  it('raises escalating alone for a caller who is not (yet) angry, with the built-in script', () => {
    bus.publish(emotion('neutral', 0.2, 'escalating'));
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ kind: 'caller_escalating', details: { script: { id: 'builtin-escalating' } } });
  });

  it('raises a queue alert once while the wait stays above the threshold', () => {
    waits.set('cards', 30_000);
    service.checkQueues();
    waits.set('cards', 61_000);
    service.checkQueues();
    service.checkQueues();
    expect(published.map((a) => a.kind)).toEqual(['queue_wait']);
    expect(published[0]!.details).toMatchObject({ groupId: 'cards', oldestWaitMs: 61_000, thresholdMs: 60_000 });
  });

  it('raises an intent spike from caller intent events', () => {
    const intent = (at: number): ApplianceEvent => ({
      type: 'intent',
      at,
      callId: 'c1',
      legId: 'l1',
      speaker: 'caller',
      utteranceId: null,
      intent: 'top_up_failed',
      confidence: 0.9,
      outOfScope: false,
      top: [],
      latencyMs: 1,
    });
    for (let b = 0; b < 4; b++) bus.publish(intent(b * 60_000 + 5));
    for (let k = 0; k < 3; k++) bus.publish(intent(4 * 60_000 + k));
    expect(published.map((a) => a.kind)).toEqual(['intent_spike']);
    expect(published[0]!.details).toMatchObject({ intent: 'top_up_failed', count: 3, baselinePerBucket: 1 });
    expect(repo.list({ limit: 5, kind: 'intent_spike' })).toHaveLength(1);
  });

  it('raises nothing for a call that ended and keeps no state for it: a late emotion or final (past the analysis drain)', () => {
    const tracked = (service as unknown as { calls: Map<string, unknown> }).calls;
    bus.publish({ type: 'call.ended', at: now, callId: 'c1', reason: 'hangup', durationMs: 60_000 });
    expect(tracked.size).toBe(0);
    bus.publish(emotion('angry', 0.95, 'escalating'));
    bus.publish({
      type: 'asr.final',
      at: now,
      callId: 'c1',
      legId: 'l1',
      speaker: 'caller',
      utteranceId: 9,
      text: 'i want to speak to your manager',
      words: [],
      startMs: 0,
      endMs: 1000,
      confidence: 0.9,
      latencyMs: 100,
    });
    expect(published).toEqual([]);
    expect(repo.list({ limit: 10, callId: 'c1' })).toEqual([]);
    expect(tracked.size).toBe(0);
  });

  it('remembers ended calls within the same bound as live ones (oldest forgotten first)', () => {
    const ended = (service as unknown as { ended: Set<string> }).ended;
    for (let i = 0; i <= 10_000; i++) bus.publish({ type: 'call.ended', at: now, callId: `e${i}`, reason: 'hangup', durationMs: 1 });
    expect(ended.size).toBe(10_000);
    expect(ended.has('e0')).toBe(false);
    expect(ended.has('e10000')).toBe(true);
  });

  it('stops after close()', () => {
    service.close();
    service.close();
    bus.publish(emotion('angry', 0.9, 'steady'));
    expect(published).toHaveLength(0);
  });
});
