/**
 * Web chat in headless Chromium against a real appliance: a visitor chats on the "call us" page
 * (name, customer id and e-mail given), the chat is routed by the intent of the first message to the
 * `cards` skill group and offered to alice (cards) in her softphone page, she accepts and answers;
 * the visitor's page drops its socket and keeps chatting (nothing lost or doubled), then presses Call:
 * the WebRTC call is linked to the chat and alice, answering it, sees the chat history in the call
 * view. The card number the visitor typed is searched for, raw, in the SQLite file and its WAL, the
 * appliance's log, every bus event and alice's page: it is in none of them.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { startTestAppliance, type CapturedLog } from '../../helpers/appliance.js';
import { authedFetch } from '../../helpers/auth.js';
import { SHARED_DIR } from '../../helpers/paths.js';
import { workerBin } from '../../integration/webrtc/harness.js';
import { buildPages, captureWav, haveChromium, launchChromium } from './browser.js';

/** WebRTC ports apart from the other browser tests'. */
const RTC_PORTS = { rtcPortMin: 64000, rtcPortMax: 64999 };
const CARD = '4111 1111 1111 1111';
const CARD_FORMS = [CARD, CARD.replace(/ /g, ''), '4111-1111-1111-1111'];
const FIRST = `I lost my card, I think it was stolen. The number is ${CARD}`;
const clipPath = path.join(SHARED_DIR, 'datasets', 'speech-en', '0.wav');

describe.skipIf(workerBin === undefined || !haveChromium())(
  'web chat on the "call us" page, taken in the softphone, escalated to a call',
  () => {
    let app: Appliance;
    let log: CapturedLog;
    let browser: Browser;
    let mic: ReturnType<typeof captureWav>;
    const events: ApplianceEvent[] = [];

    beforeAll(async () => {
      buildPages();
      mic = captureWav(clipPath, 1, 20);
      browser = await launchChromium(mic.file);
      ({ app, log } = await startTestAppliance({ webrtc: { workers: 1, ...RTC_PORTS } }));
      app.bus.subscribe((e) => events.push(e));
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
      await app?.close();
      mic?.cleanup();
    });

    it('routes by intent, alice answers, the visitor reconnects and escalates, alice sees the chat on the call; no raw card number anywhere', async () => {
      const put = await authedFetch(app)('/api/v1/routing/config', {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          groups: [
            { id: 'general', name: 'General', intents: [], adjacent: [], overflow: { maxWaitMs: 300_000, action: 'none' } },
            {
              id: 'cards',
              name: 'Cards',
              intents: ['lost_or_stolen_card', 'compromised_card', 'card_arrival'],
              adjacent: [],
              overflow: { maxWaitMs: 300_000, action: 'none' },
            },
          ],
          agents: [
            { id: 'alice', name: 'Alice', sipUri: 'sip:alice@127.0.0.1:5060', senior: false, skills: [{ group: 'cards', level: 3 }] },
            { id: 'bob', name: 'Bob', sipUri: 'sip:bob@127.0.0.1:5060', senior: false, skills: [{ group: 'general', level: 3 }] },
          ],
          rules: { defaultGroup: 'general' },
        }),
      });
      expect(put.status, await put.clone().text()).toBe(200);
      const mint = async (agentId: string) => {
        const res = await authedFetch(app, 'supervisor')('/api/v1/webrtc/agent-tokens', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ agentId, role: 'agent', ttlMs: 3_600_000 }),
        });
        expect(res.status).toBe(201);
        return ((await res.json()) as { token: string }).token;
      };

      const agent = await browser.newPage();
      const bobPage = await browser.newPage();
      const visitor = await browser.newPage();
      try {
        await agent.goto(`${app.httpUrl}/agent#token=${encodeURIComponent(await mint('alice'))}`);
        await bobPage.goto(`${app.httpUrl}/agent#token=${encodeURIComponent(await mint('bob'))}`);
        await agent.waitForSelector('#chats[data-connection="open"]', { timeout: 15_000 });
        await bobPage.waitForSelector('#chats[data-connection="open"]', { timeout: 15_000 });

        // 1. the visitor starts a chat and writes about a stolen card, with its number
        await visitor.goto(`${app.httpUrl}/call`);
        await visitor.fill('#chat-name', 'Ada Lovelace');
        await visitor.fill('#chat-customer', 'CUST-4242');
        await visitor.fill('#chat-email', 'ada@example.org');
        await visitor.click('#chat-begin');
        await visitor.waitForSelector('#chat[data-state="open"]', { timeout: 10_000 });
        const conversationId = await visitor.getAttribute('#chat', 'data-conversation-id');
        expect(conversationId).toBeTruthy();
        expect(await visitor.isHidden('#chat-file-label')).toBe(true); // chat.uploads off: no file picker
        await visitor.fill('#chat-input', FIRST);
        await visitor.click('#chat-send');
        await visitor.waitForSelector('#chat-log p[data-seq="1"][data-status="delivered"]', { timeout: 10_000 });
        expect(await visitor.textContent('#chat-log p[data-seq="1"]')).toContain('[CARD]');

        // 2. routed by intent to cards: offered to alice, not to bob
        await agent.waitForSelector(`#chat-offers li[data-conversation-id="${conversationId}"][data-group="cards"]`, { timeout: 15_000 });
        const row = app.store.db.prepare(`SELECT group_id, intent, route_reason FROM conversations WHERE id = ?`).get(conversationId) as {
          group_id: string;
          intent: string;
          route_reason: string;
        };
        expect(row).toEqual({ group_id: 'cards', intent: 'lost_or_stolen_card', route_reason: 'intent.group' });
        expect(await bobPage.$(`#chat-offers li[data-conversation-id="${conversationId}"]`)).toBeNull();

        // 3. alice accepts and answers; the visitor sees it, and sees that she read the message
        await agent.click(`#chat-offers li[data-conversation-id="${conversationId}"] button`);
        const held = `#chat-held article[data-conversation-id="${conversationId}"]`;
        await agent.waitForSelector(`${held} p[data-seq="1"]`, { timeout: 10_000 });
        await visitor.waitForSelector('#chat-log p[data-seq="1"][data-status="read"]', { timeout: 10_000 });
        await visitor.fill('#chat-input', 'Are you there?');
        await agent.waitForSelector(`${held} .chat-typing:not([hidden])`, { timeout: 10_000 });
        await visitor.click('#chat-send');
        await agent.fill(`${held} input`, 'Yes, I have blocked the card. Anything else?');
        await agent.click(`${held} button[type="submit"]`);
        await visitor.waitForSelector('#chat-log p[data-from="agent"][data-seq="3"]', { timeout: 10_000 });

        // 4. a network drop: the socket goes, the visitor writes at once; it arrives once, in order
        await visitor.evaluate('window.evxChat.dropConnection()');
        await visitor.fill('#chat-input', 'I also want to talk to you');
        await visitor.click('#chat-send');
        await visitor.waitForSelector('#chat-log p[data-seq="4"][data-status]', { timeout: 15_000 });
        await agent.waitForSelector(`${held} p[data-seq="4"]`, { timeout: 10_000 });
        const stored = app.store.db
          .prepare(`SELECT seq, sender, text FROM conversation_messages WHERE conversation_id = ? ORDER BY seq`)
          .all(conversationId) as { seq: number; sender: string; text: string }[];
        expect(stored.map((m) => [m.seq, m.sender])).toEqual([
          [1, 'visitor'],
          [2, 'visitor'],
          [3, 'agent'],
          [4, 'visitor'],
        ]);

        // 5. the visitor calls from the chat: the call is linked to it; alice answers and sees the chat on the call
        await visitor.click('#chat-call');
        await visitor.waitForSelector('body[data-state="waiting"]', { timeout: 15_000 });
        const callId = await visitor.getAttribute('body', 'data-call-id');
        expect(callId).toBeTruthy();
        await visitor.waitForSelector(`#chat[data-call-id="${callId}"]`, { timeout: 10_000 });
        await agent.click(`button.answer[data-call-id="${callId}"]`, { timeout: 15_000 });
        await agent.waitForSelector(`#call-chat[data-conversation-id="${conversationId}"]:not([hidden]) p[data-seq="4"]`, {
          timeout: 15_000,
        });
        const callChat = await agent.innerText('#call-chat');
        expect(callChat).toContain('[CARD]');
        expect(callChat).toContain('I have blocked the card');
        await visitor.waitForSelector('body[data-state="talking"]', { timeout: 15_000 });

        // 6. the card number, raw, is nowhere: alice's page, the SQLite file and WAL, the log, the bus events
        const agentText = `${await agent.content()}\n${await agent.innerText('body')}`;
        const files = readdirSync(app.config.dataDir).filter((f) => f.startsWith('edgevox.sqlite'));
        expect(files).toContain('edgevox.sqlite-wal');
        const logText = JSON.stringify(log.lines);
        const eventText = JSON.stringify(events);
        for (const raw of CARD_FORMS) {
          expect(agentText.includes(raw), `agent page has ${raw}`).toBe(false);
          for (const f of files)
            expect(readFileSync(path.join(app.config.dataDir, f)).includes(Buffer.from(raw)), `${f} has ${raw}`).toBe(false);
          expect(logText.includes(raw), `log has ${raw}`).toBe(false);
          expect(eventText.includes(raw), `events have ${raw}`).toBe(false);
        }
        // nor what the visitor gave about themselves
        for (const given of ['Ada Lovelace', 'CUST-4242', 'ada@example.org']) {
          for (const f of files)
            expect(readFileSync(path.join(app.config.dataDir, f)).includes(Buffer.from(given)), `${f} has ${given}`).toBe(false);
          expect(logText.includes(given)).toBe(false);
        }
        // the search can find things: the redacted message is in the store, the chat in the log
        expect(files.some((f) => readFileSync(path.join(app.config.dataDir, f)).includes(Buffer.from('I think it was stolen')))).toBe(true);
        expect(log.lines.some((l) => l['msg'] === 'conversation routed')).toBe(true);
        await visitor.click('#hangup');
      } finally {
        await visitor.close();
        await agent.close();
        await bobPage.close();
      }
    }, 180_000);
  },
);
