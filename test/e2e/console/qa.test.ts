/**
 * The QA workspace in a real browser on a running box: a call goes through the real call path
 * (scripted transcripts per leg, as in the QA integration tests; the ASR is tested elsewhere), is
 * scored when it ends, and the QA page lists it, shows the scorecard with each rule hit inside a
 * <mark> around exactly the matched words, and takes a supervisor's override with a reason that the
 * API and the audit log then show. Screenshots in English and Chinese.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Appliance } from '../../../appliance/app/app.js';
import type { TranscriberFactory } from '../../../appliance/calls/transcriber.js';
import { markSetupComplete } from '../../../appliance/console/context.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authedFetch, createUser, quietApplianceOverrides } from '../../helpers/auth.js';
import { ensureConsoleBuilt, openBrowser, type Browser } from './browser.js';

type Line = [startS: number, endS: number, text: string];
const SCRIPTS: Record<string, Line[]> = {
  agent: [
    [0, 2, 'Hello, thank you for calling.'],
    [2, 6, 'This call may be recorded for quality and training purposes.'],
    [10, 14, 'Well, I promise you a refund: it is guaranteed!'],
  ],
  caller: [[6, 10, 'I want my money back.']],
};
/** Emits each leg's scripted finals when the leg closes (the shape the ASR stage delivers). */
const scripted: TranscriberFactory = (opts, cb) => ({
  write: () => {},
  lagMs: () => 0,
  stats: () => ({ droppedFrames: 0, decodedMs: 0, skippedMs: 0, chunkLatencyP95Ms: 0 }),
  close: async () => {
    for (const [s, e, text] of SCRIPTS[opts.speaker] ?? []) {
      const words = text.split(' ').map((word, i) => ({ word, startMs: s * 1000 + i * 100, endMs: s * 1000 + i * 100 + 80 }));
      cb.final({ text, words, startMs: s * 1000, endMs: e * 1000, confidence: 0.9, latencyMs: 100 });
    }
  },
});

let app: Appliance;
let browser: Browser;
let callId: string;

beforeAll(async () => {
  await ensureConsoleBuilt();
  ({ app } = await startTestAppliance(quietApplianceOverrides({ sip: { enabled: false }, console: { httpsPort: -1 } }), {
    transcribers: scripted,
  }));
  await createUser(app, 'super1', 'supervisor', 'super one password');
  markSetupComplete(app.config.dataDir);
  const call = app.calls.startCall({ source: 'sip', meta: { groupId: 'billing', agentId: 'alice' } });
  call.answer();
  call.addLeg({ label: 'caller', codec: 'PCMU', sampleRateHz: 8000 });
  call.addLeg({ label: 'agent', codec: 'PCMU', sampleRateHz: 8000 });
  // scored off the call path once the call ends: wait for the qa.scored event
  const scored = new Promise<void>((resolve) => {
    const off = app.bus.subscribe((e) => {
      if (e.type === 'qa.scored' && e.callId === call.id) {
        off();
        resolve();
      }
    });
  });
  await call.end('bye');
  await scored;
  callId = call.id;
  browser = await openBrowser();
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.context().clearCookies();
  await page.goto(app.httpUrl);
  await page.getByTestId('login').waitFor();
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('live').waitFor();
}

const marksOf = (page: Page, rule: string) => page.locator(`[data-testid=qa-transcript] mark[data-rules~="${rule}"]`);

describe('QA workspace in the console', () => {
  it('lists the scored call and shows its scorecard with the rule hits marked on the matched words', async () => {
    const { page, shot } = browser;
    await signIn(page, 'super1', 'super one password');
    await page.goto(`${app.httpUrl}/#/qa`);
    const row = page.getByTestId('qa-row').filter({ hasText: callId.slice(0, 8) });
    await expect(row.textContent()).resolves.toMatch(/alice.*billing.*75.*Fail.*no-over-promising/);
    await shot('qa-list-en');

    await row.getByTestId('qa-open').click();
    await page.getByTestId('qa-transcript').waitFor();
    await expect(marksOf(page, 'no-over-promising').allTextContents()).resolves.toEqual(['I promise you a refund', 'guaranteed']);
    await expect(marksOf(page, 'greeting').allTextContents()).resolves.toEqual(['Hello']);
    await expect(marksOf(page, 'disclosure').allTextContents()).resolves.toEqual([
      'This call may be recorded for quality and training purposes',
    ]);
    await expect(marksOf(page, 'no-over-promising').first().getAttribute('aria-label')).resolves.toBe(
      'Rule no-over-promising matched: I promise you a refund',
    );
    await expect(page.getByTestId('qa-score').textContent()).resolves.toContain('QA score 75 · Fail');
    await shot('qa-scorecard-en');
  });

  it('a supervisor overrides a rule with a reason from the page; the API and the audit log show it', async () => {
    const { page, shot } = browser;
    await page.goto(`${app.httpUrl}/#/qa/${callId}`);
    await page.getByTestId('qa-override').waitFor();
    await page.getByTestId('qa-override-target').selectOption('no-over-promising');
    await page.getByTestId('qa-override-outcome').selectOption('pass');
    await page.getByTestId('qa-override-reason').fill('Refund pre-approved by the billing team');
    await page.getByTestId('qa-override-submit').click();
    await page.getByTestId('qa-overrides').filter({ hasText: 'Refund pre-approved by the billing team' }).waitFor();
    await expect(page.getByTestId('qa-score').textContent()).resolves.toContain('QA score 100 · Pass');
    await expect(page.getByTestId('qa-result-no-over-promising').textContent()).resolves.toContain('(was Fail)');
    await shot('qa-override-en');

    const detail = (await (await authedFetch(app, 'viewer')(`/api/v1/qa/calls/${callId}`)).json()) as {
      scorecard: { score: number; passed: boolean };
      effective: { score: number; passed: boolean };
      overrides: { ruleId: string; outcome: string; reason: string; author: string }[];
    };
    expect(detail.overrides).toEqual([
      expect.objectContaining({
        ruleId: 'no-over-promising',
        outcome: 'pass',
        reason: 'Refund pre-approved by the billing team',
        author: 'super1',
      }),
    ]);
    expect(detail.scorecard).toMatchObject({ score: 75, passed: false });
    expect(detail.effective).toMatchObject({ score: 100, passed: true });
    const audit = app.store.audit.list(100).find((e) => e.action === 'qa.override');
    expect(audit).toMatchObject({
      actor: 'super1',
      target: `call:${callId}`,
      details: { rule: 'no-over-promising', outcome: 'pass', reason: 'Refund pre-approved by the billing team' },
    });

    // the call's detail page shows the QA score and links to the scorecard
    await page.goto(`${app.httpUrl}/#/history/${callId}`);
    const link = page.getByTestId('call-qa').locator('a');
    await expect(link.textContent()).resolves.toBe('QA score 100 · Pass');
    await expect(link.getAttribute('href')).resolves.toBe(`#/qa/${callId}`);
  });

  it('trends and the rule editor with a dry run; the page in Chinese', async () => {
    const { page, shot } = browser;
    await page.goto(`${app.httpUrl}/#/qa`);
    await page.getByTestId('qa-tab-trends').click();
    await page.getByTestId('qa-trend-by').selectOption('rule');
    await page.getByTestId('qa-trend-row').filter({ hasText: 'no-over-promising' }).waitFor();
    await shot('qa-trends-en');
    await page.getByTestId('qa-tab-rules').click();
    await page.getByTestId('qa-rule-new').click();
    const editor = page.getByTestId('qa-rule-editor');
    await editor.locator('input[name=id]').fill('no-refund-words');
    await editor.locator('textarea[name=phrases]').fill('refund');
    await page.getByTestId('qa-rule-dry-run').click();
    await page
      .getByTestId('qa-dry-call')
      .filter({ hasText: callId.slice(0, 8) })
      .waitFor();
    await expect(page.getByTestId('qa-dry-run').textContent()).resolves.toContain('no-refund-words');
    await editor.locator('input[name=weight]').fill('-5');
    await page.getByTestId('qa-rule-save').click();
    await expect(editor.locator('.field-error').first().textContent()).resolves.toBe('"weight" must be between 0 and 100.');
    await shot('qa-rules-en');

    const zh = await openBrowser({ locale: 'zh-CN' });
    try {
      await signIn(zh.page, 'super1', 'super one password');
      await zh.page.goto(`${app.httpUrl}/#/qa`);
      await zh.page.getByTestId('qa-row').first().waitFor();
      await expect(zh.page.locator('h1').textContent()).resolves.toBe('质量检查');
      await zh.shot('qa-list-zh-CN');
      await zh.page.goto(`${app.httpUrl}/#/qa/${callId}`);
      await zh.page.getByTestId('qa-transcript').waitFor();
      await expect(marksOf(zh.page, 'no-over-promising').allTextContents()).resolves.toEqual(['I promise you a refund', 'guaranteed']);
      await expect(zh.page.getByTestId('qa-score').textContent()).resolves.toContain('质检得分 100 · 合格');
      await zh.shot('qa-scorecard-zh-CN');
    } finally {
      await zh.close();
    }
  });
});
