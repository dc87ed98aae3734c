/**
 * Forecast and staffing in a real browser. Four weeks of calls to two skill groups are told to a KPI
 * engine on the box's own store (offered, answered or abandoned, talk end, wrap-up end, as the ACD
 * tells it) and rolled into the interval history by the box's own roll-up; the page then shows the
 * forecast vs actual chart of a group with today's actual calls as they were seeded, the staffing
 * table with agents at the busy intervals, downloads the CSV, and adds and deletes a special day.
 * Screenshot: forecast (test-output/screenshots), also written to $EDGEVOX_SCREENSHOT_DIR when set.
 */
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { KpiService } from '../../../appliance/acd/kpiService.js';
import { AcdRepo } from '../../../appliance/acd/repo.js';
import type { Appliance } from '../../../appliance/app/app.js';
import { markSetupComplete } from '../../../appliance/console/context.js';
import { IntervalHistoryRepo } from '../../../appliance/forecast/historyRepo.js';
import { HistoryRollup } from '../../../appliance/forecast/historyRollup.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { createUser, quietApplianceOverrides } from '../../helpers/auth.js';
import { expectedIntervals, officeProfile, replayCalls, simulateCalls, type SimCall } from '../../helpers/contactCentreHistory.js';
import { SCREENSHOTS, ensureConsoleBuilt, openBrowser, type Browser } from './browser.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const INTERVAL = 15 * 60_000;
let app: Appliance;
let browser: Browser;
let calls: SimCall[] = [];
/** When the seeded history ends (its last roll-up). */
let seededUntil = 0;

beforeAll(async () => {
  await ensureConsoleBuilt();
  ({ app } = await startTestAppliance(
    quietApplianceOverrides({ sip: { enabled: false }, console: { httpsPort: -1 }, acd: { timeZone: 'UTC' } }),
    {
      transcribers: null,
    },
  ));
  await createUser(app, 'super1', 'supervisor', 'super one password');
  markSetupComplete(app.config.dataDir);
  // The site opens 6 h before now (UTC), so today has a morning of actual calls whatever the hour of the run.
  const now = Date.now();
  const openHour = Math.max(0, new Date(now).getUTCHours() - 6);
  const from = Math.floor(now / DAY) * DAY - 28 * DAY;
  calls = simulateCalls({
    from,
    to: now,
    intervalMs: INTERVAL,
    groups: [
      { id: 'billing', mean: officeProfile(14, openHour), talkS: 240 },
      { id: 'cards', mean: officeProfile(6, openHour), talkS: 150 },
    ],
    seed: 24,
  });
  // A KPI engine on the box's store with its own clock (the box's own one only sees live calls).
  const clock = { now: from };
  const store = app.store;
  const seeder = new KpiService(
    { repo: new AcdRepo(store.db, store.write.bind(store)), bus: app.bus, logger: app.logger, groups: () => [], now: () => clock.now },
    { serviceLevelS: 20, shortAbandonS: 5, intervalMs: INTERVAL },
  );
  const rollup = new HistoryRollup(new IntervalHistoryRepo(store.db, store.write.bind(store)), seeder);
  seededUntil = now;
  replayCalls(seeder.facts, calls, { clock, rollUp: () => rollup.rollUp(), rollUpEveryMs: 6 * HOUR, until: now });
  browser = await openBrowser({ viewport: { width: 1280, height: 1000 } });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** The chart once it has drawn `n` intervals (the page's CSP allows no in-page script strings: locators only). */
const chartOf = (page: Page, n: number) => page.locator(`[data-testid=forecast-chart][data-points="${n}"]`);

async function signIn(page: Page): Promise<void> {
  await page.context().clearCookies();
  await page.goto(app.httpUrl);
  await page.getByTestId('login').waitFor();
  await page.fill('input[name=username]', 'super1');
  await page.fill('input[name=password]', 'super one password');
  await page.getByTestId('login-submit').click();
  await page.getByTestId('who').waitFor();
}

describe('forecast screen', () => {
  it("charts a group's forecast against today's actual calls and staffs it; the CSV downloads", async () => {
    const { page, shot } = browser;
    await signIn(page);
    await page.click('a[href="#/forecast"]');
    await page.getByTestId('forecast-chart').waitFor();
    await page.selectOption('[data-testid=forecast-group]', 'billing');
    await page.selectOption('[data-testid=forecast-days]', '1');
    const chart = page.getByTestId('forecast-chart');
    await chartOf(page, 96).waitFor();

    // today's actual calls on the chart are the seeded ones of today's closed intervals
    const dayStart = Math.floor(Date.now() / DAY) * DAY;
    const expected = expectedIntervals(calls, INTERVAL, seededUntil, 'billing');
    let actualToday = 0;
    for (const [start, e] of expected) if (start >= dayStart && start + INTERVAL <= seededUntil) actualToday += e.offered;
    // the comparison below is not vacuous, except in the first hours of a UTC day (few intervals closed yet)
    const dayUnderway = Date.now() - dayStart > 3 * 3_600_000;
    if (dayUnderway) expect(actualToday).toBeGreaterThan(50);
    expect(Number(await chart.getAttribute('data-actual-total'))).toBe(actualToday);
    const forecastTotal = Number(await chart.getAttribute('data-forecast-total'));
    // a weekday of this profile has about 10 h x 4 x 14 x 0.75 calls; a weekend a third
    expect(forecastTotal).toBeGreaterThan(100);
    if (dayUnderway) expect(await page.locator('[data-testid=forecast-chart] rect.actual-bar').count()).toBeGreaterThan(10);
    expect(await page.getByTestId('forecast-line').getAttribute('d')).toMatch(/^M[\d.]+,[\d.]+L/);
    await expect(page.getByTestId('forecast-basis').textContent()).resolves.toMatch(/\d/);

    // the staffing table: one row per interval of the day, agents where calls are expected
    const rows = page.locator('[data-testid=staffing-table] tbody tr');
    await expect.poll(() => rows.count()).toBe(96);
    const figures = await rows.evaluateAll((trs) =>
      trs.map((tr) => ({ calls: Number(tr.getAttribute('data-calls')), agents: Number(tr.getAttribute('data-agents')) })),
    );
    // (a weekend day has a third of a weekday's calls: the busy half of the day is judged against the day's own peak)
    const peakCalls = Math.max(...figures.map((f) => f.calls));
    const busy = figures.filter((f) => f.calls >= peakCalls / 2);
    expect(peakCalls).toBeGreaterThan(2);
    expect(busy.length).toBeGreaterThan(8);
    for (const f of busy) expect(f.agents).toBeGreaterThanOrEqual(1);
    for (const f of figures.filter((x) => x.calls === 0)) expect(f.agents).toBe(0);
    expect(Math.max(...figures.map((f) => f.agents))).toBeGreaterThanOrEqual(2);
    expect(Math.max(...figures.map((f) => f.agents))).toBeLessThan(40);

    await shot('forecast');
    const dir = process.env['EDGEVOX_SCREENSHOT_DIR'];
    if (dir !== undefined && dir !== '') {
      mkdirSync(dir, { recursive: true });
      copyFileSync(join(SCREENSHOTS, 'forecast.png'), join(dir, 'forecast.png'));
    }

    // the CSV: a row per interval with the plan, the actuals and both models' agents
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('forecast-csv').click()]);
    const csv = readFileSync(await download.path(), 'utf8')
      .trim()
      .split('\r\n');
    expect(csv[0]).toBe(
      'start,end,group,forecastOffered,reforecastOffered,actualOffered,forecastAhtS,actualAhtS,erlangCAgents,erlangCScheduled,erlangCServiceLevel,erlangCAsaS,erlangAAgents,erlangAScheduled,erlangAServiceLevel,erlangAAbandonRate',
    );
    expect(csv).toHaveLength(97);
    const actualInCsv = csv.slice(1).reduce((a, line) => a + Number(line.split(',')[5] || 0), 0);
    expect(actualInCsv).toBe(actualToday);
    expect(download.suggestedFilename()).toMatch(/^edgevox-forecast-billing-\d{4}-\d{2}-\d{2}\.csv$/);
  });

  it('adds a special day that raises the plan of that day, and deletes it', async () => {
    const { page } = browser;
    await page.selectOption('[data-testid=forecast-days]', '7');
    await chartOf(page, 7 * 96).waitFor();
    const before = Number(await page.getByTestId('forecast-chart').getAttribute('data-forecast-total'));
    const tomorrow = new Date(Math.floor(Date.now() / DAY) * DAY + DAY).toISOString().slice(0, 10);
    const card = page.getByTestId('special-days');
    await card.locator('input[name=date]').fill(tomorrow);
    await card.locator('input[name=effect]').fill('50');
    await card.locator('input[name=label]').fill('Spring sale');
    await page.getByTestId('special-day-add').click();
    await page.getByTestId('special-days-table').waitFor();
    await expect(page.getByTestId('special-days-table').textContent()).resolves.toContain('Spring sale');
    await expect
      .poll(async () => Number(await page.getByTestId('forecast-chart').getAttribute('data-forecast-total')))
      .toBeGreaterThan(before);
    await page.locator('[data-testid^=special-day-delete-]').first().click();
    await page.getByTestId('special-days-table').waitFor({ state: 'detached' });
  });
});
