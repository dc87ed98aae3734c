/**
 * The e-mail intake on a box whose console certificate has lapsed (email.starttls on, by default with
 * the console's store): the box starts anyway, voice and console included. The intake listens without
 * STARTTLS and takes plain mail, having warned once; with email.requireTls it does not listen (no mail
 * in the clear, senders retry). A renewed certificate in the store turns STARTTLS on, on the same port,
 * without a restart of the box. An expired certificate in email.tlsCertFile (configuration) still fails
 * the start, naming the keys.
 */
import { rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Appliance } from '../../../appliance/app/app.js';
import { writeTls } from '../../../appliance/console/tls.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { captureLogger, startTestAppliance, testConfig } from '../../helpers/appliance.js';
import { expiredCertificate, selfSignedCertificate } from '../../helpers/certificates.js';
import { scratchDir } from '../../helpers/paths.js';
// a port free now, outside the media ranges (the intake is restarted on its configured port, so the test needs to know it)
import { freeLoopbackPort } from '../../../tools/bench/metricsScrape.js';

const certDir = scratchDir('email-expired-cert');
const dataDirs: string[] = [];
afterAll(() => {
  for (const d of [certDir, ...dataDirs]) rmSync(d, { recursive: true, force: true });
});

let app: Appliance | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
});

/** A data dir whose console certificate store holds an expired certificate. */
function dataDirWithExpiredConsoleCertificate(name: string): string {
  const dataDir = scratchDir(`app-${name}`);
  dataDirs.push(dataDir);
  writeTls(dataDir, expiredCertificate(certDir, name, ['localhost']));
  return dataDir;
}

/** The EHLO reply of the listener on `port` (rejects when nothing listens). */
async function ehlo(port: number): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setEncoding('utf8');
  let buffer = '';
  try {
    return await new Promise<string>((resolve, reject) => {
      socket.on('error', reject);
      let greeted = false;
      socket.on('data', (chunk: string) => {
        buffer += chunk;
        if (!/(^|\r\n)\d{3} [^\r\n]*\r\n$/.test(buffer)) return;
        if (!greeted) {
          greeted = true;
          buffer = '';
          socket.write('EHLO client.example\r\n');
        } else resolve(buffer);
      });
    });
  } finally {
    socket.destroy();
  }
}

const emailConfig = (port: number, extra: Record<string, unknown> = {}) => ({
  enabled: true,
  host: '127.0.0.1',
  port,
  recipients: [{ address: 'help@branch.example', group: '' }],
  ...extra,
});
const casesOf = (a: Appliance) => (a.store.db.prepare('SELECT COUNT(*) AS n FROM email_cases').get() as { n: number }).n;

describe("e-mail intake with the console's certificate expired", () => {
  it('the box starts; the intake takes plain mail without STARTTLS, warns once, and turns STARTTLS on when the certificate is renewed', async () => {
    const dataDir = dataDirWithExpiredConsoleCertificate('expired-console');
    const port = await freeLoopbackPort();
    let log: { lines: Record<string, unknown>[] };
    ({ app, log } = await startTestAppliance({ dataDir, sip: { enabled: false }, email: emailConfig(port) }));

    const reply = await ehlo(port);
    expect(reply).toMatch(/^250 /m);
    expect(reply).not.toMatch(/STARTTLS/i);
    const plain = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
    await plain.sendMail({ from: 'x@client.example', to: 'help@branch.example', subject: 'plain', text: 'fine' });
    expect(casesOf(app)).toBe(1);

    // (the box also warns, once, that the console's uploaded certificate has expired: not the intake's word)
    const said = log.lines.filter((l) => typeof l['msg'] === 'string' && /^e-mail.*certificate/i.test(l['msg']) && l['level'] === 40);
    expect(said).toHaveLength(1);
    expect(said[0]!['msg']).toBe(
      "e-mail intake without STARTTLS: the console's certificate cannot be used; STARTTLS is turned on when it is renewed",
    );
    expect(said[0]!['reason']).toMatch(/^the certificate expired on /);

    // renewed (as the console's upload writes it): within a check or two the listener offers STARTTLS, same port
    writeTls(dataDir, selfSignedCertificate(certDir, 'renewed', ['localhost']));
    await expect.poll(() => ehlo(port).catch(() => ''), { timeout: 15_000, interval: 250 }).toMatch(/^250[- ]STARTTLS\r$/m);
    expect(log.lines.some((l) => l['msg'] === 'e-mail intake listening' && l['starttls'] === true)).toBe(true);
  }, 60_000);

  it('with email.requireTls the box starts and the intake does not listen until the certificate is renewed', async () => {
    const dataDir = dataDirWithExpiredConsoleCertificate('expired-require');
    const port = await freeLoopbackPort();
    let log: { lines: Record<string, unknown>[] };
    ({ app, log } = await startTestAppliance({ dataDir, sip: { enabled: false }, email: emailConfig(port, { requireTls: true }) }));
    expect(app.emailIntake).toBeNull();
    await expect(ehlo(port)).rejects.toThrow(/ECONNREFUSED/);
    expect(log.lines.some((l) => l['level'] === 50 && /^e-mail intake not listening: email.requireTls is set/.test(String(l['msg'])))).toBe(
      true,
    );

    writeTls(dataDir, selfSignedCertificate(certDir, 'renewed-require', ['localhost']));
    await expect.poll(() => ehlo(port).catch(() => ''), { timeout: 15_000, interval: 250 }).toMatch(/^250[- ]STARTTLS\r$/m);
    // the appliance names the listener that now runs, not the one it had at start
    expect(app.emailIntake?.port).toBe(port);
  }, 60_000);

  it('an expired email.tlsCertFile (configuration) still fails the start with an error naming the keys', async () => {
    expiredCertificate(certDir, 'own-expired', ['localhost']);
    const { logger } = captureLogger();
    const config = testConfig({
      sip: { enabled: false },
      email: emailConfig(0, { tlsCertFile: join(certDir, 'own-expired.crt'), tlsKeyFile: join(certDir, 'own-expired.key') }),
    });
    let err: unknown;
    try {
      app = await Appliance.start(config, { logger });
    } catch (e) {
      err = e;
    }
    expect(isEdgeVoxError(err, 'EVX_ERR_TLS_CERT')).toBe(true);
    expect((err as Error).message).toMatch(
      /^the e-mail STARTTLS certificate cannot be used: the certificate expired on .+; keys 'email.tlsCertFile'/,
    );
  }, 60_000);
});
