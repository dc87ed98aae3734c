/**
 * The per-interval KPI report as CSV (GET /api/v1/acd/kpis/intervals.csv): one row per interval
 * and view (overall first, then the skill groups by id), the ACD's own figures (docs/kpis.md),
 * ratios 0..1 and seconds as numbers, times ISO 8601 UTC. RFC 4180 quoting and spreadsheet
 * formula escaping (a leading = + - @ tab or CR gets a quote) come from csv-stringify.
 */
import { stringify } from 'csv-stringify/sync';
import type { AgentKpis, IntervalKpis, QueueKpis, RangeAgentKpis } from './kpis.js';

export const KPI_CSV_COLUMNS = [
  'offered',
  'answered',
  'answeredWithinThreshold',
  'abandoned',
  'shortAbandoned',
  'overflowedOut',
  'transferred',
  'handled',
  'serviceLevel',
  'averageSpeedOfAnswerS',
  'averageAbandonTimeS',
  'averageHandleTimeS',
  'occupancy',
] as const satisfies readonly (keyof QueueKpis)[];

/** The CSV of `intervals`; `group` keeps one view only ('overall' or a skill group id). */
export function kpiCsv(intervals: readonly IntervalKpis[], group?: string): string {
  const rows: (string | number | null)[][] = [];
  for (const i of intervals) {
    const views: [string, QueueKpis][] = [['overall', i.overall], ...Object.entries(i.groups).sort(([a], [b]) => a.localeCompare(b))];
    for (const [id, k] of views) {
      if (group !== undefined && id !== group) continue;
      rows.push([new Date(i.start).toISOString(), new Date(i.end).toISOString(), id, ...KPI_CSV_COLUMNS.map((c) => k[c])]);
    }
  }
  return stringify(rows, {
    header: true,
    columns: ['start', 'end', 'group', ...KPI_CSV_COLUMNS],
    record_delimiter: 'windows',
    // null (no calls to judge) is an empty field
    escape_formulas: true,
  });
}

export const AGENT_CSV_COLUMNS = [
  'rung',
  'answered',
  'notAnswered',
  'transferred',
  'handled',
  'handleTimeS',
  'averageHandleTimeS',
  'averageAnswerTimeS',
] as const satisfies readonly (keyof AgentKpis)[];

/**
 * The per-agent report as CSV (GET /api/v1/acd/kpis/agents.csv): one row per agent over the range,
 * the view ('overall' or the skill group) in its own column; the same quoting and formula escaping.
 */
export function agentKpiCsv(range: RangeAgentKpis, group?: string): string {
  const from = new Date(range.from).toISOString();
  const to = new Date(range.to).toISOString();
  const rows = range.agents.map((a) => [from, to, group ?? 'overall', a.agentId, ...AGENT_CSV_COLUMNS.map((c) => a[c])]);
  return stringify(rows, {
    header: true,
    columns: ['from', 'to', 'group', 'agent', ...AGENT_CSV_COLUMNS],
    record_delimiter: 'windows',
    escape_formulas: true,
  });
}
