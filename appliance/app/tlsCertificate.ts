/**
 * The box's TLS certificate for its listeners (SIP over TLS, the e-mail intake's STARTTLS): from
 * the listener's own files (sip.tlsCertFile / tlsKeyFile, email.tlsCertFile / tlsKeyFile) or, when
 * those are empty, from the console's certificate store (made at first boot, replaced from the
 * console). It is checked (validateTls) and re-read every few seconds, so a renewed certificate
 * takes effect without a restart: new connections get it, open ones (calls, mail sessions) stay up.
 *
 * A listener's own files that cannot be used stop the start (bad configuration, named by its keys).
 * The console's store is not configuration: the console serves whatever it holds, expired or not, so
 * a listener that may run without TLS (the e-mail intake) takes it with certificateSourceOrPending:
 * an unusable one there is a warning and a wait for a renewal, never a failed start of the box. A
 * certificate that stays unusable is warned about once per reason (again at most once an hour), not
 * at every check.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { EdgeVoxConfig } from '../config/schema.js';
import { ensureCertificate, readTls, validateTls, type TlsMaterial } from '../console/tls.js';
import { evxError, isEdgeVoxError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { SipTlsOptions } from '../telephony/types.js';

/** How often the certificate files are checked for a change. */
const RELOAD_CHECK_MS = 5_000;
/** The same reason a certificate cannot be used is warned about again after this long at the earliest. */
const REPEAT_WARNING_MS = 3_600_000;

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
  /** Clock of the validity check and of the warnings' repeat (tests); Date.now by default. */
  readonly now?: () => number;
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

/**
 * Read and check the certificate; throws EVX_ERR_CONFIG_INVALID naming the keys when the files cannot
 * be read, EVX_ERR_TLS_CERT when the certificate cannot be used (naming the keys for the listener's own files).
 */
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
  try {
    validateTls(material, (o.now ?? Date.now)());
  } catch (err) {
    if (o.certFile === '' || !isEdgeVoxError(err, 'EVX_ERR_TLS_CERT')) throw err;
    throw evxError(
      'EVX_ERR_TLS_CERT',
      `the ${o.purpose} certificate cannot be used: ${err.message}; keys '${o.keys.cert}', '${o.keys.key}'`,
      {
        cause: err,
        details: { ...err.details, key: o.keys.cert },
      },
    );
  }
  return material;
}

const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Warns when the reason changes, and about the same reason again at most once an hour. */
function repeatLimitedWarning(logger: Logger, now: () => number) {
  let last: { reason: string; at: number } | null = null;
  return {
    warn(reason: string, message: string): void {
      const at = now();
      if (last !== null && last.reason === reason && at - last.at < REPEAT_WARNING_MS) return;
      last = { reason, at };
      logger.warn({ reason }, message);
    },
    /** Count `reason` as warned about now (the caller said it in its own words). */
    said(reason: string): void {
      last = { reason, at: now() };
    },
    /** The certificate is usable again: its next problem is warned about at once. */
    clear(): void {
      last = null;
    },
  };
}

const digest = (m: TlsMaterial) => createHash('sha256').update(m.cert).update(m.key).digest('hex');

/** The certificate from its files or the console's store; throws (EVX_ERR_CONFIG_INVALID, EVX_ERR_TLS_CERT) when it is unusable at start. */
export function certificateSource(o: CertificateSourceOptions): CertificateSource {
  let material = load(o);
  let current = digest(material);
  const listeners = new Set<() => void>();
  const warning = repeatLimitedWarning(o.logger, o.now ?? Date.now);
  const check = (): boolean => {
    let next: TlsMaterial;
    try {
      next = load(o);
    } catch (err) {
      // A half-written or broken replacement, or the one served has expired: keep serving the last
      // one that worked, and say so once (not at every check while it stays so).
      warning.warn(reasonOf(err), `${o.purpose.toLowerCase()} certificate not reloaded`);
      return false;
    }
    warning.clear();
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

/** The console's store held no certificate that can be served at start: why, and how to learn when it can. */
export interface PendingCertificate {
  /** Why it cannot be used (e.g. 'the certificate expired on …'); no personal data. */
  readonly reason: string;
  /** Read the store again now: the source once its certificate can be used (then `ready` of whenUsable has run), else null. */
  check(): CertificateSource | null;
  /** Check every few seconds; `ready` runs once, with the source, when the certificate can be used. Returns the stop function. */
  whenUsable(ready: (source: CertificateSource) => void): () => void;
}

/**
 * The certificate as certificateSource, except that one from the console's store (certFile '') that
 * cannot be used at start is no error: `pending` has the reason (for the caller's one warning) and says
 * when a renewed one can be used; while it cannot, a check warns only when the reason changes (or an
 * hour on). The listener's own files still throw at start as in certificateSource.
 */
export function certificateSourceOrPending(o: CertificateSourceOptions): { source: CertificateSource } | { pending: PendingCertificate } {
  try {
    return { source: certificateSource(o) };
  } catch (err) {
    if (o.certFile !== '') throw err;
    const warning = repeatLimitedWarning(o.logger, o.now ?? Date.now);
    const reason = reasonOf(err);
    // the caller warns about it once, saying what it does without (checks repeat it only when the reason changes)
    warning.said(reason);
    let source: CertificateSource | null = null;
    const readies = new Set<(source: CertificateSource) => void>();
    const check = (): CertificateSource | null => {
      if (source !== null) return source;
      try {
        source = certificateSource(o);
      } catch (again) {
        warning.warn(reasonOf(again), `${o.purpose.toLowerCase()} still off: the console's certificate cannot be used`);
        return null;
      }
      o.logger.info({}, `${o.purpose.toLowerCase()}: the console's certificate can be used again`);
      for (const ready of readies) ready(source);
      readies.clear();
      return source;
    };
    return {
      pending: {
        reason,
        check,
        whenUsable(ready) {
          if (source !== null) {
            ready(source);
            return () => undefined;
          }
          readies.add(ready);
          const timer = setInterval(() => {
            if (check() !== null) clearInterval(timer);
          }, RELOAD_CHECK_MS);
          timer.unref();
          return () => {
            clearInterval(timer);
            readies.delete(ready);
          };
        },
      },
    };
  }
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
