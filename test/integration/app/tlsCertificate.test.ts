/**
 * The box certificate shared by SIP over TLS and the e-mail listener's STARTTLS (app/tlsCertificate.ts):
 * from the listener's own files (relative to the data dir) or the console's store (made when empty),
 * errors naming that listener's keys, a replacement applied on check() and told to the watchers, a
 * broken replacement kept out. A certificate that stays unusable is warned about once per reason (again
 * after an hour), not at every check; an unusable one in the console's store is no error at start for
 * the e-mail intake (certificateSourceOrPending) and is taken once renewed, while the listener's own
 * unusable files still fail the start naming its keys.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  certificateSource,
  certificateSourceOrPending,
  sipTlsSetup,
  type CertificateSourceOptions,
} from '../../../appliance/app/tlsCertificate.js';
import { readTls, writeTls, type TlsMaterial } from '../../../appliance/console/tls.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { captureLogger, testConfig } from '../../helpers/appliance.js';
import { expiredCertificate } from '../../helpers/certificates.js';

let dir = '';

function makeCert(name: string): TlsMaterial {
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', `/CN=${name}`].concat([
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
    ]),
    { cwd: dir, stdio: 'ignore' },
  );
  return { cert: readFileSync(join(dir, `${name}.crt`), 'utf8'), key: readFileSync(join(dir, `${name}.key`), 'utf8') };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'evx-tls-source-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the box certificate for SIP TLS and e-mail STARTTLS', () => {
  /** Options of the e-mail intake's source: the console's store of `dataDir` unless own files are given. */
  const emailSource = (dataDir: string, logger: CertificateSourceOptions['logger'], extra: Partial<CertificateSourceOptions> = {}) => ({
    dataDir,
    certFile: '',
    keyFile: '',
    keys: { cert: 'email.tlsCertFile', key: 'email.tlsKeyFile' },
    purpose: 'e-mail STARTTLS',
    commonName: 'edgevox-test',
    hosts: ['127.0.0.1'],
    logger,
    ...extra,
  });

  it('SIP: reads sip.tlsCertFile / tlsKeyFile relative to the data dir; an unreadable one names the sip keys', () => {
    const own = makeCert('sip-own');
    const { logger } = captureLogger();
    const config = testConfig({ dataDir: dir, sip: { tlsCertFile: 'sip-own.crt', tlsKeyFile: 'sip-own.key' } });
    expect(sipTlsSetup(config, dir, logger).options.certificate()).toEqual(own);

    const missing = testConfig({ dataDir: dir, sip: { tlsCertFile: 'nope.crt', tlsKeyFile: 'nope.key' } });
    let err: unknown;
    try {
      sipTlsSetup(missing, dir, logger);
    } catch (e) {
      err = e;
    }
    expect(isEdgeVoxError(err, 'EVX_ERR_CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toBe("cannot read the SIP TLS certificate or key; keys 'sip.tlsCertFile', 'sip.tlsKeyFile'");
  });

  it("e-mail: the console's store by default (made when empty), a replacement applied on check and told to watchers", () => {
    const dataDir = mkdtempSync(join(dir, 'data-'));
    const { logger, log } = captureLogger();
    const source = certificateSource(emailSource(dataDir, logger));
    const made = readTls(dataDir);
    expect(made).not.toBeNull();
    expect(source.current()).toEqual(made);

    let told = 0;
    const stop = source.watch(() => (told += 1));
    expect(source.check()).toBe(false);
    const next = makeCert('console-next');
    writeTls(dataDir, next);
    expect(source.check()).toBe(true);
    expect(told).toBe(1);
    expect(source.current()).toEqual(next);
    expect(log.lines.some((l) => l['msg'] === 'e-mail starttls certificate reloaded')).toBe(true);

    // a broken replacement is kept out: the working certificate stays, nobody is told
    writeTls(dataDir, { cert: next.cert, key: makeCert('other').key });
    expect(source.check()).toBe(false);
    expect(source.current()).toEqual(next);
    expect(told).toBe(1);
    expect(log.lines.some((l) => l['msg'] === 'e-mail starttls certificate not reloaded')).toBe(true);
    stop();
  });

  it('e-mail: an unreadable email.tlsCertFile names the email keys', () => {
    const { logger } = captureLogger();
    writeFileSync(join(dir, 'only.crt'), makeCert('only').cert);
    expect(() => certificateSource(emailSource(dir, logger, { certFile: 'only.crt', keyFile: 'missing.key', hosts: [] }))).toThrow(
      "cannot read the e-mail STARTTLS certificate or key; keys 'email.tlsCertFile', 'email.tlsKeyFile'",
    );
  });

  const warnings = (log: { lines: Record<string, unknown>[] }, msg: string) => log.lines.filter((l) => l['msg'] === msg);

  it('the test helper makes a certificate that really is expired', () => {
    const old = expiredCertificate(dir, 'expired-check');
    expect(Date.parse(new X509Certificate(old.cert).validTo)).toBeLessThan(Date.now());
  });

  it('a certificate that stays unusable is warned about once per reason (again after an hour), not at every check', () => {
    const dataDir = mkdtempSync(join(dir, 'data-'));
    writeTls(dataDir, makeCert('served'));
    const { logger, log } = captureLogger();
    let now = Date.now();
    const source = certificateSource(emailSource(dataDir, logger, { now: () => now }));
    // the store's certificate lapses while the box runs (here: replaced by an expired one)
    writeTls(dataDir, expiredCertificate(dir, 'lapsed'));
    for (let i = 0; i < 5; i += 1) {
      now += 5_000;
      expect(source.check()).toBe(false);
    }
    const notReloaded = () => warnings(log, 'e-mail starttls certificate not reloaded');
    expect(notReloaded()).toHaveLength(1);
    expect(notReloaded()[0]!['reason']).toMatch(/^the certificate expired on /);
    // another reason is said at once; the same one again only an hour after it was last said
    writeTls(dataDir, { cert: makeCert('a').cert, key: makeCert('b').key });
    source.check();
    expect(notReloaded()).toHaveLength(2);
    source.check();
    expect(notReloaded()).toHaveLength(2);
    now += 3_600_000;
    source.check();
    expect(notReloaded()).toHaveLength(3);
  });

  it("e-mail: an expired certificate in the console's store is no error at start; a renewed one is taken", () => {
    const dataDir = mkdtempSync(join(dir, 'data-'));
    const expired = expiredCertificate(dir, 'store-expired');
    writeTls(dataDir, expired);
    const { logger, log } = captureLogger();
    const started = certificateSourceOrPending(emailSource(dataDir, logger));
    if (!('pending' in started)) throw new Error('expected no usable certificate');
    expect(started.pending.reason).toMatch(/^the certificate expired on /);
    // still expired: nothing taken, nothing warned at each check (the caller said it once)
    expect(started.pending.check()).toBeNull();
    expect(started.pending.check()).toBeNull();
    expect(log.lines.filter((l) => l['level'] === 40)).toEqual([]);

    let ready: unknown = null;
    const stop = started.pending.whenUsable((source) => (ready = source));
    const renewed = makeCert('store-renewed');
    writeTls(dataDir, renewed);
    const source = started.pending.check();
    expect(source).not.toBeNull();
    expect(source!.current()).toEqual(renewed);
    expect(ready).toBe(source);
    stop();
  });

  it('e-mail: its own expired email.tlsCertFile still fails the start, naming the keys', () => {
    const { logger } = captureLogger();
    expiredCertificate(dir, 'own-expired');
    for (const start of [certificateSource, certificateSourceOrPending]) {
      let err: unknown;
      try {
        start(emailSource(dir, logger, { certFile: 'own-expired.crt', keyFile: join(dir, 'own-expired.key') }));
      } catch (e) {
        err = e;
      }
      expect(isEdgeVoxError(err, 'EVX_ERR_TLS_CERT')).toBe(true);
      expect((err as Error).message).toMatch(
        /^the e-mail STARTTLS certificate cannot be used: the certificate expired on .+; keys 'email.tlsCertFile', 'email.tlsKeyFile'$/,
      );
    }
  });
});
