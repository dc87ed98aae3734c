/**
 * A caller whose number matches an earlier chat gets that chat in the softphone's screen-pop, with
 * real peers: a visitor chats on the box's real chat socket with a site-signed identity token that
 * carries phone number P (chat.identitySecret) and writes a card number; another visitor only types
 * number Q. A sipp caller from P is routed by the ACD to alice's softphone page (headless Chromium):
 * with the offer the page shows P's customer, the open chat first (its channel, state and last
 * messages, the card number redacted), and still after Answer. A sipp caller from Q gets a customer
 * with no open case: the chat where Q was only typed is not in it. Neither number, nor the raw card
 * number, is anywhere in the page. Prints "call offered -> customer shown in softphone: N ms".
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import type { ChatServerMessage } from '../../../appliance/conversations/chatProtocol.js';
import { mintIdentityToken } from '../../../appliance/customers/identityToken.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { startTestAppliance, type CapturedLog } from '../../helpers/appliance.js';
import { authedFetch } from '../../helpers/auth.js';
import { SHARED_DIR } from '../../helpers/paths.js';
import { workerBin } from '../../integration/webrtc/harness.js';
import { SCENARIOS, haveTool, runSipp, sippUacArgs } from '../sip/harness.js';
import { buildPages, captureWav, haveChromium, launchChromium } from './browser.js';

interface Ws {
  send(data: string): void;
  close(): void;
  on(event: 'message', l: (data: Buffer) => void): void;
  on(event: 'open', l: () => void): void;
  on(event: 'error', l: (err: Error) => void): void;
}
const WebSocket = createRequire(import.meta.url)('ws') as new (url: string, opts?: { origin?: string }) => Ws;

const clipPath = path.join(SHARED_DIR, 'datasets', 'speech-en', '0.wav');
/** WebRTC ports apart from the other browser tests' (and above the ephemeral range). */
const RTC_PORTS = { rtcPortMin: 65000, rtcPortMax: 65499 };
const ID_SECRET = 'site-identity-secret-for-the-e2e-0123456789';
/** The number of test/scenarios/uac-pcmu-speech.xml's caller. */
const P = '+15550100';
/** Another caller's number, only ever typed by a chat visitor. */
const Q = '+15550177';
const CARD = '4111 1111 1111 1111';

/** Bus events as they come, with waiters that never miss an early one. */
class Watch {
  readonly items: { at: number; e: ApplianceEvent }[] = [];
  private waiters: { pred: (e: ApplianceEvent) => boolean; resolve: (at: number) => void }[] = [];
  push(e: ApplianceEvent): void {
    const at = Date.now();
    this.items.push({ at, e });
    for (const w of this.waiters.filter((x) => x.pred(e))) {
      this.waiters = this.waiters.filter((x) => x !== w);
      w.resolve(at);
    }
  }
  wait(pred: (e: ApplianceEvent) => boolean, timeoutMs: number, what: string): Promise<number> {
    const seen = this.items.find((i) => pred(i.e));
    if (seen) return Promise.resolve(seen.at);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      });
    });
  }
}

/** A chat visitor on the real chat socket: starts with `start`, writes `text`, keeps the socket open. */
async function visitorChat(httpUrl: string, start: Record<string, unknown>, text: string): Promise<{ conversationId: string; ws: Ws }> {
  const ws = new WebSocket(`${httpUrl.replace(/^http/, 'ws')}/api/v1/chat/socket`, { origin: httpUrl });
  const inbox: ChatServerMessage[] = [];
  let wake: () => void = () => undefined;
  ws.on('message', (d) => {
    inbox.push(JSON.parse(d.toString('utf8')) as ChatServerMessage);
    wake();
  });
  const next = async (type: ChatServerMessage['type']): Promise<ChatServerMessage> => {
    const end = Date.now() + 10_000;
    for (;;) {
      const i = inbox.findIndex((m) => m.type === type || m.type === 'error');
      if (i >= 0) {
        const m = inbox.splice(i, 1)[0]!;
        if (m.type === 'error') throw new Error(`chat error ${JSON.stringify(m)}`);
        return m;
      }
      if (Date.now() > end) throw new Error(`no ${type} on the chat socket`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 100);
      });
    }
  };
  await new Promise<void>((resolve, reject) => {
    ws.on('open', () => resolve());
    ws.on('error', reject);
  });
  ws.send(JSON.stringify({ type: 'start', ...start }));
  const started = (await next('started')) as Extract<ChatServerMessage, { type: 'started' }>;
  ws.send(JSON.stringify({ type: 'message', clientId: 'm1', text }));
  await next('ack');
  return { conversationId: started.conversationId, ws };
}

describe.skipIf(workerBin === undefined || !haveChromium() || !haveTool('sipp') || !haveTool('sox'))(
  'the softphone’s screen-pop shows the caller’s open chat first',
  () => {
    let app: Appliance;
    let log: CapturedLog;
    let browser: Browser;
    let mic: ReturnType<typeof captureWav>;
    let work = '';
    const bus = new Watch();

    beforeAll(async () => {
      buildPages();
      mic = captureWav(clipPath, 1, 3);
      browser = await launchChromium(mic.file);
      ({ app, log } = await startTestAppliance({
        webrtc: { workers: 1, ...RTC_PORTS },
        acd: { mode: 'acd', ringTimeoutS: 30 },
        agents: { wrapUpS: 0 },
        routing: { maxUtterancesBeforeDefault: 1 },
        chat: { identitySecret: ID_SECRET },
      }));
      app.bus.subscribe((e) => {
        if (e.type !== 'asr.partial') bus.push(e);
      });
      work = mkdtempSync(path.join(tmpdir(), 'evx-softphone-customer-'));
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
      await app?.close();
      mic?.cleanup();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    /** A sipp caller from `number` saying the clip after 1 s, then `tailS` of silence; `started`: its call id. */
    const dial = async (number: string, tailS: number) => {
      const dir = mkdtempSync(path.join(work, 'caller-'));
      execFileSync('sox', [
        clipPath,
        '-r',
        '8000',
        '-c',
        '1',
        '-b',
        '16',
        '-t',
        'ul',
        path.join(dir, 'speech.ulaw'),
        'pad',
        '1',
        String(tailS),
      ]);
      const talkMs = Math.ceil(statSync(path.join(dir, 'speech.ulaw')).size / 8) + 500;
      const scenario = path.join(dir, 'uac.xml');
      writeFileSync(scenario, readFileSync(path.join(SCENARIOS, 'uac-pcmu-speech.xml'), 'utf8').replaceAll(`sip:${P}@`, `sip:${number}@`));
      const args = await sippUacArgs(`127.0.0.1:${app.sip!.port}`, 'uac-pcmu-speech.xml', [
        '-d',
        String(talkMs),
        '-timeout',
        '90s',
        '-timeout_error',
      ]);
      args[args.indexOf('-sf') + 1] = scenario;
      const started = new Promise<string>((resolve) => app.sip!.events.once('call.started', (e) => resolve(e.callId)));
      return { started, sipp: runSipp(args, dir, 100_000) };
    };

    /** The box offers the call to alice: when its agent state went to ringing (bus) and when the page got the offer. */
    const offered = async (page: Page, callId: string): Promise<{ ringingAt: number; pageAt: number }> => {
      const ringingAt = await bus.wait(
        (e) => e.type === 'agent.state' && e.agentId === 'alice' && e.to === 'ringing' && e.callId === callId,
        40_000,
        'alice ringing',
      );
      await page.waitForSelector(`body[data-offer="ringing"][data-offer-call-id="${callId}"]`, { timeout: 10_000 });
      return { ringingAt, pageAt: Number(await page.getAttribute('body', 'data-offer-at')) };
    };

    it('P’s verified chat comes first in the screen-pop of P’s call; Q, only typed in a chat, gets no open case', async () => {
      const explain = (): string =>
        log.lines
          .filter((l) => (l['level'] as number) >= 30)
          .slice(-30)
          .map((l) => JSON.stringify(l))
          .join('\n');
      const put = await authedFetch(app)('/api/v1/routing/config', {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          groups: [{ id: 'general', name: 'General', intents: [], adjacent: [], overflow: { maxWaitMs: 300_000, action: 'none' } }],
          agents: [
            { id: 'alice', name: 'Alice', sipUri: 'sip:alice@127.0.0.1:5060', senior: false, skills: [{ group: 'general', level: 3 }] },
          ],
          rules: { defaultGroup: 'general' },
        }),
      });
      expect(put.status, await put.clone().text()).toBe(200);
      const minted = await authedFetch(app, 'supervisor')('/api/v1/webrtc/agent-tokens', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ agentId: 'alice', role: 'agent', ttlMs: 3_600_000 }),
      });
      expect(minted.status).toBe(201);
      const { token } = (await minted.json()) as { token: string };

      // 1. two chats: one signed in on the site as P (verified), one where the visitor typed Q (a claim)
      const identity = mintIdentityToken(ID_SECRET, { customerId: 'SITE-77', phone: P, expiresAtMs: Date.now() + 3_600_000 });
      const verified = await visitorChat(app.httpUrl, { identity }, `I was charged twice on my card ${CARD}, please help`);
      const typed = await visitorChat(app.httpUrl, { phone: Q }, 'Where is my parcel?');
      const page = await browser.newPage();
      try {
        await page.goto(`${app.httpUrl}/agent#token=${encodeURIComponent(token)}`);
        await page.waitForSelector('body[data-presence="ready"]', { timeout: 10_000 });

        // 2. the caller from P: offered to alice, her screen-pop shows the verified chat first
        const first = await dial(P, 10);
        const firstId = await first.started;
        const offer = await offered(page, firstId);
        const pop = `#customer[data-call-id="${firstId}"][data-customer="shown"]`;
        await page.waitForSelector(pop, { timeout: 10_000 });
        const shownAt = Number(await page.getAttribute('#customer', 'data-shown-at'));
        // "offered": the box moved alice to ringing (the page's receipt of the offer when that came first)
        const shownMs = shownAt - Math.min(offer.ringingAt, offer.pageAt);
        console.info(
          `call offered -> customer shown in softphone: ${shownMs} ms ` +
            `(ringing on the box -> offer in the page ${offer.pageAt - offer.ringingAt} ms, offer -> customer shown ${shownAt - offer.pageAt} ms)`,
        );
        expect(shownMs, explain()).toBeGreaterThanOrEqual(0);
        expect(shownAt).toBeGreaterThanOrEqual(offer.pageAt);
        const cases = await page.evaluate<(string | null)[][]>(
          `[...document.querySelectorAll('#customer-open article')].map((e) => ['data-conversation-id', 'data-channel', 'data-state'].map((a) => e.getAttribute(a)))`,
        );
        expect(cases).toEqual([[verified.conversationId, 'chat', 'waiting']]);
        const caseText = await page.innerText('#customer-open article');
        expect(caseText).toContain('Chat');
        expect(caseText).toContain('[CARD]');
        expect(caseText).toContain('charged twice');
        expect(await page.getAttribute('#customer', 'data-open-cases')).toBe('1');

        // 3. Answer: the call's screen-pop keeps the customer
        await page.click('#offer-answer');
        await page.waitForSelector('body[data-state="in-call"]', { timeout: 15_000 });
        expect(await page.$(`${pop} article[data-conversation-id="${verified.conversationId}"]`)).not.toBeNull();
        const r1 = await first.sipp;
        expect(r1.code, r1.stdout + r1.stderr).toBe(0);
        await page.waitForSelector('body[data-state="idle"]', { timeout: 15_000 });
        await bus.wait(
          (e) =>
            e.type === 'agent.state' && e.agentId === 'alice' && (e.from === 'on-call' || e.from === 'wrap-up') && e.to === 'available',
          15_000,
          'alice available again',
        );

        // 4. the caller from Q: a customer, but no open case (Q was only typed in the other chat)
        const second = await dial(Q, 8);
        const secondId = await second.started;
        await offered(page, secondId);
        await page.waitForSelector(`#customer[data-call-id="${secondId}"][data-customer="shown"]`, { timeout: 10_000 });
        expect(await page.getAttribute('#customer', 'data-open-cases')).toBe('0');
        expect(await page.$$('#customer-open article')).toHaveLength(0);
        const text = `${await page.content()}\n${await page.innerText('body')}`;
        expect(text).not.toContain(typed.conversationId);
        expect(text).not.toContain('Where is my parcel');
        for (const secret of [P, Q, P.slice(1), Q.slice(1), CARD, CARD.replace(/ /g, '')])
          expect(text.includes(secret), `the page has ${secret}`).toBe(false);
        const r2 = await second.sipp;
        expect(r2.code, r2.stdout + r2.stderr).toBe(0);
      } finally {
        verified.ws.close();
        typed.ws.close();
        await page.close();
      }
    }, 180_000);
  },
);
