/**
 * TLS for the console: a self-signed certificate made at first boot with Debian's openssl CLI
 * (kept under `<dataDir>/tls/`, key 0600), an HTTPS listener that serves the same fastify routes
 * (and WebSocket upgrades) as the plain one, and hot replacement by an uploaded certificate.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
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

/** Make a self-signed P-256 certificate for the site when none exists yet. */
export function ensureCertificate(
  dataDir: string,
  commonName: string,
  hosts: readonly string[],
): { material: TlsMaterial; created: boolean } {
  const existing = readTls(dataDir);
  if (existing !== null) return { material: existing, created: false };
  const dir = tlsDir(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const san = [...new Set(['localhost', '127.0.0.1', ...hosts])]
    .filter((h) => h !== '' && h !== '0.0.0.0' && h !== '::')
    .map((h) => (/^[\d.]+$/.test(h) || h.includes(':') ? `IP:${h}` : `DNS:${h}`))
    .join(',');
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
        '825',
        '-subj',
        `/CN=${commonName.replace(/[^A-Za-z0-9.-]/g, '-')}/O=EdgeVox appliance`,
        '-addext',
        `subjectAltName=${san}`,
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
  renameSync(join(dir, 'key.pem.new'), join(dir, 'key.pem'));
  renameSync(join(dir, 'cert.pem.new'), join(dir, 'cert.pem'));
  return { material: readTls(dataDir)!, created: true };
}

/** Check an uploaded pair: both parse, the key matches the certificate, the certificate is valid now. */
export function validateTls(material: TlsMaterial, now = Date.now()): CertInfo {
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
  if (Date.parse(cert.validTo) < now)
    throw evxError('EVX_ERR_TLS_CERT', `the certificate expired on ${cert.validTo}`, { details: { field: 'cert' } });
  if (Date.parse(cert.validFrom) > now)
    throw evxError('EVX_ERR_TLS_CERT', `the certificate is not valid before ${cert.validFrom}`, { details: { field: 'cert' } });
  return certInfo(material.cert);
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

/** Write a validated pair atomically (key 0600). */
export function writeTls(dataDir: string, material: TlsMaterial): void {
  const dir = tlsDir(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'key.pem.new'), material.key, { mode: 0o600 });
  writeFileSync(join(dir, 'cert.pem.new'), material.cert);
  renameSync(join(dir, 'key.pem.new'), join(dir, 'key.pem'));
  renameSync(join(dir, 'cert.pem.new'), join(dir, 'cert.pem'));
}

/**
 * An HTTPS listener in front of the same fastify instance: requests go through `app.routing`
 * (same hooks, same routes), WebSocket upgrades are handed to the plain server's upgrade handler
 * that @fastify/websocket installed.
 */
export class HttpsListener {
  private readonly server: https.Server;
  private closed = false;

  constructor(
    private readonly app: FastifyInstance,
    material: TlsMaterial,
  ) {
    this.server = https.createServer({ cert: material.cert, key: material.key, minVersion: 'TLSv1.2' }, (req, res) =>
      app.routing(req, res),
    );
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
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
