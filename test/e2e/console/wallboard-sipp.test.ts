/**
 * The wallboard in Chromium while real calls go through the ACD: two sipp callers (silence, so the
 * box routes them to routing's default group `general` after `acd.routeTimeoutS`) dial the box and
 * wait in the queue (general overflows nowhere), nobody being logged in; the second hangs up while waiting (an abandon); then
 * alice's desk phone (baresip, auto answer) registers, she becomes available, the box offers her the
 * first caller and bridges them; she hangs up, which ends the caller's leg (sipp gets the box's BYE).
 *
 * After each step the test waits for the KPIs API (GET /api/v1/acd/kpis) to show the step, then for
 * the page to show the same figures: every tile of `general` and overall (calls waiting, longest
 * wait, service level, ASA, abandoned %, AHT, agents by state) is compared with the API read at the
 * same moment (two equal API reads around the page read; the longest wait, which the page ticks
 * on between events, is checked against the later read as an upper bound). The figures live in the ACD's current
 * interval; the test starts well inside an hour-long interval so none of it crosses a boundary.
 * While alice talks, the supervisor presses Listen on her row: the page calls the supervision API
 * for her call with the phone typed in, and shows the box's refusal (that phone is not registered).
 * Screenshots: wallboard-sipp-queued, wallboard-sipp-en, wallboard-sipp-zh-CN.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markSetupComplete } from '../../../appliance/console/context.js';
import { createUser } from '../../helpers/auth.js';
import { haveBaresip, startBaresip } from '../../helpers/baresip.js';
import {
  AGENT_SENTENCE,
  AGENT_SPEED,
  AGENT_VOICE,
  ALICE_PASSWORD,
  TRAIL_S,
  agentConfig,
  clipDir,
  getJson,
  kpis,
  micWav,
  prompt,
  putRouting,
  requireTools,
  sampleGroups,
  startAcdRig,
  untilAsync,
  type AcdRig,
  type KpisReply,
  type RealTimeKpis,
} from '../acd/harness.js';
import { haveTool, runSipp, sippUacArgs, type SippResult } from '../sip/harness.js';
import { ensureConsoleBuilt, openBrowser, type Browser } from './browser.js';
import type { Page } from 'playwright-core';

const ROUTE_TIMEOUT_S = 1;
/** The KPI interval: one hour, so the test (a few minutes) never spans two. */
const INTERVAL_MINUTES = 60;

/** A sipp caller streaming silence from its own directory; resolves when sipp exits. */
async function sippCaller(target: string, scenario: string, extra: string[]): Promise<{ done: Promise<SippResult>; dir: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'evx-sipp-wallboard-'));
  // two seconds of μ-law silence (0xff), looped or played once by the scenario
  writeFileSync(path.join(dir, 'speech.ulaw'), Buffer.alloc(16_000, 0xff));
  const done = runSipp(await sippUacArgs(target, scenario, extra), dir, 240_000);
  return { done, dir };
}

/** The page's tiles of one view as text. */
async function readTiles(page: Page, name: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const m of ['waiting', 'longest', 'sl', 'asa', 'abandoned', 'aht'])
    out[m] = ((await page.getByTestId(`wb-${name}-${m}`).locator('.wb-value').textContent()) ?? '').trim();
  for (const s of ['available', 'ringing', 'on-call', 'wrap-up', 'away'])
    out[`agents-${s}`] = ((await page.getByTestId(`wb-${name}-agents-${s}`).textContent()) ?? '').trim();
  return out;
}

/** Seconds of a duration as the page writes it ("1m 5s", "12s", "1分钟 5秒"). */
function seconds(text: string): number {
  const n = (text.match(/\d+/g) ?? []).map(Number);
  return n.length >= 2 ? n[0]! * 60 + n[1]! : (n[0] ?? NaN);
}

/** What the page must show for the API's figures of one view (the longest wait apart: it ticks). */
function expectedTiles(locale: string, k: RealTimeKpis): Record<string, string> {
  const i = k.currentInterval as RealTimeKpis['currentInterval'] & {
    serviceLevel: number | null;
    averageSpeedOfAnswerS: number | null;
    averageHandleTimeS: number | null;
  };
  const pct = (r: number | null) =>
    r === null ? '—' : new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 }).format(r);
  const unit = (v: number, u: string) => new Intl.NumberFormat(locale, { style: 'unit', unit: u, unitDisplay: 'narrow' }).format(v);
  const dur = (s: number | null) => {
    if (s === null) return '—';
    const total = Math.round(s);
    const m = Math.floor(total / 60);
    return m > 0 ? `${unit(m, 'minute')} ${unit(total % 60, 'second')}` : unit(total, 'second');
  };
  const ended = i.answered + i.abandoned;
  const num = (n: number) => new Intl.NumberFormat(locale).format(n);
  return {
    waiting: num(k.waiting),
    sl: pct(i.serviceLevel),
    asa: dur(i.averageSpeedOfAnswerS),
    abandoned: pct(ended === 0 ? null : i.abandoned / ended),
    aht: dur(i.averageHandleTimeS),
    ...Object.fromEntries(Object.entries(k.agents).map(([s, n]) => [`agents-${s}`, num(n)])),
  };
}

const stable = (a: KpisReply, b: KpisReply): boolean => {
  const strip = (k: KpisReply) =>
    JSON.stringify({
      ...k,
      at: 0,
      groups: { ...k.groups, general: { ...k.groups['general'], longestWaitingS: 0 } },
      overall: { ...k.overall, longestWaitingS: 0 },
    });
  return strip(a) === strip(b);
};

describe.skipIf(!haveBaresip() || !haveTool('sipp'))('wallboard with real calls (sipp callers, baresip agent)', () => {
  let rig: AcdRig;
  let browser: Browser;
  let clips: { dir: string; remove: () => void } | undefined;
  const dirs: string[] = [];

  beforeAll(async () => {
    requireTools();
    await ensureConsoleBuilt();
    clips = clipDir();
    rig = await startAcdRig({
      console: { httpsPort: -1 },
      acd: { routeTimeoutS: ROUTE_TIMEOUT_S, ringTimeoutS: 20, publishS: 1, intervalMinutes: INTERVAL_MINUTES },
      agents: { wrapUpS: 0 },
    });
    await createUser(rig.app, 'super1', 'supervisor', 'super one password');
    markSetupComplete(rig.app.config.dataDir);
    // general keeps its callers in the queue however long the estimated wait (no callback offer)
    await putRouting(rig.app, sampleGroups({ general: { overflow: { maxWaitMs: 300_000, action: 'none' } } }), [
      agentConfig('alice', 'general', ALICE_PASSWORD),
    ]);
    browser = await openBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await rig?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    clips?.remove();
  });

  /**
   * Wait until the page shows what the API says, read at one moment (two equal API reads around
   * the page's); then assert it (the assertion explains a page that never caught up).
   */
  async function pageMatchesApi(page: Page, locale: string): Promise<KpisReply> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const before = await kpis(rig.app);
      const shown = { general: await readTiles(page, 'general'), overall: await readTiles(page, 'overall') };
      const after = await kpis(rig.app);
      if (stable(before, after)) {
        const want = { general: expectedTiles(locale, after.groups['general']!), overall: expectedTiles(locale, after.overall) };
        const got = {
          general: Object.fromEntries(Object.keys(want.general).map((m) => [m, shown.general[m]])),
          overall: Object.fromEntries(Object.keys(want.overall).map((m) => [m, shown.overall[m]])),
        };
        const same = JSON.stringify(got) === JSON.stringify(want);
        if (same || Date.now() > deadline) {
          expect(got).toEqual(want);
          // The longest wait ticks on the page between events (from the last event's figure), so it
          // is never above the API's read after it (rounded to a second), is a duration while
          // someone waits and a dash when nobody does.
          for (const [view, k] of [
            ['general', after.groups['general']!],
            ['overall', after.overall],
          ] as const) {
            const text = shown[view].longest!;
            if (k.longestWaitingS === null) expect(text, `${view} longest wait`).toBe('—');
            else {
              expect(text, `${view} longest wait`).toMatch(/\d/);
              expect(seconds(text), `${view} longest wait`).toBeLessThanOrEqual(Math.round(k.longestWaitingS) + 1);
            }
          }
          return after;
        }
      }
      await page.waitForTimeout(200);
    }
  }

  it('follows callers queueing, abandoning and being answered, tile for tile with the KPIs API', async () => {
    const { app, bus, phones, explain } = rig;
    // keep clear of an interval boundary (all figures are the current interval's): up to 5 min of
    // waiting for the next interval when the test starts close to its end (the test's limit allows it)
    const intervalMs = INTERVAL_MINUTES * 60_000;
    const left = intervalMs - (Date.now() % intervalMs);
    if (left < 5 * 60_000) await new Promise((r) => setTimeout(r, left + 1000));

    const { page, shot } = browser;
    const base = app.httpUrl;
    await page.goto(base);
    await page.getByTestId('login').waitFor();
    await page.fill('input[name=username]', 'super1');
    await page.fill('input[name=password]', 'super one password');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('who').waitFor();
    await page.goto(`${base}/#/wallboard`);
    await page.getByTestId('wb-general-waiting').waitFor();
    const general = (k: KpisReply) => k.groups['general']!;
    const start = await pageMatchesApi(page, 'en');
    expect(general(start).waiting).toBe(0);
    expect(general(start).currentInterval.offered).toBe(0);

    const target = `127.0.0.1:${app.sip!.port}`;
    const greetingMs = prompt('greeting').durationMs;
    const fail = (what: string) => (k: KpisReply) => {
      throw new Error(`${what}: ${JSON.stringify(general(k))}\n${explain()}`);
    };
    const waitKpis = async (what: string, cond: (g: RealTimeKpis) => boolean, timeoutMs = 60_000) => {
      const k = await untilAsync(
        () => kpis(app),
        (x) => cond(general(x)),
        timeoutMs,
        200,
      );
      if (!cond(general(k))) fail(what)(k);
      return k;
    };

    // 1. caller A waits until the box hangs up on it; nobody is logged in, so it queues
    const a = await sippCaller(target, 'uac-wait-for-bye.xml', []);
    dirs.push(a.dir);
    await waitKpis('caller A queued', (g) => g.waiting === 1);
    // 2. caller B hangs up by itself well after being queued: an abandon
    const b = await sippCaller(target, 'uac-pcmu-speech.xml', ['-d', String(greetingMs + ROUTE_TIMEOUT_S * 1000 + 20_000)]);
    dirs.push(b.dir);
    await waitKpis('caller B queued', (g) => g.waiting === 2);
    const queued = await pageMatchesApi(page, 'en');
    expect(general(queued).currentInterval.offered).toBe(2);
    expect(general(queued).longestWaitingS).not.toBeNull();
    await expect(page.getByTestId('wb-general-longest').locator('.wb-value').textContent()).resolves.not.toBe('—');
    await shot('wallboard-sipp-queued');

    const bDone = await b.done;
    expect(bDone.code, `${bDone.stdout}\n${bDone.stderr}\n${explain()}`).toBe(0);
    await waitKpis('caller B abandoned', (g) => g.currentInterval.abandoned === 1 && g.waiting === 1);
    const abandoned = await pageMatchesApi(page, 'en');
    expect(general(abandoned).currentInterval.answered).toBe(0);
    await expect(page.getByTestId('wb-general-abandoned').locator('.wb-value').textContent()).resolves.toBe('100%');
    await expect(page.getByTestId('wb-general-abandoned').getAttribute('data-level')).resolves.toBe('red');

    // 3. alice's phone registers: she becomes available, the box offers her A, she answers at once
    const agentWav = micWav(clips!.dir, 'alice', AGENT_SENTENCE, AGENT_VOICE, AGENT_SPEED, 1.5, TRAIL_S);
    const alice = await startBaresip({
      wav: agentWav,
      user: 'alice',
      registrar: target,
      password: ALICE_PASSWORD,
      regint: 600,
      answerMode: 'auto',
    });
    phones.push(alice);
    await bus.wait((e) => e.type === 'agent.state' && e.agentId === 'alice' && e.to === 'on-call', 60_000, 'alice on-call', explain);
    await waitKpis('A answered', (g) => g.currentInterval.answered === 1 && g.waiting === 0 && g.agents['on-call'] === 1);
    const answered = await pageMatchesApi(page, 'en');
    expect(general(answered).currentInterval.averageSpeedOfAnswerS).not.toBeNull();
    await expect(page.getByTestId('wb-general-agents-on-call').textContent()).resolves.toBe('1');

    // 3b. listen in from alice's row: the page asks the box to ring the supervisor's phone into her
    // bridged call; `sup9` has no registered phone, so the box refuses (409, past the 404 of a call
    // that is not bridged) and the page shows its reason, never a success
    await page.getByTestId('wb-agent-alice').filter({ hasText: 'On a call' }).waitFor();
    await page.fill('#wb-my-phone', 'sup9');
    const isStart = (method: string, url: string) => method === 'POST' && /\/api\/v1\/acd\/calls\/[^/]+\/supervision$/.test(url);
    const request = page.waitForRequest((r) => isStart(r.method(), r.url()));
    const response = page.waitForResponse((r) => isStart(r.request().method(), r.url()));
    await page.getByTestId('wb-listen-alice').click();
    const [sent, answer] = await Promise.all([request, response]);
    expect(sent.postDataJSON()).toEqual({ supervisorId: 'sup9', mode: 'listen' });
    const aliceNow = (
      await getJson<{ agents: { agentId: string; callId: string | null }[] }>(app, '/api/v1/agents', 'supervisor')
    ).agents.find((x) => x.agentId === 'alice');
    expect(sent.url()).toContain(`/api/v1/acd/calls/${encodeURIComponent(aliceNow!.callId!)}/supervision`);
    expect(answer.status()).toBe(409);
    const refusal = (await answer.json()) as { error: { code: string; message: string } };
    expect(refusal.error.code).toBe('EVX_ERR_SUPERVISION_STATE');
    await expect(page.getByTestId('wb-supervision-status').textContent()).resolves.toBe(refusal.error.message);
    await expect(page.getByTestId('wb-supervision-status').getAttribute('class')).resolves.toContain('error');

    // 4. alice hangs up: the box ends A's leg (its sipp exits cleanly), the call is handled
    await alice.hangup();
    const aDone = await a.done;
    expect(aDone.code, `${aDone.stdout}\n${aDone.stderr}\n${explain()}`).toBe(0);
    await waitKpis('A handled', (g) => g.currentInterval.handled === 1 && g.agents['on-call'] === 0);
    const handled = await pageMatchesApi(page, 'en');
    expect(general(handled).currentInterval.averageHandleTimeS).not.toBeNull();
    expect(general(handled).currentInterval).toMatchObject({ offered: 2, answered: 1, abandoned: 1 });
    await expect(page.getByTestId('wb-general-aht').locator('.wb-value').textContent()).resolves.not.toBe('—');
    await shot('wallboard-sipp-en');

    // the same figures in Chinese
    await page.evaluate("localStorage.setItem('edgevox.lang', 'zh-CN')");
    await page.reload();
    await page.getByTestId('wb-general-abandoned').waitFor();
    await expect(page.locator('.wallboard h1').textContent()).resolves.toBe('监控大屏');
    await pageMatchesApi(page, 'zh-CN');
    await shot('wallboard-sipp-zh-CN');
    await page.evaluate("localStorage.setItem('edgevox.lang', 'en')");
  }, 720_000);
});
