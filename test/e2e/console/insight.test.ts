/**
 * Conversation insight in a real browser: a call's mood card in call detail (voice, words and
 * combined as separate lines, each with its trend, and the words' sentiment tag per utterance), and
 * the wallboard's contact-reasons tile for a supervisor with a rising reason and repeat calls, in
 * English and Chinese. Data are stored directly (no audio). Screenshots: call-mood, wallboard-reasons.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Appliance } from '../../../appliance/app/app.js';
import { markSetupComplete } from '../../../appliance/console/context.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { createUser, quietApplianceOverrides } from '../../helpers/auth.js';
import { ensureConsoleBuilt, openBrowser, type Browser } from './browser.js';

const DAY = 86_400_000;
let app: Appliance;
let browser: Browser;
let moodCall = '';
let n = 0;

function call(at: number, caller: string, utterances: Record<string, unknown>[]): string {
  const id = `e2e-insight-${++n}`;
  app.store.calls.create({ id, source: 'sip', callerHash: caller, startedAt: at });
  utterances.forEach((analysis, i) =>
    app.store.utterances.insert({
      callId: id,
      legId: null,
      speaker: 'caller',
      startMs: i * 4000,
      endMs: i * 4000 + 3000,
      text: `UTTERANCE ${i}`,
      words: [],
      confidence: 1,
      analysis,
      createdAt: at,
    }),
  );
  return id;
}

beforeAll(async () => {
  await ensureConsoleBuilt();
  ({ app } = await startTestAppliance(quietApplianceOverrides({ sip: { enabled: false }, console: { httpsPort: -1 } }), {
    transcribers: null,
  }));
  await createUser(app, 'super1', 'supervisor', 'super one password');
  markSetupComplete(app.config.dataDir);
  const now = Date.now();
  const intent = (name: string) => ({ intent: { intent: name, outOfScope: false } });
  for (let d = 1; d <= 8; d++) call(now - d * DAY - 600_000, `caller-${d}`, [intent('card_lost')]);
  for (let i = 0; i < 9; i++) call(now - (i + 1) * 60_000, i < 2 ? `caller-${i + 2}` : `new-${i}`, [intent('card_lost')]);
  // words turn negative while the voice stays calm
  moodCall = call(
    now - 30_000,
    'mood-caller',
    [0, -0.3, -0.6, -0.9].map((compound, i) => ({
      ...intent('card_lost'),
      emotion: { category: 'neutral', agitation: 0.1 },
      sentiment: { compound, label: i === 0 ? 'neutral' : 'negative' },
    })),
  );
  browser = await openBrowser();
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

async function signIn(page: Page): Promise<void> {
  await page.context().clearCookies();
  await page.goto(app.httpUrl);
  await page.getByTestId('login').waitFor();
  await page.fill('input[name=username]', 'super1');
  await page.fill('input[name=password]', 'super one password');
  await page.getByTestId('login-submit').click();
  await page.getByTestId('who').waitFor();
}

describe('insight in the console', () => {
  it("shows a call's mood: voice steady, words escalating, combined", async () => {
    const { page, shot } = browser;
    await signIn(page);
    await page.goto(`${app.httpUrl}/#/history/${moodCall}`);
    await page.getByTestId('call-mood').waitFor();
    const figure = page.getByTestId('mood-caller');
    await expect(figure.getByTestId('mood-trend-acoustic').textContent()).resolves.toContain('steady');
    await expect(figure.getByTestId('mood-trend-text').textContent()).resolves.toContain('escalating');
    expect(await figure.locator('polyline').count()).toBe(3);
    expect(await page.getByTestId('sentiment-tag').count()).toBe(4);
    await shot('call-mood');
  });

  it('shows the contact-reasons tile with the rising reason and repeat calls, in English and Chinese', async () => {
    const { page, shot } = browser;
    await page.goto(`${app.httpUrl}/#/wallboard`);
    await page.getByTestId('wb-contact-reasons').waitFor();
    await expect(page.getByTestId('wb-rising').textContent()).resolves.toContain('card_lost');
    await expect(page.getByTestId('wb-repeats').textContent()).resolves.toMatch(/within 7 days: 2 of 10/);
    await shot('wallboard-reasons');
    await page.evaluate("localStorage.setItem('edgevox.lang', 'zh-CN')");
    await page.reload();
    await page.getByTestId('wb-contact-reasons').waitFor();
    await expect(page.getByTestId('wb-repeats').textContent()).resolves.toContain('7 天内因同一原因再次来电');
  });
});
