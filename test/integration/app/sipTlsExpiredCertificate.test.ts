/**
 * SIP over TLS with the console's certificate store (no sip.tlsCertFile), and the box's own
 * self-signed certificate renewing itself (app/tlsCertificate.ts, console/tls.ts):
 * - an expired certificate in the store does not stop the box: SIP TLS serves it (as the console
 *   does; phones that check validity refuse it), warns once, and takes a renewed one;
 * - a store that holds no usable pair at all (key not matching) fails the start with an error that
 *   says where and what to do; an expired sip.tlsCertFile (configuration) fails naming the keys;
 * - a self-made certificate near expiry (or expired) is replaced by a fresh one with the same names
 *   (also one made before the box marked its own), at start and daily; an uploaded one is never
 *   replaced, only warned about; the console's HTTPS listener follows the store.
 */
import { X509Certificate } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { Appliance } from '../../../appliance/app/app.js';
import { keepSelfSignedCertificate, sipTlsSetup } from '../../../appliance/app/tlsCertificate.js';
import { ensureCertificate, readTls, tlsDir, writeTls, type TlsMaterial } from '../../../appliance/console/tls.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { captureLogger, startTestAppliance, testConfig } from '../../helpers/appliance.js';
import { expiredCertificate, selfSignedCertificate } from '../../helpers/certificates.js';
import { scratchDir } from '../../helpers/paths.js';

const certDir = scratchDir('sip-expired-cert');
const dataDirs: string[] = [];
afterAll(() => {
  for (const d of [certDir, ...dataDirs]) rmSync(d, { recursive: true, force: true });
});

let app: Appliance | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
});

function dataDir(name: string): string {
  const d = scratchDir(`sip-tls-${name}`);
  dataDirs.push(d);
  return d;
}

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;
const DAY = 86_400_000;

/** The fingerprint of the certificate a TLS server on `port` shows (not verified, as a phone that does not check). */
async function servedFingerprint(port: number): Promise<string> {
  const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost' });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    return socket.getPeerX509Certificate()!.fingerprint256;
  } finally {
    socket.destroy();
  }
}

/** Whether a client that checks validity (as most phones do) accepts the certificate on `port`, trusting `ca`. */
async function verifyingHandshake(port: number, ca: string): Promise<string> {
  const socket = tls.connect({ host: '127.0.0.1', port, ca, checkServerIdentity: () => undefined });
  try {
    return await new Promise<string>((resolve) => {
      socket.once('secureConnect', () => resolve('ok'));
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
  } finally {
    socket.destroy();
  }
}

describe("SIP over TLS with the console's certificate store", () => {
  it('an expired certificate there does not stop the box: SIP TLS serves it, warns once, UDP runs, a renewed one is taken', async () => {
    const dir = dataDir('expired');
    const expired = expiredCertificate(certDir, 'sip-store-expired', ['localhost']);
    writeTls(dir, expired);
    let log: { lines: Record<string, unknown>[] };
    ({ app, log } = await startTestAppliance({ dataDir: dir, sip: { transports: ['udp', 'tls'], tlsPort: 0 } }));
    const sip = app.sip!;
    expect(sip.port).toBeGreaterThan(0);
    expect(sip.tlsPort).toBeGreaterThan(0);
    expect(await servedFingerprint(sip.tlsPort)).toBe(fingerprint(expired.cert));
    // a phone that checks validity refuses it: its call, as with the console's HTTPS
    expect(await verifyingHandshake(sip.tlsPort, expired.cert)).toBe('CERT_HAS_EXPIRED');

    const said = log.lines.filter((l) => l['level'] === 40 && /^SIP TLS serves the console's certificate/.test(String(l['msg'])));
    expect(said).toHaveLength(1);
    expect(said[0]!['reason']).toMatch(/^the certificate expired on /);

    // renewed from the console: the SIP TLS listener picks it up within a check or two, no restart
    const renewed = selfSignedCertificate(certDir, 'sip-store-renewed', ['localhost']);
    writeTls(dir, renewed);
    await expect.poll(() => servedFingerprint(sip.tlsPort), { timeout: 15_000, interval: 250 }).toBe(fingerprint(renewed.cert));
  }, 60_000);

  it('sipTlsSetup: an expired store certificate is served and followed, warned about once per reason', () => {
    const dir = dataDir('setup');
    const expired = expiredCertificate(certDir, 'setup-expired', ['localhost']);
    writeTls(dir, expired);
    const { logger, log } = captureLogger();
    const setup = sipTlsSetup(testConfig({ dataDir: dir }), dir, logger);
    expect(setup.options.certificate()).toEqual(expired);
    let told = 0;
    const stop = setup.watch(() => (told += 1));
    for (let i = 0; i < 3; i += 1) setup.check();
    expect(log.lines.filter((l) => l['level'] === 40)).toHaveLength(1);
    // another expired one (as a restore might write) is still served, told to the listener
    const other = expiredCertificate(certDir, 'setup-expired-2', ['localhost']);
    writeTls(dir, other);
    expect(setup.check()).toBe(true);
    expect(told).toBe(1);
    expect(setup.options.certificate()).toEqual(other);
    stop();
  });

  it('a store whose key does not match its certificate fails the start, saying where and what to do', () => {
    const dir = dataDir('broken');
    writeTls(dir, { cert: selfSignedCertificate(certDir, 'broken-a').cert, key: selfSignedCertificate(certDir, 'broken-b').key });
    const { logger } = captureLogger();
    let err: unknown;
    try {
      sipTlsSetup(testConfig({ dataDir: dir }), dir, logger);
    } catch (e) {
      err = e;
    }
    expect(isEdgeVoxError(err, 'EVX_ERR_TLS_CERT')).toBe(true);
    expect((err as Error).message).toBe(
      `SIP TLS cannot use the console's certificate store (${tlsDir(dir)}): the private key does not belong to the certificate; ` +
        "replace cert.pem and key.pem there with a matching pair, or remove both to have a new self-signed one made at the next start, or set 'sip.tlsCertFile', 'sip.tlsKeyFile'",
    );
  });

  it('an expired sip.tlsCertFile (configuration) still fails the start, naming the keys', async () => {
    expiredCertificate(certDir, 'sip-own-expired', ['localhost']);
    const { logger } = captureLogger();
    const config = testConfig({
      sip: {
        transports: ['udp', 'tls'],
        tlsPort: 0,
        tlsCertFile: join(certDir, 'sip-own-expired.crt'),
        tlsKeyFile: join(certDir, 'sip-own-expired.key'),
      },
    });
    let err: unknown;
    try {
      app = await Appliance.start(config, { logger });
    } catch (e) {
      err = e;
    }
    expect(isEdgeVoxError(err, 'EVX_ERR_TLS_CERT')).toBe(true);
    expect((err as Error).message).toMatch(
      /^the SIP TLS certificate cannot be used: the certificate expired on .+; keys 'sip.tlsCertFile', 'sip.tlsKeyFile'$/,
    );
  }, 60_000);
});

describe("the box's own self-signed certificate renews itself", () => {
  const names = (m: TlsMaterial) => {
    const c = new X509Certificate(m.cert);
    return { subject: c.subject, san: c.subjectAltName };
  };

  it('a self-made certificate within 30 days of expiry is replaced by a fresh one with the same names; later checks leave it', () => {
    const dir = dataDir('renew');
    const made = ensureCertificate(dir, 'edgevox-site-1', ['10.0.0.5', 'pbx.branch.example']).material;
    const validTo = Date.parse(new X509Certificate(made.cert).validTo);
    const { logger, log } = captureLogger();
    // 20 days before it expires
    const stop = keepSelfSignedCertificate({ dataDir: dir, logger, now: () => validTo - 20 * DAY });
    stop();
    const fresh = readTls(dir)!;
    expect(fingerprint(fresh.cert)).not.toBe(fingerprint(made.cert));
    expect(names(fresh)).toEqual(names(made));
    expect(names(fresh).san).toContain('DNS:pbx.branch.example');
    expect(Date.parse(new X509Certificate(fresh.cert).validTo)).toBeGreaterThan(Date.now() + 800 * DAY);
    const info = log.lines.filter((l) => l['level'] === 30 && l['msg'] === 'self-signed certificate renewed');
    expect(info).toHaveLength(1);
    expect(
      Object.keys(info[0]!)
        .filter((k) => !['level', 'time', 'pid', 'hostname', 'msg'].includes(k))
        .sort(),
    ).toEqual(['previousValidTo', 'validTo']);

    // far from expiry now: left alone
    keepSelfSignedCertificate({ dataDir: dir, logger, now: () => Date.now() })();
    expect(readTls(dir)).toEqual(fresh);
  });

  it('the daily check renews it on the first day it is within 30 days, and stops with the box', () => {
    const dir = dataDir('renew-daily');
    const made = ensureCertificate(dir, 'edgevox-site-4', ['10.0.0.6']).material;
    const validTo = Date.parse(new X509Certificate(made.cert).validTo);
    const { logger, log } = captureLogger();
    const renewed = () => log.lines.filter((l) => l['msg'] === 'self-signed certificate renewed').length;
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      // started 33.5 days before the end: the check at start leaves it
      let clock = validTo - 33.5 * DAY;
      const stop = keepSelfSignedCertificate({ dataDir: dir, logger, now: () => clock });
      expect(readTls(dir)).toEqual(made);
      const day = () => {
        clock += DAY;
        vi.advanceTimersByTime(DAY);
      };
      day(); // 32.5 days before
      day(); // 31.5
      expect(renewed()).toBe(0);
      day(); // 30.5: still outside
      expect(readTls(dir)).toEqual(made);
      day(); // 29.5: renewed
      expect(renewed()).toBe(1);
      const fresh = readTls(dir)!;
      expect(fingerprint(fresh.cert)).not.toBe(fingerprint(made.cert));
      // the fresh one is made on the real clock (openssl): from there it is far from its end
      clock = Date.now();
      day();
      expect(renewed()).toBe(1);
      stop();
      clock = Date.parse(new X509Certificate(fresh.cert).validTo);
      vi.advanceTimersByTime(10 * DAY);
      expect(readTls(dir)).toEqual(fresh); // stopped: no more checks
    } finally {
      vi.useRealTimers();
    }
  });

  it('an already expired self-made one, and one made before the box marked its own, are renewed at start', () => {
    const dir = dataDir('renew-legacy');
    const made = ensureCertificate(dir, 'edgevox-site-2', ['192.168.1.10']).material;
    // as on a box set up by an older version: no marker next to it
    for (const f of ['origin.json']) rmSync(join(tlsDir(dir), f), { force: true });
    const validTo = Date.parse(new X509Certificate(made.cert).validTo);
    const { logger } = captureLogger();
    keepSelfSignedCertificate({ dataDir: dir, logger, now: () => validTo + DAY })();
    const fresh = readTls(dir)!;
    expect(fingerprint(fresh.cert)).not.toBe(fingerprint(made.cert));
    expect(names(fresh)).toEqual(names(made));
  });

  it('an uploaded certificate near expiry is never replaced, only warned about', () => {
    const dir = dataDir('uploaded');
    ensureCertificate(dir, 'edgevox-site-3', ['10.0.0.7']);
    // uploaded from the console over the self-made one (valid two days)
    const uploaded = selfSignedCertificate(certDir, 'uploaded', ['pbx.branch.example']);
    writeTls(dir, uploaded);
    const { logger, log } = captureLogger();
    keepSelfSignedCertificate({ dataDir: dir, logger })();
    expect(readTls(dir)).toEqual(uploaded);
    const warned = log.lines.filter((l) => l['level'] === 40);
    expect(warned).toHaveLength(1);
    expect(warned[0]!['msg']).toMatch(/^the console's certificate \(uploaded\) expires soon/);
    // one uploaded without any marker (and not shaped like the box's own) is left alone too
    rmSync(join(tlsDir(dir), 'origin.json'), { force: true });
    keepSelfSignedCertificate({ dataDir: dir, logger })();
    expect(readTls(dir)).toEqual(uploaded);
  });

  it("the console's HTTPS listener serves a certificate renewed in the store without a restart", async () => {
    const dir = dataDir('console');
    let log: { lines: Record<string, unknown>[] };
    ({ app, log } = await startTestAppliance({ dataDir: dir, sip: { enabled: false } }));
    const httpsPort = log.lines.find((l) => l['msg'] === 'console https listening')!['port'] as number;
    const made = readTls(dir)!;
    expect(await servedFingerprint(httpsPort)).toBe(fingerprint(made.cert));
    // renewed as the daily check does it (the same way as keepSelfSignedCertificate at start)
    const next = selfSignedCertificate(certDir, 'console-next', ['localhost']);
    writeTls(dir, next);
    await expect.poll(() => servedFingerprint(httpsPort), { timeout: 15_000, interval: 250 }).toBe(fingerprint(next.cert));
  }, 60_000);
});
