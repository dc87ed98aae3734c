/**
 * Watches contact reasons for rising topics (insight/risingTopics.ts) every `checkMs` from the store,
 * and raises a `topic_rising` supervisor alert (stored in the alerts table, published as an `alert`
 * event like every other alert) once per reason per window: a reason that keeps rising is alerted
 * again only after a whole window without an alert. The alert carries the reason and counts only.
 */
import type { AlertsRepo } from '../alerts/repo.js';
import type { EventBus } from '../events/appEvents.js';
import { isEdgeVoxError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { DAY_MS, type ContactReasonsRepo } from './contactReasons.js';
import { DEFAULT_RISING, scoreTopics, type RisingOptions, type TopicScore } from './risingTopics.js';

export interface TopicWatchDeps {
  readonly reasons: ContactReasonsRepo;
  /** Start of the first call the store keeps (null: none yet). */
  readonly dataSince: () => number | null;
  readonly alerts: AlertsRepo;
  readonly bus: EventBus;
  readonly logger: Logger;
  readonly rising?: RisingOptions;
  /** 0 = no timer (check() is called by hand, as in tests). */
  readonly checkMs: number;
  readonly now?: () => number;
}

export class TopicWatch {
  private readonly lastAlertAt = new Map<string, number>();
  private readonly timer: NodeJS.Timeout | null;
  private closed = false;
  readonly options: RisingOptions;

  constructor(private readonly deps: TopicWatchDeps) {
    this.options = deps.rising ?? DEFAULT_RISING;
    this.timer = deps.checkMs > 0 ? setInterval(() => this.check(), deps.checkMs) : null;
    this.timer?.unref();
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** Every reason of the window ending at `nowMs`, scored against its baseline, most significant first. */
  scores(nowMs = this.now()): TopicScore[] {
    const since = this.deps.dataSince();
    if (since === null) return [];
    const o = this.options;
    const from = nowMs - o.baselineDays * DAY_MS - o.windowMs;
    const obs = this.deps.reasons.callReasons(from, nowMs).map((r) => ({ intent: r.intent, at: r.startedAt }));
    return scoreTopics(obs, nowMs, since, o);
  }

  /** Score now and raise an alert for each newly rising reason; returns the alerted ones. */
  check(): TopicScore[] {
    if (this.closed) return [];
    const at = this.now();
    let rising: TopicScore[];
    try {
      rising = this.scores(at).filter((s) => s.rising);
    } catch (err) {
      if (!isEdgeVoxError(err)) throw err;
      this.deps.logger.warn({ code: err.code }, 'rising topics not checked');
      return [];
    }
    const raised: TopicScore[] = [];
    for (const s of rising) {
      const last = this.lastAlertAt.get(s.intent);
      if (last !== undefined && at - last < this.options.windowMs) continue;
      this.lastAlertAt.set(s.intent, at);
      this.raise(at, s);
      raised.push(s);
    }
    for (const [intent, t] of this.lastAlertAt) if (at - t >= this.options.windowMs) this.lastAlertAt.delete(intent);
    return raised;
  }

  private raise(at: number, s: TopicScore): void {
    const alert = {
      callId: null,
      kind: 'topic_rising',
      severity: 'warning' as const,
      message: 'contact reason rising above its usual level',
      details: {
        intent: s.intent,
        count: s.count,
        expected: s.expected,
        z: s.z,
        pValue: s.pValue,
        windowMs: this.options.windowMs,
        baselineDays: s.baseline.length,
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
