/**
 * TLS for the console: a self-signed certificate made at first boot with Debian's openssl CLI
 * (kept under `<dataDir>/tls/`, key 0600), an HTTPS listener that serves the same fastify routes
 * (and WebSocket upgrades) as the plain one, and hot replacement by an uploaded certificate.
 *
 * Next to the pair, `origin.json` says who put it there: the box (`self-signed`, with the fingerprint
 * and the names it was made with) or an upload/restore (`uploaded`). Only a certificate the box made
 * itself is ever renewed by it (renewSelfSignedCertificate): an uploaded one is the technician's.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { evxError } from '../errors.js';

export interface CertInfo {
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  fingerprint256: string;
  subjectAltName: string | null;
  selfSigned: boolean;
}

export interface TlsMaterial {
  cert: string;
  key: string;
}

export function tlsDir(dataDir: string): string {
  return join(dataDir, 'tls');
}

export function readTls(dataDir: string): TlsMaterial | null {
  const dir = tlsDir(dataDir);
  if (!existsSync(join(dir, 'cert.pem')) || !existsSync(join(dir, 'key.pem'))) return null;
  return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
}

/** The validity of the certificates the box makes itself. */
export const SELF_SIGNED_DAYS = 825;
/** The organisation in the subject of the certificates the box makes itself. */
const SELF_SIGNED_ORG = 'EdgeVox appliance';

/** Who put the pair in the store (`<dataDir>/tls/origin.json`). */
type Origin =
  /** `fingerprints`: the certificates the box made here, newest first (the one being written included). */
  | { readonly origin: 'self-signed'; readonly fingerprints: readonly string[]; readonly subject: string; readonly san: string }
  | { readonly origin: 'uploaded'; readonly fingerprint256: string | null };

const originPath = (dataDir: string) => join(tlsDir(dataDir), 'origin.json');

function writeOrigin(dataDir: string, origin: Origin): void {
  const path = originPath(dataDir);
  writeFileSync(`${path}.new`, `${JSON.stringify(origin)}\n`, { mode: 0o600 });
  renameSync(`${path}.new`, path);
}

function readOrigin(dataDir: string): Origin | null {
  try {
    return JSON.parse(readFileSync(originPath(dataDir), 'utf8')) as Origin;
  } catch {
    return null;
  }
}

/** Make a self-signed P-256 pair with openssl (`subject` as -subj, `san` as subjectAltName) and store it, marked as the box's own. */
function makeSelfSigned(dataDir: string, subject: string, san: string): TlsMaterial {
  const dir = tlsDir(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        String(SELF_SIGNED_DAYS),
        '-subj',
        subject,
        ...(san === '' ? [] : ['-addext', `subjectAltName=${san}`]),
        '-keyout',
        join(dir, 'key.pem.new'),
        '-out',
        join(dir, 'cert.pem.new'),
      ],
      { stdio: 'pipe', timeout: 20_000 },
    );
  } catch (err) {
    throw evxError('EVX_ERR_TLS_CERT', `cannot create the self-signed certificate with openssl: ${(err as Error).message.split('\n')[0]}`, {
      cause: err,
    });
  }
  chmodSync(join(dir, 'key.pem.new'), 0o600);
  // marked before the pair is put in place, listing the one it replaces when that was the box's own too:
  // a stop between the two leaves either certificate known as the box's
  const fingerprint256 = new X509Certificate(readFileSync(join(dir, 'cert.pem.new'))).fingerprint256;
  const before = readOrigin(dataDir);
  const earlier: readonly string[] = before?.origin === 'self-signed' && Array.isArray(before.fingerprints) ? before.fingerprints : [];
  writeOrigin(dataDir, { origin: 'self-signed', fingerprints: [fingerprint256, ...earlier].slice(0, 4), subject, san });
  renameSync(join(dir, 'key.pem.new'), join(dir, 'key.pem'));
  renameSync(join(dir, 'cert.pem.new'), join(dir, 'cert.pem'));
  return readTls(dataDir)!;
}

/** Make a self-signed P-256 certificate for the site when none exists yet. */
export function ensureCertificate(
  dataDir: string,
  commonName: string,
  hosts: readonly string[],
): { material: TlsMaterial; created: boolean } {
  const existing = readTls(dataDir);
  if (existing !== null) return { material: existing, created: false };
  const san = [...new Set(['localhost', '127.0.0.1', ...hosts])]
    .filter((h) => h !== '' && h !== '0.0.0.0' && h !== '::')
    .map((h) => (/^[\d.]+$/.test(h) || h.includes(':') ? `IP:${h}` : `DNS:${h}`))
    .join(',');
  const subject = `/CN=${commonName.replace(/[^A-Za-z0-9.-]/g, '-')}/O=${SELF_SIGNED_ORG}`;
  return { material: makeSelfSigned(dataDir, subject, san), created: true };
}

/**
 * The subject and names to renew the stored certificate with when the box made it itself, else null.
 * Marked by origin.json (the stored certificate's fingerprint must be one the box made: a pair copied
 * over it by hand is not the box's). Without origin.json (made before the box marked its own) only a certificate shaped
 * exactly as the box makes them counts: self-signed, `CN=edgevox-…` and `O=EdgeVox appliance`, 825 days.
 */
function selfMadeNames(dataDir: string, cert: X509Certificate): { subject: string; san: string } | null {
  const origin = readOrigin(dataDir);
  if (origin !== null) {
    return origin.origin === 'self-signed' && Array.isArray(origin.fingerprints) && origin.fingerprints.includes(cert.fingerprint256)
      ? { subject: origin.subject, san: origin.san }
      : null;
  }
  const lines = cert.subject.split('\n');
  const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
  const shaped =
    cert.subject === cert.issuer &&
    lines.length === 2 &&
    /^CN=edgevox-[A-Za-z0-9.-]*$/.test(lines[0] ?? '') &&
    lines[1] === `O=${SELF_SIGNED_ORG}` &&
    Math.abs(days - SELF_SIGNED_DAYS) < 1;
  if (!shaped) return null;
  const san = (cert.subjectAltName ?? '')
    .split(', ')
    .filter((n) => n !== '')
    .map((n) => n.replace(/^IP Address:/, 'IP:'))
    .join(',');
  return { subject: `/${lines.join('/')}`, san };
}

export type RenewalOutcome =
  /** No certificate in the store, or one that cannot be parsed (nothing to renew). */
  | { readonly status: 'none' }
  /** Far enough from its end. */
  | { readonly status: 'valid'; readonly validTo: string }
  /** The box's own, near its end or past it: replaced by a fresh one with the same names. */
  | { readonly status: 'renewed'; readonly validTo: string; readonly previousValidTo: string }
  /** Uploaded (not the box's own), near its end or past it: left as it is. */
  | { readonly status: 'expiring'; readonly validTo: string };

/**
 * Renew the store's certificate when the box made it itself and it ends within `withinMs` of `now` (or
 * has ended): a fresh one, same subject and names, marked as the box's own. An uploaded one is never
 * touched. Throws EVX_ERR_TLS_CERT when openssl fails (the old pair stays).
 */
export function renewSelfSignedCertificate(dataDir: string, now = Date.now(), withinMs = 30 * 86_400_000): RenewalOutcome {
  const stored = readTls(dataDir);
  if (stored === null) return { status: 'none' };
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(stored.cert);
  } catch {
    return { status: 'none' };
  }
  const validTo = new Date(cert.validTo).toISOString();
  if (Date.parse(cert.validTo) - now > withinMs) return { status: 'valid', validTo };
  const names = selfMadeNames(dataDir, cert);
  if (names === null) return { status: 'expiring', validTo };
  const fresh = new X509Certificate(makeSelfSigned(dataDir, names.subject, names.san).cert);
  return { status: 'renewed', validTo: new Date(fresh.validTo).toISOString(), previousValidTo: validTo };
}

/** Check an uploaded pair: both parse, the key matches the certificate, the certificate is valid now. */
export function validateTls(material: TlsMaterial, now = Date.now()): CertInfo {
  const cert = checkPair(material);
  if (Date.parse(cert.validTo) < now)
    throw evxError('EVX_ERR_TLS_CERT', `the certificate expired on ${cert.validTo}`, { details: { field: 'cert' } });
  if (Date.parse(cert.validFrom) > now)
    throw evxError('EVX_ERR_TLS_CERT', `the certificate is not valid before ${cert.validFrom}`, { details: { field: 'cert' } });
  return certInfo(material.cert);
}

/** Check a pair as validateTls does, except its validity period: a pair a TLS server can serve (expired or not). */
export function validateTlsPair(material: TlsMaterial): CertInfo {
  checkPair(material);
  return certInfo(material.cert);
}

function checkPair(material: TlsMaterial): X509Certificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(material.cert);
  } catch (err) {
    throw evxError('EVX_ERR_TLS_CERT', 'the certificate is not a PEM X.509 certificate', { cause: err, details: { field: 'cert' } });
  }
  let key;
  try {
    key = createPrivateKey(material.key);
  } catch (err) {
    throw evxError('EVX_ERR_TLS_CERT', 'the key is not an unencrypted PEM private key', { cause: err, details: { field: 'key' } });
  }
  if (!cert.checkPrivateKey(key))
    throw evxError('EVX_ERR_TLS_CERT', 'the private key does not belong to the certificate', { details: { field: 'key' } });
  return cert;
}

export function certInfo(pem: string): CertInfo {
  const cert = new X509Certificate(pem);
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    validFrom: new Date(cert.validFrom).toISOString(),
    validTo: new Date(cert.validTo).toISOString(),
    fingerprint256: cert.fingerprint256,
    subjectAltName: cert.subjectAltName ?? null,
    selfSigned: cert.subject === cert.issuer,
  };
}

/** Write a validated pair atomically (key 0600), marked as uploaded: the box never renews it. */
export function writeTls(dataDir: string, material: TlsMaterial): void {
  const dir = tlsDir(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'key.pem.new'), material.key, { mode: 0o600 });
  writeFileSync(join(dir, 'cert.pem.new'), material.cert);
  renameSync(join(dir, 'key.pem.new'), join(dir, 'key.pem'));
  renameSync(join(dir, 'cert.pem.new'), join(dir, 'cert.pem'));
  let fingerprint256: string | null = null;
  try {
    fingerprint256 = new X509Certificate(material.cert).fingerprint256;
  } catch {
    // validated by the caller; a pair that is not is still not the box's own
  }
  writeOrigin(dataDir, { origin: 'uploaded', fingerprint256 });
}

/**
 * An HTTPS listener in front of the same fastify instance: requests go through `app.routing`
 * (same hooks, same routes), WebSocket upgrades are handed to the plain server's upgrade handler
 * that @fastify/websocket installed.
 */
export class HttpsListener {
  private readonly server: https.Server;
  private closed = false;
  /** The pair served now (sha256 of cert and key), to see a change in the store. */
  private served: string;
  private follower: NodeJS.Timeout | null = null;

  constructor(
    private readonly app: FastifyInstance,
    material: TlsMaterial,
  ) {
    this.server = https.createServer({ cert: material.cert, key: material.key, minVersion: 'TLSv1.2' }, (req, res) =>
      app.routing(req, res),
    );
    this.served = digestOf(material);
    this.server.on('upgrade', (req, socket, head) => app.server.emit('upgrade', req, socket, head));
    this.server.on('tlsClientError', () => {
      // Scanners and browsers rejecting the self-signed certificate end here; nothing to do.
    });
  }

  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.port;
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  get listening(): boolean {
    return this.server.listening;
  }

  /** Swap the certificate for new connections; existing ones keep theirs. */
  replace(material: TlsMaterial): void {
    this.server.setSecureContext({ cert: material.cert, key: material.key });
    this.served = digestOf(material);
  }

  /**
   * Serve what the store of `dataDir` holds, checked every `everyMs`: a pair replaced there (renewed by
   * the box, copied in by hand) is served to new connections without a restart. A pair that cannot be
   * served (half written, key not matching) is skipped until it can; `skipped` is told why.
   */
  follow(dataDir: string, skipped: (reason: string) => void, everyMs = 5_000): void {
    if (this.follower !== null) return;
    this.follower = setInterval(() => {
      const stored = readTls(dataDir);
      if (stored === null || digestOf(stored) === this.served) return;
      try {
        validateTlsPair(stored);
        this.replace(stored);
      } catch (err) {
        this.served = digestOf(stored); // said once per pair, not at every check
        skipped(err instanceof Error ? err.message : String(err));
      }
    }, everyMs);
    this.follower.unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.follower !== null) clearInterval(this.follower);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const digestOf = (m: TlsMaterial) => createHash('sha256').update(m.cert).update('\0').update(m.key).digest('hex');
