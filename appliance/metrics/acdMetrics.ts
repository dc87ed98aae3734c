/**
 * The contact centre's Prometheus series (ApplianceMetrics delegates here): KPI gauges, callbacks,
 * the ACD's own work and supervision. No call, agent or caller ids in any label.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AcdEvents } from '../acd/acdCalls.js';
import type { KpiSnapshot } from '../acd/kpis.js';
import { kpiGaugeCatalog, kpiSamples, type KpiSample } from '../acd/kpiSamples.js';
import type { SupervisionEvents } from '../acd/supervision.js';
import type { TypedEmitter } from '../events/typedEmitter.js';

/**
 * Contact-centre KPIs (docs/kpis.md): the real-time gauges of the KPI engine's snapshot
 * (`kpiSamples`: waiting, longest wait, agents by state, the current interval's service level,
 * ASA, AHT, ...) and call counters since start. Labels: scope (group | overall), group (the
 * operator's group ids) and agent state; never call or agent ids.
 */
export function bindAcd(
  registry: Registry,
  source: {
    snapshot(): KpiSnapshot;
    readonly counters: {
      readonly groups: ReadonlyMap<string, { offered: number; answered: number; abandoned: number; overflowedOut: number }>;
      readonly overall: { offered: number; answered: number; abandoned: number };
    };
    ignoredFacts(): number;
  },
): void {
  const registers = [registry];
  // One snapshot's samples serve every gauge of a scrape (the source caches the snapshot itself).
  let memo: { snapshot: KpiSnapshot; samples: KpiSample[] } | null = null;
  const samples = (): KpiSample[] => {
    const snapshot = source.snapshot();
    if (memo?.snapshot !== snapshot) memo = { snapshot, samples: kpiSamples(snapshot) };
    return memo.samples;
  };
  for (const g of kpiGaugeCatalog()) {
    new Gauge({
      name: g.name,
      help: g.help,
      labelNames: g.labelNames,
      registers,
      collect() {
        this.reset();
        for (const s of samples()) if (s.name === g.name) this.set({ ...s.labels }, s.value);
      },
    });
  }
  const counter = (name: string, help: string, key: 'offered' | 'answered' | 'abandoned') =>
    new Counter({
      name,
      help,
      labelNames: ['scope', 'group'],
      registers,
      collect() {
        this.reset();
        this.inc({ scope: 'overall' }, source.counters.overall[key]);
        for (const [group, c] of source.counters.groups) this.inc({ scope: 'group', group }, c[key]);
      },
    });
  counter(
    'edgevox_acd_calls_offered_total',
    'Calls that entered a queue (an overflowed call counts in both groups, once overall)',
    'offered',
  );
  counter('edgevox_acd_calls_answered_total', 'Queued calls an agent answered', 'answered');
  counter('edgevox_acd_calls_abandoned_total', 'Callers who hung up while queued (short abandons included)', 'abandoned');
  new Counter({
    name: 'edgevox_acd_calls_overflowed_total',
    help: "Queued calls that left the group's queue for another group",
    labelNames: ['group'],
    registers,
    collect() {
      this.reset();
      for (const [group, c] of source.counters.groups) if (c.overflowedOut > 0) this.inc({ group }, c.overflowedOut);
    },
  });
  new Counter({
    name: 'edgevox_acd_facts_ignored_total',
    help: 'ACD facts the KPI engine could not place (unknown or finished call, second answer)',
    registers,
    collect() {
      this.reset();
      this.inc(source.ignoredFacts());
    },
  });
}

/** `edgevox_acd_callbacks_total` outcome labels (fixed words, never ids) and the counts they read. */
const CALLBACK_OUTCOMES = [
  ['offered', 'offered'],
  ['accepted', 'accepted'],
  ['hung-up', 'hungUp'],
  ['no-answer', 'noAnswer'],
  ['completed', 'completed'],
  ['failed', 'failed'],
  ['cancelled', 'cancelled'],
] as const;

/**
 * Callbacks (read from the store at scrape time, so the totals survive restarts): requests
 * waiting to be called back, and offers, how they were answered and closed requests by outcome
 * since the store began. No ids, no numbers.
 */
export function bindAcdCallbacks(
  registry: Registry,
  source: {
    pending(): number;
    counts(from: number, to: number): Record<'offered' | 'accepted' | 'hungUp' | 'noAnswer' | 'completed' | 'failed' | 'cancelled', number>;
  },
): void {
  new Gauge({
    name: 'edgevox_acd_callbacks_pending',
    help: 'Callback requests of callers waiting to be called back (pending: neither done, failed nor cancelled)',
    registers: [registry],
    collect() {
      try {
        this.set(source.pending());
      } catch {
        // the store is closing or failing: the last value stays
      }
    },
  });
  new Counter({
    name: 'edgevox_acd_callbacks_total',
    help: 'Callbacks by outcome: offered to callers, accepted (a request kept), hung-up (the caller hung up at the offer), no-answer (no key in time), completed (the customer answered the callback), failed (unanswered after the last attempt, or refused), cancelled (by a supervisor)',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      try {
        const c = source.counts(0, Number.MAX_SAFE_INTEGER);
        this.reset();
        for (const [outcome, key] of CALLBACK_OUTCOMES) this.inc({ outcome }, c[key]);
      } catch {
        // as above
      }
    },
  });
}

/**
 * The ACD's own work (acd.mode acd): offers to agents by outcome, calls the box ended instead of
 * queueing further, callbacks callers asked for, and the delay the box's bridge adds between
 * caller and agent (each bridged call's p95 and max, socket in to socket out). No call or agent ids.
 */
export function bindAcdCalls(registry: Registry, source: TypedEmitter<AcdEvents>): void {
  const registers = [registry];
  const offers = new Counter({
    name: 'edgevox_acd_offers_total',
    help: 'Offers of a queued call to an agent, by outcome: answered, no-answer (rang out or declined), failed (no phone reachable)',
    labelNames: ['outcome'],
    registers,
  });
  const refused = new Counter({
    name: 'edgevox_acd_calls_refused_total',
    help: 'Calls the box ended instead of queueing further, by reason (closed, full, max-wait, no-route, callback, none)',
    labelNames: ['reason'],
    registers,
  });
  const delay = new Histogram({
    name: 'edgevox_acd_bridge_added_delay_ms',
    help: 'Delay the box added to caller-agent audio per bridged call (quantile p95 or max of the call, ms)',
    labelNames: ['quantile'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40, 80],
    registers,
  });
  const callbacks = new Counter({
    name: 'edgevox_acd_callbacks_requested_total',
    help: 'Callers who pressed 1 at a callback offer and whose request was kept',
    registers,
  });
  const transfers = new Counter({
    name: 'edgevox_acd_transfers_total',
    help: 'Transfers asked by agents (REFER), by target kind (agent, group, attended, other) and outcome (completed, requeued, returned, failed, refused)',
    labelNames: ['kind', 'outcome'],
    registers,
  });
  source.on('offer.settled', (e) => offers.inc({ outcome: e.outcome }));
  source.on('call.transferred', (e) => transfers.inc({ kind: e.kind, outcome: e.outcome }));
  source.on('callback.requested', () => callbacks.inc());
  source.on('call.refused', (e) => refused.inc({ reason: e.reason }));
  source.on('bridge.ended', (e) => {
    if (e.delay.samples === 0) return;
    delay.observe({ quantile: 'p95' }, e.delay.p95Ms);
    delay.observe({ quantile: 'max' }, e.delay.maxMs);
  });
}

/**
 * Supervision of SIP-agent calls (acd/supervision.ts): sessions whose supervisor's phone answered,
 * by the mode they started in; mode changes by the new mode; and the delay the mixer added while
 * mixed (each session's p95 and max, socket in to mixed send). No call or agent ids.
 */
export function bindSupervision(registry: Registry, source: TypedEmitter<SupervisionEvents>): void {
  const registers = [registry];
  const sessions = new Counter({
    name: 'edgevox_acd_supervision_sessions_total',
    help: "Supervisions of SIP-agent calls whose supervisor's phone answered, by starting mode (listen, whisper, barge)",
    labelNames: ['mode'],
    registers,
  });
  const modes = new Counter({
    name: 'edgevox_acd_supervision_mode_changes_total',
    help: 'Mode changes of supervisions, by the new mode',
    labelNames: ['mode'],
    registers,
  });
  const delay = new Histogram({
    name: 'edgevox_acd_supervision_added_delay_ms',
    help: 'Delay the supervision mixer added per session (quantile p95 or max of the session, ms)',
    labelNames: ['quantile'],
    buckets: [1, 2, 5, 10, 20, 30, 40, 60, 80, 120],
    registers,
  });
  source.on('started', (e) => sessions.inc({ mode: e.mode }));
  source.on('mode', (e) => modes.inc({ mode: e.mode }));
  source.on('ended', (e) => {
    if (e.mixer === null || e.mixer.delay.samples === 0) return;
    delay.observe({ quantile: 'p95' }, e.mixer.delay.p95Ms);
    delay.observe({ quantile: 'max' }, e.mixer.delay.maxMs);
  });
}
