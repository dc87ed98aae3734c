/**
 * Day-to-day console use in a real browser: sign in and out, lockout after repeated bad passwords,
 * a live sipp call appearing with its streaming transcript, history search and call detail, a
 * setting changed and rolled back, diagnostics, and a backup exported here and restored on a new box.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { markSetupComplete } from '../../../appliance/console/context.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authedFetch, createUser, quietApplianceOverrides } from '../../helpers/auth.js';
import { SHARED_DIR, scratchDir } from '../../helpers/paths.js';
import { speechClip } from '../../helpers/speech.js';
import { freePort, haveTool, prepareClip, runSipp, SCENARIOS, type Workdir } from '../sip/harness.js';
import { ensureConsoleBuilt, openBrowser, type Browser } from './browser.js';
import type { Page } from 'playwright-core';

let app: Appliance;
let browser: Browser;
let work: Workdir;

beforeAll(async () => {
  if (!haveTool('sipp') || !haveTool('sox')) throw new Error('sipp (sip-tester) and sox are required: run make setup');
  await ensureConsoleBuilt();
  work = prepareClip(path.join(SHARED_DIR, 'datasets', 'speech-en', '0.wav'));
  ({ app } = await startTestAppliance(quietApplianceOverrides({ console: { httpsPort: -1, lockoutThreshold: 3 } })));
  await createUser(app, 'tech1', 'technician', 'tech one password');
  await createUser(app, 'super1', 'supervisor', 'super one password');
  await createUser(app, 'victim', 'viewer', 'correct horse 1');
  markSetupComplete(app.config.dataDir);
  browser = await openBrowser();
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
  work?.cleanup();
});

/** Sign in from a signed-out browser, so no test depends on the session an earlier one left behind. */
async function signIn(page: Page, base: string, username: string, password: string): Promise<void> {
  await page.context().clearCookies();
  await page.goto(base);
  await page.getByTestId('login').waitFor();
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.getByTestId('login-submit').click();
}

describe('console operations', () => {
  it('signs in and out, and locks an account after repeated bad passwords', async () => {
    const { page, shot } = browser;
    await signIn(page, app.httpUrl, 'victim', 'wrong password A');
    await expect(page.getByTestId('login-error').textContent()).resolves.toContain('wrong username or password');
    await shot('login-error');
    await signIn(page, app.httpUrl, 'victim', 'wrong password B');
    await signIn(page, app.httpUrl, 'victim', 'wrong password C');
    await expect(page.getByTestId('login-error').textContent()).resolves.toContain('account locked');
    // Locked means locked: the right password is refused too.
    await signIn(page, app.httpUrl, 'victim', 'correct horse 1');
    await expect(page.getByTestId('login-error').textContent()).resolves.toContain('account locked');
    await shot('login-locked');

    await signIn(page, app.httpUrl, 'super1', 'super one password');
    await page.getByTestId('live').waitFor();
    await expect(page.getByTestId('who').textContent()).resolves.toContain('super1 · supervisor');
    await page.getByTestId('logout').click();
    await page.getByTestId('login').waitFor();
    await shot('login');
    const session = (await (await page.request.get(`${app.httpUrl}/api/v1/auth/session`)).json()) as { authenticated: boolean };
    expect(session.authenticated).toBe(false);
  });

  it('shows a live sipp call with its streaming transcript, then finds it in the history', async () => {
    const { page, shot } = browser;
    await signIn(page, app.httpUrl, 'super1', 'super one password');
    await page.getByTestId('live').waitFor();
    // The label says 'reconnecting…' until the event socket opens: wait for the text, do not read it at once.
    await page
      .getByTestId('live-connection')
      .filter({ hasText: /^live$/ })
      .waitFor({ timeout: 10_000 });
    const { reference } = speechClip('0.wav');
    const durationMs = Math.ceil(work.ulaw.length / 8) + 1500;
    const call = runSipp(
      [
        `127.0.0.1:${app.sip!.port}`,
        '-sf',
        path.join(SCENARIOS, 'uac-pcmu-speech.xml'),
        '-m',
        '1',
        '-d',
        String(durationMs),
        '-i',
        '127.0.0.1',
        '-p',
        String(await freePort()),
        '-mi',
        '127.0.0.1',
        '-mp',
        String(await freePort(true)),
        '-timeout',
        '40s',
        '-timeout_error',
      ],
      work.dir,
      45_000,
    );
    const card = page.getByTestId('live-call').first();
    await card.waitFor({ timeout: 10_000 });
    // Transcript lines arrive while the call is still up.
    const activeTranscript = page.locator('[data-testid=live-call].active [data-testid=live-transcript]');
    await expect
      .poll(async () => ((await activeTranscript.textContent()) ?? '').split(/\s+/).length, { timeout: 30_000, interval: 200 })
      .toBeGreaterThan(4);
    await shot('live-call');
    const r = await call;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    await page.waitForSelector('[data-testid=live-call].ended', { timeout: 10_000 });
    const text = ((await card.getByTestId('live-transcript').textContent()) ?? '').toLowerCase();
    const refWords = reference
      .toLowerCase()
      .split(/\s+/)
      .filter((w) => w.length > 3);
    const heard = refWords.filter((w) => text.includes(w)).length;
    expect(heard / refWords.length, text).toBeGreaterThan(0.7);
    // Charts are drawn (SVG), and the calls-per-hour chart counts the call.
    await page.locator('[data-testid=chart-calls-per-hour][data-total="1"]').waitFor();
    await shot('live-after-call');

    const word = refWords.sort((a, b) => b.length - a.length)[0]!;
    await page.click('a[href="#/history"]');
    await page.getByTestId('history').waitFor();
    await page.fill('input[name=q]', word);
    await page.getByTestId('history-search').click();
    await page
      .getByTestId('history-table')
      .filter({ hasText: new RegExp(word, 'i') })
      .waitFor();
    await shot('history');
    await page.getByTestId('history-row').first().locator('a').click();
    await page.getByTestId('call-detail').waitFor();
    await expect(page.getByTestId('call-transcript').textContent()).resolves.toContain(word.toUpperCase());
    await shot('call-detail');
    await page.getByTestId('logout').click();
    await page.getByTestId('login').waitFor();
  });

  it('changes a setting, sees the diff, and rolls it back', async () => {
    const { page, shot } = browser;
    await signIn(page, app.httpUrl, 'tech1', 'tech one password');
    await page.getByTestId('live').waitFor();
    await page.click('a[href="#/config"]');
    await page.getByTestId('config-form').waitFor();
    const before = ((await (await authedFetch(app)('/api/v1/config')).json()) as { version: number }).version;
    // The result line is filled in when the appliance answers: wait for the text, do not read it at once.
    const resultSays = (text: string) => page.getByTestId('config-result').filter({ hasText: text }).waitFor({ timeout: 10_000 });
    // An invalid value gets the appliance's message, naming the key.
    await page.fill('input[name="calls.maxConcurrent"]', '0');
    await page.getByTestId('config-save').click();
    await resultSays("key 'calls.maxConcurrent'");
    await page.fill('input[name="calls.maxConcurrent"]', '60');
    await page.fill('input[name="site.name"]', 'Leeds Branch (renamed)');
    await page.fill('input[name=config-comment]', 'more room for the campaign');
    await page.getByTestId('config-save').click();
    await resultSays('Needs a restart: calls.maxConcurrent');
    await expect(page.getByTestId('site-name').textContent()).resolves.not.toBe('Leeds Branch (renamed)'); // header refreshes on reload only
    await expect(page.getByTestId('restart-required').textContent()).resolves.toContain('calls.maxConcurrent');
    await page.getByTestId(`diff-${before}`).click();
    const diff = page.getByTestId('config-diff');
    await expect(diff.textContent()).resolves.toMatch(/site\.name.*Leeds Branch \(renamed\)/s);
    await expect(diff.textContent()).resolves.toMatch(/calls\.maxConcurrent.*120.*60/s);
    await shot('config-diff');
    await page.getByTestId(`rollback-${before}`).click();
    await resultSays(`Rolled back to version ${before}`);
    await page.getByTestId('restart-required').waitFor({ state: 'detached' });
    const cfg = (await (await authedFetch(app)('/api/v1/config')).json()) as {
      config: { site: { name: string }; calls: { maxConcurrent: number } };
      restartRequired: string[];
    };
    expect(cfg.config.calls.maxConcurrent).toBe(120);
    expect(cfg.config.site.name).toBe('EdgeVox appliance');
    expect(cfg.restartRequired).toEqual([]);
    await shot('config');
  });

  it('lists callback requests with masked numbers and the day’s figures; a supervisor cancels a pending one', async () => {
    const { page, shot } = browser;
    const callbacks = app.acd!.callbacks;
    const kept = callbacks.request('console-call-1', 'cards', 'sip:+4930123456@trunk.example;user=phone');
    const other = callbacks.request('console-call-2', 'loans', 'tel:+441632960042');
    callbacks.offerAnswered(callbacks.offered('console-call-1', 'cards'), 'accepted');
    // offers that did not end in a request: one caller hung up on it, two let it time out, one declined
    callbacks.offerAnswered(callbacks.offered('console-call-3', 'cards'), 'hung-up');
    callbacks.offerAnswered(callbacks.offered('console-call-4', 'cards'), 'none');
    callbacks.offerAnswered(callbacks.offered('console-call-5', 'loans'), 'none');
    callbacks.offerAnswered(callbacks.offered('console-call-6', 'loans'), 'declined');
    await signIn(page, app.httpUrl, 'super1', 'super one password');
    await page.goto(`${app.httpUrl}/#/callbacks`);
    await page.getByTestId(`callback-${kept.id}`).waitFor();
    const row = (await page.getByTestId(`callback-${kept.id}`).textContent()) ?? '';
    expect(row).toContain('••••••56');
    expect(row).toContain('pending');
    expect(await page.getByTestId('callbacks').textContent()).not.toMatch(/4930123456|1632960042/);
    await expect(page.getByTestId('callback-kpi-offered').textContent()).resolves.toMatch(/^5\s*offered/);
    await expect(page.getByTestId('callback-kpi-accepted').textContent()).resolves.toMatch(/^1\s*accepted/);
    await expect(page.getByTestId('callback-kpi-hungUp').textContent()).resolves.toMatch(/^1\s*hung up/);
    await expect(page.getByTestId('callback-kpi-noAnswer').textContent()).resolves.toMatch(/^2\s*no answer/);
    await expect(page.getByTestId('callback-kpi-pending').textContent()).resolves.toMatch(/^2\s*pending/);
    await page.getByTestId(`callback-cancel-${other.id}`).click();
    const state = page.getByTestId(`callback-state-${other.id}`);
    for (let i = 0; i < 100 && (await state.textContent()) !== 'cancelled'; i++) await page.waitForTimeout(100);
    await expect(state.textContent()).resolves.toBe('cancelled');
    expect(callbacks.get(other.id)?.state).toBe('cancelled');
    await expect(page.getByTestId(`callback-cancel-${other.id}`).count()).resolves.toBe(0);
    await shot('callbacks');
  });

  it('shows diagnostics and hands out a support bundle', async () => {
    const { page, shot } = browser;
    await signIn(page, app.httpUrl, 'tech1', 'tech one password');
    await page.getByTestId('live').waitFor();
    await page.click('a[href="#/diagnostics"]');
    await page.getByTestId('diagnostics').waitFor();
    await expect(page.getByTestId('listeners').textContent()).resolves.toContain(`127.0.0.1:${app.sip!.port}`);
    await expect(page.getByTestId('readiness').textContent()).resolves.toBe('ready');
    await expect(page.getByTestId('models').textContent()).resolves.toMatch(/asr.*verified/s);
    // no Kamailio front configured (cluster.frontRpcUrl): the cluster panel says the box stands alone
    await expect(page.getByTestId('cluster').textContent()).resolves.toContain('stands alone');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('support-bundle').click()]);
    expect(download.suggestedFilename()).toMatch(/^edgevox-support-.*\.json\.gz$/);
    await shot('diagnostics');
  });

  it('exports a backup here and restores it on a new box through its wizard', async () => {
    const { page, shot } = browser;
    await signIn(page, app.httpUrl, 'tech1', 'tech one password');
    await page.getByTestId('live').waitFor();
    await page.click('a[href="#/config"]');
    await page.getByTestId('backup-export').waitFor();
    await page.fill('input[name=export-passphrase]', 'field backup passphrase');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('backup-export-button').click()]);
    const file = path.join(scratchDir('backup'), download.suggestedFilename());
    await download.saveAs(file);
    await shot('backup');

    const { app: newBox } = await startTestAppliance(quietApplianceOverrides({ console: { httpsPort: -1 }, sip: { enabled: false } }), {
      transcribers: null,
    });
    try {
      const fresh = await browser.context.newPage();
      const { readFileSync } = await import('node:fs');
      const token = readFileSync(path.join(newBox.config.dataDir, 'setup-token'), 'utf8').trim();
      await fresh.goto(newBox.httpUrl);
      await fresh.fill('input[name=setup-token]', token);
      await fresh.getByTestId('wizard-next').click();
      await fresh.fill('input[name=admin-username]', 'installer');
      await fresh.fill('input[name=admin-password]', 'temporary pass 123');
      await fresh.fill('input[name=admin-confirm]', 'temporary pass 123');
      await fresh.getByTestId('wizard-next').click();
      await fresh.getByTestId('wizard-restore').click();
      await fresh.setInputFiles('input[name=restore-file]', file);
      await fresh.fill('input[name=restore-passphrase]', 'wrong passphrase!!');
      await fresh.getByTestId('backup-restore-button').click();
      await expect(fresh.getByTestId('restore-result').textContent()).resolves.toContain('wrong passphrase');
      await fresh.fill('input[name=restore-passphrase]', 'field backup passphrase');
      await fresh.getByTestId('backup-restore-button').click();
      await expect(fresh.getByTestId('restore-result').textContent()).resolves.toContain('Restored the backup');
      await browser.shot('restore-new-box', fresh);
      // The old box's accounts came with it: the installer's temporary account is gone.
      await fresh.getByTestId('login').waitFor({ timeout: 10_000 });
      await signIn(fresh, newBox.httpUrl, 'tech1', 'tech one password');
      await fresh.getByTestId('live').waitFor();
      await fresh.close();
    } finally {
      await newBox.close();
    }
  });
});
