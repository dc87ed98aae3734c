/**
 * The embeddable chat snippet in headless Chromium against a real appliance. Two sites on other
 * loopback ports paste `<script src="<box>/chat/embed.js" async>`: the one in chat.allowedOrigins
 * gets the launcher, the framed chat page and a working chat (the message is stored, redacted, and
 * closing the chat stores its analysis); the other gets the launcher but the browser refuses the
 * frame (CSP frame-ancestors) and the chat socket refuses its Origin. Hostile snippet attributes
 * (markup in data-label, a javascript: data-box) are shown as text / ignored.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authedFetch } from '../../helpers/auth.js';
import { SHARED_DIR } from '../../helpers/paths.js';
import { workerBin } from '../../integration/webrtc/harness.js';
import { buildPages, captureWav, haveChromium, launchChromium } from './browser.js';
import { plantedIn } from '../../helpers/planted.js';

const RTC_PORTS = { rtcPortMin: 63000, rtcPortMax: 63999 };
const clipPath = path.join(SHARED_DIR, 'datasets', 'speech-en', '0.wav');

/** A site's page: only the snippet, as a technician would paste it. */
function site(html: () => string): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html());
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })),
  );
}

/** Whether a WebSocket from this page to the box's chat socket opens. */
function socketOpens(page: Page, url: string): Promise<boolean> {
  return page.evaluate(
    (u) =>
      new Promise<boolean>((resolve) => {
        const ws = new WebSocket(u);
        ws.onopen = () => {
          ws.close();
          resolve(true);
        };
        ws.onerror = () => resolve(false);
      }),
    url,
  );
}

async function openFrame(page: Page): Promise<Frame> {
  await page.click('#evx-chat-launcher');
  const handle = await page.waitForSelector('#evx-chat-frame', { timeout: 10_000 });
  const frame = await handle.contentFrame();
  if (frame === null) throw new Error('no frame');
  await frame.waitForLoadState('load');
  return frame;
}

describe.skipIf(workerBin === undefined || !haveChromium())('embeddable chat snippet', () => {
  let app: Appliance;
  let browser: Browser;
  let mic: ReturnType<typeof captureWav>;
  let allowed: { server: Server; origin: string };
  let other: { server: Server; origin: string };
  let box = '';

  beforeAll(async () => {
    buildPages();
    const snippet = () => `<!doctype html><html><head><title>Bank</title></head><body><h1>Our bank</h1>
      <script src="${box}/chat/embed.js" data-label="&lt;img src=x onerror=&quot;window.pwned=1&quot;&gt; Help" data-box="javascript:alert(1)" async></script>
      </body></html>`;
    allowed = await site(snippet);
    other = await site(snippet);
    mic = captureWav(clipPath, 1, 5);
    browser = await launchChromium(mic.file);
    ({ app } = await startTestAppliance({ webrtc: { workers: 1, ...RTC_PORTS }, chat: { allowedOrigins: [allowed.origin] } }));
    box = app.httpUrl;
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    allowed?.server.close();
    other?.server.close();
    mic?.cleanup();
  });

  it('an allowed site embeds the chat and the visitor chats through it', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${allowed.origin}/`);
      await page.waitForSelector('#evx-chat-launcher', { timeout: 10_000 });
      // Markup in data-label is text; data-box that is not http(s) is ignored (the frame is the box's).
      expect(await page.textContent('#evx-chat-launcher')).toBe('<img src=x onerror="window.pwned=1"> Help');
      expect(await page.$('#evx-chat-launcher img')).toBeNull();
      const frame = await openFrame(page);
      expect(frame.url()).toBe(`${box}/chat/frame`);
      await frame.waitForSelector('#chat-begin', { timeout: 10_000 });
      await frame.click('#chat-begin');
      await frame.waitForSelector('#chat[data-state="open"]', { timeout: 10_000 });
      const conversationId = await frame.getAttribute('#chat', 'data-conversation-id');
      await frame.fill('#chat-input', 'Hello, my card 4111 1111 1111 1111 is lost and I am upset');
      await frame.click('#chat-send');
      await frame.waitForSelector('#chat-log p[data-seq="1"][data-status="delivered"]', { timeout: 10_000 });
      const row = app.store.db.prepare(`SELECT text FROM conversation_messages WHERE conversation_id = ?`).get(conversationId) as {
        text: string;
      };
      expect(row.text).toContain('[CARD]');
      // The message's sentiment is stored; closing the chat stores its analysis.
      expect(
        app.store.db.prepare(`SELECT label FROM conversation_message_sentiment WHERE conversation_id = ?`).get(conversationId),
      ).toEqual({
        label: 'negative',
      });
      await frame.click('#chat-end');
      await expect
        .poll(() => app.store.db.prepare(`SELECT channel FROM conversation_analysis WHERE conversation_id = ?`).get(conversationId), {
          timeout: 10_000,
        })
        .toEqual({ channel: 'chat' });
      // The console reads it: the QA list of conversations (channel shown) and the conversation's analysis.
      const list = (await (await authedFetch(app)('/api/v1/qa/conversations')).json()) as {
        conversations: { conversationId: string; channel: string }[];
      };
      expect(list.conversations.find((x) => x.conversationId === conversationId)?.channel).toBe('chat');
      const res = await authedFetch(app)(`/api/v1/conversations/${conversationId}/analysis`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        qa: { results: { ruleId: string; outcome: string }[] };
        messages: { label: string }[];
        summary: { text: string };
      };
      expect(body.qa.results.find((r) => r.ruleId === 'silence')?.outcome).toBe('na');
      expect(body.messages.map((m) => m.label)).toEqual(['negative']);
      expect(plantedIn(JSON.stringify(body), ['4111'])).toEqual([]);
      expect((await fetch(`${box}/api/v1/conversations/${conversationId}/analysis`)).status).toBe(401);
      expect((await authedFetch(app)('/api/v1/conversations/..%2F..%2Fetc/analysis')).status).toBe(404);
      // The site's own page may open the socket too (its origin is allowed).
      expect(await socketOpens(page, `${box.replace('http', 'ws')}/api/v1/chat/socket`)).toBe(true);
      expect(await page.evaluate('window.pwned')).toBeUndefined();
    } finally {
      await page.close();
    }
  });

  it('a site not in chat.allowedOrigins: the frame is blocked and the socket refused', async () => {
    const page = await browser.newPage();
    const refusals: string[] = [];
    page.on('console', (m) => {
      if (m.text().includes('frame-ancestors')) refusals.push(m.text());
    });
    try {
      await page.goto(`${other.origin}/`);
      await page.waitForSelector('#evx-chat-launcher', { timeout: 10_000 });
      const frame = await openFrame(page);
      // The browser shows its error page instead of the chat: none of the chat page is there.
      expect(await frame.$('#chat')).toBeNull();
      await expect.poll(() => refusals.length, { timeout: 10_000 }).toBeGreaterThan(0);
      expect(await socketOpens(page, `${box.replace('http', 'ws')}/api/v1/chat/socket`)).toBe(false);
    } finally {
      await page.close();
    }
  });
});
