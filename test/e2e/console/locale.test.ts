/**
 * The console, the softphone and the "call us" page in a Chinese browser, and the console on a phone.
 *
 * A browser whose locale is zh-CN signs in and opens live, history, agents, callbacks and diagnostics,
 * then the softphone and the "call us" page: each has <html lang="zh-CN">, no visible text (nor
 * placeholder or aria-label) equal to a message of the English catalogue (messages that read the same
 * in both catalogues aside), and a CJK font: document.fonts.check for Noto Sans CJK SC, and the fonts
 * Chromium actually drew the page's heading with (DevTools CSS.getPlatformFontsForNode). The language
 * switch changes the language and the choice survives a reload.
 *
 * At 360 and 390 px wide the header's controls (Menu, Sign out, the language switch, and the screens
 * once the menu is opened from the keyboard) lie inside the viewport, the pages do not scroll
 * sideways, and every input, select and textarea of these screens has an accessible name.
 * Screenshots: live-zh-CN, agents-zh-CN, softphone-zh-CN, callus-zh-CN, header-360, header-360-menu.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { markSetupComplete } from '../../../appliance/console/context.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { createUser, quietApplianceOverrides } from '../../helpers/auth.js';
import { REPO_ROOT } from '../../helpers/paths.js';
import { agentConfig, putRouting, sampleGroups } from '../acd/harness.js';
import { buildPages } from '../webrtc/browser.js';
import { ensureConsoleBuilt, openBrowser, type Browser } from './browser.js';

/** Every message of one language's catalogues, flattened. */
function messages(lang: string): Map<string, string> {
  const dir = path.join(REPO_ROOT, 'web', 'i18n', lang);
  const out = new Map<string, string>();
  const walk = (prefix: string, v: unknown) => {
    if (v !== null && typeof v === 'object') for (const [k, vv] of Object.entries(v)) walk(`${prefix}.${k}`, vv);
    else out.set(prefix, String(v));
  };
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.json')))
    walk(f.slice(0, -5), JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as unknown);
  return out;
}

const en = messages('en');
const zh = messages('zh-CN');
/** English messages a Chinese page must not show: those that differ from their Chinese counterpart. */
const ENGLISH_ONLY = new Set([...en].filter(([k, v]) => zh.get(k) !== v && v.trim() !== '').map(([, v]) => v.trim()));

/** The screens of the console this test covers: hash route and the test id that marks it rendered. */
const SCREENS = [
  { hash: '#/live', testId: 'live', shot: 'live-zh-CN' },
  { hash: '#/history', testId: 'history' },
  { hash: '#/agents', testId: 'agent-editor', shot: 'agents-zh-CN' },
  { hash: '#/callbacks', testId: 'callback-kpi-offered' },
  { hash: '#/alerts', testId: 'alerts-filters' },
  { hash: '#/diagnostics', testId: 'diagnostics' },
  { hash: '#/forecast', testId: 'forecast-settings' },
] as const;

// In-page scripts are strings: the test project's TypeScript has no DOM library.

/** Visible texts of the page: text nodes of rendered elements, plus placeholders and aria-labels. */
const VISIBLE_TEXTS = `(() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n !== null; n = walker.nextNode()) {
    const text = (n.textContent ?? '').trim();
    const el = n.parentElement;
    // names a site typed (a skill group called "Transfers") are data, marked translate="no"
    if (text !== '' && el !== null && el.checkVisibility() && !['SCRIPT', 'STYLE'].includes(el.tagName) && el.closest('[translate="no"]') === null) out.push(text);
  }
  for (const el of document.querySelectorAll('[placeholder], [aria-label]'))
    if (el.checkVisibility())
      for (const a of ['placeholder', 'aria-label']) {
        const v = (el.getAttribute(a) ?? '').trim();
        if (v) out.push(v);
      }
  return out;
})()`;

/** The font families Chromium used to draw the text of the first element matching `selector`. */
async function fontsDrawn(page: Page, selector: string): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('DOM.enable');
    await cdp.send('CSS.enable');
    const { root } = await cdp.send('DOM.getDocument');
    const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector });
    const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
    return fonts.map((f) => f.familyName);
  } finally {
    await cdp.detach();
  }
}

/** The page is Chinese: lang, no English catalogue message on screen, a CJK font checked and drawn. */
async function expectChinese(page: Page, where: string, heading: string): Promise<void> {
  await expect(page.evaluate('document.documentElement.lang'), where).resolves.toBe('zh-CN');
  const english = (await page.evaluate<string[]>(VISIBLE_TEXTS)).filter((t) => ENGLISH_ONLY.has(t));
  expect(english, `${where}: English catalogue messages on a Chinese page`).toEqual([]);
  // Chromium answers true for any font that is not a web font, installed or not: the check below,
  // on the fonts the page was actually drawn with, is the one that fails without a CJK font.
  await expect(page.evaluate(`document.fonts.check('16px "Noto Sans CJK SC"', '中文')`), where).resolves.toBe(true);
  expect(await fontsDrawn(page, heading), `${where}: fonts drawn for ${heading}`).toContain('Noto Sans CJK SC');
}

/** Inputs, selects and textareas (rendered, not hidden fields) without label, aria-label or aria-labelledby. */
const UNLABELLED = `(() => {
  const named = (el) => {
    if ([...(el.labels ?? [])].some((l) => (l.textContent ?? '').trim() !== '')) return true;
    if ((el.getAttribute('aria-label') ?? '').trim() !== '') return true;
    const ids = (el.getAttribute('aria-labelledby') ?? '').split(/\\s+/).filter(Boolean);
    return ids.length > 0 && ids.every((id) => (document.getElementById(id)?.textContent ?? '').trim() !== '');
  };
  return [...document.querySelectorAll('input, select, textarea')]
    .filter((el) => el.type !== 'hidden' && el.checkVisibility())
    .filter((el) => !named(el))
    .map((el) => el.outerHTML.slice(0, 120));
})()`;

/**
 * Empty when the page does not scroll sideways; else its width and the elements reaching past the
 * viewport's right edge outside any scrolling box (what to fix).
 */
const WIDER_THAN_VIEWPORT = `(() => {
  const width = document.documentElement.scrollWidth;
  if (width <= innerWidth) return [];
  const scrolls = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) if (['auto', 'scroll'].includes(getComputedStyle(p).overflowX)) return true;
    return false;
  };
  const culprits = [...document.querySelectorAll('body *')]
    .filter((el) => el.getBoundingClientRect().right > innerWidth && !scrolls(el))
    .map((el) => el.outerHTML.slice(0, 100));
  return [width, ...culprits.slice(0, 5)];
})()`;

let app: Appliance;
const browsers: Browser[] = [];

beforeAll(async () => {
  await ensureConsoleBuilt();
  buildPages();
  ({ app } = await startTestAppliance(
    quietApplianceOverrides({ console: { httpsPort: -1 }, webrtc: { workers: 1, rtcPortMin: 62000, rtcPortMax: 62199 } }),
  ));
  await createUser(app, 'tech1', 'technician', 'tech one password');
  markSetupComplete(app.config.dataDir);
  // something on every screen: a skill group with an agent (states, queues), a pending callback
  await putRouting(app, sampleGroups(), [agentConfig('alice', 'general')]);
  app.acd!.callbacks.request('locale-call-1', 'general', 'tel:+441632960042');
}, 60_000);
afterAll(async () => {
  for (const b of browsers) await b.close();
  await app?.close();
});

async function signIn(page: Page): Promise<void> {
  await page.goto(app.httpUrl);
  await page.getByTestId('login').waitFor();
  await page.fill('input[name=username]', 'tech1');
  await page.fill('input[name=password]', 'tech one password');
  await page.getByTestId('login-submit').click();
  await page.getByTestId('who').waitFor();
}

async function openScreen(page: Page, hash: string, testId: string): Promise<void> {
  await page.goto(`${app.httpUrl}/${hash}`);
  await page.getByTestId(testId).first().waitFor();
  // every screen's own loading line gone
  await page.locator('body', { hasNotText: '加载' }).waitFor({ timeout: 10_000 });
}

describe('languages, small screens and labels', () => {
  it('a zh-CN browser gets the console, the softphone and the "call us" page in Chinese, with a CJK font', async () => {
    const b = await openBrowser({ locale: 'zh-CN' });
    browsers.push(b);
    const { page, shot } = b;
    await signIn(page);
    await expectChinese(page, 'header', 'header nav a');
    for (const s of SCREENS) {
      await openScreen(page, s.hash, s.testId);
      await expectChinese(page, s.hash, 'main h1, main h2');
      if ('shot' in s) await shot(s.shot);
    }

    await page.goto(`${app.httpUrl}/agent`);
    await page.locator('body[data-presence="offline"]').waitFor();
    await expectChinese(page, 'softphone', 'h1');
    await expect(page.locator('#presence').textContent()).resolves.toBe(zh.get('softphone.presenceNoToken'));
    await shot('softphone-zh-CN');

    await page.goto(`${app.httpUrl}/call`);
    await page.locator('body[data-state="idle"]').waitFor();
    await expectChinese(page, 'call us', 'h1');
    await shot('callus-zh-CN');

    // The switch: English now, and after a reload; then back to Chinese.
    await page.selectOption('#lang', 'en');
    await page.locator('html[lang="en"]').waitFor();
    await page.locator('body[data-state="idle"]').waitFor();
    await expect(page.locator('h1').textContent()).resolves.toBe(en.get('callus.title'));
    await page.reload();
    await page.locator('body[data-state="idle"]').waitFor();
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('en');
    await expect(page.locator('#status').textContent()).resolves.toBe(en.get('callus.idle'));
    await page.goto(app.httpUrl);
    await page.getByTestId('live').waitFor();
    await expect(page.locator('header nav a').first().textContent()).resolves.toBe(en.get('nav.live'));
    await page.getByTestId('language').selectOption('zh-CN');
    await page.locator('html[lang="zh-CN"]').waitFor();
    await page.getByTestId('live').waitFor();
    await expect(page.locator('header nav a').first().textContent()).resolves.toBe(zh.get('nav.live'));
    await page.reload();
    await page.getByTestId('live').waitFor();
    await expect(page.locator('.live h1').textContent()).resolves.toBe(zh.get('live.title'));
  }, 90_000);

  for (const width of [360, 390]) {
    it(`at ${width} px the header fits, nothing scrolls sideways and every field has a name`, async () => {
      const b = await openBrowser({ viewport: { width, height: 780 } });
      browsers.push(b);
      const { page, shot } = b;
      await signIn(page);
      const inView = async (what: string) => {
        const boxes = await page.evaluate<{ el: string; left: number; right: number }[]>(`
          [...document.querySelectorAll('.shell > header > *, .shell > header nav a')]
            .filter((el) => el.checkVisibility())
            .map((el) => {
              const r = el.getBoundingClientRect();
              return { el: el.outerHTML.slice(0, 60), left: r.left, right: r.right };
            })`);
        for (const box of boxes) {
          expect(box.left, `${what}: ${box.el}`).toBeGreaterThanOrEqual(0);
          expect(box.right, `${what}: ${box.el}`).toBeLessThanOrEqual(width);
        }
        return boxes.length;
      };
      await inView('menu closed');
      for (const id of ['menu-toggle', 'logout', 'language', 'who']) await expect(page.getByTestId(id).isVisible(), id).resolves.toBe(true);
      if (width === 360) await shot('header-360');

      // Keyboard: Tab reaches the Menu button, Enter opens the screens, Tab reaches Sign out and the language switch.
      await page.locator('body').focus();
      const reached: string[] = [];
      for (let i = 0; i < 20; i++) {
        await page.keyboard.press('Tab');
        const id = await page.evaluate<string>("document.activeElement?.getAttribute('data-testid') ?? ''");
        reached.push(id);
        if (id === 'menu-toggle') break;
      }
      expect(reached).toContain('menu-toggle');
      await page.keyboard.press('Enter');
      await expect(page.getByTestId('menu-toggle').getAttribute('aria-expanded')).resolves.toBe('true');
      await expect(page.locator('header nav a').first().isVisible()).resolves.toBe(true);
      const withMenu = await inView('menu open');
      expect(withMenu).toBeGreaterThan(8); // every screen link of the nav, and the rest
      if (width === 360) await shot('header-360-menu');
      for (let i = 0; i < 30 && !reached.includes('language'); i++) {
        await page.keyboard.press('Tab');
        reached.push(await page.evaluate<string>("document.activeElement?.getAttribute('data-testid') ?? ''"));
      }
      expect(reached).toEqual(expect.arrayContaining(['logout', 'language']));
      // choosing a screen folds the menu again
      await page.locator('header nav a[href="#/history"]').click();
      await page.getByTestId('history').waitFor();
      await expect(page.getByTestId('menu-toggle').getAttribute('aria-expanded')).resolves.toBe('false');

      for (const s of SCREENS) {
        await page.goto(`${app.httpUrl}/${s.hash}`);
        await page.getByTestId(s.testId).first().waitFor();
        await expect(page.evaluate(UNLABELLED), s.hash).resolves.toEqual([]);
        await expect(page.evaluate(WIDER_THAN_VIEWPORT), s.hash).resolves.toEqual([]);
      }
      for (const p of ['/agent', '/call']) {
        await page.goto(`${app.httpUrl}${p}`);
        await page.locator('body:not([data-state="loading"])').waitFor();
        await expect(page.evaluate(UNLABELLED), p).resolves.toEqual([]);
        await expect(page.evaluate(WIDER_THAN_VIEWPORT), p).resolves.toEqual([]);
      }
    }, 60_000);
  }
});
