/**
 * Files in web chat, in headless Chromium against a real appliance with chat.uploads on: the visitor
 * picks a PNG on the "call us" page, the agent accepting the chat in the softphone page sees it as a
 * button and saves it — the same bytes; its file name carried a card number, which is in neither
 * page, the log nor the SQLite file and WAL. A file of a type the box does not take is refused on
 * the visitor's page with the box's error, and nothing is kept.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { startTestAppliance, type CapturedLog } from '../../helpers/appliance.js';
import { authedFetch } from '../../helpers/auth.js';
import { workerBin } from '../../integration/webrtc/harness.js';
import { buildPages, haveChromium, launchChromium } from './browser.js';

const RTC_PORTS = { rtcPortMin: 60400, rtcPortMax: 60799 };
const CARD = '4111 1111 1111 1111';
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(20_000, 0x5a)]);

describe.skipIf(workerBin === undefined || !haveChromium())('files in web chat (chat.uploads on)', () => {
  let app: Appliance;
  let log: CapturedLog;
  let browser: Browser;

  beforeAll(async () => {
    buildPages();
    browser = await launchChromium();
    ({ app, log } = await startTestAppliance({ webrtc: { workers: 1, ...RTC_PORTS }, chat: { uploads: { enabled: true } } }));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('the visitor sends a PNG, the agent saves the same bytes; the card number in its name is nowhere raw; a refused type keeps nothing', async () => {
    const res = await authedFetch(app, 'supervisor')('/api/v1/webrtc/agent-tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ agentId: 'alice', role: 'agent', ttlMs: 3_600_000 }),
    });
    expect(res.status).toBe(201);
    const token = ((await res.json()) as { token: string }).token;
    const agent = await browser.newPage({ acceptDownloads: true });
    const visitor = await browser.newPage();
    try {
      await agent.goto(`${app.httpUrl}/agent#token=${encodeURIComponent(token)}`);
      await agent.waitForSelector('#chats[data-connection="open"]', { timeout: 15_000 });
      await visitor.goto(`${app.httpUrl}/call`);
      await visitor.click('#chat-begin');
      await visitor.waitForSelector('#chat[data-state="open"]', { timeout: 10_000 });
      await visitor.waitForSelector('#chat-file-label:not([hidden])', { timeout: 10_000 });
      expect(await visitor.getAttribute('#chat-file', 'accept')).toBe('image/png,image/jpeg,application/pdf');
      const conversationId = await visitor.getAttribute('#chat', 'data-conversation-id');
      await visitor.fill('#chat-input', 'Here is a photo of the receipt');
      await visitor.click('#chat-send');
      await visitor.waitForSelector('#chat-log p[data-seq="1"][data-status="delivered"]', { timeout: 10_000 });

      // a type the box does not take: refused with its error, nothing kept
      await visitor.setInputFiles('#chat-file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
      // (a selector, not waitForFunction: the page's CSP forbids the eval its polling uses)
      await visitor.waitForSelector('#chat-status:has-text("are not accepted")', { timeout: 10_000 });
      expect(await visitor.$('#chat-log p[data-status="sending"]')).toBeNull();

      // the PNG, with a card number in its name
      await visitor.setInputFiles('#chat-file', { name: `card_${CARD}.png`, mimeType: 'image/png', buffer: PNG });
      await visitor.waitForSelector('#chat-log p[data-seq="2"][data-status="delivered"] button.chat-file', { timeout: 10_000 });
      const shownName = await visitor.textContent('#chat-log p[data-seq="2"] button.chat-file');
      expect(shownName).toContain('[CARD]');
      const stored = app.store.db.prepare('SELECT COUNT(*) AS n FROM conversation_files').get() as { n: number };
      expect(stored.n).toBe(1);

      // alice accepts and saves it
      await agent.click(`#chat-offers li[data-conversation-id="${conversationId}"] button`);
      const held = `#chat-held article[data-conversation-id="${conversationId}"]`;
      const button = `${held} p[data-seq="2"] button.chat-file`;
      await agent.waitForSelector(button, { timeout: 10_000 });
      const [download] = await Promise.all([agent.waitForEvent('download', { timeout: 10_000 }), agent.click(button)]);
      expect(download.suggestedFilename()).toContain('[CARD]');
      const saved = await download.path();
      expect(readFileSync(saved).equals(PNG)).toBe(true);

      // the raw card number is nowhere: both pages, the log, the SQLite file and its WAL
      const pages = [await agent.content(), await visitor.content(), await agent.innerText('body')].join('\n');
      const files = readdirSync(app.config.dataDir).filter((f) => f.startsWith('edgevox.sqlite'));
      for (const raw of [CARD, CARD.replace(/ /g, '')]) {
        expect(pages.includes(raw)).toBe(false);
        expect(JSON.stringify(log.lines).includes(raw)).toBe(false);
        for (const f of files) expect(readFileSync(path.join(app.config.dataDir, f)).includes(Buffer.from(raw)), f).toBe(false);
      }
      expect(log.lines.some((l) => l['msg'] === 'chat file received')).toBe(true);
    } finally {
      await visitor.close();
      await agent.close();
    }
  }, 120_000);
});
