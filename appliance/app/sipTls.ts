/**
 * SIP over TLS set-up: the certificate comes from its own files (sip.tlsCertFile / tlsKeyFile) or
 * from the console's certificate store (made at first boot, replaced from the console), and is
 * re-read when it changes so a renewed certificate takes effect without a restart; calls stay up.
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

function fromFiles(config: EdgeVoxConfig, dataDir: string): TlsMaterial | null {
  const { tlsCertFile, tlsKeyFile } = config.sip;
  if (tlsCertFile === '') return readTls(dataDir);
  const at = (p: string) => (isAbsolute(p) ? p : join(dataDir, p));
  return { cert: readFileSync(at(tlsCertFile), 'utf8'), key: readFileSync(at(tlsKeyFile), 'utf8') };
}

/** Read and check the certificate; throws EVX_ERR_CONFIG naming the key on a bad one. */
function loadMaterial(config: EdgeVoxConfig, dataDir: string): TlsMaterial {
  let material: TlsMaterial | null;
  try {
    material = fromFiles(config, dataDir);
  } catch (err) {
    throw evxError('EVX_ERR_CONFIG_INVALID', `cannot read the SIP TLS certificate or key; keys 'sip.tlsCertFile', 'sip.tlsKeyFile'`, {
      cause: err,
      details: { key: 'sip.tlsCertFile' },
    });
  }
  if (material === null) {
    material = ensureCertificate(dataDir, `edgevox-${config.site.id}`, [config.sip.host, config.sip.rtpHost]).material;
  }
  validateTls(material);
  return material;
}

export interface SipTlsSetup {
  readonly options: SipTlsOptions;
  /** Start watching for a new certificate; `reload` applies it. Returns the stop function. */
  watch(reload: () => void): () => void;
}

export function sipTlsSetup(config: EdgeVoxConfig, dataDir: string, logger: Logger, extra: Partial<SipTlsOptions> = {}): SipTlsSetup {
  let material = loadMaterial(config, dataDir);
  const digest = (m: TlsMaterial) => createHash('sha256').update(m.cert).update(m.key).digest('hex');
  let current = digest(material);
  return {
    options: { ...extra, certificate: () => material },
    watch(reload) {
      const timer = setInterval(() => {
        let next: TlsMaterial;
        try {
          next = loadMaterial(config, dataDir);
        } catch (err) {
          logger.warn({ reason: err instanceof Error ? err.message : String(err) }, 'sip tls certificate not reloaded');
          return;
        }
        const d = digest(next);
        if (d === current) return;
        material = next;
        current = d;
        reload();
        logger.info({}, 'sip tls certificate reloaded');
      }, RELOAD_CHECK_MS);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}
