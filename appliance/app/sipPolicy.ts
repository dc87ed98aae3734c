/**
 * Per-peer SIP policy from the configuration: which media encryption a call from a trunk must use
 * (the trunk's `srtp`, else `sip.srtp`), which TLS trunks must show a client certificate, and the
 * CAs those certificates (and the trunks' server certificates, when the box connects out) are
 * checked against. A trunk is recognised by its host, as an address: calls from elsewhere get the
 * defaults.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { EdgeVoxConfig } from '../config/schema.js';
import { evxError } from '../errors.js';
import { DEFAULT_MEDIA_SECURITY, type MediaSecurity } from '../sdp/offer-answer.js';
import type { SipPeer } from '../sip/message.js';
import type { SipTlsOptions } from '../telephony/types.js';

type Trunk = EdgeVoxConfig['sip']['trunks'][number];

function readCa(trunk: Trunk): string {
  try {
    return readFileSync(trunk.tlsCaFile, 'utf8');
  } catch (err) {
    throw evxError('EVX_ERR_CONFIG_INVALID', `cannot read the CA file of trunk '${trunk.name}'; key 'sip.trunks[].tlsCaFile'`, {
      cause: err,
      details: { key: 'sip.trunks', trunk: trunk.name },
    });
  }
}

export interface SipPolicy {
  /** sip.allowList plus the trunks' addresses (their answers must not be dropped); [] = everyone. */
  readonly allowList: readonly string[];
  mediaSecurity(peer: SipPeer): MediaSecurity;
  /** The TLS options that depend on trunks (client certificates, trunk CAs). */
  readonly tls: Pick<SipTlsOptions, 'clientCas' | 'requireClientCert' | 'client'>;
}

export function sipPolicyOf(config: EdgeVoxConfig): SipPolicy {
  const byAddress = new Map<string, Trunk>();
  for (const t of config.sip.trunks) if (!byAddress.has(t.host)) byAddress.set(t.host, t);
  const cas = new Map(config.sip.trunks.filter((t) => t.tlsCaFile !== '').map((t) => [t.name, readCa(t)]));
  const clientCas = config.sip.trunks.filter((t) => t.tlsVerifyClient && cas.has(t.name)).map((t) => cas.get(t.name)!);
  const fallback: MediaSecurity = { ...DEFAULT_MEDIA_SECURITY, policy: config.sip.srtp };
  const allow = config.sip.allowList;
  return {
    allowList: allow.length === 0 ? [] : [...new Set([...allow, ...config.sip.trunks.map((t) => t.host).filter((h) => isIP(h) !== 0)])],
    mediaSecurity: (peer) => {
      const trunk = byAddress.get(peer.address);
      return trunk === undefined ? fallback : { ...DEFAULT_MEDIA_SECURITY, policy: trunk.srtp };
    },
    tls: {
      clientCas: () => clientCas.join('\n'),
      requireClientCert: (address) => byAddress.get(address)?.tlsVerifyClient === true,
      client: (peer): ConnectionOptions => {
        const trunk = byAddress.get(peer.address);
        const ca = trunk === undefined ? undefined : cas.get(trunk.name);
        return ca === undefined ? {} : { ca };
      },
    },
  };
}
