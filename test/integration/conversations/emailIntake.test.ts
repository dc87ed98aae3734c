/**
 * The e-mail listener's doors against hostile input, over real SMTP (nodemailer as the client):
 * a recipient that is not configured is refused with 550 and nothing is relayed or stored; a message
 * over email.maxMessageBytes gets 552; one source over its rate gets 421; malformed MIME still
 * becomes a case (what could be read); CR/LF smuggled into a subject never reaches a reply's headers;
 * a card number is redacted before it is stored (text and subject).
 */
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { authedFetch } from '../../helpers/auth.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { startLocalMailbox, type LocalMailbox } from '../../helpers/mailbox.js';

const RATE = 12;
let app: Appliance;
let relay: LocalMailbox;

beforeAll(async () => {
  relay = await startLocalMailbox();
  ({ app } = await startTestAppliance({
    sip: { enabled: false },
    email: {
      enabled: true,
      host: '127.0.0.1',
      port: 0,
      maxMessageBytes: 4096,
      messagesPerMinutePerSource: RATE,
      recipients: [{ address: 'help@branch.example', group: '' }],
      relay: { host: '127.0.0.1', port: relay.port, requireTls: false, timeoutMs: 5000 },
    },
  }));
}, 60_000);
afterAll(async () => {
  await app?.close();
  await relay?.close();
});

const client = () => nodemailer.createTransport({ host: '127.0.0.1', port: app.emailIntake!.port, secure: false, ignoreTLS: true });
const rows = (sql: string): Record<string, unknown>[] => app.store.db.prepare(sql).all() as Record<string, unknown>[];
const emailCases = () =>
  rows(`SELECT c.id, c.subject FROM conversations c JOIN email_cases e ON e.conversation_id = c.id ORDER BY c.created_at`);
const codeOf = async (p: Promise<unknown>): Promise<number | 'ok'> =>
  p.then(
    () => 'ok' as const,
    (err: { responseCode?: number }) => err.responseCode ?? -1,
  );

describe('e-mail listener doors', () => {
  it('refuses a recipient that is not configured with 550, relays and stores nothing', async () => {
    for (const to of ['someone@elsewhere.example', 'help@branch.example.evil.example', 'HELP@other.example']) {
      expect(await codeOf(client().sendMail({ from: 'x@client.example', to, subject: 'relay me', text: 'please forward' })), to).toBe(550);
    }
    expect(relay.messages()).toHaveLength(0);
    expect(emailCases()).toHaveLength(0);
  });

  it('refuses a message over the size limit with 552', async () => {
    const big = 'a'.repeat(8000);
    expect(await codeOf(client().sendMail({ from: 'x@client.example', to: 'help@branch.example', subject: 'big', text: big }))).toBe(552);
    expect(emailCases()).toHaveLength(0);
  });

  it('turns malformed MIME into a case with what could be read; one without a sender cannot be answered (409)', async () => {
    const raw = [
      'Subject: broken',
      'Content-Type: multipart/mixed; boundary="never-closed"',
      'Content-Transfer-Encoding: base64',
      '',
      '--never-closed',
      'Content-Type: text/plain; charset=x-unknown-charset',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'hello =ZZ =C3=',
      '--never-closed',
      'Content-Type: text/html',
      '',
      '<p><b>unclosed',
      '',
    ].join('\r\n');
    expect(await codeOf(client().sendMail({ envelope: { from: 'x@client.example', to: ['help@branch.example'] }, raw }))).toBe('ok');
    const cases = emailCases();
    expect(cases).toHaveLength(1);
    expect(cases[0]!['subject']).toBe('broken');
    const res = await authedFetch(app, 'supervisor')(`/api/v1/email/cases/${String(cases[0]!['id'])}/reply`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'hello' }),
    });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('EVX_ERR_EMAIL_NO_ADDRESS');
    expect(relay.messages()).toHaveLength(0);
  });

  it('keeps CR/LF in a subject out of the reply headers, and redacts a card number before storage', async () => {
    const evil = Buffer.from('Card 4111 1111 1111 1111\r\nBcc: victim@evil.example\r\nX-Injected: yes', 'utf8').toString('base64');
    const raw = [
      'From: erin@client.example',
      'To: help@branch.example',
      `Subject: =?utf-8?B?${evil}?=`,
      'Message-ID: <inject.1@client.example>',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'My card is 4111-1111-1111-1111, please help.',
      '',
    ].join('\r\n');
    expect(await codeOf(client().sendMail({ envelope: { from: 'erin@client.example', to: ['help@branch.example'] }, raw }))).toBe('ok');
    const c = emailCases().at(-1)!;
    expect(String(c['subject'])).not.toMatch(/4111|[\r\n]/);
    const stored = rows(`SELECT text FROM conversation_messages WHERE conversation_id = '${String(c['id'])}'`);
    expect(stored.map((r) => String(r['text'])).join(' ')).not.toMatch(/4111/);

    const res = await authedFetch(app, 'supervisor')(`/api/v1/email/cases/${String(c['id'])}/reply`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'We blocked the card.\r\nBcc: victim2@evil.example' }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(relay.envelopes.at(-1)).toEqual(['erin@client.example']);
    const delivered = relay.messages().at(-1)!;
    const headers = delivered.slice(0, delivered.indexOf('\r\n\r\n'));
    expect(headers).not.toMatch(/^(bcc|x-injected):/im);
    expect(headers).toMatch(/^In-Reply-To: <inject\.1@client\.example>/m);
  });

  it('refuses a source over its rate with 421 before DATA', async () => {
    let refused: number | 'ok' = 'ok';
    // Earlier tests used part of the window; at most RATE + 1 more attempts reach the limit.
    for (let i = 0; i <= RATE && refused === 'ok'; i += 1)
      refused = await codeOf(client().sendMail({ from: 'x@client.example', to: 'help@branch.example', subject: `n${i}`, text: 'again' }));
    expect(refused).toBe(421);
  });
});
