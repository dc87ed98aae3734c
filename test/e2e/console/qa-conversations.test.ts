/**
 * Chats in the console's QA workspace, in a real browser on a running box: a visitor and an agent
 * chat through the real chat socket (the visitor types a card number), the visitor ends the chat and
 * the box analyses it; the QA list shows the chat next to the calls with its channel, and its page
 * shows the scorecard (audio rules not applicable), the customer's sentiment, the summary (from the
 * redacted text) and each message's sentiment label, never the card number. Screenshots in English and Chinese.
 * A supervisor overrides a rule there, as on a call's page: the effective score shows beside the original.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { markSetupComplete } from '../../../appliance/console/context.js';
import { CHAT_SOCKET_PATH } from '../../../appliance/conversations/chatSocket.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authedFetch, createUser, quietApplianceOverrides } from '../../helpers/auth.js';
import { openChat } from '../../helpers/chatSocketClient.js';
import { workerBin } from '../../integration/webrtc/harness.js';
import { ensureConsoleBuilt, openBrowser, signIn, type Browser } from './browser.js';
import { plantedIn } from '../../helpers/planted.js';

const CARD = '4111 1111 1111 1111';
let app: Appliance;
let browser: Browser;
let conversationId = '';

describe.skipIf(workerBin === undefined)('chats in the QA workspace', () => {
  beforeAll(async () => {
    await ensureConsoleBuilt();
    // The chat socket comes with the WebRTC plane (agent tokens); no media flows in this test.
    ({ app } = await startTestAppliance(
      quietApplianceOverrides({
        sip: { enabled: false },
        console: { httpsPort: -1 },
        webrtc: { workers: 1, rtcPortMin: 60000, rtcPortMax: 60199 },
      }),
      { transcribers: null },
    ));
    await createUser(app, 'super1', 'supervisor', 'super one password');
    markSetupComplete(app.config.dataDir);

    const res = await authedFetch(app, 'supervisor')('/api/v1/webrtc/agent-tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ agentId: 'alice', role: 'agent', ttlMs: 3_600_000 }),
    });
    expect(res.status).toBe(201);
    const { token } = (await res.json()) as { token: string };
    const url = `${app.httpUrl.replace('http', 'ws')}${CHAT_SOCKET_PATH}`;
    const agent = await openChat(url, app.httpUrl);
    const visitor = await openChat(url, app.httpUrl);
    try {
      agent.send({ type: 'agent', token });
      await agent.next('agent-ready');
      visitor.send({ type: 'start', language: 'en' });
      conversationId = (await visitor.next('started')).conversationId;
      visitor.send({ type: 'message', clientId: 'v1', text: `My card ${CARD} was charged twice and I am really upset` });
      await visitor.next('ack', (m) => m.clientId === 'v1');
      await agent.next('offers', (m) => m.conversations.some((c) => c.conversationId === conversationId));
      agent.send({ type: 'accept', conversationId });
      await agent.next('history', (m) => m.conversation.conversationId === conversationId);
      agent.send({
        type: 'message',
        conversationId,
        clientId: 'a1',
        text: 'Hello, thank you for waiting. I promise you a refund, it is guaranteed!',
      });
      await visitor.next('message', (m) => m.message.seq === 2);
      visitor.send({ type: 'close' });
      await visitor.next('state', (m) => m.conversation.state === 'closed');
    } finally {
      agent.ws.close();
      visitor.ws.close();
    }
    await createUser(app, 'viewer1', 'viewer', 'viewer one password');
    browser = await openBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('lists the chat with its channel and opens its scorecard, sentiment and summary; no card number', async () => {
    // analysed off the closing stack
    await expect
      .poll(() => app.store.db.prepare(`SELECT channel FROM conversation_analysis WHERE conversation_id = ?`).get(conversationId), {
        timeout: 10_000,
      })
      .toEqual({ channel: 'chat' });
    const analysis = (await (await authedFetch(app, 'viewer')(`/api/v1/conversations/${conversationId}/analysis`)).json()) as {
      qa: { score: number; passed: boolean };
      summary: { text: string };
    };
    expect(analysis.qa.passed).toBe(false); // the critical no-over-promising rule failed
    expect(analysis.summary.text).not.toBe('');

    const { page, shot } = browser;
    await signIn(page, app.httpUrl, 'viewer1', 'viewer one password');
    await page.goto(`${app.httpUrl}/#/qa`);
    const row = page.locator('[data-testid=qa-row][data-channel=chat]').filter({ hasText: conversationId.slice(0, 8) });
    await expect(row.textContent()).resolves.toMatch(/Chat.*alice.*Fail.*no-over-promising/);
    await shot('qa-list-chat-en');

    // the channel filter: calls only leaves the chat out, chats only brings it back
    await page.getByTestId('qa-filter-channel').selectOption('voice');
    await page.getByTestId('qa-filter-apply').click();
    await row.waitFor({ state: 'detached' });
    await page.getByTestId('qa-filter-channel').selectOption('chat');
    await page.getByTestId('qa-filter-apply').click();
    await row.waitFor();

    await row.getByTestId('qa-open').click();
    const view = page.getByTestId('qa-conversation');
    await view.waitFor();
    expect(page.url()).toBe(`${app.httpUrl}/#/qa/conversations/${conversationId}`);
    await expect(page.getByTestId('qa-score').textContent()).resolves.toContain('· Fail');
    await expect(page.getByTestId('qa-result-no-over-promising').textContent()).resolves.toContain('Fail');
    await expect(page.getByTestId('qa-result-silence').textContent()).resolves.toContain('Not applicable');
    await expect(page.getByTestId('qa-result-greeting').textContent()).resolves.toContain('Pass');
    await expect(page.getByTestId('call-summary-text').textContent()).resolves.toBe(analysis.summary.text);
    await expect(page.getByTestId('qa-conversation-sentiment-overall').getAttribute('data-label')).resolves.toBe('negative');
    await expect(page.getByTestId('qa-message-1').textContent()).resolves.toMatch(/Customer.*Negative/);
    expect(await page.getByTestId('qa-override').count()).toBe(0); // a viewer reads only
    const html = await page.content();
    expect(plantedIn(html, ['4111', '1111'])).toEqual([]); // the summary quotes the stored text, redacted: [CARD]
    await shot('qa-conversation-en');

    const zh = await openBrowser({ locale: 'zh-CN' });
    try {
      await signIn(zh.page, app.httpUrl, 'viewer1', 'viewer one password');
      await zh.page.goto(`${app.httpUrl}/#/qa/conversations/${conversationId}`);
      await zh.page.getByTestId('qa-conversation').waitFor();
      await expect(zh.page.locator('h1').textContent()).resolves.toContain('在线聊天的质检评分卡');
      await expect(zh.page.getByTestId('qa-result-silence').textContent()).resolves.toContain('不适用');
      await zh.shot('qa-conversation-zh-CN');
    } finally {
      await zh.close();
    }
  }, 60_000);

  it('a supervisor overrides a rule on the page: the effective score shows beside the original', async () => {
    const sup = await openBrowser();
    try {
      const { page } = sup;
      await signIn(page, app.httpUrl, 'super1', 'super one password');
      await page.goto(`${app.httpUrl}/#/qa/conversations/${conversationId}`);
      await page.getByTestId('qa-override-target').selectOption('no-over-promising');
      await page.getByTestId('qa-override-outcome').selectOption('pass');
      await page.getByTestId('qa-override-reason').fill('Refund was pre-approved by billing');
      await page.getByTestId('qa-override-submit').click();
      await page.getByTestId('qa-score-original').waitFor();
      const d = (await (await authedFetch(app, 'viewer')(`/api/v1/conversations/${conversationId}/analysis`)).json()) as {
        qa: { score: number };
        effective: { score: number };
      };
      expect(d.effective.score).toBeGreaterThan(d.qa.score);
      const shown = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
      await expect(page.getByTestId('qa-score').textContent()).resolves.toContain(`QA score ${shown(d.effective.score)} ·`);
      await expect(page.getByTestId('qa-score-original').textContent()).resolves.toContain(`scored ${shown(d.qa.score)} · Fail`);
      await expect(page.getByTestId('qa-result-no-over-promising').textContent()).resolves.toMatch(/Pass.*was Fail/);
      await expect(page.getByTestId('qa-overrides').textContent()).resolves.toContain('Refund was pre-approved by billing');
      await sup.shot('qa-conversation-override-en');
    } finally {
      await sup.close();
    }
  }, 60_000);
});
