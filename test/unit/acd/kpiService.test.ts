/**
 * The KPI engine at work: the fact sink counts what the engine accepts, per-group thresholds follow
 * the routing groups, the wallboard event goes out only when its figures change, the day's
 * intervals survive a restart through the store, and the Prometheus series carry only scope, group
 * and agent-state labels.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { KpiService } from '../../../appliance/acd/kpiService.js';
import { AcdRepo } from '../../../appliance/acd/repo.js';
import { EventBus, type ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { createLogger } from '../../../appliance/log/logger.js';
import { ApplianceMetrics } from '../../../appliance/metrics/metrics.js';
import type { SkillGroup } from '../../../appliance/routing/types.js';
import { Store } from '../../../appliance/store/database.js';
import { scratchDir } from '../../helpers/paths.js';

/** 2027-01-15 08:00:00 UTC, a 15-minute boundary. */
const T0 = 1_800_000_000_000;
const s = (seconds: number) => T0 + seconds * 1000;
const logger = createLogger({ level: 'silent', includePii: false });

const group = (id: string, serviceLevelS?: number): SkillGroup => ({
  id,
  name: id,
  intents: [],
  adjacent: [],
  overflow: { maxWaitMs: 60_000, action: 'none' },
  ...(serviceLevelS === undefined ? {} : { queue: { serviceLevelS } }),
});

const stores: Store[] = [];
afterEach(() => {
  for (const st of stores.splice(0)) st.close();
});

function setup(dir = scratchDir('acd'), factPublishMs?: number) {
  const store = Store.open(dir);
  stores.push(store);
  const bus = new EventBus();
  const events: ApplianceEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const clock = { now: s(0) };
  const groups = [group('billing', 30), group('cards')];
  const service = new KpiService(
    { repo: new AcdRepo(store.db, store.write.bind(store)), bus, logger, groups: () => groups, now: () => clock.now },
    { serviceLevelS: 20, shortAbandonS: 5, intervalMs: 15 * 60_000, ...(factPublishMs === undefined ? {} : { factPublishMs }) },
  );
  return { store, dir, bus, events, clock, groups, service };
}

/** billing (T = 30 s): c1 answered after 25 s; c3 overflows to cards after 30 s and is answered there 10 s later. cards: c2 abandoned after 30 s. */
function feed(k: KpiService): void {
  const f = k.facts;
  f.agentGroups('agent-ada', ['billing'], s(0));
  f.agentGroups('agent-bob', ['cards'], s(0));
  f.agentState('agent-ada', 'available', s(0));
  f.agentState('agent-bob', 'available', s(0));
  f.offered('c1', 'billing', s(0));
  f.offered('c2', 'cards', s(10));
  f.offered('c3', 'billing', s(20));
  f.answered('c1', 'agent-ada', s(25));
  f.abandoned('c2', s(40));
  f.overflowed('c3', 'cards', s(50));
  f.answered('c3', 'agent-bob', s(60));
  f.answered('no-such-call', 'agent-bob', s(61)); // ignored
  f.talkEnded('c1', s(100));
  f.wrapUpEnded('agent-ada', s(110));
  f.talkEnded('c3', s(120));
  f.wrapUpEnded('agent-bob', s(130));
  f.agentState('agent-ada', 'logged-out', s(140));
  f.agentState('agent-bob', 'logged-out', s(140));
}

describe('KpiService', () => {
  it('counts the facts the engine accepts, per group and overall, with the group thresholds from routing', () => {
    const { service, clock } = setup();
    feed(service);
    clock.now = s(150);
    expect(service.counters.overall).toEqual({ offered: 3, answered: 2, abandoned: 1, overflowedOut: 0 });
    expect(service.counters.groups.get('billing')).toEqual({ offered: 2, answered: 1, abandoned: 0, overflowedOut: 1 });
    expect(service.counters.groups.get('cards')).toEqual({ offered: 2, answered: 1, abandoned: 1, overflowedOut: 0 });
    expect(service.ignoredFacts()).toBe(1);
    const snap = service.snapshot();
    // billing: c1 within its own T = 30 s; overall T = 20 s: c1 (25 s) and c3 (40 s from its first offer) are not.
    expect(snap.groups['billing']!.currentInterval).toMatchObject({ answered: 1, serviceLevel: 1, overflowedOut: 1 });
    expect(snap.groups['cards']!.currentInterval).toMatchObject({ offered: 2, answered: 1, abandoned: 1, serviceLevel: 0.5 });
    expect(snap.overall.currentInterval).toMatchObject({ offered: 3, answered: 2, serviceLevel: 0 });
    // AHT of billing: talk 75 + wrap-up 10 = 85 s, but one handled call is too few to trust.
    expect(snap.groups['billing']!.currentInterval.averageHandleTimeS).toBe(85);
    expect(service.recentHandleMs('billing')).toBeNull();
  });

  it('counts a transferred call once: answered at its first answer, never abandoned when it ends before the next agent answers', () => {
    const { service, clock } = setup();
    const f = service.facts;
    f.offered('t1', 'billing', s(0));
    f.answered('t1', 'agent-ada', s(5));
    f.transferred('t1', s(30));
    f.answered('t1', 'agent-bob', s(40)); // the transfer's target answers: the same call
    f.offered('t2', 'billing', s(50));
    f.answered('t2', 'agent-ada', s(55));
    f.transferred('t2', s(60));
    f.abandoned('t2', s(70)); // the caller hangs up while the transfer's target rings
    clock.now = s(80);
    expect(service.snapshot().overall.currentInterval).toMatchObject({ offered: 2, answered: 2, abandoned: 0, transferred: 2 });
    expect(service.counters.overall).toEqual({ offered: 2, answered: 2, abandoned: 0, overflowedOut: 0 });
    expect(service.counters.groups.get('billing')).toEqual({ offered: 2, answered: 2, abandoned: 0, overflowedOut: 0 });
  });

  it('publishes the wallboard event only when its figures change', () => {
    const { service, events, clock } = setup();
    feed(service);
    clock.now = s(150);
    service.tick();
    const wall = events.filter((e) => e.type === 'acd.kpis');
    expect(wall).toHaveLength(1);
    expect(wall[0]).toMatchObject({
      type: 'acd.kpis',
      interval: { start: T0, end: T0 + 900_000 },
      overall: { waiting: 0, longestWaitingS: null, offered: 3, answered: 2, abandoned: 1, serviceLevel: 0 },
      groups: { billing: { serviceLevel: 1 }, cards: { serviceLevel: 0.5, averageSpeedOfAnswerS: 10 } },
    });
    expect(JSON.stringify(wall[0])).not.toMatch(/agent-|"c\d"/);
    clock.now = s(155);
    service.tick();
    expect(events.filter((e) => e.type === 'acd.kpis')).toHaveLength(1);
    service.facts.offered('c4', 'billing', s(156));
    clock.now = s(160);
    service.tick();
    const last = events.filter((e) => e.type === 'acd.kpis').at(-1);
    expect(last).toMatchObject({ overall: { waiting: 1, longestWaitingS: 4, offered: 4 } });
    clock.now = s(165);
    service.tick(); // the wait grows: a change
    expect(events.filter((e) => e.type === 'acd.kpis')).toHaveLength(3);
  });

  it('publishes after a fact without waiting for the periodic tick, one event for a burst of facts', async () => {
    const { service, events, clock } = setup(undefined, 20);
    const wall = () => events.filter((e) => e.type === 'acd.kpis');
    const next = (n: number) =>
      new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (wall().length >= n) {
            clearInterval(poll);
            resolve();
          }
        }, 5);
      });
    service.facts.agentState('agent-1', 'available', s(1));
    service.facts.offered('c1', 'billing', s(1));
    service.facts.offered('c2', 'billing', s(1));
    await next(1);
    expect(wall()[0]).toMatchObject({ overall: { waiting: 2, offered: 2 } });
    clock.now = s(3);
    service.facts.answered('c1', 'agent-1', s(3));
    await next(2);
    expect(wall()).toHaveLength(2);
    expect(wall()[1]).toMatchObject({ overall: { waiting: 1, answered: 1 } });
    service.close();
  });

  it("keeps the day's intervals across a restart", () => {
    const first = setup();
    feed(first.service);
    first.clock.now = s(150);
    const before = first.service.intervals(T0, T0 + 900_000);
    first.service.close();
    first.store.close();

    const again = setup(first.dir);
    again.clock.now = s(200);
    expect(again.service.intervals(T0, T0 + 900_000)).toEqual(before);
    expect(again.service.counters.overall.offered).toBe(0); // counters count since start
    again.service.facts.offered('c9', 'cards', s(210));
    again.clock.now = s(220);
    expect(again.service.snapshot().overall.currentInterval.offered).toBe(4);
    again.service.persist();
    const rows = again.store.db.prepare('SELECT interval_start, interval_ms FROM acd_intervals').all();
    expect(rows).toEqual([{ interval_start: T0, interval_ms: 900_000 }]);
  });

  it('a day later the old intervals are dropped from the store', () => {
    const { service, clock, store } = setup();
    feed(service);
    clock.now = s(150);
    service.persist();
    clock.now = s(150) + 86_400_000 + 900_000;
    service.facts.offered('late', 'billing', clock.now);
    service.persist();
    const starts = (store.db.prepare('SELECT interval_start FROM acd_intervals ORDER BY 1').all() as { interval_start: number }[]).map(
      (r) => r.interval_start,
    );
    expect(starts).toEqual([T0 + 86_400_000 + 900_000]);
  });

  it('exposes Prometheus series with scope, group and state labels only', async () => {
    const { service, clock } = setup();
    const metrics = new ApplianceMetrics({ version: 'test', nodeVersion: process.versions.node, commit: 'test' });
    metrics.bindAcd(service);
    feed(service);
    service.facts.agentState('agent-ada', 'available', s(145));
    service.facts.offered('c4', 'billing', s(146));
    clock.now = s(150);
    const { body } = await metrics.exposition();
    const acd = body.split('\n').filter((l) => l.startsWith('edgevox_acd_'));
    for (const line of [
      'edgevox_acd_calls_offered_total{scope="overall"} 4',
      'edgevox_acd_calls_offered_total{scope="group",group="billing"} 3',
      'edgevox_acd_calls_answered_total{scope="group",group="cards"} 1',
      'edgevox_acd_calls_abandoned_total{scope="group",group="cards"} 1',
      'edgevox_acd_calls_overflowed_total{group="billing"} 1',
      'edgevox_acd_facts_ignored_total 1',
      'edgevox_acd_calls_waiting{scope="group",group="billing"} 1',
      'edgevox_acd_longest_waiting_seconds{scope="overall"} 4',
      'edgevox_acd_agents{scope="group",group="billing",state="available"} 1',
      'edgevox_acd_agents{scope="overall",state="on-call"} 0',
      'edgevox_acd_interval_service_level_ratio{scope="group",group="billing"} 1',
      'edgevox_acd_interval_average_speed_of_answer_seconds{scope="group",group="cards"} 10',
      'edgevox_acd_interval_average_handle_seconds{scope="group",group="billing"} 85',
    ])
      expect(acd, line).toContain(line);
    expect(body).toContain('# TYPE edgevox_acd_calls_offered_total counter');
    expect(body).toContain('# TYPE edgevox_acd_interval_service_level_ratio gauge');
    const labelNames = new Set(acd.flatMap((l) => [...l.matchAll(/([a-z_]+)="/g)].map((m) => m[1])));
    expect([...labelNames].sort()).toEqual(['group', 'scope', 'state']);
    expect(acd.join('\n')).not.toMatch(/agent-|"c\d"/);
  });
});
