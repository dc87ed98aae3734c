/**
 * The box certificate shared by SIP over TLS and the e-mail listener's STARTTLS (app/tlsCertificate.ts):
 * from the listener's own files (relative to the data dir) or the console's store (made when empty),
 * errors naming that listener's keys, a replacement applied on check() and told to the watchers, a
 * broken replacement kept out.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateSource, sipTlsSetup } from '../../../appliance/app/tlsCertificate.js';
import { readTls, writeTls, type TlsMaterial } from '../../../appliance/console/tls.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { captureLogger, testConfig } from '../../helpers/appliance.js';

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
    const source = certificateSource({
      dataDir,
      certFile: '',
      keyFile: '',
      keys: { cert: 'email.tlsCertFile', key: 'email.tlsKeyFile' },
      purpose: 'e-mail STARTTLS',
      commonName: 'edgevox-test',
      hosts: ['127.0.0.1'],
      logger,
    });
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
    expect(() =>
      certificateSource({
        dataDir: dir,
        certFile: 'only.crt',
        keyFile: 'missing.key',
        keys: { cert: 'email.tlsCertFile', key: 'email.tlsKeyFile' },
        purpose: 'e-mail STARTTLS',
        commonName: 'edgevox-test',
        hosts: [],
        logger,
      }),
    ).toThrow("cannot read the e-mail STARTTLS certificate or key; keys 'email.tlsCertFile', 'email.tlsKeyFile'");
  });
});
