/**
 * The wallboard and reports pages in a real browser against a box in ACD mode. The ACD's own fact
 * sink is fed directly (two calls offered to `general`: one answered by alice, one abandoned) —
 * not sipp calls — and the tiles are checked against GET /api/v1/acd/kpis read in the same test,
 * after the page received the `acd.kpis` event; the TV mode rotates from overall to a group.
 * The report's CSV is the box's (GET /api/v1/acd/kpis/intervals.csv); a kiosk account signs in and
 * gets the TV mode without a header, its figures loaded.
 * Screenshots: wallboard-en, wallboard-tv, wallboard-zh-CN, report, wallboard-kiosk.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markSetupComplete } from '../../../appliance/console/context.js';
import { createUser } from '../../helpers/auth.js';
import { agentConfig, kpis, putRouting, sampleGroups, startAcdRig, type AcdRig } from '../acd/harness.js';
import { ensureConsoleBuilt, openBrowser, type Browser } from './browser.js';

let rig: AcdRig;
let browser: Browser;

beforeAll(async () => {
  await ensureConsoleBuilt();
  rig = await startAcdRig({ console: { httpsPort: -1 } });
  await createUser(rig.app, 'super1', 'supervisor', 'super one password');
  await createUser(rig.app, 'tv1', 'kiosk', 'wall tv password');
  markSetupComplete(rig.app.config.dataDir);
  await putRouting(rig.app, sampleGroups(), [agentConfig('alice', 'general')]);
  browser = await openBrowser();
});
afterAll(async () => {
  await browser?.close();
  await rig?.close();
});

const pct = (locale: string, r: number | null) => (r === null ? '—' : new Intl.NumberFormat(locale, { style: 'percent' }).format(r));

describe('wallboard', () => {
  it('shows the ACD figures per group, updated by its events, in English and Chinese', async () => {
    const { page, shot } = browser;
    const base = rig.app.httpUrl;
    await page.goto(base);
    await page.getByTestId('login').waitFor();
    await page.fill('input[name=username]', 'super1');
    await page.fill('input[name=password]', 'super one password');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('who').waitFor();
    await page.goto(`${base}/#/wallboard`);
    await page.getByTestId('wb-overall-waiting').waitFor();

    // the tiles show the current interval: start clear of its end (the facts below span 9 s, the CSV check comes some 20 s later)
    const intervalMs = rig.app.acd!.kpis.intervalMs;
    const left = intervalMs - (Date.now() % intervalMs);
    if (left < 60_000) await new Promise((r) => setTimeout(r, left + 1000));
    const facts = rig.app.acd!.kpis.facts;
    const t0 = Date.now();
    facts.agentState('alice', 'available', t0);
    facts.offered('wb-1', 'general', t0);
    const offeredAt = performance.now();
    facts.offered('wb-2', 'general', t0);
    // two waiting: the page follows the event
    await page
      .getByTestId('wb-general-waiting')
      .filter({ hasText: /^[^\d]*2[^\d]*$/ })
      .waitFor({ timeout: 10_000 });
    // a figure, not a check: from the ACD's fact to the tile drawn (event, SSE, render, Playwright's poll)
    console.log(`wallboard: fact → tile on screen ${(performance.now() - offeredAt).toFixed(0)} ms`);
    facts.answered('wb-1', 'alice', t0 + 4000);
    facts.abandoned('wb-2', t0 + 9000);
    await page.getByTestId('wb-general-abandoned').filter({ hasText: '50%' }).waitFor({ timeout: 10_000 });

    const k = await kpis(rig.app);
    const g = k.groups['general']!;
    expect(g.waiting).toBe(0);
    expect(g.currentInterval.answered).toBe(1);
    expect(g.currentInterval.abandoned).toBe(1);
    const text = (id: string) => page.getByTestId(id).locator('.wb-value').textContent();
    await expect(text('wb-general-waiting')).resolves.toBe(String(g.waiting));
    await expect(text('wb-general-sl')).resolves.toBe(pct('en', g.currentInterval.serviceLevel as number | null));
    await expect(text('wb-general-abandoned')).resolves.toBe(
      pct('en', g.currentInterval.abandoned / (g.currentInterval.answered + g.currentInterval.abandoned)),
    );
    await expect(page.getByTestId('wb-general-agents-on-call').textContent()).resolves.toBe(String(g.agents['on-call']));
    await expect(page.getByTestId('wb-overall-waiting').locator('.wb-value').textContent()).resolves.toBe(String(k.overall.waiting));
    // 50% abandoned is beyond the default red limit (10%)
    await expect(page.getByTestId('wb-general-abandoned').getAttribute('data-level')).resolves.toBe('red');
    await shot('wallboard-en');

    // TV mode: no header, overall first, then the groups in turn (rotation every 5 s here)
    await page.goto(`${base}/#/wallboard?tv=1&rotate=5`);
    await page.getByTestId('wallboard-tv').waitFor();
    await expect(page.locator('header').count()).resolves.toBe(0);
    await page.getByTestId('wb-tv-view').filter({ hasText: 'All skill groups' }).waitFor();
    await expect(page.getByTestId('wb-overall-abandoned').locator('.wb-value').textContent()).resolves.toBe(
      pct('en', k.overall.currentInterval.abandoned / (k.overall.currentInterval.answered + k.overall.currentInterval.abandoned)),
    );
    await page
      .getByTestId('wb-tv-view')
      .filter({ hasText: /^Skill group / })
      .waitFor({ timeout: 20_000 });
    await shot('wallboard-tv');
    await page.goto(`${base}/#/wallboard`);

    await page.evaluate("localStorage.setItem('edgevox.lang', 'zh-CN')");
    await page.reload();
    await page.getByTestId('wb-general-abandoned').waitFor();
    await expect(page.locator('.wallboard h1').textContent()).resolves.toBe('监控大屏');
    await shot('wallboard-zh-CN');

    await page.goto(`${base}/#/reports`);
    await page.getByTestId('report-table').waitFor();
    await shot('report');
    // the CSV comes from the box: its header, and the general group's row of this interval
    const download = page.waitForEvent('download');
    await page.getByTestId('report-csv').click();
    const csv = readFileSync(await (await download).path(), 'utf8');
    const rows = csv.split('\r\n').map((r) => r.split(','));
    expect(rows[0]!.slice(0, 6)).toEqual(['start', 'end', 'group', 'offered', 'answered', 'answeredWithinThreshold']);
    const general = rows.filter((r) => r[2] === 'general').at(-1)!;
    expect(general.slice(3, 5)).toEqual([String(g.currentInterval.offered), String(g.currentInterval.answered)]);
    await page.evaluate("localStorage.setItem('edgevox.lang', 'en')");
    await page.reload();
    await page.getByTestId('report').waitFor();

    // a kiosk sign-in (a wall TV) lands on the TV mode, whose figures it may read, and nothing else
    await page.getByTestId('logout').click();
    await page.getByTestId('login').waitFor();
    await page.fill('input[name=username]', 'tv1');
    await page.fill('input[name=password]', 'wall tv password');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('wallboard-tv').waitFor();
    await page.getByTestId('wb-tv-view').filter({ hasText: 'All skill groups' }).waitFor();
    await expect(page.locator('header').count()).resolves.toBe(0);
    await expect(page.locator('.notice.error').count()).resolves.toBe(0);
    await expect(page.getByTestId('wb-overall-waiting').locator('.wb-value').textContent()).resolves.toBe(String(k.overall.waiting));
    await shot('wallboard-kiosk');
  }, 90_000);
});
