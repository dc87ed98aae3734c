/**
 * E-mail cases in the console, in a real browser: a customer's mail (nodemailer to the box's
 * listener) is listed with its redacted subject; a supervisor opens it, sees the redacted text (no
 * card digits, no address), replies from the page and the reply reaches the local relay's Maildir; closing takes it off the list,
 * and the closed case is then on the QA screen as e-mail with its scorecard and summary.
 * Screenshot: email-cases.
 */
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { markSetupComplete } from '../../../appliance/console/context.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { createUser, quietApplianceOverrides } from '../../helpers/auth.js';
import { startLocalMailbox, type LocalMailbox } from '../../helpers/mailbox.js';
import { ensureConsoleBuilt, openBrowser, type Browser } from './browser.js';
import { plantedIn } from '../../helpers/planted.js';

let app: Appliance;
let browser: Browser;
let relay: LocalMailbox;

beforeAll(async () => {
  await ensureConsoleBuilt();
  relay = await startLocalMailbox();
  ({ app } = await startTestAppliance(
    quietApplianceOverrides({
      sip: { enabled: false },
      console: { httpsPort: -1 },
      email: {
        enabled: true,
        host: '127.0.0.1',
        port: 0,
        recipients: [{ address: 'help@branch.example', group: '' }],
        relay: { host: '127.0.0.1', port: relay.port, requireTls: false, timeoutMs: 5000 },
      },
    }),
    { transcribers: null },
  ));
  await createUser(app, 'super1', 'supervisor', 'super one password');
  markSetupComplete(app.config.dataDir);
  browser = await openBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await relay?.close();
});

describe('e-mail cases in the console', () => {
  it('lists the case, shows its redacted text and sends the reply through the relay', async () => {
    const customer = nodemailer.createTransport({ host: '127.0.0.1', port: app.emailIntake!.port, secure: false, ignoreTLS: true });
    await customer.sendMail({
      from: 'frank@client.example',
      to: 'help@branch.example',
      subject: 'Card stolen',
      text: 'Someone took my card 4111 1111 1111 1111 please block it.',
    });
    const { page, shot } = browser;
    await page.goto(app.httpUrl);
    await page.getByTestId('login').waitFor();
    await page.fill('input[name=username]', 'super1');
    await page.fill('input[name=password]', 'super one password');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('who').waitFor();
    await page.goto(`${app.httpUrl}/#/email`);
    const row = page.locator('tr[data-testid^=email-case-]').filter({ hasText: 'Card stolen' });
    await row.first().click();
    const first = page.getByTestId('email-message-1');
    await first.waitFor();
    const shown = await first.innerText();
    expect(shown).toContain('Someone took my card');
    expect(shown).not.toContain('4111');
    expect(await page.content()).not.toContain('frank@client.example');
    await page.getByTestId('email-reply-text').fill('Your card is blocked.');
    await page.getByTestId('email-reply-send').click();
    await page.getByTestId('email-message-2').waitFor();
    await shot('email-cases');
    expect(relay.messages()).toHaveLength(1);
    expect(relay.envelopes[0]).toEqual(['frank@client.example']);
    expect(relay.messages()[0]).toContain('Your card is blocked.');
    // Closing it takes it off the open list.
    await page.getByTestId('email-close').click();
    await row.first().waitFor({ state: 'detached' });
    // Closed, it is scored and summarised like a chat: the QA screen lists it as e-mail and opens it.
    await expect
      .poll(() => app.store.db.prepare(`SELECT COUNT(*) AS n FROM conversation_analysis WHERE channel = 'email'`).get(), {
        timeout: 10_000,
      })
      .toEqual({ n: 1 });
    await page.goto(`${app.httpUrl}/#/qa`);
    const scored = page.locator('[data-testid=qa-row][data-channel=email]');
    await expect(scored.textContent()).resolves.toMatch(/E-mail.*console:super1/);
    await scored.getByTestId('qa-open').click();
    await page.getByTestId('qa-conversation').waitFor();
    await expect(page.getByTestId('qa-result-silence').textContent()).resolves.toContain('Not applicable');
    await expect(page.getByTestId('call-summary-text').textContent()).resolves.toContain('[CARD]');
    expect(plantedIn(await page.content(), ['4111'])).toEqual([]);
  }, 60_000);
});
