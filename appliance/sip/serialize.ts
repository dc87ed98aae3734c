/**
 * SIP serializer and response builder (RFC 3261 §7, §8.2.6).
 */
import { randomBytes } from 'node:crypto';
import { parseNameAddr } from './grammar.js';
import {
  isListHeader,
  prettyHeaderName,
  REASON_PHRASES,
  SipHeaders,
  type SipRequest,
  type SipResponse,
  type SipMessage,
} from './message.js';

/** Serialize a message; Content-Length is always (re)written from the body. */
export function serializeSipMessage(msg: SipMessage): Buffer {
  const start = msg.kind === 'request' ? `${msg.method} ${msg.uri} SIP/2.0` : `SIP/2.0 ${msg.status} ${msg.reason}`;
  const lines: string[] = [start];
  for (const [name, values] of msg.headers.entries()) {
    if (name === 'content-length') continue;
    const pretty = prettyHeaderName(name);
    // list headers go on one comma-joined line (§7.3.1): the header line count of a message we
    // re-send never exceeds the count it was parsed with
    if (isListHeader(name) && values.length > 1) lines.push(`${pretty}: ${values.join(', ')}`);
    else for (const v of values) lines.push(`${pretty}: ${v}`);
  }
  lines.push(`Content-Length: ${msg.body.length}`);
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
  return msg.body.length > 0 ? Buffer.concat([head, msg.body]) : head;
}

/** A random token for tags, branches and Call-IDs. */
export function randomToken(bytes = 8): string {
  return randomBytes(bytes).toString('hex');
}

export function newBranch(): string {
  return 'z9hG4bK' + randomToken(10);
}

/** The tag parameter of a From/To value, if any. */
export function tagOf(headerValue: string | undefined): string | undefined {
  if (headerValue === undefined) return undefined;
  const na = parseNameAddr(headerValue);
  const t = na?.params.get('tag');
  return t === null || t === undefined ? undefined : t;
}

export interface ResponseOptions {
  readonly reason?: string;
  /** Added to To when the request has no to-tag and status > 100. */
  readonly toTag?: string;
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  readonly body?: Buffer;
  readonly contentType?: string;
}

/** Build a response to `req` copying Via, From, To, Call-ID, CSeq (§8.2.6.2), and Record-Route in 1xx-2xx (§12.1.1). */
export function buildResponse(req: Pick<SipRequest, 'headers'>, status: number, opts: ResponseOptions = {}): SipResponse {
  const h = new SipHeaders();
  h.set('via', req.headers.getAll('via'));
  h.set('from', req.headers.get('from') ?? '');
  let to = req.headers.get('to') ?? '';
  if (status > 100 && opts.toTag !== undefined && tagOf(to) === undefined) to = `${to};tag=${opts.toTag}`;
  h.set('to', to);
  h.set('call-id', req.headers.get('call-id') ?? '');
  h.set('cseq', req.headers.get('cseq') ?? '');
  // A dialog's route set (§12.1.1): a UAS copies every Record-Route of the request into its 1xx-2xx
  // answers, so the caller's ACK, BYE and re-INVITEs come back through the record-routing proxy (a
  // Kamailio front) that chose this box, not around it.
  const recordRoute = req.headers.getAll('record-route');
  if (status > 100 && status < 300 && recordRoute.length > 0) h.set('record-route', recordRoute);
  if (status === 100) {
    const ts = req.headers.get('timestamp');
    if (ts !== undefined) h.set('timestamp', ts);
  }
  for (const [k, v] of Object.entries(opts.headers ?? {})) h.set(k, v);
  const body = opts.body ?? Buffer.alloc(0);
  if (body.length > 0) h.set('content-type', opts.contentType ?? 'application/sdp');
  return { kind: 'response', status, reason: opts.reason ?? REASON_PHRASES[status] ?? 'Unknown', headers: h, body };
}
