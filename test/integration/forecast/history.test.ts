/**
 * Forecasting on the box's own figures: three weeks of calls told to the ACD's KPI engine become the
 * interval history (offered, answered, abandoned, handle time per group and for all groups, 15 and
 * 30 minutes) exactly as they happened; the history outlives the call records under retention; the
 * forecast and staffing come from it; the scale-up alert fires when today's volume runs far from
 * the plan over the last N intervals, once, and not on an ordinary day.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { KpiService } from '../../../appliance/acd/kpiService.js';
import { AcdRepo } from '../../../appliance/acd/repo.js';
import { AlertsRepo } from '../../../appliance/alerts/repo.js';
import { EventBus, type ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { ForecastService } from '../../../appliance/forecast/forecastService.js';
import { ALL_GROUPS, IntervalHistoryRepo } from '../../../appliance/forecast/historyRepo.js';
import { HistoryRollup } from '../../../appliance/forecast/historyRollup.js';
import { ForecastPlanRepo } from '../../../appliance/forecast/planRepo.js';
import { defaultForecastSettings } from '../../../appliance/forecast/settings.js';
import { DEVIATION_ALERT_KIND, VolumeWatch } from '../../../appliance/forecast/volumeWatch.js';
import { createLogger } from '../../../appliance/log/logger.js';
import { RetentionService } from '../../../appliance/retention/retention.js';
import { storeRetentionClasses } from '../../../appliance/retention/storeClasses.js';
import type { SkillGroup } from '../../../appliance/routing/types.js';
import { Store } from '../../../appliance/store/database.js';
import { loadConfig } from '../../../appliance/config/load.js';
import { expectedIntervals, officeProfile, replayCalls, simulateCalls, type SimCall } from '../../helpers/contactCentreHistory.js';
import { scratchDir } from '../../helpers/paths.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const INTERVAL = 15 * 60_000;
/** Wednesday 2027-01-13 12:00 UTC: "now" of every scenario. */
const NOW = Date.UTC(2027, 0, 13, 12);
const TODAY = NOW - 12 * HOUR;
const FROM = TODAY - 21 * DAY;
const logger = createLogger({ level: 'silent', includePii: false });
const group = (id: string): SkillGroup => ({ id, name: id, intents: [], adjacent: [], overflow: { maxWaitMs: 60_000, action: 'none' } });
const GROUPS = [
  { id: 'billing', mean: officeProfile(12), talkS: 240 },
  { id: 'cards', mean: officeProfile(6), talkS: 150 },
];

const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

/** A store with three weeks of calls up to NOW (today's volume × `todayFactor`), rolled up as the box does. */
function scenario(todayFactor = 1) {
  const store = Store.open(scratchDir('forecast'));
  stores.push(store);
  const bus = new EventBus();
  const events: ApplianceEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const clock = { now: FROM };
  const kpis = new KpiService(
    {
      repo: new AcdRepo(store.db, store.write.bind(store)),
      bus,
      logger,
      groups: () => GROUPS.map((g) => group(g.id)),
      now: () => clock.now,
    },
    { serviceLevelS: 20, shortAbandonS: 5, intervalMs: INTERVAL },
  );
  const writer = store.write.bind(store);
  const history = new IntervalHistoryRepo(store.db, writer);
  const rollup = new HistoryRollup(history, kpis);
  const calls: SimCall[] = [
    ...simulateCalls({ from: FROM, to: TODAY, intervalMs: INTERVAL, groups: GROUPS, seed: 7 }),
    ...simulateCalls({
      from: TODAY,
      to: NOW,
      intervalMs: INTERVAL,
      groups: GROUPS.map((g) => ({ ...g, mean: (t: number) => g.mean(t) * todayFactor })),
      seed: 8,
    }),
  ];
  replayCalls(kpis.facts, calls, { clock, rollUp: () => rollup.rollUp(), rollUpEveryMs: 6 * HOUR, until: NOW });
  const plan = new ForecastPlanRepo(store.db, writer);
  const forecast = new ForecastService({
    history,
    plan,
    defaults: defaultForecastSettings({ serviceLevelTarget: 0.8, serviceLevelS: 20 }),
    timeZone: 'UTC',
    intervalMs: INTERVAL,
    groups: () => GROUPS.map((g) => g.id),
    now: () => clock.now,
  });
  const alerts = new AlertsRepo(store.db, writer);
  const watch = new VolumeWatch({ forecast, alerts, bus, logger, checkMs: 0 });
  // 40 % over the last hour: an ordinary day's Poisson noise stays inside (about 45 calls an hour at noon)
  const settings = forecast.settings();
  forecast.saveSettings({ ...settings, alert: { ...settings.alert, deviationPct: 40, intervals: 4, minForecastCalls: 10 } }, 'super1');
  return { store, history, rollup, calls, forecast, plan, alerts, watch, events, clock };
}

describe('interval history', () => {
  it('holds what happened in every closed interval, per group and for all groups, at 15 and 30 minutes', () => {
    const s = scenario();
    for (const groupId of ['billing', 'cards', undefined]) {
      const expected = expectedIntervals(s.calls, INTERVAL, NOW, groupId);
      const rows = s.history.range(groupId ?? ALL_GROUPS, INTERVAL, FROM, NOW);
      // every interval from the first call on has a row (quiet ones with zeros)
      expect(rows.length).toBeGreaterThan(21 * 90);
      let abandoned = 0;
      for (const r of rows) {
        const e = expected.get(r.start) ?? { offered: 0, answered: 0, abandoned: 0, handled: 0, handleMs: 0 };
        expect({
          start: r.start,
          offered: r.offered,
          answered: r.answered,
          abandoned: r.abandoned,
          handled: r.handled,
          handleMs: r.handleMs,
        }).toEqual({
          start: r.start,
          ...e,
        });
        abandoned += r.abandoned;
      }
      expect(abandoned).toBeGreaterThan(100);
      expect(rows.reduce((a, r) => a + r.offered, 0)).toBe([...expected.values()].reduce((a, e) => a + e.offered, 0));
    }
    // 30-minute intervals are the sums of their two halves; AHT is handle time over handled calls
    const fine = s.forecast.history('billing', INTERVAL, TODAY - DAY, TODAY);
    const coarse = s.forecast.history('billing', 2 * INTERVAL, TODAY - DAY, TODAY);
    expect(coarse).toHaveLength(48);
    const peak = coarse.find((p) => p.start === TODAY - DAY + 11 * HOUR)!;
    const halves = fine.filter((p) => p.start === peak.start || p.start === peak.start + INTERVAL);
    expect(peak.offered).toBe(halves[0]!.offered + halves[1]!.offered);
    const e = expectedIntervals(s.calls, 2 * INTERVAL, NOW, 'billing').get(peak.start)!;
    expect(peak.averageHandleS).toBeCloseTo(e.handleMs / e.handled / 1000, 1);
    expect(peak.averageHandleS).toBeGreaterThan(200);
  });

  it('rolls up nothing twice and keeps the counts when call records are purged; its own limit deletes it', () => {
    const s = scenario();
    expect(s.rollup.rollUp()).toBe(0);
    // the empty day before the roll-up started is unknown, not quiet: no rows
    expect(s.history.oldestStart()).toBeGreaterThanOrEqual(FROM);
    // call records of the same days, ended long ago as far as retention is concerned
    for (const c of s.calls.slice(0, 50)) {
      s.store.calls.create({ id: c.id, source: 'sip', callerHash: 'h', startedAt: c.offeredAt });
      s.store.calls.end(c.id, c.offeredAt + 60_000, 'hangup');
    }
    const config = loadConfig({
      env: {},
      flags: { 'privacy.retention.callsHours': '24', 'privacy.retention.intervalHistoryHours': String(60 * 24) },
    });
    const rowsBefore = s.history.all(INTERVAL, 0, NOW + 1).length;
    const retention = new RetentionService({
      classes: storeRetentionClasses(s.store, config.privacy.retention),
      intervalMs: HOUR,
      logger,
      now: () => NOW + 2 * DAY,
    });
    const purged = retention.sweep();
    expect(purged['calls']).toBe(50);
    expect(purged['intervalHistory']).toBe(0);
    expect(s.history.all(INTERVAL, 0, NOW + 1)).toHaveLength(rowsBefore);
    // no personal data: the table has counts, times and group ids only
    const columns = (s.store.db.prepare(`PRAGMA table_info(interval_history)`).all() as { name: string }[]).map((c) => c.name);
    expect(columns.sort()).toEqual([
      'abandoned',
      'answered',
      'group_id',
      'handle_ms',
      'handled',
      'interval_ms',
      'interval_start',
      'offered',
      'updated_at',
    ]);
    const later = new RetentionService({
      classes: storeRetentionClasses(s.store, config.privacy.retention),
      intervalMs: HOUR,
      logger,
      now: () => NOW + 61 * DAY,
    });
    expect(later.sweep()['intervalHistory']).toBe(rowsBefore);
  });
});

describe('forecast and staffing from the history', () => {
  it("forecasts each group's weekday profile and staffs it: more agents at the peak, none at night", () => {
    const s = scenario();
    const f = s.forecast.forecast('billing', 7, INTERVAL);
    expect(f.points).toHaveLength(7 * 96);
    expect(f.historyIntervals).toBeGreaterThan(20 * 96);
    // tomorrow (Thursday) 11:00 against the generator's mean
    const peak = f.points.find((p) => p.start === TODAY + DAY + 11 * HOUR)!;
    expect(peak.forecast).toBeGreaterThan(12 * 0.75);
    expect(peak.forecast).toBeLessThan(12 * 1.25);
    expect(peak.forecastAhtS).toBeGreaterThan(240 * 0.8 + 20);
    expect(peak.forecastAhtS).toBeLessThan(240 * 1.2 + 40);
    const night = f.points.find((p) => p.start === TODAY + DAY + 3 * HOUR)!;
    expect(night.forecast).toBeLessThan(0.5);
    // today's closed intervals carry their actuals, the rest of today a re-forecast
    expect(f.points.find((p) => p.start === TODAY + 10 * HOUR)!.actual).not.toBeNull();
    expect(f.points.find((p) => p.start === TODAY + 13 * HOUR)!.reforecast).not.toBeNull();
    expect(f.points.find((p) => p.start === TODAY + DAY + 13 * HOUR)!.reforecast).toBeNull();

    const staffing = s.forecast.staffing('billing', 2, 2 * INTERVAL);
    expect(staffing.points).toHaveLength(96);
    const at = (t: number) => staffing.points.find((p) => p.start === t)!;
    const peakStaff = at(TODAY + DAY + 11 * HOUR);
    expect(peakStaff.erlangC!.agents).toBeGreaterThan(peakStaff.calls * (peakStaff.ahtS! / 1800));
    expect(peakStaff.erlangC!.serviceLevel).toBeGreaterThanOrEqual(0.8);
    expect(peakStaff.erlangC!.scheduled).toBe(Math.ceil(peakStaff.erlangC!.agents / 0.7));
    expect(peakStaff.erlangA!.agents).toBeLessThanOrEqual(peakStaff.erlangC!.agents);
    expect(at(TODAY + DAY + 3 * HOUR).erlangC!.agents).toBeLessThanOrEqual(1);
    expect(staffing.peak.erlangC).toBeGreaterThanOrEqual(peakStaff.erlangC!.scheduled);
  });

  it('applies a special day to the plan', () => {
    const s = scenario();
    const before = s.forecast.forecast('cards', 3, INTERVAL);
    s.plan.addSpecialDay({ date: '2027-01-14', groupId: '', factor: 1.5, label: 'Sale' }, 'super1', NOW);
    s.forecast.specialDaysChanged();
    const after = s.forecast.forecast('cards', 3, INTERVAL);
    const sum = (r: typeof before, day: number) =>
      r.points.filter((p) => p.start >= TODAY + day * DAY && p.start < TODAY + (day + 1) * DAY).reduce((a, p) => a + p.forecast, 0);
    expect(sum(after, 1) / sum(before, 1)).toBeCloseTo(1.5, 1);
    expect(sum(after, 2)).toBeCloseTo(sum(before, 2), 0);
  });
});

describe('scale-up alert', () => {
  it('fires once per group when today runs more than X % (40) above the plan over the last N intervals', () => {
    const s = scenario(2);
    const raised = s.watch.check();
    expect(raised.map((r) => r.groupId).sort()).toEqual(['billing', 'cards']);
    const billing = raised.find((r) => r.groupId === 'billing')!;
    expect(billing.direction).toBe('above');
    expect(billing.deviationPct).toBeGreaterThan(40);
    expect(billing.intervals).toBe(4);
    expect(billing.to).toBe(NOW);
    const stored = s.alerts.list({ limit: 10, kind: DEVIATION_ALERT_KIND });
    expect(stored).toHaveLength(2);
    expect(Object.keys(stored[0]!.details).sort()).toEqual(
      ['actual', 'deviationPct', 'direction', 'forecast', 'from', 'groupId', 'intervals', 'thresholdPct', 'to'].sort(),
    );
    expect(s.events.filter((e) => e.type === 'alert')).toHaveLength(2);
    // still above at the next check: not repeated
    s.clock.now = NOW + INTERVAL;
    expect(s.watch.check()).toEqual([]);
    expect(s.alerts.list({ limit: 10, kind: DEVIATION_ALERT_KIND })).toHaveLength(2);
  });

  it('stays quiet on an ordinary day, and when the alert is switched off', () => {
    const s = scenario(1);
    expect(s.watch.check()).toEqual([]);
    const d = s.forecast.deviation('billing', 4)!;
    expect(Math.abs(d.deviationPct!)).toBeLessThan(40);
    const surge = scenario(2);
    const settings = surge.forecast.settings();
    surge.forecast.saveSettings({ ...settings, alert: { ...settings.alert, enabled: false } }, 'super1');
    expect(surge.watch.check()).toEqual([]);
    // a wider threshold than the surge: quiet too
    surge.forecast.saveSettings({ ...settings, alert: { ...settings.alert, deviationPct: 500 } }, 'super1');
    expect(surge.watch.check()).toEqual([]);
    expect(surge.alerts.list({ limit: 10, kind: DEVIATION_ALERT_KIND })).toEqual([]);
  });
});
