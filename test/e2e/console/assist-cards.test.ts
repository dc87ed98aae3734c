/**
 * Agent-assist cards in the console, in a real browser against a running appliance with the
 * 77-article BANKING77 knowledge base: a caller's final and intent (published on the bus, no audio)
 * bring the "Lost or stolen card" article onto the call in the live view; a supervisor marks it
 * Useful and the stored card holds the verdict; a call already in progress when the page opened
 * shows its earlier cards; call detail lists the stored cards with rank, latency from the final and
 * feedback; a viewer sees the cards and their state but no buttons; in Chinese no English message of
 * the cards catalogue is left on the live view or call detail.
 * Screenshots: live-cards, call-detail-cards, live-cards-zh-CN.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { markSetupComplete } from '../../../appliance/console/context.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { createUser, quietApplianceOverrides } from '../../helpers/auth.js';
import { REPO_ROOT } from '../../helpers/paths.js';
import { ensureConsoleBuilt, openBrowser, type Browser } from './browser.js';

const LOST_CARD = 'article:lost-or-stolen-card';
let app: Appliance;
let browser: Browser;
let utterance = 0;

beforeAll(async () => {
  await ensureConsoleBuilt();
  ({ app } = await startTestAppliance(quietApplianceOverrides({ sip: { enabled: false }, console: { httpsPort: -1 } }), {
    transcribers: null,
  }));
  const dir = join(REPO_ROOT, 'models/assist/banking77-kb');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.md') && n !== 'README.md'))
    await app.knowledge!.upload(readFileSync(join(dir, f)), { format: 'markdown' }, 'test');
  await createUser(app, 'super1', 'supervisor', 'super one password');
  await createUser(app, 'viewer1', 'viewer', 'viewer one password');
  markSetupComplete(app.config.dataDir);
  browser = await openBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** A call in the store whose caller reports a lost card (a final, then its intent). */
function lostCardCall(id: string): void {
  app.store.calls.create({ id, source: 'sip', callerHash: null, startedAt: Date.now() });
  const utteranceId = ++utterance;
  const leg = { at: Date.now(), callId: id, legId: `${id}-leg`, speaker: 'caller', utteranceId };
  app.bus.publish({
    ...leg,
    type: 'asr.final',
    text: 'i lost my card yesterday and i think someone took it',
    words: [],
    startMs: 0,
    endMs: 1000,
    confidence: 0.9,
    latencyMs: 100,
  });
  app.bus.publish({ ...leg, type: 'intent', intent: 'lost_or_stolen_card', confidence: 0.9, outOfScope: false, top: [], latencyMs: 5 });
}

const storedCard = (callId: string, cardId: string) =>
  app.store.db
    .prepare(`SELECT feedback, feedback_by, latency_ms FROM assist_cards WHERE call_id = ? AND card_id = ?`)
    .get(callId, cardId) as { feedback: string | null; feedback_by: string | null; latency_ms: number } | undefined;

async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.context().clearCookies();
  await page.goto(app.httpUrl);
  await page.getByTestId('login').waitFor();
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('who').waitFor();
}

/** The live view, connected to the event stream (events published from here on reach it). */
async function openLive(page: Page): Promise<void> {
  await page.goto(`${app.httpUrl}/#/live`);
  await page.reload();
  await page.locator('[data-testid=live-connection].on').waitFor();
}

const liveCard = (page: Page, callId: string, cardId: string) =>
  page.locator(`[data-testid=live-call][data-call-id="${callId}"] [data-testid=assist-card][data-card-id="${cardId}"]`);

describe('assist cards in the console', () => {
  it('shows the lost-card article on the live call; a supervisor marks it useful and the verdict is stored', async () => {
    const { page, shot } = browser;
    await signIn(page, 'super1', 'super one password');
    await openLive(page);
    lostCardCall('e2e-cards-1');
    const card = liveCard(page, 'e2e-cards-1', LOST_CARD);
    await card.waitFor();
    await expect(card.getByTestId('assist-card-title').textContent()).resolves.toBe('Lost or stolen card');
    await expect(card.getByTestId('assist-card-kind').getAttribute('data-kind')).resolves.toBe('article');
    await expect(card.textContent()).resolves.toContain('lost_or_stolen_card');
    expect((await card.locator('.snippet').textContent())?.trim().length).toBeGreaterThan(0);
    // the lost card is the top card of its push
    await expect(
      page.locator('[data-testid=live-call][data-call-id="e2e-cards-1"] [data-testid=assist-card]').first().getAttribute('data-card-id'),
    ).resolves.toBe(LOST_CARD);
    await expect(card.getByTestId('assist-card-feedback').getAttribute('data-feedback')).resolves.toBe('');

    await card.getByTestId('assist-card-useful').click();
    await card.locator('[data-testid=assist-card-feedback][data-feedback=useful]').waitFor();
    await expect(card.getByTestId('assist-card-feedback').textContent()).resolves.toContain('super1');
    await expect(card.getByTestId('assist-card-useful').isDisabled()).resolves.toBe(true); // the verdict given
    await expect(card.getByTestId('assist-card-not-useful').isDisabled()).resolves.toBe(false);
    expect(storedCard('e2e-cards-1', LOST_CARD)).toMatchObject({ feedback: 'useful', feedback_by: 'super1' });
    await shot('live-cards');
  });

  it('shows the earlier cards of a call already in progress when the page opens', async () => {
    const { page } = browser;
    lostCardCall('e2e-cards-2');
    await expect.poll(() => storedCard('e2e-cards-2', LOST_CARD)).toBeDefined();
    await openLive(page);
    // the page first hears of the call now; its cards were pushed before it opened
    app.bus.publish({ type: 'call.answered', at: Date.now(), callId: 'e2e-cards-2' });
    await liveCard(page, 'e2e-cards-2', LOST_CARD).waitFor();
    await expect(liveCard(page, 'e2e-cards-2', LOST_CARD).getByTestId('assist-card-title').textContent()).resolves.toBe(
      'Lost or stolen card',
    );
  });

  it('lists the stored cards in call detail with rank, latency from the final and feedback', async () => {
    const { page, shot } = browser;
    await page.goto(`${app.httpUrl}/#/history/e2e-cards-1`);
    const row = page.locator(`[data-testid=call-cards] [data-testid=call-card][data-card-id="${LOST_CARD}"]`);
    await row.waitFor();
    const stored = storedCard('e2e-cards-1', LOST_CARD)!;
    await expect(row.getByTestId('call-card-latency').textContent()).resolves.toBe(`${stored.latency_ms} ms`);
    await expect(row.locator('td').first().textContent()).resolves.toBe('1');
    await expect(row.getByTestId('call-card-feedback').getAttribute('data-feedback')).resolves.toBe('useful');
    await expect(row.getByTestId('call-card-feedback').textContent()).resolves.toBe('Useful (marked by super1)');
    await expect(page.locator('[data-testid=call-cards] [data-testid=call-card]').first().getAttribute('data-card-id')).resolves.toBe(
      LOST_CARD,
    );
    await shot('call-detail-cards');
  });

  it('shows a viewer the cards and their state, without buttons', async () => {
    const { page } = browser;
    await signIn(page, 'viewer1', 'viewer one password');
    await openLive(page);
    lostCardCall('e2e-cards-3');
    const card = liveCard(page, 'e2e-cards-3', LOST_CARD);
    await card.waitFor();
    await expect(card.getByTestId('assist-card-feedback').textContent()).resolves.toBe('No feedback yet');
    expect(await page.getByTestId('assist-card-useful').count()).toBe(0);
    expect(await page.getByTestId('assist-card-not-useful').count()).toBe(0);
    // feedback given elsewhere reaches the viewer's page as the assist.feedback event
    app.bus.publish({ type: 'assist.feedback', at: Date.now(), callId: 'e2e-cards-3', cardId: LOST_CARD, useful: false, by: 'agent-7' });
    await card.locator('[data-testid=assist-card-feedback][data-feedback=not_useful]').waitFor();
    await expect(card.getByTestId('assist-card-feedback').textContent()).resolves.toBe('Not useful (marked by agent-7)');
  });

  it('leaves no English message of the cards catalogue on the live view and call detail in Chinese', async () => {
    const { page, shot } = browser;
    // each English message as a pattern for a whole text node, its {{placeholders}} standing for anything
    const english: RegExp[] = [];
    const walk = (v: unknown): void => {
      if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
      else
        english.push(
          new RegExp(
            `^${String(v)
              .replace(/[.*+?^$()[\]\\|]/g, '\\$&')
              .replace(/\{\{\s*\w+\s*\}\}/g, '.+')}$`,
          ),
        );
    };
    walk(JSON.parse(readFileSync(join(REPO_ROOT, 'web/i18n/en/cards.json'), 'utf8')));
    // In-page scripts are strings: the test project's TypeScript has no DOM library.
    const texts = (selector: string): Promise<string[]> =>
      page.evaluate<string[]>(`(() => {
        const out = [];
        for (const root of document.querySelectorAll(${JSON.stringify(selector)})) {
          const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
          for (let n = walker.nextNode(); n !== null; n = walker.nextNode()) if ((n.textContent ?? '').trim()) out.push(n.textContent.trim());
        }
        return out;
      })()`);
    const leftInEnglish = (shown: string[]) => shown.filter((s) => english.some((e) => e.test(s)));

    await signIn(page, 'super1', 'super one password');
    await page.evaluate("localStorage.setItem('edgevox.lang', 'zh-CN')");
    await openLive(page);
    lostCardCall('e2e-cards-4');
    const card = liveCard(page, 'e2e-cards-4', LOST_CARD);
    await card.waitFor();
    await expect(card.getByTestId('assist-card-useful').textContent()).resolves.toBe('有用');
    const live = await texts('[data-testid=assist-cards]');
    expect(live.length).toBeGreaterThan(0);
    expect(leftInEnglish(live)).toEqual([]);
    await shot('live-cards-zh-CN');

    await page.goto(`${app.httpUrl}/#/history/e2e-cards-1`);
    await page.locator('[data-testid=call-cards] [data-testid=call-card]').first().waitFor();
    const detail = await texts('[data-testid=call-cards]');
    expect(detail.join(' ')).toContain('毫秒');
    expect(leftInEnglish(detail)).toEqual([]);
    await page.evaluate("localStorage.setItem('edgevox.lang', 'en')");
  });
});
