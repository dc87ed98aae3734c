/**
 * A technician configures the box from the settings pages in a real browser: every page opens
 * (screenshots, the network page in Chinese too), a changed field is saved as one new version, a bad
 * network (CIDR) and an agent in a skill group that no longer exists are refused with the error
 * beside the field (aria-invalid, aria-describedby) and nothing saved; the agents table and the
 * accounts page edit rows through labelled inputs; no page scrolls sideways at 360 px.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Appliance } from '../../../appliance/app/app.js';
import { markSetupComplete } from '../../../appliance/console/context.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authedFetch, createUser, quietApplianceOverrides } from '../../helpers/auth.js';
import { ensureConsoleBuilt, openBrowser, type Browser } from './browser.js';

const PAGES = ['site', 'network', 'trunks', 'agents', 'routing', 'prompts', 'privacy', 'upstream', 'models', 'accounts'];

/** Inputs, selects and textareas (rendered) without a label, aria-label or aria-labelledby. */
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

let app: Appliance;
let browser: Browser;

const group = (id: string, name: string) => ({ id, name, intents: [], adjacent: [], overflow: { maxWaitMs: 120_000, action: 'none' } });

async function api(path: string): Promise<any> {
  const res = await authedFetch(app)(path);
  expect(res.status).toBe(200);
  return res.json();
}

beforeAll(async () => {
  await ensureConsoleBuilt();
  ({ app } = await startTestAppliance(quietApplianceOverrides()));
  await createUser(app, 'tech1', 'technician', 'tech one password');
  markSetupComplete(app.config.dataDir);
  const put = await authedFetch(app)('/api/v1/routing/config', {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      groups: [group('billing', 'Billing'), group('support', 'Support'), group('sales', 'Sales')],
      agents: [
        { id: 'a1', name: 'Agent One', sipUri: 'sip:a1@127.0.0.1', senior: false, skills: [{ group: 'billing', level: 3 }] },
        {
          id: 'a2',
          name: 'Agent Two',
          sipUri: 'sip:a2@127.0.0.1',
          senior: false,
          skills: [
            { group: 'support', level: 3 },
            { group: 'sales', level: 3 },
          ],
        },
      ],
      rules: { defaultGroup: 'billing' },
    }),
  });
  expect(put.status, await put.clone().text()).toBe(200);
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
  await page.fill('input[name=username]', 'tech1');
  await page.fill('input[name=password]', 'tech one password');
  await page.getByTestId('login-submit').click();
  await page.getByTestId('live').or(page.locator('.shell')).first().waitFor();
}

let loads = 0;
/** Load the console afresh on a settings page (a new document: no state left from before). */
async function openPage(page: Page, id: string): Promise<void> {
  loads += 1;
  await page.goto(`${app.httpUrl}/?load=${loads}#/settings/${id}`);
  try {
    await page.getByTestId(`settings-page-${id}`).waitFor({ timeout: 60_000 });
  } catch (err) {
    await browser.shot(`settings-failed-${id}`, page);
    throw new Error(`settings page ${id} did not open; screen: ${(await page.locator('body').innerText()).slice(0, 400)}`, { cause: err });
  }
  await page.getByTestId('settings-form').waitFor({ timeout: 60_000 });
  if (id === 'agents') await page.getByTestId('agent-table').waitFor();
  if (id === 'accounts') await page.getByTestId('tokens').waitFor();
}

/** The error shown beside a control, found through the control's aria-describedby. */
async function describedError(page: Page, selector: string): Promise<string> {
  const control = page.locator(selector);
  await expect(control.getAttribute('aria-invalid')).resolves.toBe('true');
  const ids = ((await control.getAttribute('aria-describedby')) ?? '').split(/\s+/).filter(Boolean);
  const texts = await Promise.all(ids.map((id) => page.locator(`[id="${id}"]`).textContent()));
  return texts.join(' ');
}

describe('settings pages', () => {
  it('opens every page from the settings list, and the raw view from there', async () => {
    const { page, shot } = browser;
    await signIn(page);
    await page.click('a[href="#/settings"]');
    await page.getByTestId('settings-page-site').waitFor();
    for (const id of PAGES) {
      await page.getByTestId(`settings-nav-${id}`).click();
      await openPage(page, id);
      await expect(page.getByTestId(`settings-nav-${id}`).getAttribute('aria-current')).resolves.toBe('page');
      await shot(`settings-${id}`);
    }
    await page.getByTestId('settings-raw').click();
    await page.getByTestId('config-form').waitFor();
  });

  it('saves a changed field as one new version', async () => {
    const { page } = browser;
    await signIn(page);
    const before = await api('/api/v1/config');
    await openPage(page, 'site');
    await page.getByLabel('Site name').fill('Leeds Branch');
    await page.getByTestId('settings-save').click();
    await expect(page.getByTestId('settings-result').textContent()).resolves.toContain(`version ${before.version + 1}`);
    const after = await api('/api/v1/config');
    expect(after.version).toBe(before.version + 1);
    expect(after.config.site.name).toBe('Leeds Branch');
  });

  it('adds a SIP trunk as a row of labelled fields', async () => {
    const { page } = browser;
    await signIn(page);
    await openPage(page, 'trunks');
    await page.getByTestId('add-sip.trunks').click();
    const row = page.getByTestId('row-sip.trunks-0');
    await row.getByLabel('Trunk name').fill('carrier-a');
    await row.getByLabel('Host', { exact: true }).fill('192.0.2.10');
    await row.getByLabel('Transport').selectOption('tcp');
    await page.getByTestId('settings-save').click();
    await page.getByTestId('settings-result').filter({ hasText: 'Saved as version' }).waitFor();
    const cfg = await api('/api/v1/config');
    expect(cfg.config.sip.trunks).toHaveLength(1);
    expect(cfg.config.sip.trunks[0]).toMatchObject({ name: 'carrier-a', host: '192.0.2.10', transport: 'tcp', keepaliveSec: 30 });
  });

  it('shows a bad network beside the allow-list field and saves nothing', async () => {
    const { page, shot } = browser;
    await signIn(page);
    const before = await api('/api/v1/config');
    await openPage(page, 'network');
    // checked on leaving the field (the dry-run route), before any save
    await page.getByLabel('Media (RTP) address').fill('999.1.2.3');
    await page.getByLabel('SIP port').focus();
    await page.getByTestId('issue-sip.rtpHost').waitFor();
    await expect(describedError(page, 'input[name="sip.rtpHost"]')).resolves.toContain('999.1.2.3');
    await page.getByLabel('Media (RTP) address').fill('');
    await page.getByLabel('SIP port').focus();
    await page.getByTestId('issue-sip.rtpHost').waitFor({ state: 'detached' });
    await page.getByLabel('Allowed SIP sources').fill('127.0.0.1\n10.0.0.0/33');
    await page.getByLabel('SIP port').focus();
    await page.getByTestId('settings-save').click();
    await page.getByTestId('issue-sip.allowList').waitFor();
    const text = await describedError(page, 'textarea[name="sip.allowList"]');
    expect(text).toContain('10.0.0.0/33');
    await expect(page.getByTestId('settings-result').textContent()).resolves.toMatch(/Not saved/);
    await shot('settings-network-error');
    const after = await api('/api/v1/config');
    expect(after.version).toBe(before.version);
    expect(after.config.sip.allowList).toEqual(before.config.sip.allowList);
  });

  it('edits agents in the table; an agent left in a removed skill group is refused beside its skills', async () => {
    const { page, shot } = browser;
    await signIn(page);
    await openPage(page, 'agents');
    // skills are chosen from the defined groups
    await expect(page.locator('input[name="agent-skill-1-sales"]').isChecked()).resolves.toBe(true);
    await page.getByTestId('group-remove-2').click();
    await expect(page.locator('input[name="agent-skill-1-sales"]').isChecked()).resolves.toBe(true);
    await page.getByTestId('agents-save').click();
    await page.getByTestId('agent-issue-1-skills').waitFor();
    const text = await describedError(page, '[data-testid="agent-row-1"] fieldset.skills');
    expect(text).toContain('sales');
    await shot('settings-agents-error');
    const kept = await api('/api/v1/routing/config');
    expect(kept.groups.map((g: { id: string }) => g.id)).toEqual(['billing', 'support', 'sales']);

    // a new agent with a skill chosen from the groups, saved in one step
    await openPage(page, 'agents');
    await page.getByTestId('agent-add').click();
    await page.getByLabel('Id, row 3', { exact: true }).fill('a3');
    await page.getByLabel('Name, row 3', { exact: true }).fill('Agent Three');
    await page.locator('input[name="agent-skill-2-support"]').check();
    await page.getByTestId('agents-save').click();
    await page.getByTestId('agents-saved').waitFor();
    const saved = await api('/api/v1/routing/config');
    const a3 = saved.agents.find((a: { id: string }) => a.id === 'a3');
    expect(a3?.skills.map((s: { group: string }) => s.group)).toEqual(['support']);
  });

  it('creates an account and an API token through labelled inputs', async () => {
    const { page } = browser;
    await signIn(page);
    await openPage(page, 'accounts');
    const users = page.getByTestId('users');
    await users.getByLabel('Username').fill('sup2');
    await users.getByLabel('Password').fill('super two password');
    // every role is offered, the wall TV's kiosk too
    await expect(
      users
        .getByLabel('Role')
        .locator('option')
        .evaluateAll((os) => os.map((o) => (o as { value: string }).value)),
    ).resolves.toEqual(['kiosk', 'viewer', 'supervisor', 'technician']);
    await users.getByLabel('Role').selectOption('supervisor');
    await page.getByTestId('user-add').click();
    await page.getByTestId('user-sup2').waitFor();
    const list = await api('/api/v1/users');
    expect(list.users.find((u: { username: string }) => u.username === 'sup2')?.role).toBe('supervisor');

    const tokens = page.getByTestId('tokens');
    await tokens.getByLabel('Token name').fill('pbx-cti');
    await tokens.getByLabel('Role').selectOption('viewer');
    await page.getByTestId('token-add').click();
    await page.getByTestId('token-secret').waitFor();
    const t = await api('/api/v1/tokens');
    expect(t.tokens.map((x: { name: string }) => x.name)).toContain('pbx-cti');
  });

  it('fits 360 px without sideways scrolling on every page, every field named', async () => {
    const { page, shot } = browser;
    await signIn(page);
    await page.setViewportSize({ width: 360, height: 800 });
    for (const id of PAGES) {
      await openPage(page, id);
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      expect(overflow, `page ${id} scrolls sideways`).toBeLessThanOrEqual(0);
      await expect(page.evaluate<string[]>(UNLABELLED), `page ${id}: fields without a name`).resolves.toEqual([]);
    }
    await openPage(page, 'network');
    await shot('settings-network-360');
    await openPage(page, 'agents');
    await shot('settings-agents-360');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('shows the network page in Chinese', async () => {
    const zh = await openBrowser({ locale: 'zh-CN' });
    try {
      await signIn(zh.page);
      await openPage(zh.page, 'network');
      await expect(zh.page.locator('.settings-page h2').first().textContent()).resolves.toBe('网络');
      await zh.page.getByLabel('允许的 SIP 来源').waitFor();
      await zh.shot('settings-network-zh-CN');
    } finally {
      await zh.close();
    }
  });
});
