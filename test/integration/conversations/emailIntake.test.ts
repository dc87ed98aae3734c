/**
 * The e-mail listener's doors against hostile input, over real SMTP (nodemailer as the client):
 * a recipient that is not configured is refused with 550 and nothing is relayed or stored; a message
 * over email.maxMessageBytes gets 552; one source over its rate gets 421; malformed MIME still
 * becomes a case (what could be read); CR/LF smuggled into a subject never reaches a reply's headers;
 * a card number is redacted before it is stored (text and subject).
 *
 * STARTTLS with the box's own certificate: a client that verifies it (the test's CA, the name in its
 * SAN) delivers over the upgraded connection and sees the certificate of email.tlsCertFile (or, by
 * default, the console's store); with email.requireTls a plain client gets 530 and nothing is stored;
 * with email.starttls false the EHLO does not offer STARTTLS and the command is refused; a replaced
 * certificate is served to new connections without a restart.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { readTls } from '../../../appliance/console/tls.js';
import { authedFetch } from '../../helpers/auth.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { selfSignedCertificate } from '../../helpers/certificates.js';
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

// --- STARTTLS ---------------------------------------------------------------------------------

const MAIL_HOST = 'mail.branch.example';
let certDir = '';

/** A self-signed certificate for MAIL_HOST, written as <name>.crt / <name>.key. */
const makeCert = (name: string) => selfSignedCertificate(certDir, name, [MAIL_HOST]);

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

/**
 * A client that requires STARTTLS and verifies the server's certificate against `ca` for
 * `servername`; `seen()` is the fingerprint of the certificate the server showed in the handshake.
 */
function tlsClient(port: number, ca: string, servername: string) {
  let seen = '';
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    requireTLS: true,
    tls: {
      ca,
      servername,
      checkServerIdentity: (host, cert) => {
        seen = cert.fingerprint256;
        return tls.checkServerIdentity(host, cert);
      },
    },
  });
  return { transport, seen: () => seen };
}

/** Send one message over STARTTLS (as tlsClient); resolves with the fingerprint the server showed. */
async function sendOverTls(port: number, ca: string, servername: string): Promise<string> {
  const client = tlsClient(port, ca, servername);
  const info = await client.transport.sendMail({
    from: 'dana@client.example',
    to: 'help@branch.example',
    subject: 'over tls',
    text: 'hello',
  });
  expect(info.accepted).toEqual(['help@branch.example']);
  return client.seen();
}

/** A raw SMTP exchange: the banner, then each command's whole (multi-line) reply. */
async function smtpDialog(port: number, commands: readonly string[]): Promise<string[]> {
  const socket = net.connect(port, '127.0.0.1');
  const replies: string[] = [];
  let buffer = '';
  let waiting: ((reply: string) => void) | null = null;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    // a reply ends with a line "NNN text" (no dash after the code)
    const end = /(^|\r\n)\d{3} [^\r\n]*\r\n$/.exec(buffer);
    if (end !== null && waiting !== null) {
      const done = waiting;
      waiting = null;
      const reply = buffer;
      buffer = '';
      done(reply);
    }
  });
  const next = () => new Promise<string>((resolve) => (waiting = resolve));
  try {
    replies.push(await next());
    for (const command of commands) {
      const reply = next();
      socket.write(`${command}\r\n`);
      replies.push(await reply);
    }
  } finally {
    socket.destroy();
  }
  return replies;
}

describe('e-mail listener STARTTLS with the box certificate', () => {
  let tlsApp: Appliance;
  let plainApp: Appliance;
  let first: { cert: string; key: string };

  beforeAll(async () => {
    certDir = mkdtempSync(join(tmpdir(), 'evx-email-tls-'));
    first = makeCert('mail');
    ({ app: tlsApp } = await startTestAppliance({
      sip: { enabled: false },
      email: {
        enabled: true,
        host: '127.0.0.1',
        port: 0,
        recipients: [{ address: 'help@branch.example', group: '' }],
        tlsCertFile: join(certDir, 'mail.crt'),
        tlsKeyFile: join(certDir, 'mail.key'),
        requireTls: true,
      },
    }));
    ({ app: plainApp } = await startTestAppliance({
      sip: { enabled: false },
      email: { enabled: true, host: '127.0.0.1', port: 0, recipients: [{ address: 'help@branch.example', group: '' }], starttls: false },
    }));
  }, 60_000);
  afterAll(async () => {
    await tlsApp?.close();
    await plainApp?.close();
    if (certDir !== '') rmSync(certDir, { recursive: true, force: true });
  });

  const casesOf = (a: Appliance) => (a.store.db.prepare('SELECT COUNT(*) AS n FROM email_cases').get() as { n: number }).n;

  it("delivers over STARTTLS with email.tlsCertFile's certificate, verified for the name in its SAN", async () => {
    const before = casesOf(tlsApp);
    expect(await sendOverTls(tlsApp.emailIntake!.port, first.cert, MAIL_HOST)).toBe(fingerprint(first.cert));
    expect(casesOf(tlsApp)).toBe(before + 1);
    // the certificate is for mail.branch.example only: another name fails verification
    await expect(sendOverTls(tlsApp.emailIntake!.port, first.cert, 'other.example')).rejects.toThrow();
  });

  it('serves the console certificate store by default (email.tlsCertFile empty)', async () => {
    // the doors tests' box above: default e-mail TLS settings
    const store = readTls(app.config.dataDir);
    expect(store).not.toBeNull();
    // EHLO and the upgrade only (verify): the rate test above used up this source's messages
    const client = tlsClient(app.emailIntake!.port, store!.cert, 'localhost');
    expect(await client.transport.verify()).toBe(true);
    expect(client.seen()).toBe(fingerprint(store!.cert));
  });

  it('with email.requireTls refuses a client that does not upgrade with 530, and stores nothing', async () => {
    const before = casesOf(tlsApp);
    const plain = nodemailer.createTransport({ host: '127.0.0.1', port: tlsApp.emailIntake!.port, secure: false, ignoreTLS: true });
    expect(await codeOf(plain.sendMail({ from: 'x@client.example', to: 'help@branch.example', subject: 'plain', text: 'no tls' }))).toBe(
      530,
    );
    const [, ehlo, mail] = await smtpDialog(tlsApp.emailIntake!.port, ['EHLO client.example', 'MAIL FROM:<x@client.example>']);
    expect(ehlo).toMatch(/^250[- ]STARTTLS\r$/m);
    expect(mail).toMatch(/^530 Must issue a STARTTLS command first/);
    expect(casesOf(tlsApp)).toBe(before);
  });

  it('with email.starttls false neither advertises STARTTLS nor accepts it', async () => {
    const [banner, ehlo, starttls] = await smtpDialog(plainApp.emailIntake!.port, ['EHLO client.example', 'STARTTLS']);
    expect(banner).toMatch(/^220 /);
    expect(ehlo).toMatch(/^250 /m);
    expect(ehlo).not.toMatch(/STARTTLS/i);
    expect(starttls).toMatch(/^5\d\d /);
    // a plain client still delivers
    const before = casesOf(plainApp);
    const plain = nodemailer.createTransport({ host: '127.0.0.1', port: plainApp.emailIntake!.port, secure: false, ignoreTLS: true });
    await plain.sendMail({ from: 'x@client.example', to: 'help@branch.example', subject: 'plain', text: 'fine' });
    expect(casesOf(plainApp)).toBe(before + 1);
  });

  it('serves a replaced certificate to new connections without a restart', async () => {
    const port = tlsApp.emailIntake!.port;
    makeCert('next');
    // replaced the way an operator's renewal does: each file swapped in whole
    renameSync(join(certDir, 'next.key'), join(certDir, 'mail.key'));
    renameSync(join(certDir, 'next.crt'), join(certDir, 'mail.crt'));
    const second = readFileSync(join(certDir, 'mail.crt'), 'utf8');
    expect(fingerprint(second)).not.toBe(fingerprint(first.cert));
    expect(tlsApp.emailIntake!.checkCertificate()).toBe(true);
    expect(tlsApp.emailIntake!.checkCertificate()).toBe(false);
    expect(await sendOverTls(port, second, MAIL_HOST)).toBe(fingerprint(second));
    expect(tlsApp.emailIntake!.port).toBe(port);
    // a broken replacement is not taken: the working certificate stays
    writeFileSync(join(certDir, 'mail.crt'), 'not a certificate');
    expect(tlsApp.emailIntake!.checkCertificate()).toBe(false);
    expect(await sendOverTls(port, second, MAIL_HOST)).toBe(fingerprint(second));
  });
});
