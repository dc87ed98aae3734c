/**
 * Call languages in the console, in a real browser against a running box: the call history lists
 * each call's language and its language filter narrows the list to Mandarin calls (the server's
 * ?language=); the call detail shows the language and the pinyin of a Mandarin utterance; the live
 * board tags each call with its language, and its filter shows an `auto` call once it has decided;
 * its charts count calls by language. A technician sets the languages of a trunk, a dialled number,
 * the site and a queue in the settings and on the Agents screen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Appliance } from '../../../appliance/app/app.js';
import type { TranscriberFactory } from '../../../appliance/calls/transcriber.js';
import { markSetupComplete } from '../../../appliance/console/context.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authedFetch, createUser, quietApplianceOverrides } from '../../helpers/auth.js';
import { ensureConsoleBuilt, openBrowser, type Browser } from './browser.js';

const ZH = { text: '我想查询一下我的账单', pinyin: 'wǒ xiǎng chá xún yí xià wǒ de zhàng dān' };
/** One final per leg when it closes, in the leg's language. */
const scripted: TranscriberFactory = (opts, cb) => ({
  write: () => {},
  lagMs: () => 0,
  stats: () => ({ droppedFrames: 0, decodedMs: 0, skippedMs: 0, chunkLatencyP95Ms: 0 }),
  close: async () => {
    const base = { words: [], startMs: 0, endMs: 1200, confidence: 0.9, latencyMs: 40 };
    if (opts.language === 'zh') cb.final({ ...base, ...ZH, language: 'zh' });
    else cb.final({ ...base, text: 'I WANT TO CHECK MY BILL' });
  },
});

let app: Appliance;
let browser: Browser;
const zhCalls: string[] = [];
const enCalls: string[] = [];

beforeAll(async () => {
  await ensureConsoleBuilt();
  ({ app } = await startTestAppliance(quietApplianceOverrides({ sip: { enabled: false }, console: { httpsPort: -1 } }), {
    transcribers: scripted,
  }));
  await createUser(app, 'viewer1', 'viewer', 'viewer one password');
  await createUser(app, 'tech1', 'technician', 'tech one password');
  const group = (id: string) => ({ id, name: id, intents: [], adjacent: [], overflow: { maxWaitMs: 60_000, action: 'none' } });
  const put = await authedFetch(app)('/api/v1/routing/config', {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ groups: [group('general'), group('mandarin')], agents: [], rules: { defaultGroup: 'general' } }),
  });
  expect(put.status, await put.clone().text()).toBe(200);
  markSetupComplete(app.config.dataDir);
  for (const [choice, into] of [
    ['zh', zhCalls],
    ['en', enCalls],
    ['zh', zhCalls],
    ['en', enCalls],
  ] as const) {
    const call = app.calls.startCall({ source: 'sip', language: { choice, from: 'did' } });
    call.addLeg({ label: 'caller', codec: 'PCMU', sampleRateHz: 8000 });
    await call.end('bye');
    into.push(call.id);
  }
  browser = await openBrowser();
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

async function signIn(page: Page, user = 'viewer1', password = 'viewer one password'): Promise<void> {
  await page.context().clearCookies();
  await page.goto(app.httpUrl);
  await page.getByTestId('login').waitFor();
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('live').waitFor();
}

/** The data-language of every row of the history table. */
const rowLanguages = (page: Page): Promise<string[]> => attributes(page, '[data-testid=history-row-language]', 'data-language');

/** One attribute of every element `selector` matches, in page order ('' where absent). */
async function attributes(page: Page, selector: string, name: string): Promise<string[]> {
  const all = await page.locator(selector).all();
  return Promise.all(all.map(async (el) => (await el.getAttribute(name)) ?? ''));
}

describe('call languages in the console', () => {
  it('filters the call history to Mandarin calls and shows a call’s language and pinyin', async () => {
    const { page, shot } = browser;
    await signIn(page);
    await page.click('a[href="#/history"]');
    await page.getByTestId('history-table').waitFor();
    await expect.poll(() => rowLanguages(page)).toHaveLength(4);
    expect((await rowLanguages(page)).sort()).toEqual(['en', 'en', 'zh', 'zh']);
    await expect(page.getByTestId('history-row-language').first().textContent()).resolves.toMatch(/^(English|Mandarin)$/);

    await page.getByTestId('history-language').selectOption('zh');
    await expect.poll(() => rowLanguages(page)).toEqual(['zh', 'zh']);
    const shown = await attributes(page, '[data-testid=history-row] a', 'href');
    expect(shown.sort()).toEqual(zhCalls.map((id) => `#/history/${id}`).sort());
    await shot('history-language-zh');

    await page.getByTestId('history-language').selectOption('en');
    await expect.poll(() => rowLanguages(page)).toEqual(['en', 'en']);
    await page.getByTestId('history-language').selectOption('');
    await expect.poll(() => rowLanguages(page)).toHaveLength(4);

    await page.goto(`${app.httpUrl}/#/history/${zhCalls[0]}`);
    await page.getByTestId('call-detail').waitFor();
    await expect(page.getByTestId('call-language').textContent()).resolves.toContain('Mandarin');
    await expect(page.getByTestId('call-transcript').textContent()).resolves.toContain(ZH.pinyin);
    await shot('call-detail-mandarin');
  });

  it('tags live calls with their language and filters them, an auto call once it decided', async () => {
    const { page } = browser;
    await page.goto(`${app.httpUrl}/#/live`);
    await page.getByTestId('live').waitFor();
    await expect(page.getByTestId('chart-languages').textContent()).resolves.toContain('Mandarin');
    const auto = app.calls.startCall({ source: 'sip', language: { choice: 'auto', from: 'trunk' } });
    const english = app.calls.startCall({ source: 'sip', language: { choice: 'en', from: 'site' } });
    const card = (id: string) => page.locator(`[data-testid=live-call][data-call-id="${id}"]`);
    await card(auto.id).waitFor();
    await expect(card(auto.id).getByTestId('live-call-language').textContent()).resolves.toContain('not decided');
    await expect(card(english.id).getByTestId('live-call-language').textContent()).resolves.toContain('English');

    await page.getByTestId('live-language').selectOption('zh');
    await card(english.id).waitFor({ state: 'detached' });
    await card(auto.id).waitFor({ state: 'detached' });
    auto.languageDecided({ language: 'zh', confidence: 0.92, decidedAtMs: 2400 });
    await card(auto.id).waitFor();
    await expect(card(auto.id).getByTestId('live-call-language').textContent()).resolves.toContain('Mandarin');
    await page.getByTestId('live-language').selectOption('');
    await card(english.id).waitFor();
    await auto.end('bye');
    await english.end('bye');
  });

  it('sets the languages of a trunk, a dialled number, the site and a queue in the settings', async () => {
    const { page, shot } = browser;
    const json = async <T>(path: string): Promise<T> => (await (await authedFetch(app)(path)).json()) as T;
    const groups = async () => (await json<{ groups: { id: string; language?: string }[] }>('/api/v1/routing/groups')).groups;
    await signIn(page, 'tech1', 'tech one password');
    await page.goto(`${app.httpUrl}/#/settings/trunks`);
    await page.getByTestId('settings-page-trunks').waitFor({ timeout: 60_000 });
    await page.getByTestId('add-sip.trunks').click();
    const trunk = page.getByTestId('row-sip.trunks-0');
    await trunk.getByLabel('Trunk name').fill('cn-carrier');
    await trunk.getByLabel('Host', { exact: true }).fill('192.0.2.10');
    await trunk.getByLabel('Speech language').selectOption('zh');
    await page.getByTestId('add-sip.dids').click();
    await page.getByTestId('add-sip.dids').click();
    const first = page.getByTestId('row-sip.dids-0');
    await first.getByLabel('Number').fill('+862150000001');
    await first.getByLabel('Speech language').selectOption('auto');
    await first.getByLabel('Queue (skill group)').fill('mandarin');
    // the second number keeps the trunk's language: its language is left unset
    await page.getByTestId('row-sip.dids-1').getByLabel('Number').fill('+862150000002');
    await page.getByLabel('Default speech language').selectOption('en');
    await page.getByTestId('settings-save').click();
    await page.getByTestId('settings-result').filter({ hasText: 'Saved as version' }).waitFor();
    await shot('settings-languages');
    const cfg = await json<{ config: { sip: { trunks: unknown[]; dids: unknown[] }; asr: { language: string } } }>('/api/v1/config');
    expect(cfg.config.sip.trunks[0]).toMatchObject({ name: 'cn-carrier', language: 'zh' });
    expect(cfg.config.sip.dids).toEqual([{ number: '+862150000001', language: 'auto', queue: 'mandarin' }, { number: '+862150000002' }]);
    expect(cfg.config.asr.language).toBe('en');

    await page.goto(`${app.httpUrl}/#/agents`);
    const select = page.locator('select[name="group-language-mandarin"]');
    await select.selectOption('zh');
    await page.getByTestId('agents-save').click();
    await expect.poll(async () => (await groups()).find((g) => g.id === 'mandarin')?.language).toBe('zh');
    expect((await groups()).find((g) => g.id === 'general')?.language).toBeUndefined();
  });
});
