/**
 * Forecasting and staffing on the box: the interval history per skill group, the forecast of
 * offered calls and handle time for the next 1-28 days (models.ts, on the site's special days and
 * settings), today's plan re-forecast from the day's actuals so far, the agents each interval needs
 * (Erlang C and Erlang A, erlang.ts) and the deviation of today's actual volume from the plan that
 * the scale-up alert watches (volumeWatch.ts).
 *
 * Forecasts are made at the history's own interval length (the ACD's, 15 min by default) and summed
 * into longer intervals on request. "Today's plan" is the forecast made from the history up to the
 * site's midnight, so forecast and actual can be set side by side for the day. Plans are cached per
 * group and day; a change of settings or special days makes new ones.
 */
import { localTimeAt } from '../acd/businessHours.js';
import { evxError } from '../errors.js';
import { staffErlangA, staffErlangC, type StaffingInput, type StaffingResult } from './erlang.js';
import { coarsen, type HistoryRow, type IntervalHistoryRepo } from './historyRepo.js';
import { DEFAULT_METHOD, forecastSeries, reforecastIntraday, type ForecastMethod, type SpecialDay } from './models.js';
import type { ForecastPlanRepo, SpecialDayRecord } from './planRepo.js';
import { mergeSettings, type ForecastSettings } from './settings.js';

export const DAY_MS = 86_400_000;
export const MAX_FORECAST_DAYS = 28;

export interface ForecastServiceDeps {
  readonly history: IntervalHistoryRepo;
  readonly plan: ForecastPlanRepo;
  /** Settings of a site that changed none. */
  readonly defaults: ForecastSettings;
  /** The site's IANA zone (days, weekdays and special days are local). */
  readonly timeZone: string;
  /** Length of the intervals the history is written in (the ACD's). */
  readonly intervalMs: number;
  /** The configured skill groups' ids. */
  readonly groups: () => readonly string[];
  readonly now?: () => number;
}

/** One interval of history; handle time in seconds (null: no handled call). */
export interface HistoryPoint {
  readonly start: number;
  readonly offered: number;
  readonly answered: number;
  readonly abandoned: number;
  readonly handled: number;
  readonly averageHandleS: number | null;
}

/** One interval of a forecast, with the actual figures where the interval has passed. */
export interface ForecastPoint {
  readonly start: number;
  /** The plan: forecast offered calls (made from the history before the first day). */
  readonly forecast: number;
  /** Forecast average handle time, s (null: no history to learn it from). */
  readonly forecastAhtS: number | null;
  /** Today's later intervals re-forecast from the day's actuals so far; null elsewhere. */
  readonly reforecast: number | null;
  /** Offered calls, once the interval has closed; null before. */
  readonly actual: number | null;
  readonly actualAhtS: number | null;
}

export interface ForecastResult {
  readonly groupId: string;
  readonly intervalMs: number;
  /** The site's midnight of the first day. */
  readonly from: number;
  readonly to: number;
  readonly days: number;
  readonly method: ForecastMethod;
  readonly timeZone: string;
  /** History intervals the forecast learnt from (known ones). */
  readonly historyIntervals: number;
  readonly specialDays: readonly SpecialDay[];
  readonly points: readonly ForecastPoint[];
}

export interface StaffingFigures {
  readonly agents: number;
  readonly scheduled: number;
  readonly serviceLevel: number;
  readonly asaS: number;
  readonly abandonRate: number;
  readonly occupancy: number;
}

export interface StaffingPoint {
  readonly start: number;
  /** Calls planned for (the re-forecast where there is one, else the plan). */
  readonly calls: number;
  readonly ahtS: number | null;
  readonly erlangC: StaffingFigures | null;
  readonly erlangA: StaffingFigures | null;
}

export interface StaffingTable {
  readonly groupId: string;
  readonly intervalMs: number;
  readonly from: number;
  readonly to: number;
  readonly settings: Pick<
    ForecastSettings,
    'serviceLevelTarget' | 'serviceLevelS' | 'asaTargetS' | 'shrinkage' | 'maxOccupancy' | 'patienceS'
  >;
  readonly points: readonly StaffingPoint[];
  /** Most agents scheduled in any interval of the range, by model. */
  readonly peak: { readonly erlangC: number; readonly erlangA: number };
}

/** How far today's actual volume runs from the plan over the last closed intervals. */
export interface VolumeDeviation {
  readonly groupId: string;
  readonly from: number;
  readonly to: number;
  readonly intervals: number;
  readonly actual: number;
  readonly forecast: number;
  /** (actual − forecast) / forecast × 100, rounded to 0.1; null when nothing was forecast. */
  readonly deviationPct: number | null;
}

interface Plan {
  readonly dayStart: number;
  readonly historyIntervals: number;
  readonly method: ForecastMethod;
  readonly specialDays: SpecialDay[];
  /** Offered per base interval from dayStart, MAX_FORECAST_DAYS long. */
  readonly offered: number[];
  /** AHT (s) per base interval from dayStart; NaN unknown. */
  readonly ahtS: number[];
}

/** The site zone's offset (local − UTC) at `atMs`, whole minutes. */
export function zoneOffsetMinutes(atMs: number, timeZone: string): number {
  const t = localTimeAt(atMs, timeZone);
  const [y, m, d] = t.date.split('-').map(Number) as [number, number, number];
  const wallMinute = Date.UTC(y, m - 1, d) / 60_000 + t.minuteOfDay;
  return Math.round(wallMinute - Math.floor(atMs / 60_000));
}

export class ForecastService {
  private readonly plans = new Map<string, Plan>();
  private plansKey = '';

  constructor(private readonly deps: ForecastServiceDeps) {
    if (DAY_MS % deps.intervalMs !== 0) throw new RangeError('forecast: the interval length must divide a day');
  }

  now(): number {
    return (this.deps.now ?? Date.now)();
  }

  get intervalMs(): number {
    return this.deps.intervalMs;
  }

  get timeZone(): string {
    return this.deps.timeZone;
  }

  settings(): ForecastSettings {
    return mergeSettings(this.deps.defaults, this.deps.plan.settings());
  }

  saveSettings(settings: ForecastSettings, by: string): ForecastSettings {
    this.deps.plan.saveSettings(settings, by, this.now());
    this.plans.clear();
    return this.settings();
  }

  /** Special days changed: forget the cached plans. */
  specialDaysChanged(): void {
    this.plans.clear();
  }

  /** Skill groups with history or in the routing configuration, sorted. */
  groupIds(): string[] {
    return [...new Set([...this.deps.groups(), ...this.deps.history.groupIds()])].sort();
  }

  /** Interval lengths a caller may ask for: the history's own and multiples of it up to an hour. */
  allowedIntervals(): number[] {
    return [1, 2, 4].map((k) => k * this.deps.intervalMs).filter((ms) => ms <= 3_600_000 && DAY_MS % ms === 0);
  }

  /** The site's midnight on or before `atMs`. */
  dayStart(atMs: number): number {
    const off = zoneOffsetMinutes(atMs, this.deps.timeZone) * 60_000;
    return Math.floor((atMs + off) / DAY_MS) * DAY_MS - off;
  }

  /** Interval history of one group in [from, to), `intervalMs` long intervals. */
  history(groupId: string, intervalMs: number, from: number, to: number): HistoryPoint[] {
    this.checkInterval(intervalMs);
    const rows = this.deps.history.range(groupId, this.deps.intervalMs, from, to);
    return coarsen(rows, intervalMs).map(toPoint);
  }

  /** Forecast vs actual of one group for `days` site-local days from today. */
  forecast(groupId: string, days: number, intervalMs: number): ForecastResult {
    this.checkInterval(intervalMs);
    if (!Number.isInteger(days) || days < 1 || days > MAX_FORECAST_DAYS)
      throw evxError('EVX_ERR_BAD_REQUEST', `days must be 1 to ${MAX_FORECAST_DAYS}`, { details: { field: 'days' } });
    const now = this.now();
    const plan = this.plan(groupId, now);
    const base = this.deps.intervalMs;
    const perDay = DAY_MS / base;
    const n = days * perDay;
    const actualRows = this.deps.history.range(groupId, base, plan.dayStart, now);
    const actual = new Map(actualRows.filter((r) => r.start + base <= now).map((r) => [r.start, r]));
    // today's intervals after the last closed one, re-forecast from the day's actuals so far
    const closedToday = Math.max(0, Math.min(perDay, Math.floor((now - plan.dayStart) / base)));
    const reforecast = new Map<number, number>();
    if (closedToday > 0 && closedToday < perDay) {
      const soFar: number[] = [];
      for (let i = 0; i < closedToday; i++) soFar.push(actual.get(plan.dayStart + i * base)?.offered ?? Number.NaN);
      const rest = reforecastIntraday(plan.offered.slice(0, perDay), soFar);
      rest.forEach((v, k) => reforecast.set(closedToday + k, v));
    }
    const fine: FinePoint[] = [];
    for (let i = 0; i < n; i++) {
      const start = plan.dayStart + i * base;
      const a = actual.get(start);
      fine.push({
        start,
        forecast: plan.offered[i] ?? 0,
        ahtS: plan.ahtS[i] ?? Number.NaN,
        reforecast: reforecast.get(i) ?? null,
        actual: a === undefined ? null : a.offered,
        actualHandled: a?.handled ?? 0,
        actualHandleMs: a?.handleMs ?? 0,
      });
    }
    return {
      groupId,
      intervalMs,
      from: plan.dayStart,
      to: plan.dayStart + n * base,
      days,
      method: plan.method,
      timeZone: this.deps.timeZone,
      historyIntervals: plan.historyIntervals,
      specialDays: plan.specialDays,
      points: mergeFine(fine, intervalMs / base),
    };
  }

  /** Agents per interval for one group over `days` days from today, by Erlang C and Erlang A. */
  staffing(groupId: string, days: number, intervalMs: number): StaffingTable {
    const f = this.forecast(groupId, days, intervalMs);
    const s = this.settings();
    const points = f.points.map((p): StaffingPoint => {
      const calls = p.reforecast ?? p.forecast;
      return { start: p.start, calls, ahtS: p.forecastAhtS, ...staffInterval(calls, p.forecastAhtS, intervalMs, s) };
    });
    return {
      groupId,
      intervalMs,
      from: f.from,
      to: f.to,
      settings: {
        serviceLevelTarget: s.serviceLevelTarget,
        serviceLevelS: s.serviceLevelS,
        asaTargetS: s.asaTargetS,
        shrinkage: s.shrinkage,
        maxOccupancy: s.maxOccupancy,
        patienceS: s.patienceS,
      },
      points,
      peak: {
        erlangC: Math.max(0, ...points.map((p) => p.erlangC?.scheduled ?? 0)),
        erlangA: Math.max(0, ...points.map((p) => p.erlangA?.scheduled ?? 0)),
      },
    };
  }

  /**
   * Today's actual offered calls against the plan over the last `intervals` closed intervals of the
   * day; null before that many have closed today, or when an interval's actual is unknown.
   */
  deviation(groupId: string, intervals: number): VolumeDeviation | null {
    const now = this.now();
    const base = this.deps.intervalMs;
    const plan = this.plan(groupId, now);
    const closed = Math.floor((now - plan.dayStart) / base);
    if (closed < intervals) return null;
    const from = plan.dayStart + (closed - intervals) * base;
    const to = plan.dayStart + closed * base;
    const rows = this.deps.history.range(groupId, base, from, to);
    if (rows.length < intervals) return null;
    const actual = rows.reduce((a, r) => a + r.offered, 0);
    let forecast = 0;
    for (let i = closed - intervals; i < closed; i++) forecast += plan.offered[i] ?? 0;
    const deviationPct = forecast > 0 ? Math.round(((actual - forecast) / forecast) * 1000) / 10 : null;
    return { groupId, from, to, intervals, actual, forecast: Math.round(forecast * 10) / 10, deviationPct };
  }

  private checkInterval(intervalMs: number): void {
    if (!this.allowedIntervals().includes(intervalMs))
      throw evxError(
        'EVX_ERR_BAD_REQUEST',
        `interval must be one of ${this.allowedIntervals()
          .map((ms) => ms / 60_000)
          .join(', ')} minutes`,
        {
          details: { field: 'interval' },
        },
      );
  }

  /** Today's plan for a group (cached per group and day while settings and special days stay). */
  private plan(groupId: string, now: number): Plan {
    const dayStart = this.dayStart(now);
    const settings = this.settings();
    const days = this.deps.plan.specialDays();
    const key = JSON.stringify([dayStart, settings, days]);
    if (key !== this.plansKey) {
      this.plans.clear();
      this.plansKey = key;
    }
    let plan = this.plans.get(groupId);
    if (plan === undefined) {
      plan = this.makePlan(groupId, dayStart, settings, days);
      this.plans.set(groupId, plan);
    }
    return plan;
  }

  private makePlan(groupId: string, dayStart: number, settings: ForecastSettings, days: readonly SpecialDayRecord[]): Plan {
    const base = this.deps.intervalMs;
    const from = dayStart - settings.historyWeeks * 7 * DAY_MS;
    const rows = this.deps.history.range(groupId, base, from, dayStart);
    // Intervals before the first stored one are unknown, not quiet; so are gaps (the box was off).
    const first = rows[0]?.start ?? dayStart;
    const n = Math.max(0, Math.round((dayStart - first) / base));
    const offered = new Array<number>(n).fill(Number.NaN);
    const aht = new Array<number>(n).fill(Number.NaN);
    let handled = 0;
    let handleMs = 0;
    for (const r of rows) {
      const i = Math.round((r.start - first) / base);
      if (i < 0 || i >= n) continue;
      offered[i] = r.offered;
      if (r.handled > 0) aht[i] = r.handleMs / r.handled / 1000;
      handled += r.handled;
      handleMs += r.handleMs;
    }
    const method: ForecastMethod = settings.method === 'default' ? DEFAULT_METHOD : settings.method;
    const specialDays: SpecialDay[] = days
      .filter((d) => d.groupId === '' || d.groupId === groupId)
      .map((d) => ({ date: d.date, factor: d.factor, label: d.label }));
    const horizon = MAX_FORECAST_DAYS * (DAY_MS / base);
    const tzOffsetMinutes = zoneOffsetMinutes(dayStart, this.deps.timeZone);
    const known = offered.filter((v) => !Number.isNaN(v)).length;
    let offeredForecast: number[];
    let ahtForecast: number[];
    if (known === 0) {
      offeredForecast = new Array<number>(horizon).fill(0);
      ahtForecast = new Array<number>(horizon).fill(Number.NaN);
    } else {
      offeredForecast = forecastSeries(
        { startMs: first, intervalMs: base, values: offered },
        { horizon, method, specialDays, tzOffsetMinutes },
      ).map((v) => (Number.isFinite(v) ? Math.max(0, v) : 0));
      const meanAht = handled > 0 ? handleMs / handled / 1000 : Number.NaN;
      // handle time: the same models on the per-interval AHT; an interval without a value takes the history's mean
      ahtForecast =
        handled > 0
          ? forecastSeries({ startMs: first, intervalMs: base, values: aht }, { horizon, method, tzOffsetMinutes }).map((v) =>
              Number.isFinite(v) && v > 0 ? v : meanAht,
            )
          : new Array<number>(horizon).fill(Number.NaN);
    }
    return { dayStart, historyIntervals: known, method, specialDays, offered: offeredForecast, ahtS: ahtForecast };
  }
}

interface FinePoint {
  start: number;
  forecast: number;
  ahtS: number;
  reforecast: number | null;
  actual: number | null;
  actualHandled: number;
  actualHandleMs: number;
}

/** Base intervals summed `k` at a time: calls added, handle times weighted by calls. */
function mergeFine(fine: readonly FinePoint[], k: number): ForecastPoint[] {
  const out: ForecastPoint[] = [];
  for (let i = 0; i < fine.length; i += k) {
    const part = fine.slice(i, i + k);
    const forecast = part.reduce((a, p) => a + p.forecast, 0);
    const withAht = part.filter((p) => Number.isFinite(p.ahtS));
    const weight = withAht.reduce((a, p) => a + p.forecast, 0);
    const ahtS =
      withAht.length === 0
        ? null
        : weight > 0
          ? withAht.reduce((a, p) => a + p.ahtS * p.forecast, 0) / weight
          : withAht.reduce((a, p) => a + p.ahtS, 0) / withAht.length;
    // an interval is re-forecast when any of its parts is; its closed parts count their actuals
    const anyRe = part.some((p) => p.reforecast !== null);
    const reforecast = anyRe ? part.reduce((a, p) => a + (p.reforecast ?? p.actual ?? p.forecast), 0) : null;
    const allActual = part.every((p) => p.actual !== null);
    const handled = part.reduce((a, p) => a + p.actualHandled, 0);
    out.push({
      start: part[0]!.start,
      forecast: round2(forecast),
      forecastAhtS: ahtS === null ? null : Math.round(ahtS),
      reforecast: reforecast === null ? null : round2(reforecast),
      actual: allActual ? part.reduce((a, p) => a + (p.actual ?? 0), 0) : null,
      actualAhtS: allActual && handled > 0 ? Math.round(part.reduce((a, p) => a + p.actualHandleMs, 0) / handled / 1000) : null,
    });
  }
  return out;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function toPoint(r: HistoryRow): HistoryPoint {
  return {
    start: r.start,
    offered: r.offered,
    answered: r.answered,
    abandoned: r.abandoned,
    handled: r.handled,
    averageHandleS: r.handled > 0 ? Math.round(r.handleMs / r.handled / 100) / 10 : null,
  };
}

function figures(r: StaffingResult): StaffingFigures {
  return {
    agents: r.agents,
    scheduled: r.scheduled,
    serviceLevel: Math.round(r.serviceLevel * 1000) / 1000,
    asaS: Math.round(r.asaSec * 10) / 10,
    abandonRate: Math.round(r.abandonRate * 1000) / 1000,
    occupancy: Math.round(r.occupancy * 1000) / 1000,
  };
}

/** Erlang C and Erlang A staffing of one interval; zero calls need nobody, unknown handle time gives null. */
export function staffInterval(
  calls: number,
  ahtS: number | null,
  intervalMs: number,
  s: ForecastSettings,
): { erlangC: StaffingFigures | null; erlangA: StaffingFigures | null } {
  if (ahtS === null || !(ahtS > 0)) return { erlangC: null, erlangA: null };
  if (!(calls > 0)) {
    const none: StaffingFigures = { agents: 0, scheduled: 0, serviceLevel: 1, asaS: 0, abandonRate: 0, occupancy: 0 };
    return { erlangC: none, erlangA: none };
  }
  const input: StaffingInput = {
    callsPerInterval: calls,
    intervalSec: intervalMs / 1000,
    ahtSec: ahtS,
    serviceLevel: s.serviceLevelTarget,
    targetSec: s.serviceLevelS,
    shrinkage: s.shrinkage,
    ...(s.asaTargetS !== null ? { asaTargetSec: s.asaTargetS } : {}),
    ...(s.maxOccupancy !== null ? { maxOccupancy: s.maxOccupancy } : {}),
  };
  return { erlangC: figures(staffErlangC(input)), erlangA: figures(staffErlangA({ ...input, patienceSec: s.patienceS })) };
}
