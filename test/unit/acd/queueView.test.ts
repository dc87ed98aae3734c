/**
 * The queue view on a real routing service and KPI service: calls waiting per group for admission,
 * a queued call's position, expected wait (routing's avgHandleMs until the KPI engine has recent
 * handle times and agents), announce interval and max-wait instant.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { KpiService } from '../../../appliance/acd/kpiService.js';
import { admit } from '../../../appliance/acd/queuePolicy.js';
import { AcdQueues } from '../../../appliance/acd/queueView.js';
import { AcdRepo } from '../../../appliance/acd/repo.js';
import { EventBus } from '../../../appliance/events/appEvents.js';
import { RoutingRepo } from '../../../appliance/routing/repo.js';
import { RoutingService } from '../../../appliance/routing/routingService.js';
import { Store } from '../../../appliance/store/database.js';
import { TransferTargetPolicy } from '../../../appliance/telephony/transferTargets.js';
import { scratchDir } from '../../helpers/paths.js';

const logger = pino({ level: 'silent' });
const T0 = 1_800_000_000_000;

describe('AcdQueues', () => {
  let store: Store;
  let routing: RoutingService;
  let kpis: KpiService;
  let queues: AcdQueues;
  let now: number;

  beforeEach(() => {
    now = T0;
    store = Store.open(scratchDir('acd-queues'));
    const bus = new EventBus();
    routing = new RoutingService({
      repo: new RoutingRepo(store.db, store.write.bind(store)),
      bus,
      logger,
      transfer: false,
      targets: new TransferTargetPolicy(['pbx.test']),
      now: () => now,
    });
    routing.configure({
      groups: [
        {
          id: 'billing',
          name: 'Billing',
          intents: [],
          adjacent: [],
          overflow: { maxWaitMs: 86_400_000, action: 'none' },
          queue: { maxQueued: 2, maxWaitS: 120, announceIntervalS: 20 },
        },
      ],
      agents: [
        { id: 'ann', name: 'Ann', sipUri: 'sip:ann@pbx.test', senior: false, state: 'busy', skills: [{ group: 'billing', level: 3 }] },
      ],
      rules: { defaultGroup: 'billing', avgHandleMs: 240_000 },
    });
    kpis = new KpiService(
      { repo: new AcdRepo(store.db, store.write.bind(store)), bus, logger, groups: () => routing.groupList(), now: () => now },
      { serviceLevelS: 20, shortAbandonS: 5, intervalMs: 900_000 },
    );
    queues = new AcdQueues({ routing, kpis, serviceLevelS: 20, timeZone: 'UTC' });
    for (const callId of ['c1', 'c2']) {
      routing.route({ callId, intent: null, emotion: null, profile: null });
      now += 5000;
    }
  });
  afterEach(() => {
    routing.close();
    store.close();
  });

  it('gives admission the calls waiting per group', () => {
    const state = queues.state();
    expect(state.waiting.get('billing')).toBe(2);
    expect(state.nowMs).toBe(T0 + 10_000);
    expect(admit('billing', state)).toMatchObject({ outcome: 'full', action: 'message', prompts: ['queue-full'] });
  });

  it("gives a queued call's place: position, expected wait from routing's handle time, announce interval, max-wait instant", () => {
    expect(queues.view('c2')).toEqual({
      callId: 'c2',
      groupId: 'billing',
      position: 2,
      // 2 × 240 s ÷ 1 staffed agent (routing's view: Ann, busy)
      expectedWaitMs: 480_000,
      announceIntervalMs: 20_000,
      groupEnqueuedAt: T0 + 5000,
      maxWaitDueAt: T0 + 5000 + 120_000,
      visited: [],
    });
    expect(queues.view('nope')).toBeNull();
  });

  it("uses the KPI engine's recent handle time and agents once it has them", () => {
    const f = kpis.facts;
    f.agentGroups('x1', ['billing'], now);
    f.agentGroups('x2', ['billing'], now);
    f.agentState('x1', 'available', now);
    f.agentState('x2', 'available', now);
    // Five handled calls of 60 s each (talk 50 + wrap-up 10).
    for (let i = 0; i < 5; i++) {
      const at = now + i * 100_000;
      f.offered(`h${i}`, 'billing', at);
      f.answered(`h${i}`, 'x1', at + 1000);
      f.talkEnded(`h${i}`, at + 51_000);
      f.wrapUpEnded('x1', at + 61_000);
    }
    now += 600_000;
    expect(kpis.recentHandleMs('billing')).toBe(60_000);
    expect(queues.staffed('billing')).toBe(2);
    // 2 × 60 s ÷ 2 agents
    expect(queues.view('c2')!.expectedWaitMs).toBe(60_000);
  });
});
