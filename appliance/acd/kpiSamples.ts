/**
 * The KPI snapshot (acd/kpis.ts) as Prometheus / wallboard gauge samples: which gauges exist, their
 * help text and labels, and the mapping from a snapshot to sample values. Pure, no I/O.
 */

import { PRESENT_AGENT_STATES, type PresentAgentState, type KpiSnapshot, type QueueKpis, type RealTimeKpis } from './kpis.js';

export interface KpiSampleLabels {
  readonly scope: 'group' | 'overall';
  readonly group?: string;
  readonly state?: PresentAgentState;
}

/** One gauge value for the metrics binding; labels carry only the scope, group ids and agent states. */
export interface KpiSample {
  readonly name: string;
  readonly help: string;
  readonly labels: KpiSampleLabels;
  readonly value: number;
}

const INTERVAL_GAUGES: readonly { name: string; help: string; value: (k: QueueKpis) => number | null }[] = [
  { name: 'edgevox_acd_interval_offered_calls', help: 'Calls offered in the current interval', value: (k) => k.offered },
  { name: 'edgevox_acd_interval_answered_calls', help: 'Calls offered in the current interval and answered', value: (k) => k.answered },
  { name: 'edgevox_acd_interval_abandoned_calls', help: 'Calls offered in the current interval and abandoned', value: (k) => k.abandoned },
  {
    name: 'edgevox_acd_interval_short_abandoned_calls',
    help: 'Abandons within the short-abandon threshold',
    value: (k) => k.shortAbandoned,
  },
  { name: 'edgevox_acd_interval_overflowed_out_calls', help: 'Calls that left the group for another', value: (k) => k.overflowedOut },
  {
    name: 'edgevox_acd_interval_transferred_calls',
    help: 'Transfers by agents of calls offered in the current interval (to another agent or queue)',
    value: (k) => k.transferred,
  },
  {
    name: 'edgevox_acd_interval_service_level_ratio',
    help: 'Answered within T / (answered + abandoned after the short-abandon threshold)',
    value: (k) => k.serviceLevel,
  },
  {
    name: 'edgevox_acd_interval_average_speed_of_answer_seconds',
    help: 'Mean wait of answered calls',
    value: (k) => k.averageSpeedOfAnswerS,
  },
  {
    name: 'edgevox_acd_interval_average_abandon_seconds',
    help: 'Mean wait of abandons that are not short',
    value: (k) => k.averageAbandonTimeS,
  },
  {
    name: 'edgevox_acd_interval_average_handle_seconds',
    help: '(Talk + hold + wrap-up) / handled calls',
    value: (k) => k.averageHandleTimeS,
  },
  {
    name: 'edgevox_acd_interval_occupancy_ratio',
    help: '(On call + wrap-up) / (on call + wrap-up + available + ringing)',
    value: (k) => k.occupancy,
  },
];

/**
 * The snapshot as gauge samples. Labels: `scope` (group | overall), `group` (operator-configured
 * ids) and `state` (agent state); never call or agent ids. Null figures are left out; the longest
 * wait is 0 when nobody waits.
 */
export function kpiSamples(snapshot: KpiSnapshot): KpiSample[] {
  const out: KpiSample[] = [];
  const scopes: [KpiSampleLabels, RealTimeKpis][] = [
    [{ scope: 'overall' }, snapshot.overall],
    ...Object.entries(snapshot.groups).map(([group, k]): [KpiSampleLabels, RealTimeKpis] => [{ scope: 'group', group }, k]),
  ];
  for (const [labels, k] of scopes) {
    out.push({ name: 'edgevox_acd_calls_waiting', help: 'Calls waiting in queue now', labels, value: k.waiting });
    out.push({
      name: 'edgevox_acd_longest_waiting_seconds',
      help: 'Wait of the longest-waiting call now (0 when none)',
      labels,
      value: k.longestWaitingS ?? 0,
    });
    for (const state of PRESENT_AGENT_STATES) {
      out.push({ name: 'edgevox_acd_agents', help: 'Logged-in agents by state now', labels: { ...labels, state }, value: k.agents[state] });
    }
    for (const g of INTERVAL_GAUGES) {
      const value = g.value(k.currentInterval);
      if (value !== null) out.push({ name: g.name, help: g.help, labels, value });
    }
  }
  return out;
}

/** Every gauge `kpiSamples` can produce, with its help and label names (for registering them up front). */
export function kpiGaugeCatalog(): { name: string; help: string; labelNames: string[] }[] {
  const full: QueueKpis = {
    offered: 0,
    answered: 0,
    answeredWithinThreshold: 0,
    abandoned: 0,
    shortAbandoned: 0,
    overflowedOut: 0,
    transferred: 0,
    handled: 0,
    serviceLevel: 0,
    averageSpeedOfAnswerS: 0,
    averageAbandonTimeS: 0,
    averageHandleTimeS: 0,
    talkS: 0,
    holdS: 0,
    wrapUpS: 0,
    agentTimeS: { available: 0, ringing: 0, onCall: 0, wrapUp: 0, away: 0 },
    occupancy: 0,
  };
  const rt: RealTimeKpis = {
    waiting: 0,
    longestWaitingS: 0,
    agents: { available: 0, ringing: 0, 'on-call': 0, 'wrap-up': 0, away: 0 },
    currentInterval: full,
  };
  const catalog = new Map<string, { name: string; help: string; labelNames: Set<string> }>();
  for (const s of kpiSamples({ at: 0, interval: { start: 0, end: 1 }, groups: { g: rt }, overall: rt })) {
    const c = catalog.get(s.name) ?? { name: s.name, help: s.help, labelNames: new Set<string>() };
    for (const key of Object.keys(s.labels)) c.labelNames.add(key);
    catalog.set(s.name, c);
  }
  return [...catalog.values()].map((c) => ({ name: c.name, help: c.help, labelNames: [...c.labelNames].sort() }));
}
