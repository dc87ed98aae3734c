/**
 * The requests of a call the box places (RFC 3261 UAC): the INVITE, the same INVITE again with
 * credentials after a 401/407 (§22.2), its CANCEL (§9.1), the ACK of a failure response
 * (§17.1.1.3), and the dialog a 2xx creates (§12.1.2). Pure functions: no I/O.
 */
import { contactUri, Dialog, type LocalEndpoint } from '../sip/dialog.js';
import { parseCSeq, parseNameAddr } from '../sip/grammar.js';
import { SipHeaders, type SipPeer, type SipRequest, type SipResponse } from '../sip/message.js';
import { createOutOfDialogRequest, newCallId, uriHost, uriUser } from '../sip/outOfDialog.js';
import { newBranch, randomToken } from '../sip/serialize.js';
import { ALLOW } from './call.js';

/** CSeq of our INVITE; every later request of the dialog counts up from the Dialog's own start. */
const INVITE_CSEQ = 1;

export interface UacInvite {
  readonly request: SipRequest;
  /** Our From tag: the local tag of the dialog the 2xx creates. */
  readonly localTag: string;
  /** Our From header without its tag (the dialog's local address). */
  readonly localAddress: string;
}

export interface InviteOptions {
  readonly requestUri: string;
  readonly local: LocalEndpoint;
  readonly fromUser: string;
  /** Display name of our From (what the phone shows), optional. */
  readonly fromDisplayName?: string;
  /** User part of the To URI; default: the Request-URI's user. */
  readonly toUser?: string;
  /** P-Asserted-Identity (RFC 3325) value, for a trunk that trusts us to assert the caller id. */
  readonly assertedIdentity?: string;
  readonly sdp: string;
}

/** A quoted-string display name (RFC 3261 §25.1): quotes and backslashes escaped, controls dropped. */
function displayName(text: string): string {
  const clean = [...text]
    .filter((ch) => ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) !== 0x7f)
    .join('')
    .slice(0, 64);
  return `"${clean.replace(/["\\]/g, (c) => `\\${c}`)}" `;
}

/** The INVITE with our SDP offer. Supported says timer only: we send no PRACK, so no 100rel. */
export function buildInvite(opts: InviteOptions): UacInvite {
  const target = parseNameAddr(`<${opts.requestUri}>`)?.uri;
  const host = target === undefined ? opts.local.host : uriHost(target.host) + (target.port === undefined ? '' : `:${target.port}`);
  const toUser = opts.toUser ?? target?.user;
  const secure = opts.local.transport === 'tls' && /^sips:/i.test(opts.requestUri);
  const scheme = secure ? 'sips' : 'sip';
  const fromUri = `${scheme}:${uriUser(opts.fromUser)}@${uriHost(opts.local.host)}`;
  const toUri = toUser === undefined ? opts.requestUri : `${scheme}:${uriUser(toUser)}@${host}`;
  const localTag = randomToken();
  const req = createOutOfDialogRequest('INVITE', opts.requestUri, {
    local: opts.local,
    from: fromUri,
    to: toUri,
    callId: newCallId(opts.local),
    cseq: INVITE_CSEQ,
    fromTag: localTag,
    contact: `<${contactUri(opts.local, secure)}>`,
    headers: { allow: ALLOW, supported: 'timer', 'content-type': 'application/sdp' },
  });
  const localAddress = `${opts.fromDisplayName === undefined ? '' : displayName(opts.fromDisplayName)}<${fromUri}>`;
  req.headers.set('from', `${localAddress};tag=${localTag}`);
  if (opts.assertedIdentity !== undefined) req.headers.set('p-asserted-identity', opts.assertedIdentity);
  return { request: { ...req, body: Buffer.from(opts.sdp) }, localTag, localAddress };
}

/** The header that answers a 401 (Authorization) or a 407 (Proxy-Authorization). */
export type CredentialsHeader = 'authorization' | 'proxy-authorization';

/**
 * The INVITE again with credentials after a challenge (§22.2, §8.1.3.5): a new transaction (new Via
 * branch, CSeq + 1) in the same call (Call-ID, From and its tag, To, Contact, SDP unchanged).
 * Earlier credentials of the other kind are kept (a proxy's and the far end's may both be needed).
 */
export function inviteWithCredentials(invite: UacInvite, header: CredentialsHeader, value: string): UacInvite {
  const prev = invite.request;
  const headers = prev.headers.clone();
  const seq = (cseqOf(prev) ?? INVITE_CSEQ) + 1;
  const [top = '', ...rest] = prev.headers.getAll('via');
  headers.set('via', [top.replace(/;branch=[^;,\s]*/i, `;branch=${newBranch()}`), ...rest]);
  headers.set('cseq', `${seq} INVITE`);
  headers.set(header, value);
  return { ...invite, request: { ...prev, headers } };
}

/** The credentials an INVITE carried: the ACK of its 2xx carries the same (§13.2.2.4). */
export function credentialsOf(invite: SipRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['authorization', 'proxy-authorization'] as const) {
    const value = invite.headers.get(name);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** The CSeq number of a request or response (the INVITE's, for the ACK of its 2xx). */
export function cseqOf(msg: SipRequest | SipResponse): number | undefined {
  return parseCSeq(msg.headers.get('cseq') ?? '')?.seq;
}

/** Headers a CANCEL or failure ACK copies from the INVITE: its top Via (same branch), From, Call-ID, Route. */
function sameTransaction(invite: SipRequest, method: string, to: string): SipRequest {
  const h = new SipHeaders();
  h.set('via', invite.headers.getAll('via')[0] ?? '');
  h.set('max-forwards', '70');
  h.set('from', invite.headers.get('from') ?? '');
  h.set('to', to);
  h.set('call-id', invite.headers.get('call-id') ?? '');
  h.set('cseq', `${parseCSeq(invite.headers.get('cseq') ?? '')?.seq ?? INVITE_CSEQ} ${method}`);
  const route = invite.headers.getAll('route');
  if (route.length > 0) h.set('route', route);
  return { kind: 'request', method, uri: invite.uri, headers: h, body: Buffer.alloc(0) };
}

/** CANCEL of a ringing INVITE (§9.1): same Request-URI, Via branch, From, To, Call-ID and CSeq number. */
export function cancelFor(invite: SipRequest): SipRequest {
  return sameTransaction(invite, 'CANCEL', invite.headers.get('to') ?? '');
}

/** ACK of a 3xx-6xx (§17.1.1.3): part of the INVITE transaction, To from the response (its tag). */
export function ackForFailure(invite: SipRequest, res: SipResponse): SipRequest {
  return sameTransaction(invite, 'ACK', res.headers.get('to') ?? invite.headers.get('to') ?? '');
}

/**
 * The dialog a 2xx creates, from our side (§12.1.2): remote target from its Contact, route set
 * from its Record-Route reversed, remote tag from its To. Dialog is written from a received
 * INVITE's point of view, so it is built from the mirror image a UAS would have seen: From = the
 * 2xx's To, To = our From, Record-Route reversed; remote CSeq 0 (the peer has sent no request yet).
 * Undefined when the 2xx's To cannot be read.
 */
export function uacDialog(invite: UacInvite, res: SipResponse, peer: SipPeer, local: LocalEndpoint): Dialog | undefined {
  const remote = res.headers.get('to');
  if (remote === undefined || parseNameAddr(remote) === undefined) return undefined;
  const h = new SipHeaders();
  h.set('call-id', invite.request.headers.get('call-id') ?? '');
  h.set('from', remote);
  h.set('to', invite.localAddress);
  h.set('cseq', '0 INVITE');
  const contact = res.headers.get('contact');
  if (contact !== undefined) h.set('contact', contact);
  const recordRoute = res.headers.getAll('record-route');
  if (recordRoute.length > 0) h.set('record-route', [...recordRoute].reverse());
  const mirror: SipRequest = { kind: 'request', method: 'INVITE', uri: invite.request.uri, headers: h, body: Buffer.alloc(0) };
  const dialog = new Dialog(mirror, invite.localTag, peer, local);
  dialog.countAbove(cseqOf(invite.request) ?? INVITE_CSEQ);
  dialog.state = 'confirmed';
  return dialog;
}
