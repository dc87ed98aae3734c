/**
 * Requests the appliance sends outside any dialog (RFC 3261 §8.1.1): OPTIONS keep-alives to a trunk
 * (§11) and REGISTER to a provider's registrar (§10.2). Each gets a fresh Via branch with `rport`
 * (RFC 3581), Max-Forwards 70, a From tag, To, Call-ID, CSeq, Contact and User-Agent; the
 * serializer writes Content-Length.
 */
import { contactUri, type LocalEndpoint } from './dialog.js';
import { SipHeaders, type SipRequest, type SipTransportName } from './message.js';
import { newBranch, randomToken } from './serialize.js';

export const USER_AGENT = 'EdgeVox';

/** Where a trunk is: host (name or address) and port, on a transport. */
export interface SipTarget {
  readonly host: string;
  readonly port: number;
  readonly transport: SipTransportName;
}

/** A host for a URI or Via: IPv6 addresses in brackets. */
export function uriHost(host: string): string {
  return host.split(':').length > 2 && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * The user part of a SIP URI, %-escaped where RFC 3261 §25.1 `user` does not allow a character;
 * `;` and `?` too (allowed there, but parsers that split parameters first trip on them).
 */
export function uriUser(user: string): string {
  return user.replace(/[^A-Za-z0-9\-_.!~*'()&=+$,/]/gu, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}

/** `sip:host[:port][;transport=tcp|tls]` (no port when 0). */
export function targetUri(target: SipTarget): string {
  const t = target.transport === 'udp' ? '' : `;transport=${target.transport}`;
  return `sip:${uriHost(target.host)}${target.port > 0 ? `:${target.port}` : ''}${t}`;
}

/** What an out-of-dialog request carries besides its method and Request-URI. */
export interface OutOfDialogOptions {
  /** Where Via and Contact say we are (SipServer.localEndpoint of the peer). */
  readonly local: LocalEndpoint;
  /** From address (a URI); a tag is added. */
  readonly from: string;
  /** To address (a URI); no tag. */
  readonly to: string;
  readonly callId: string;
  readonly cseq: number;
  readonly fromTag?: string;
  /** Contact header value; default our own contact URI. */
  readonly contact?: string;
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
}

/** Build an out-of-dialog request. */
export function createOutOfDialogRequest(method: string, uri: string, opts: OutOfDialogOptions): SipRequest {
  const h = new SipHeaders();
  const { local } = opts;
  h.set('via', `SIP/2.0/${local.transport.toUpperCase()} ${uriHost(local.host)}:${local.port};branch=${newBranch()};rport`);
  h.set('max-forwards', '70');
  h.set('from', `<${opts.from}>;tag=${opts.fromTag ?? randomToken()}`);
  h.set('to', `<${opts.to}>`);
  h.set('call-id', opts.callId);
  h.set('cseq', `${opts.cseq} ${method}`);
  h.set('contact', opts.contact ?? `<${contactUri(local)}>`);
  h.set('user-agent', USER_AGENT);
  for (const [k, v] of Object.entries(opts.headers ?? {})) h.set(k, v);
  return { kind: 'request', method, uri, headers: h, body: Buffer.alloc(0) };
}

/** A new Call-ID for requests that start their own (OPTIONS) or a registration's lifetime. */
export function newCallId(local: LocalEndpoint): string {
  return `${randomToken(12)}@${local.host.includes(':') ? 'edgevox' : local.host}`;
}

/** OPTIONS to a trunk (§11.1): Request-URI and To are the trunk, Accept says SDP. */
export function createOptions(target: SipTarget, local: LocalEndpoint, cseq = 1): SipRequest {
  const uri = targetUri(target);
  return createOutOfDialogRequest('OPTIONS', uri, {
    local,
    from: `sip:edgevox@${uriHost(local.host)}`,
    to: uri,
    callId: newCallId(local),
    cseq,
    headers: { accept: 'application/sdp' },
  });
}

/** A registration's identity: one Call-ID and From tag for its lifetime, CSeq rising (§10.2). */
export interface RegistrationIdentity {
  /** The registrar (Request-URI host and where the request goes). */
  readonly registrar: SipTarget;
  /** Domain of the address of record (`sip:user@domain`). */
  readonly domain: string;
  readonly username: string;
  readonly callId: string;
  readonly fromTag: string;
}

/**
 * REGISTER binding our contact to `sip:username@domain` for `expiresSec` (0 removes the binding,
 * §10.2.2). `authorization` is the answer to a challenge, on the header the challenge asked for.
 */
export function createRegister(
  id: RegistrationIdentity,
  local: LocalEndpoint,
  cseq: number,
  expiresSec: number,
  authorization?: { readonly header: 'authorization' | 'proxy-authorization'; readonly value: string },
): SipRequest {
  const addressOfRecord = `sip:${uriUser(id.username)}@${uriHost(id.domain)}`;
  const headers: Record<string, string> = { expires: String(expiresSec) };
  if (authorization !== undefined) headers[authorization.header] = authorization.value;
  return createOutOfDialogRequest('REGISTER', registerUri(id), {
    local,
    from: addressOfRecord,
    to: addressOfRecord,
    callId: id.callId,
    cseq,
    fromTag: id.fromTag,
    contact: `<${contactUri(local)}>;expires=${expiresSec}`,
    headers,
  });
}

/**
 * Request-URI of a REGISTER: the registrar's domain, no user part (§10.2.1). The registrar's port
 * belongs in it only when the domain is the registrar's own host.
 */
export function registerUri(id: RegistrationIdentity): string {
  const sameHost = id.domain.toLowerCase() === id.registrar.host.toLowerCase();
  return targetUri(sameHost ? id.registrar : { ...id.registrar, host: id.domain, port: 0 });
}
