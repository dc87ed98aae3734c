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
 *
 * SIP over TLS takes the store as the console does (servesLapsed): an expired or not yet valid
 * certificate there is served (phones that check validity refuse the handshake; UDP/TCP SIP are not
 * concerned), warned about, and followed until renewed. A store that holds no pair a TLS server can
 * serve (not parsed, key not matching) still fails the start, saying where and what to do: it does not
 * come about by time on a box nobody touched, and the console's HTTPS listener cannot serve it either.
 *
 * keepSelfSignedCertificate renews the box's own self-signed certificate (never an uploaded one) within
 * 30 days of its end, at start and daily; the listeners that follow the store then take it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { EdgeVoxConfig } from '../config/schema.js';
import {
  ensureCertificate,
  readTls,
  renewSelfSignedCertificate,
  tlsDir,
  validateTls,
  validateTlsPair,
  type TlsMaterial,
} from '../console/tls.js';
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
  /**
   * Serve a certificate of the console's store that is not valid now (expired, not yet valid), as the
   * console does, with a warning, instead of refusing it (own files are refused all the same).
   */
  readonly servesLapsed?: boolean;
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
 * be read, EVX_ERR_TLS_CERT when the certificate cannot be used (naming the keys for the listener's own
 * files). With servesLapsed, a store certificate outside its validity is returned with `lapsed` (why).
 */
function load(o: CertificateSourceOptions): { material: TlsMaterial; lapsed: string | null } {
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
  if (o.certFile === '' && o.servesLapsed === true) {
    try {
      validateTlsPair(material);
    } catch (err) {
      if (!isEdgeVoxError(err, 'EVX_ERR_TLS_CERT')) throw err;
      throw evxError(
        'EVX_ERR_TLS_CERT',
        `${o.purpose} cannot use the console's certificate store (${tlsDir(o.dataDir)}): ${err.message}; ` +
          `replace cert.pem and key.pem there with a matching pair, or remove both to have a new self-signed one made at the next start, or set '${o.keys.cert}', '${o.keys.key}'`,
        { cause: err, details: { ...err.details } },
      );
    }
    try {
      validateTls(material, (o.now ?? Date.now)());
      return { material, lapsed: null };
    } catch (err) {
      return { material, lapsed: reasonOf(err) };
    }
  }
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
  return { material, lapsed: null };
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
  const first = load(o);
  let material = first.material;
  let current = digest(material);
  const listeners = new Set<() => void>();
  const warning = repeatLimitedWarning(o.logger, o.now ?? Date.now);
  const lapsedWarning = (reason: string) =>
    warning.warn(
      reason,
      `${o.purpose} serves the console's certificate as the console does, though it is not valid now; ` +
        'clients that check validity refuse it until it is renewed',
    );
  if (first.lapsed !== null) lapsedWarning(first.lapsed);
  const check = (): boolean => {
    let next: TlsMaterial;
    try {
      const loaded = load(o);
      next = loaded.material;
      if (loaded.lapsed !== null) lapsedWarning(loaded.lapsed);
      else warning.clear();
    } catch (err) {
      // A half-written or broken replacement, or the one served has expired: keep serving the last
      // one that worked, and say so once (not at every check while it stays so).
      warning.warn(reasonOf(err), `${o.purpose.toLowerCase()} certificate not reloaded`);
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
  /** Read the certificate again now (what the watch does every few seconds); true when it changed. */
  check(): boolean;
}

/**
 * SIP over TLS: sip.tlsCertFile / tlsKeyFile, or the console's store. Own files that cannot be used fail
 * the start naming the keys; the store's certificate is served even when expired (see the file's head).
 */
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
    servesLapsed: true,
  });
  return {
    options: { ...extra, certificate: () => source.current() },
    watch: (reload) => source.watch(reload),
    check: () => source.check(),
  };
}

/** How often keepSelfSignedCertificate looks at the store's certificate again. */
const RENEWAL_CHECK_MS = 86_400_000;
/** The box's own certificate is renewed this long before it ends. */
const RENEW_WITHIN_MS = 30 * 86_400_000;

/**
 * Renew the box's own self-signed certificate in the console's store when it ends within 30 days (or
 * has ended): now and then daily. Listeners that follow the store (console HTTPS, SIP TLS, e-mail
 * STARTTLS) take the fresh one within seconds. An uploaded certificate is never replaced; one near its
 * end is warned about (daily). A failed renewal is a warning, retried the next day. Returns the stop function.
 */
export function keepSelfSignedCertificate(o: {
  readonly dataDir: string;
  readonly logger: Logger;
  readonly now?: () => number;
}): () => void {
  const now = o.now ?? Date.now;
  const check = (): void => {
    try {
      const outcome = renewSelfSignedCertificate(o.dataDir, now(), RENEW_WITHIN_MS);
      if (outcome.status === 'renewed')
        o.logger.info({ validTo: outcome.validTo, previousValidTo: outcome.previousValidTo }, 'self-signed certificate renewed');
      else if (outcome.status === 'expiring')
        o.logger.warn(
          { validTo: outcome.validTo },
          "the console's certificate (uploaded) expires soon or has expired; upload a renewed one from the console",
        );
    } catch (err) {
      o.logger.warn({ reason: reasonOf(err) }, 'self-signed certificate not renewed; tried again tomorrow');
    }
  };
  check();
  const timer = setInterval(check, RENEWAL_CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
