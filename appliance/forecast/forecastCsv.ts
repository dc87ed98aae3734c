/**
 * The forecast and staffing of one skill group as CSV (GET /api/v1/forecast/export.csv): one row
 * per interval with the plan, the intraday re-forecast, the actual, handle times and the agents
 * needed by Erlang C and Erlang A; times ISO 8601 UTC, empty fields where a figure is unknown. RFC
 * 4180 quoting and spreadsheet formula escaping come from csv-stringify, as in acd/kpiCsv.ts.
 */
import { stringify } from 'csv-stringify/sync';
import type { ForecastResult, StaffingTable } from './forecastService.js';

export const FORECAST_CSV_COLUMNS = [
  'start',
  'end',
  'group',
  'forecastOffered',
  'reforecastOffered',
  'actualOffered',
  'forecastAhtS',
  'actualAhtS',
  'erlangCAgents',
  'erlangCScheduled',
  'erlangCServiceLevel',
  'erlangCAsaS',
  'erlangAAgents',
  'erlangAScheduled',
  'erlangAServiceLevel',
  'erlangAAbandonRate',
] as const;

/** The CSV of a forecast and its staffing table (same group, days and interval). */
export function forecastCsv(forecast: ForecastResult, staffing: StaffingTable, groupLabel: string): string {
  const rows = forecast.points.map((p, i) => {
    const s = staffing.points[i];
    return [
      new Date(p.start).toISOString(),
      new Date(p.start + forecast.intervalMs).toISOString(),
      groupLabel,
      p.forecast,
      p.reforecast,
      p.actual,
      p.forecastAhtS,
      p.actualAhtS,
      s?.erlangC?.agents ?? null,
      s?.erlangC?.scheduled ?? null,
      s?.erlangC?.serviceLevel ?? null,
      s?.erlangC?.asaS ?? null,
      s?.erlangA?.agents ?? null,
      s?.erlangA?.scheduled ?? null,
      s?.erlangA?.serviceLevel ?? null,
      s?.erlangA?.abandonRate ?? null,
    ];
  });
  return stringify(rows, { header: true, columns: [...FORECAST_CSV_COLUMNS], record_delimiter: 'windows', escape_formulas: true });
}
