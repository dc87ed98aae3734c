/**
 * Starts forecasting and staffing: the interval history rolled up from the ACD's KPI intervals
 * every minute, the forecast service (forecast, re-forecast, Erlang C/A staffing), the scale-up
 * alert checked as each interval closes, and the API under /api/v1/forecast. Pushed after `acd`
 * and `alerts` (closed before them): its close rolls up once more.
 */
import type { KpiService } from '../acd/kpiService.js';
import type { AlertsRepo } from '../alerts/repo.js';
import { registerForecastRoutes } from '../api/routes/forecast.js';
import { isEdgeVoxError } from '../errors.js';
import { ForecastService } from '../forecast/forecastService.js';
import { IntervalHistoryRepo } from '../forecast/historyRepo.js';
import { HistoryRollup } from '../forecast/historyRollup.js';
import { ForecastPlanRepo } from '../forecast/planRepo.js';
import { defaultForecastSettings } from '../forecast/settings.js';
import { VolumeWatch } from '../forecast/volumeWatch.js';
import type { RoutingService } from '../routing/routingService.js';
import type { CapabilityDeps, Started } from './capability.js';

/** How often closed intervals are rolled into the history. */
const ROLLUP_MS = 60_000;

export interface StartedForecast extends Started {
  readonly service: ForecastService;
  readonly rollup: HistoryRollup;
  readonly watch: VolumeWatch;
  /** Roll up now and, when an interval closed since the last time, check for deviations (the timer's work). */
  tick(): void;
}

export function startForecast(
  deps: CapabilityDeps & {
    readonly kpis: KpiService;
    readonly routing: RoutingService;
    readonly alertsRepo: AlertsRepo;
    readonly timeZone: string;
  },
): StartedForecast {
  const { config, store, bus, logger, kpis, routing } = deps;
  const writer = store.write.bind(store);
  const history = new IntervalHistoryRepo(store.db, writer);
  const plan = new ForecastPlanRepo(store.db, writer);
  const now = deps.now ?? (() => kpis.now());
  const service = new ForecastService({
    history,
    plan,
    defaults: defaultForecastSettings(config.acd),
    timeZone: deps.timeZone,
    intervalMs: kpis.intervalMs,
    groups: () => routing.groupList().map((g) => g.id),
    now,
  });
  const rollup = new HistoryRollup(history, kpis);
  const watch = new VolumeWatch({ forecast: service, alerts: deps.alertsRepo, bus, logger, checkMs: 0 });
  let checkedInterval = Math.floor(now() / kpis.intervalMs);
  const tick = () => {
    try {
      rollup.rollUp();
      const interval = Math.floor(now() / kpis.intervalMs);
      if (interval !== checkedInterval) {
        checkedInterval = interval;
        watch.check();
      }
    } catch (err) {
      if (!isEdgeVoxError(err)) throw err;
      logger.warn({ code: err.code }, 'interval history not rolled up');
    }
  };
  const timer = setInterval(() => {
    try {
      tick();
    } catch (err) {
      logger.error({ reason: err instanceof Error ? err.message : String(err) }, 'forecast check failed');
    }
  }, ROLLUP_MS);
  timer.unref();
  return {
    service,
    rollup,
    watch,
    tick,
    routes: (app) => registerForecastRoutes(app, { forecast: service, plan, audit: store.audit }),
    close: () => {
      clearInterval(timer);
      watch.close();
      try {
        rollup.rollUp();
      } catch (err) {
        if (!isEdgeVoxError(err)) throw err;
      }
    },
  };
}
