/**
 * Where the box may send a caller. A REFER hands the caller — number, voice, everything they say
 * next — to whatever address it names, so a target must be a SIP URI whose host is inside a
 * configured network (`sip.transferTargets`, plus the trunks and PBXs of `sip.allowList`) or one of
 * the host names listed there. Checked when an agent or overflow target is saved, and again on
 * every REFER, so a record stored by any other way still cannot send a caller elsewhere.
 *
 * The URI is read strictly (RFC 3261 §19.1): one `sip:`/`sips:` scheme, at most one `@`, a host that
 * is an IPv4 address in dotted-quad form, a bracketed IPv6 address or a DNS name, an optional
 * numeric port; no escaped characters in the host, no URI headers (`?...`), and no `maddr`
 * parameter (it would redirect the request to another host whatever the host part says).
 */
import net from 'node:net';
import { evxError } from '../errors.js';
import { addNetwork, inNetworks } from '../sip/guard.js';

export interface SipTarget {
  readonly host: string;
  readonly port: number | null;
  readonly family: 'ipv4' | 'ipv6' | 'dns';
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const USER = /^[A-Za-z0-9\-_.!~*'()&=+$,;?/%]+$/;

/** Parse the target of a transfer, or say why it is not one. */
export function parseSipTarget(uri: string): SipTarget | { error: string } {
  if (uri.length > 256) return { error: 'longer than 256 characters' };
  const m = /^(sips?):(.*)$/i.exec(uri);
  if (m === null) return { error: 'not a sip: or sips: URI' };
  const rest = m[2]!;
  if (/[\s<>"\\[\]{}|^`]/.test(rest.replace(/^([^@;]*@)?\[[0-9a-fA-F:.]+\]/, '$1')))
    return { error: 'has characters a SIP URI may not carry' };
  if (rest.includes('?')) return { error: 'carries URI headers (?...)' };
  const semi = rest.indexOf(';');
  const main = semi < 0 ? rest : rest.slice(0, semi);
  const params = semi < 0 ? [] : rest.slice(semi + 1).split(';');
  for (const p of params) {
    const name = (p.split('=')[0] ?? '').toLowerCase();
    if (name === 'maddr') return { error: 'has a maddr parameter' };
    if (!/^[a-z0-9\-_.!~*'()]+(=[A-Za-z0-9\-_.!~*'()[\]:]+)?$/i.test(p)) return { error: 'has a malformed parameter' };
  }
  const ats = main.split('@');
  if (ats.length > 2) return { error: 'has more than one @' };
  const hostport = ats.length === 2 ? ats[1]! : ats[0]!;
  if (ats.length === 2 && !USER.test(ats[0]!)) return { error: 'has a malformed user part' };
  if (hostport.includes('%')) return { error: 'has an escaped character in the host' };
  let host: string;
  let portText: string | undefined;
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    if (close < 0) return { error: 'has an unclosed IPv6 reference' };
    host = hostport.slice(1, close);
    const after = hostport.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return { error: 'has text after the IPv6 reference' };
    portText = after === '' ? undefined : after.slice(1);
    if (!net.isIPv6(host)) return { error: 'has a malformed IPv6 address' };
  } else {
    const colon = hostport.indexOf(':');
    host = colon < 0 ? hostport : hostport.slice(0, colon);
    portText = colon < 0 ? undefined : hostport.slice(colon + 1);
  }
  let port: number | null = null;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) return { error: 'has a bad port' };
    port = Number(portText);
  }
  if (net.isIPv6(host)) return { host: host.toLowerCase(), port, family: 'ipv6' };
  if (net.isIPv4(host)) return { host, port, family: 'ipv4' };
  const name = host.toLowerCase().replace(/\.$/, '');
  // All-numeric names (`127.1`, `2130706433`) are addresses to some resolvers: never a host name.
  if (!HOSTNAME.test(name) || /^[0-9.]+$/.test(name) || /^0x/i.test(name.split('.').pop() ?? '')) return { error: 'has a malformed host' };
  return { host: name, port, family: 'dns' };
}

/** Where callers may be sent when nothing else is configured: this host only. */
export const LOCAL_TRANSFER_TARGETS: readonly string[] = ['127.0.0.0/8', '::1/128'];

/** The networks and host names callers may be sent to. */
export class TransferTargetPolicy {
  private readonly networks = new net.BlockList();
  private readonly hostnames = new Set<string>();

  /** `entries`: IPs, CIDRs and exact DNS names (the config key named in errors is `key`). */
  constructor(entries: readonly string[], key = 'sip.transferTargets') {
    for (const entry of entries) {
      const added = addNetwork(this.networks, entry);
      if (added === 'bad-prefix')
        throw evxError('EVX_ERR_CONFIG_INVALID', `${key}: entry has a bad prefix length`, { details: { key, entry } });
      if (added === 'ok') continue;
      const name = entry.toLowerCase().replace(/\.$/, '');
      if (entry.includes('/') || !HOSTNAME.test(name) || /^[0-9.]+$/.test(name))
        throw evxError('EVX_ERR_CONFIG_INVALID', `${key}: entry is not an IP address, CIDR or host name`, { details: { key, entry } });
      this.hostnames.add(name);
    }
  }

  /** Why `uri` may not be a transfer target, or null when it may. */
  problem(uri: string): string | null {
    const target = parseSipTarget(uri);
    if ('error' in target) return `the SIP URI ${target.error}`;
    if (target.family === 'dns') return this.hostnames.has(target.host) ? null : 'its host is not a listed transfer host';
    return inNetworks(this.networks, target.host) ? null : 'its address is outside the transfer networks';
  }

  /** Throw EVX_ERR_TRANSFER_TARGET unless callers may be sent to `uri`. */
  assertAllowed(uri: string, field: string): void {
    const problem = this.problem(uri);
    if (problem !== null)
      throw evxError('EVX_ERR_TRANSFER_TARGET', `${field}: ${problem} (see sip.transferTargets)`, { details: { field } });
  }
}

/** The policy of a config: `sip.transferTargets` plus the trunk/PBX networks of `sip.allowList`. */
export function transferPolicyOf(sip: { transferTargets: readonly string[]; allowList: readonly string[] }): TransferTargetPolicy {
  return new TransferTargetPolicy([...sip.transferTargets, ...sip.allowList]);
}
