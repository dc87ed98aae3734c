/**
 * A technician sets up a fresh box in a real browser: setup token from the data dir → admin
 * account → site → network → SIP trunks → agents → upstream → model check → self-test call through
 * the real SIP/RTP/ASR pipeline (transcript shown) → finish, landing on the live screen. Bad input
 * (a site id, the media address 999.1.2.3, allow-list entries not-an-ip and 10.0.0.0/33, an agent in
 * a skill group that does not exist) is refused by the appliance's validation: the plain-language
 * issue shows beside its field (aria-invalid, aria-describedby) and the wizard stays on the step.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authedFetch, quietApplianceOverrides } from '../../helpers/auth.js';
import { ensureConsoleBuilt, openBrowser, type Browser } from './browser.js';

let app: Appliance;
let browser: Browser;

beforeAll(async () => {
  await ensureConsoleBuilt();
  ({ app } = await startTestAppliance(quietApplianceOverrides()));
  browser = await openBrowser();
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe('first-boot wizard', () => {
  it('walks every step on a fresh data dir, including a self-test call with its transcript', async () => {
    const { page, shot } = browser;
    /**
     * The step's field `name` is marked invalid, described by the refusal shown beside it, which
     * says `text`; the wizard stays on the step. Returns all the field's error text.
     */
    const expectRefused = async (name: string, text: string): Promise<string> => {
      const error = page.getByTestId(`field-error-${name}`);
      await error.waitFor();
      const said = (await error.textContent()) ?? '';
      expect(said).toContain(text);
      const field = page.locator(`[name=${name}]`);
      await expect(field.getAttribute('aria-invalid')).resolves.toBe('true');
      const describedBy = ((await field.getAttribute('aria-describedby')) ?? '').split(' ');
      expect(describedBy).toContain(await error.getAttribute('id'));
      // beside the field: the error follows the control within the same field
      expect(await page.locator(`.field:has([name=${name}]) [data-testid=field-error-${name}]`).count()).toBe(1);
      return said;
    };
    const token = readFileSync(join(app.config.dataDir, 'setup-token'), 'utf8').trim();
    await page.goto(app.httpUrl);
    await page.getByTestId('wizard-step-0').waitFor();
    await shot('wizard-0-token');
    await page.fill('input[name=setup-token]', token);
    await page.getByTestId('wizard-next').click();

    await page.getByTestId('wizard-step-1').waitFor();
    await page.fill('input[name=admin-username]', 'admin');
    await page.fill('input[name=admin-password]', 'leeds setup 2024!');
    await page.fill('input[name=admin-confirm]', 'leeds setup 2024!');
    await shot('wizard-1-admin');
    await page.getByTestId('wizard-next').click();

    await page.getByTestId('wizard-step-2').waitFor();
    await page.fill('input[name=site-name]', 'Leeds Branch');
    await page.fill('input[name=site-id]', 'Leeds 01');
    await page.getByTestId('wizard-next').click();
    // The appliance's refusal is said plainly, beside the field, and the step stays.
    await expectRefused('site-id', 'Leeds 01 is not accepted here: use lower-case letters, digits and dashes');
    await page.getByTestId('wizard-step-2').waitFor();
    await page.fill('input[name=site-id]', 'leeds-01');
    await shot('wizard-2-site');
    await page.getByTestId('wizard-next').click();

    await page.getByTestId('wizard-step-3').waitFor();
    await page.fill('input[name=rtp-host]', '999.1.2.3');
    await page.getByTestId('wizard-next').click();
    await expectRefused('rtp-host', '999.1.2.3 is not an IP address: each of the four numbers must be 0–255');
    await shot('wizard-3-network-error');
    expect(await page.getByTestId('wizard-step-4').count()).toBe(0);
    await page.fill('input[name=rtp-host]', '127.0.0.1');
    await shot('wizard-3-network');
    await page.getByTestId('wizard-next').click();

    await page.getByTestId('wizard-step-4').waitFor();
    // every refused entry is reported, not only the first
    await page.fill('textarea[name=allow-list]', '127.0.0.1\nnot-an-ip\n10.0.0.0/33');
    await page.getByTestId('wizard-next').click();
    const allowErrors = await expectRefused('allow-list', 'not-an-ip is not an IP address or network');
    expect(allowErrors).toContain('10.0.0.0/33: an IPv4 prefix length is 0 to 32');
    await shot('wizard-4-trunks-error');
    expect(await page.getByTestId('wizard-step-5').count()).toBe(0);
    await page.fill('textarea[name=allow-list]', '127.0.0.1\n192.0.2.0/24');
    await page.fill('textarea[name=sip-accounts]', '');
    await shot('wizard-4-trunks');
    await page.getByTestId('wizard-next').click();

    await page.getByTestId('wizard-step-5').waitFor();
    await page.getByTestId('agent-editor').waitFor();
    await page.fill('textarea[name=skill-groups]', 'billing, Billing enquiries\nsupport, Technical support');
    await page.fill('input[name=agent-id-0]', 'a1');
    await page.fill('input[name=agent-name-0]', 'Agent One');
    await page.fill('input[name=agent-skills-0]', 'billing support');
    await page.fill('input[name=agent-sipUsername-0]', 'a1');
    await page.fill('input[name=agent-sipPassword-0]', 'agent-one-pass');
    await page.getByTestId('agent-add').click();
    await page.fill('input[name=agent-id-1]', 'a2');
    await page.fill('input[name=agent-name-1]', 'Agent Two');
    await page.fill('input[name=agent-skills-1]', 'support sales');
    await page.getByTestId('wizard-next').click();
    // the appliance's refusal shows in the agent's row, at the field
    await expect(page.getByTestId('agent-error-1').textContent()).resolves.toContain('skill group sales does not exist');
    const skills = page.locator('input[name=agent-skills-1]');
    await expect(skills.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(skills.getAttribute('aria-describedby')).resolves.toBe('agent-error-1');
    await shot('wizard-5-agents-error');
    expect(await page.getByTestId('wizard-step-6').count()).toBe(0);
    await page.fill('input[name=agent-skills-1]', 'support');
    await shot('wizard-5-agents');
    await page.getByTestId('wizard-next').click();

    await page.getByTestId('wizard-step-6').waitFor();
    await page.fill('input[name=upstream-endpoint]', 'https://central.example.com/edgevox');
    await page.fill('input[name=enrollment-key]', 'enrol-key-0123456789');
    await shot('wizard-6-upstream');
    await page.getByTestId('wizard-next').click();

    await page.getByTestId('wizard-step-7').waitFor();
    const models = page.getByTestId('model-check');
    await models.waitFor();
    await expect(models.textContent()).resolves.toMatch(/asr.*verified/s);
    await expect(page.getByTestId('gpu').textContent()).resolves.toMatch(/GPU: /);
    await expect(page.getByTestId('providers').textContent()).resolves.toContain('cpu');
    await shot('wizard-7-models');
    await page.getByTestId('wizard-next').click();

    await page.getByTestId('wizard-step-8').waitFor();
    await page.getByTestId('selftest-run').click();
    const result = page.getByTestId('selftest-result');
    await result.waitFor({ timeout: 60_000 });
    const heard = (await page.getByTestId('selftest-transcript').textContent()) ?? '';
    // Reference: "he was not an ill disposed young man" (8 kHz μ-law costs a word or two).
    expect(heard.toLowerCase()).toContain('young man');
    await expect(result.textContent()).resolves.toContain('Passed');
    await shot('wizard-8-selftest');
    await page.getByTestId('wizard-next').click();

    await page.getByTestId('wizard-step-9').waitFor();
    // SIP allow-list and the announced address are applied at the next start.
    await expect(page.getByTestId('restart-required').textContent()).resolves.toContain('sip.allowList');
    await shot('wizard-9-finish');
    await page.getByTestId('wizard-finish').click();
    await page.getByTestId('live').waitFor();
    await expect(page.getByTestId('site-name').textContent()).resolves.toBe('Leeds Branch');

    // Everything the wizard saved is in the stored configuration, as versions by the admin.
    const cfg = (await (await authedFetch(app)('/api/v1/config')).json()) as { config: any };
    expect(cfg.config.site).toEqual({ id: 'leeds-01', name: 'Leeds Branch' });
    expect(cfg.config.sip.rtpHost).toBe('127.0.0.1');
    expect(cfg.config.sip.allowList).toEqual(['127.0.0.1', '192.0.2.0/24']);
    // agents went into the routing configuration, the one place they live
    const routing = (await (await authedFetch(app)('/api/v1/routing/agents')).json()) as {
      agents: { id: string; name: string; skills: { group: string }[]; sip?: unknown }[];
    };
    expect(routing.agents.map((a) => [a.id, a.name, a.skills.map((k) => k.group), a.sip ?? null])).toEqual([
      ['a1', 'Agent One', ['billing', 'support'], { username: 'a1', hasPassword: true }],
      ['a2', 'Agent Two', ['support'], null],
    ]);
    expect(cfg.config.agents).toEqual({
      wrapUpS: 30,
      noAnswerAwayAfter: 2,
      dispositionCodes: ['resolved', 'follow-up', 'escalated', 'no-action'],
    });
    expect(cfg.config.upstream).toEqual({ endpoint: 'https://central.example.com/edgevox', enrollmentKey: 'enrol-key-0123456789' });
    const actions = app.store.audit.list().map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['setup.admin.created', 'config.change', 'selftest', 'setup.complete']));
    // The self-test call is a real, stored call with its transcript.
    const selftest = app.store.audit.list().find((e) => e.action === 'selftest')!;
    const callId = selftest.target.replace('call:', '');
    expect(app.store.calls.get(callId)).toMatchObject({ source: 'sip', state: 'ended' });
  });

  it('in a Chinese browser says the refusal in Chinese beside the field, and stays on the step', async () => {
    const { app: fresh } = await startTestAppliance(quietApplianceOverrides());
    const zh = await openBrowser({ locale: 'zh-CN' });
    try {
      const { page, shot } = zh;
      const token = readFileSync(join(fresh.config.dataDir, 'setup-token'), 'utf8').trim();
      await page.goto(fresh.httpUrl);
      await page.getByTestId('wizard-step-0').waitFor();
      await expect(page.locator('h1').textContent()).resolves.toBe('设置这台 EdgeVox 设备');
      await page.fill('input[name=setup-token]', token);
      await page.getByTestId('wizard-next').click();
      await page.getByTestId('wizard-step-1').waitFor();
      await page.fill('input[name=admin-password]', 'leeds setup 2024!');
      await page.fill('input[name=admin-confirm]', 'leeds setup 2024!');
      await page.getByTestId('wizard-next').click();
      await page.getByTestId('wizard-step-2').waitFor();
      await page.fill('input[name=site-id]', 'leeds-02');
      await page.getByTestId('wizard-next').click();
      await page.getByTestId('wizard-step-3').waitFor();
      await page.fill('input[name=rtp-host]', '999.1.2.3');
      await page.getByTestId('wizard-next').click();
      const error = page.getByTestId('field-error-rtp-host');
      await error.waitFor();
      await expect(error.textContent()).resolves.toBe('999.1.2.3 不是有效的 IP 地址：四个数字都必须在 0–255 之间');
      await expect(page.locator('[name=rtp-host]').getAttribute('aria-invalid')).resolves.toBe('true');
      await shot('wizard-3-network-error-zh-CN');
      expect(await page.getByTestId('wizard-step-4').count()).toBe(0);
      await page.fill('input[name=rtp-host]', '127.0.0.1');
      await page.getByTestId('wizard-next').click();
      await page.getByTestId('wizard-step-4').waitFor();
      await page.fill('textarea[name=allow-list]', '10.0.0.0/33');
      await page.getByTestId('wizard-next').click();
      await page.getByTestId('field-error-allow-list').waitFor();
      await expect(page.getByTestId('field-error-allow-list').textContent()).resolves.toBe('10.0.0.0/33：IPv4 前缀长度应为 0 到 32');
      await shot('wizard-4-trunks-error-zh-CN');
    } finally {
      await zh.close();
      await fresh.close();
    }
  });
});
