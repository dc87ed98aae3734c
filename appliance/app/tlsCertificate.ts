/**
 * The box's TLS certificate for its listeners (SIP over TLS, the e-mail intake's STARTTLS): from
 * the listener's own files (sip.tlsCertFile / tlsKeyFile, email.tlsCertFile / tlsKeyFile) or, when
 * those are empty, from the console's certificate store (made at first boot, replaced from the
 * console). It is checked (validateTls) and re-read every few seconds, so a renewed certificate
 * takes effect without a restart: new connections get it, open ones (calls, mail sessions) stay up.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { EdgeVoxConfig } from '../config/schema.js';
import { ensureCertificate, readTls, validateTls, type TlsMaterial } from '../console/tls.js';
import { evxError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { SipTlsOptions } from '../telephony/types.js';

/** How often the certificate files are checked for a change. */
const RELOAD_CHECK_MS = 5_000;

export interface CertificateSourceOptions {
  readonly dataDir: string;
  /** The listener's own PEM files (relative to dataDir unless absolute); certFile '' = the console's store. */
  readonly certFile: string;
  readonly keyFile: string;
  /** The configuration keys of those files, named in errors ('sip.tlsCertFile', 'sip.tlsKeyFile'). */
  readonly keys: { readonly cert: string; readonly key: string };
  /** What it is for, in messages and logs ('SIP TLS', 'e-mail STARTTLS'). */
  readonly purpose: string;
  /** Common name and host names of the self-signed certificate made when the console's store is empty. */
  readonly commonName: string;
  readonly hosts: readonly string[];
  readonly logger: Logger;
}

/** A certificate that follows its source. */
export interface CertificateSource {
  /** The certificate chain and key now (PEM). */
  current(): TlsMaterial;
  /** Read the source again now (what the watch does every few seconds); true when it changed (listeners told). */
  check(): boolean;
  /** Call `changed` after each change; returns the stop function. */
  watch(changed: () => void): () => void;
}

function read(o: CertificateSourceOptions): TlsMaterial | null {
  if (o.certFile === '') return readTls(o.dataDir);
  const at = (p: string) => (isAbsolute(p) ? p : join(o.dataDir, p));
  return { cert: readFileSync(at(o.certFile), 'utf8'), key: readFileSync(at(o.keyFile), 'utf8') };
}

/** Read and check the certificate; throws EVX_ERR_CONFIG_INVALID naming the keys when the files cannot be read. */
function load(o: CertificateSourceOptions): TlsMaterial {
  let material: TlsMaterial | null;
  try {
    material = read(o);
  } catch (err) {
    throw evxError('EVX_ERR_CONFIG_INVALID', `cannot read the ${o.purpose} certificate or key; keys '${o.keys.cert}', '${o.keys.key}'`, {
      cause: err,
      details: { key: o.keys.cert },
    });
  }
  if (material === null) material = ensureCertificate(o.dataDir, o.commonName, o.hosts).material;
  validateTls(material);
  return material;
}

const digest = (m: TlsMaterial) => createHash('sha256').update(m.cert).update(m.key).digest('hex');

/** The certificate from its files or the console's store; throws (EVX_ERR_CONFIG_INVALID, EVX_ERR_TLS_CERT) when it is unusable at start. */
export function certificateSource(o: CertificateSourceOptions): CertificateSource {
  let material = load(o);
  let current = digest(material);
  const listeners = new Set<() => void>();
  const check = (): boolean => {
    let next: TlsMaterial;
    try {
      next = load(o);
    } catch (err) {
      // A half-written or broken replacement: keep serving the one that works.
      o.logger.warn({ reason: err instanceof Error ? err.message : String(err) }, `${o.purpose.toLowerCase()} certificate not reloaded`);
      return false;
    }
    const d = digest(next);
    if (d === current) return false;
    material = next;
    current = d;
    for (const changed of listeners) changed();
    o.logger.info({}, `${o.purpose.toLowerCase()} certificate reloaded`);
    return true;
  };
  return {
    current: () => material,
    check,
    watch(changed) {
      listeners.add(changed);
      const timer = setInterval(check, RELOAD_CHECK_MS);
      timer.unref();
      return () => {
        clearInterval(timer);
        listeners.delete(changed);
      };
    },
  };
}

export interface SipTlsSetup {
  readonly options: SipTlsOptions;
  /** Start watching for a new certificate; `reload` applies it. Returns the stop function. */
  watch(reload: () => void): () => void;
}

export function sipTlsSetup(config: EdgeVoxConfig, dataDir: string, logger: Logger, extra: Partial<SipTlsOptions> = {}): SipTlsSetup {
  const source = certificateSource({
    dataDir,
    certFile: config.sip.tlsCertFile,
    keyFile: config.sip.tlsKeyFile,
    keys: { cert: 'sip.tlsCertFile', key: 'sip.tlsKeyFile' },
    purpose: 'SIP TLS',
    commonName: `edgevox-${config.site.id}`,
    hosts: [config.sip.host, config.sip.rtpHost],
    logger,
  });
  return { options: { ...extra, certificate: () => source.current() }, watch: (reload) => source.watch(reload) };
}
