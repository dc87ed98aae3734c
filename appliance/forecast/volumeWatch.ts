/**
 * The "trigger scale-up" warning: at each check, every skill group whose offered calls over the
 * last N closed intervals of today ran more than X % from the day's plan (forecastService.ts)
 * raises a `forecast_deviation` supervisor alert (stored, published as an `alert` event like every
 * other alert). Once per group while it stays out of bounds: the group is alerted again only after
 * a check finds it back within bounds (or on a new day), or when it swings to the other side. The
 * alert carries the group id and counts only.
 */
import type { AlertsRepo } from '../alerts/repo.js';
import type { EventBus } from '../events/appEvents.js';
import { isEdgeVoxError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { ForecastService, VolumeDeviation } from './forecastService.js';

export const DEVIATION_ALERT_KIND = 'forecast_deviation';

export interface VolumeWatchDeps {
  readonly forecast: ForecastService;
  readonly alerts: AlertsRepo;
  readonly bus: EventBus;
  readonly logger: Logger;
  /** 0 = no timer (check() is called by hand, as in tests). */
  readonly checkMs: number;
}

export interface RaisedDeviation extends VolumeDeviation {
  readonly direction: 'above' | 'below';
}

export class VolumeWatch {
  /** Groups alerted and not back within bounds since: the side they were on, and the day. */
  private readonly out = new Map<string, { direction: 'above' | 'below'; day: number }>();
  private readonly timer: NodeJS.Timeout | null;
  private closed = false;

  constructor(private readonly deps: VolumeWatchDeps) {
    this.timer = deps.checkMs > 0 ? setInterval(() => this.check(), deps.checkMs) : null;
    this.timer?.unref();
  }

  /** Compare every group with its plan now; raise an alert for each newly deviating one. Returns those. */
  check(): RaisedDeviation[] {
    if (this.closed) return [];
    const f = this.deps.forecast;
    const s = f.settings();
    if (!s.alert.enabled) {
      this.out.clear();
      return [];
    }
    const day = f.dayStart(f.now());
    const raised: RaisedDeviation[] = [];
    for (const groupId of f.groupIds()) {
      let d: VolumeDeviation | null;
      try {
        d = f.deviation(groupId, s.alert.intervals);
      } catch (err) {
        if (!isEdgeVoxError(err)) throw err;
        this.deps.logger.warn({ code: err.code, groupId }, 'forecast deviation not checked');
        continue;
      }
      const prev = this.out.get(groupId);
      if (
        d === null ||
        d.forecast < s.alert.minForecastCalls ||
        d.deviationPct === null ||
        Math.abs(d.deviationPct) <= s.alert.deviationPct
      ) {
        // back within bounds (or too little to judge): alert again next time it runs out
        if (d !== null || prev?.day !== day) this.out.delete(groupId);
        continue;
      }
      const direction = d.deviationPct > 0 ? 'above' : 'below';
      if (prev !== undefined && prev.day === day && prev.direction === direction) continue;
      this.out.set(groupId, { direction, day });
      const r = { ...d, direction } as const;
      this.raise(f.now(), r, s.alert.deviationPct);
      raised.push(r);
    }
    return raised;
  }

  private raise(at: number, d: RaisedDeviation, thresholdPct: number): void {
    const alert = {
      callId: null,
      kind: DEVIATION_ALERT_KIND,
      severity: 'warning' as const,
      message: d.direction === 'above' ? 'call volume above forecast: consider adding agents' : 'call volume below forecast',
      details: {
        groupId: d.groupId,
        direction: d.direction,
        actual: d.actual,
        forecast: d.forecast,
        deviationPct: d.deviationPct,
        thresholdPct,
        intervals: d.intervals,
        from: d.from,
        to: d.to,
      },
    };
    let id: number | null = null;
    try {
      id = this.deps.alerts.insert({ at, ...alert });
    } catch (err) {
      if (!isEdgeVoxError(err)) throw err;
      this.deps.logger.warn({ code: err.code, kind: alert.kind }, 'alert not stored');
    }
    this.deps.logger.info({ kind: alert.kind, severity: alert.severity, alertId: id }, 'alert raised');
    this.deps.bus.publish({ type: 'alert', at, ...alert, details: { ...alert.details, alertId: id } });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
  }
}
