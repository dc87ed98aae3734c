/**
 * The alerts page in a real browser against a running box: an angry caller on a real call raises a
 * critical alert through the detector path (the emotion event the analyser publishes); the page shows
 * it live, sounds the tone (after a first click, as browsers require), and a supervisor acknowledges
 * it with a note; the API then shows it acknowledged by that user with the audit entry. The mute
 * choice survives a reload; the live page shows the compact count with a link here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Appliance } from '../../../appliance/app/app.js';
import { markSetupComplete } from '../../../appliance/console/context.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authedFetch, createUser, quietApplianceOverrides } from '../../helpers/auth.js';
import { angryCaller as angryCallerOn } from '../../helpers/alerts.js';
import { ensureConsoleBuilt, openBrowser, type Browser } from './browser.js';

let app: Appliance;
let browser: Browser;

beforeAll(async () => {
  await ensureConsoleBuilt();
  ({ app } = await startTestAppliance(quietApplianceOverrides({ sip: { enabled: false }, console: { httpsPort: -1 } }), {
    transcribers: null,
  }));
  await createUser(app, 'super1', 'supervisor', 'super one password');
  markSetupComplete(app.config.dataDir);
  browser = await openBrowser();
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

async function signIn(page: Page): Promise<void> {
  await page.goto(app.httpUrl);
  await page.getByTestId('login').waitFor();
  await page.fill('input[name=username]', 'super1');
  await page.fill('input[name=password]', 'super one password');
  await page.getByTestId('login-submit').click();
  await page.getByTestId('live').waitFor();
}

const angryCaller = (): string => angryCallerOn(app);

describe('alerts page', () => {
  it('shows a live critical alert with a tone, and a supervisor acknowledges it with a note', async () => {
    const { page, shot } = browser;
    await signIn(page);
    await expect(page.getByTestId('alerts-open-count').textContent()).resolves.toBe('0 open');
    await page.getByTestId('alerts-link').click();
    await page
      .getByTestId('alerts-connection')
      .filter({ hasText: /^live$/ })
      .waitFor();
    // Browsers allow sound after a user gesture: until then the page says so.
    await page.getByTestId('alerts-sound-hint').waitFor();
    await page.getByRole('heading', { name: 'Alerts', exact: true }).click();
    await page.getByTestId('alerts-sound-hint').waitFor({ state: 'detached' });

    const callId = angryCaller();
    const row = page.locator(`[data-testid=alert-row][data-state=open]`);
    await row.waitFor();
    await page.locator('[data-testid=alerts-page][data-chimes="1"]').waitFor();
    const alertId = Number(await row.getAttribute('data-alert-id'));
    await expect(row.textContent()).resolves.toContain('Angry caller');
    await expect(row.textContent()).resolves.toContain('Critical');
    await shot('alerts-open');

    await row.getByTestId('alert-note').fill('calling the customer back');
    await row.getByTestId('alert-ack').click();
    await page.locator(`[data-testid=alert-row][data-alert-id="${alertId}"][data-state=acknowledged]`).waitFor();
    const acked = page.locator(`[data-testid=alert-row][data-alert-id="${alertId}"]`);
    await acked.getByTestId('alert-history').locator('summary').click();
    await acked.getByTestId('alert-history').getByText('super1: acknowledged — “calling the customer back”').waitFor();
    await shot('alerts-acknowledged');

    const res = await authedFetch(app, 'viewer')(`/api/v1/alerts/${alertId}`);
    const alert = (await res.json()) as {
      callId: string;
      state: string;
      acknowledgedBy: string;
      history: { action: string; actor: string; details: unknown }[];
    };
    expect(alert).toMatchObject({ callId, state: 'acknowledged', acknowledgedBy: 'super1' });
    expect(alert.history).toEqual([
      expect.objectContaining({
        action: 'alert.acknowledge',
        actor: 'super1',
        details: { from: 'open', to: 'acknowledged', note: 'calling the customer back' },
      }),
    ]);
  });

  it('remembers mute across a reload and stays silent when muted', async () => {
    const { page } = browser;
    await page.getByTestId('alerts-mute').click();
    await page.reload();
    await page
      .getByTestId('alerts-connection')
      .filter({ hasText: /^live$/ })
      .waitFor();
    await expect(page.getByTestId('alerts-mute').getAttribute('aria-pressed')).resolves.toBe('true');
    await page.getByRole('heading', { name: 'Alerts', exact: true }).click();
    angryCaller();
    // the tone decision is made when the event arrives, before the list reloads: once the row shows, it was made
    await page.locator('[data-testid=alert-row][data-state=open]').waitFor();
    await expect(page.getByTestId('alerts-page').getAttribute('data-chimes')).resolves.toBe('0');
    await page.getByTestId('alerts-mute').click();
    await expect(page.getByTestId('alerts-mute').getAttribute('aria-pressed')).resolves.toBe('false');

    await page.goto(`${app.httpUrl}/#/live`);
    await expect(page.getByTestId('alerts-open-count').textContent()).resolves.toBe('1 open');
  });

  it('renders in Chinese', async () => {
    const zh = await openBrowser({ locale: 'zh-CN' });
    try {
      await signIn(zh.page);
      await zh.page.goto(`${app.httpUrl}/#/alerts`);
      await zh.page.locator('[data-testid=alert-row]').first().waitFor();
      await expect(zh.page.getByTestId('alerts-page').textContent()).resolves.toContain('来电者愤怒');
      await zh.shot('alerts-zh-CN');
    } finally {
      await zh.close();
    }
  });
});
