/**
 * The KPI engine at work on the box: the fact sink the ACD orchestrator calls, the figures the API
 * and the metrics read (with the box's clock), the wallboard event, and the store that carries the
 * day's intervals across a restart.
 *
 * - Facts go straight into the engine; the ones it accepts also count in monotonic counters per
 *   group (offered, answered, abandoned, overflowed out) for Prometheus.
 * - A fact the engine takes publishes `acd.kpis` within `factPublishMs` (a burst of facts makes one
 *   event), so the wallboard follows a call within a second; `tick()` (every acd.publishS) publishes
 *   when the figures changed with time alone. Both send only changed figures (rounded: ratios to 3
 *   decimals, times to whole seconds). `tick()` saves the intervals whose sums changed at most once
 *   a minute; `close()` saves once more.
 * - The per-group thresholds T follow the routing configuration (each group's queue.serviceLevelS).
 */
import { isEdgeVoxError } from '../errors.js';
import type { AcdWallboardFigures, ApplianceEvent, EventBus } from '../events/appEvents.js';
import type { Logger } from '../log/logger.js';
import type { SkillGroup } from '../routing/types.js';
import {
  ContactCentreKpis,
  type AcdFactSink,
  type AgentState,
  type IntervalKpis,
  type KpiSnapshot,
  type RangeAgentKpis,
  type RangeKpis,
  type RealTimeKpis,
} from './kpis.js';
import type { AcdRepo } from './repo.js';

const DAY_MS = 86_400_000;
const DEFAULT_PERSIST_MS = 60_000;
/** Handled calls in the last hour a group needs before its own AHT is trusted for wait estimates. */
const MIN_HANDLED_FOR_AHT = 5;
/** Calls whose group the counters remember (queued calls); beyond this the oldest are forgotten. */
const MAX_TRACKED_CALLS = 100_000;

export interface KpiServiceOptions {
  readonly serviceLevelS: number;
  readonly shortAbandonS: number;
  readonly intervalMs: number;
  /** Saves at most this often (default 60 s). */
  readonly persistMs?: number;
  /** After a fact, publish the wallboard event within this many ms (facts in between coalesce); 0 = only on tick(). */
  readonly factPublishMs?: number;
}

export interface KpiServiceDeps {
  readonly repo: AcdRepo;
  readonly bus: EventBus;
  readonly logger: Logger;
  /** The configured skill groups (routing), read at each tick and query. */
  readonly groups: () => readonly SkillGroup[];
  readonly now?: () => number;
}

/** Monotonic call counts since start, per group and overall. */
export interface AcdCallCounts {
  offered: number;
  answered: number;
  abandoned: number;
  overflowedOut: number;
}

const zeroCounts = (): AcdCallCounts => ({ offered: 0, answered: 0, abandoned: 0, overflowedOut: 0 });

export class KpiService {
  /** What the ACD orchestrator reports to. */
  readonly facts: AcdFactSink;
  readonly intervalMs: number;
  readonly counters = { groups: new Map<string, AcdCallCounts>(), overall: zeroCounts(), storeErrors: 0, published: 0 };
  private readonly engine: ContactCentreKpis;
  private readonly persistMs: number;
  private readonly factPublishMs: number;
  private factPublish: NodeJS.Timeout | null = null;
  private readonly queuedGroup = new Map<string, string>();
  private readonly saved = new Map<number, string>();
  private groupsKey = '';
  private lastWallboard = '';
  private lastPersistAt = Number.NEGATIVE_INFINITY;
  private factsSeen = 0;
  private cached: { facts: number; at: number; snapshot: KpiSnapshot } | null = null;
  private closed = false;

  constructor(
    private readonly deps: KpiServiceDeps,
    options: KpiServiceOptions,
  ) {
    this.intervalMs = options.intervalMs;
    this.persistMs = options.persistMs ?? DEFAULT_PERSIST_MS;
    this.factPublishMs = options.factPublishMs ?? 0;
    this.engine = new ContactCentreKpis({
      intervalMs: options.intervalMs,
      maxIntervals: Math.ceil(DAY_MS / options.intervalMs),
      serviceLevelS: options.serviceLevelS,
      shortAbandonS: options.shortAbandonS,
    });
    this.syncGroups();
    const restored = this.deps.repo.load(options.intervalMs, this.now() - DAY_MS);
    this.engine.restoreTotals(restored);
    for (const row of restored) this.saved.set(row.start, JSON.stringify(row));
    if (restored.length > 0) this.deps.logger.info({ intervals: restored.length }, 'contact-centre intervals restored');
    this.facts = this.sink();
  }

  now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** Real-time figures now (cached until the next fact or for 1 s). */
  snapshot(): KpiSnapshot {
    this.syncGroups();
    const at = this.now();
    const c = this.cached;
    if (c !== null && c.facts === this.factsSeen && at >= c.at && at - c.at < 1000) return c.snapshot;
    const snapshot = this.engine.snapshot(at);
    this.cached = { facts: this.factsSeen, at, snapshot };
    return snapshot;
  }

  intervals(from: number, to: number): IntervalKpis[] {
    this.syncGroups();
    return this.engine.intervals(from, to, this.now());
  }

  /** Per-agent figures of a range (overall, or one skill group's). */
  agentFigures(from: number, to: number, group?: string): RangeAgentKpis {
    return this.engine.agentFigures(from, to, group, this.now());
  }

  summary(from: number, to: number): RangeKpis {
    this.syncGroups();
    return this.engine.summary(from, to, this.now());
  }

  /** The group's average handle time over the last hour, ms; null with fewer than 5 handled calls. */
  recentHandleMs(groupId: string): number | null {
    const now = this.now();
    const k = this.engine.summary(now - 3_600_000, now + 1, now).groups[groupId];
    if (k === undefined || k.handled < MIN_HANDLED_FOR_AHT || k.averageHandleTimeS === null) return null;
    return k.averageHandleTimeS * 1000;
  }

  /** Facts the engine ignored (unknown or finished calls), since start. */
  ignoredFacts(): number {
    return this.engine.footprint().ignoredFacts;
  }

  /** Publish the wallboard event if its figures changed (and `publish`); save changed intervals when due. */
  tick(publish = true): void {
    if (this.closed) return;
    const snapshot = this.snapshot();
    if (publish) this.publishIfChanged(snapshot);
    if (snapshot.at - this.lastPersistAt >= this.persistMs) this.persist();
  }

  private publishIfChanged(snapshot: KpiSnapshot): void {
    const event = wallboardEvent(snapshot);
    const key = JSON.stringify({ ...event, at: 0 });
    if (key === this.lastWallboard) return;
    this.lastWallboard = key;
    this.counters.published++;
    this.deps.bus.publish(event);
  }

  /** One wallboard event for the facts of the next factPublishMs. */
  private schedulePublish(): void {
    if (this.factPublishMs <= 0 || this.factPublish !== null || this.closed) return;
    this.factPublish = setTimeout(() => {
      this.factPublish = null;
      if (this.closed) return;
      try {
        this.publishIfChanged(this.snapshot());
      } catch (err) {
        this.deps.logger.error({ reason: err instanceof Error ? err.message : String(err) }, 'wallboard figures not published');
      }
    }, this.factPublishMs);
    this.factPublish.unref();
  }

  /** Save the intervals whose sums changed since the last save, and drop rows older than a day. */
  persist(): void {
    const now = this.now();
    this.lastPersistAt = now;
    const oldest = now - DAY_MS;
    const changed: { start: number; json: string }[] = [];
    for (const row of this.engine.exportTotals(oldest, now + 1, now)) {
      if (isEmpty(row.overall) && Object.keys(row.groups).length === 0) continue;
      const json = JSON.stringify(row);
      if (this.saved.get(row.start) !== json) changed.push({ start: row.start, json });
    }
    try {
      this.deps.repo.save(this.intervalMs, changed, now);
      for (const c of changed) this.saved.set(c.start, c.json);
      this.deps.repo.prune(Math.floor(oldest / this.intervalMs) * this.intervalMs);
      for (const start of this.saved.keys()) if (start < oldest - this.intervalMs) this.saved.delete(start);
    } catch (err) {
      if (!isEdgeVoxError(err)) throw err;
      this.counters.storeErrors++;
      this.deps.logger.warn({ code: err.code, intervals: changed.length }, 'contact-centre intervals not stored');
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.factPublish !== null) clearTimeout(this.factPublish);
    this.factPublish = null;
    this.persist();
  }

  private syncGroups(): void {
    const groups = this.deps.groups();
    const key = JSON.stringify(groups.map((g) => [g.id, g.queue?.serviceLevelS ?? null]));
    if (key === this.groupsKey) return;
    this.groupsKey = key;
    this.engine.setGroups(
      Object.fromEntries(groups.map((g) => [g.id, g.queue?.serviceLevelS === undefined ? {} : { serviceLevelS: g.queue.serviceLevelS }])),
    );
    this.cached = null;
  }

  private count(groupId: string | undefined, key: keyof AcdCallCounts, overall = true): void {
    if (overall) this.counters.overall[key]++;
    if (groupId === undefined) return;
    let c = this.counters.groups.get(groupId);
    if (c === undefined) {
      c = zeroCounts();
      this.counters.groups.set(groupId, c);
    }
    c[key]++;
  }

  /** Run a fact; true when the engine took it (did not count it as ignored). */
  private take(run: () => void): boolean {
    if (this.closed) return false;
    const before = this.engine.footprint().ignoredFacts;
    run();
    this.factsSeen++;
    const taken = this.engine.footprint().ignoredFacts === before;
    if (taken) this.schedulePublish();
    return taken;
  }

  private sink(): AcdFactSink {
    const e = this.engine;
    const forget = (callId: string) => {
      const g = this.queuedGroup.get(callId);
      this.queuedGroup.delete(callId);
      return g;
    };
    return {
      offered: (callId: string, groupId: string, at: number) => {
        if (!this.take(() => e.offered(callId, groupId, at))) return;
        if (this.queuedGroup.size >= MAX_TRACKED_CALLS) {
          const oldest = this.queuedGroup.keys().next().value;
          if (oldest !== undefined) this.queuedGroup.delete(oldest);
        }
        this.queuedGroup.set(callId, groupId);
        this.count(groupId, 'offered');
      },
      answered: (callId: string, agentId: string, at: number) => {
        // The answer is judged against the group's T: take a routing change made since the last tick.
        this.syncGroups();
        // a transferred call's next agent is not another answered call (the engine counts its first answer only)
        const first = e.isQueued(callId);
        if (this.take(() => e.answered(callId, agentId, at)) && first) this.count(forget(callId), 'answered');
      },
      abandoned: (callId: string, at: number) => {
        // a transferred call ending before the next agent answers is handled, not abandoned (as in the engine)
        const queued = e.isQueued(callId);
        if (this.take(() => e.abandoned(callId, at)) && queued) this.count(forget(callId), 'abandoned');
      },
      dequeued: (callId: string, at: number) => {
        if (this.take(() => e.dequeued(callId, at))) forget(callId);
      },
      overflowed: (callId: string, toGroupId: string, at: number) => {
        if (!this.take(() => e.overflowed(callId, toGroupId, at))) return;
        this.count(this.queuedGroup.get(callId), 'overflowedOut', false);
        this.count(toGroupId, 'offered', false);
        if (this.queuedGroup.has(callId)) this.queuedGroup.set(callId, toGroupId);
      },
      held: (callId: string, at: number) => void this.take(() => e.held(callId, at)),
      resumed: (callId: string, at: number) => void this.take(() => e.resumed(callId, at)),
      talkEnded: (callId: string, at: number) => void this.take(() => e.talkEnded(callId, at)),
      transferred: (callId: string, at: number) => void this.take(() => e.transferred(callId, at)),
      wrapUpEnded: (agentId: string, at: number) => void this.take(() => e.wrapUpEnded(agentId, at)),
      agentState: (agentId: string, state: AgentState, at: number) => void this.take(() => e.agentState(agentId, state, at)),
      agentGroups: (agentId: string, groupIds: readonly string[], at: number) => void this.take(() => e.agentGroups(agentId, groupIds, at)),
    };
  }
}

function isEmpty(sums: Readonly<Record<string, number>>): boolean {
  return Object.values(sums).every((v) => v === 0);
}

const ratio3 = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 1000);
const wholeS = (x: number | null) => (x === null ? null : Math.round(x));

function wallboard(k: RealTimeKpis): AcdWallboardFigures {
  const i = k.currentInterval;
  return {
    waiting: k.waiting,
    longestWaitingS: wholeS(k.longestWaitingS),
    agents: { ...k.agents },
    offered: i.offered,
    answered: i.answered,
    abandoned: i.abandoned,
    shortAbandoned: i.shortAbandoned,
    overflowedOut: i.overflowedOut,
    serviceLevel: ratio3(i.serviceLevel),
    averageSpeedOfAnswerS: wholeS(i.averageSpeedOfAnswerS),
    averageAbandonTimeS: wholeS(i.averageAbandonTimeS),
    averageHandleTimeS: wholeS(i.averageHandleTimeS),
    occupancy: ratio3(i.occupancy),
  };
}

/** The wallboard event of a snapshot (rounded: ratios to 3 decimals, times to whole seconds). */
export function wallboardEvent(s: KpiSnapshot): Extract<ApplianceEvent, { type: 'acd.kpis' }> {
  return {
    type: 'acd.kpis',
    at: s.at,
    interval: { start: s.interval.start, end: s.interval.end },
    groups: Object.fromEntries(Object.entries(s.groups).map(([g, k]) => [g, wallboard(k)])),
    overall: wallboard(s.overall),
  };
}
