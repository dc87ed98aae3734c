/**
 * Strict SIP message parser (RFC 3261 §7, §18.3, §20). Pure: bytes in, message or a typed failure out.
 *
 * The failure keeps whatever headers were readable so the server can still address a 400 response
 * (it needs Via, From, To, Call-ID and CSeq) — see `canAddressResponse`.
 */
import { isToken, parseCSeq, parseNameAddr, parseUri, parseVia } from './grammar.js';
import { SipHeaders, type SipMessage, type SipRequest } from './message.js';

export interface SipParseLimits {
  /** Whole message (headers + body), bytes. UDP datagrams bigger than this are refused. */
  readonly maxMessageBytes: number;
  readonly maxHeaderBytes: number;
  readonly maxHeaderCount: number;
  readonly maxBodyBytes: number;
}

export const DEFAULT_SIP_LIMITS: SipParseLimits = {
  maxMessageBytes: 65_535,
  maxHeaderBytes: 16_384,
  maxHeaderCount: 128,
  maxBodyBytes: 49_152,
};

/** Why a message was refused; `status` is the response to send when one can be addressed. */
export interface SipParseFailure {
  readonly ok: false;
  readonly reason: string;
  readonly status: 400 | 413 | 505;
  /** Set when the start line was a request line. */
  readonly method: string | undefined;
  readonly uri: string | undefined;
  /** Headers that could be read before the failure (may be partial). */
  readonly headers: SipHeaders | undefined;
}

export type SipParseResult = { readonly ok: true; readonly message: SipMessage } | SipParseFailure;

const METHOD_RE = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
const CRLF2 = Buffer.from('\r\n\r\n');

function fail(reason: string, status: 400 | 413 | 505 = 400, method?: string, uri?: string, headers?: SipHeaders): SipParseFailure {
  return { ok: false, reason, status, method, uri, headers };
}

/** Locate the end of the header block: index of the empty line's first CR, or -1. */
export function findHeaderEnd(buf: Buffer, from = 0): number {
  return buf.indexOf(CRLF2, from);
}

/**
 * Parse one complete SIP message.
 * `datagram` = true (UDP): Content-Length is optional and bytes beyond it are discarded (§18.3);
 * false (already framed by the TCP framer): the body is exactly what follows the headers.
 */
export function parseSipMessage(buf: Buffer, limits: SipParseLimits = DEFAULT_SIP_LIMITS, datagram = true): SipParseResult {
  if (buf.length > limits.maxMessageBytes) return fail('message too large', 413);
  const headerEnd = findHeaderEnd(buf);
  if (headerEnd < 0) {
    if (buf.length > limits.maxHeaderBytes) return fail('header block too large', 413);
    return fail('no end of headers');
  }
  if (headerEnd > limits.maxHeaderBytes) return fail('header block too large', 413);
  const head = buf.toString('latin1', 0, headerEnd);
  if (head.includes('\0')) return fail('NUL byte in headers');
  const lines = head.split('\r\n');
  for (const l of lines) if (l.includes('\n') || l.includes('\r')) return fail('bare CR or LF in headers');
  const startLine = lines[0] ?? '';

  let method: string | undefined;
  let uri: string | undefined;
  let status: number | undefined;
  let reason = '';
  if (startLine.startsWith('SIP/')) {
    const m = /^SIP\/(\d+\.\d+) ([1-6][0-9]{2}) ([^\r\n]*)$/.exec(startLine);
    if (m === null) return fail('bad status line');
    if (m[1] !== '2.0') return fail('unsupported SIP version', 505);
    status = Number(m[2]);
    reason = m[3]!;
  } else {
    const parts = startLine.split(' ');
    if (parts.length !== 3) return fail('bad request line');
    const [meth, reqUri, version] = parts as [string, string, string];
    if (!METHOD_RE.test(meth)) return fail('bad method token');
    method = meth;
    uri = reqUri;
    if (!/^SIP\/\d+\.\d+$/.test(version)) return fail('bad request line version', 400, method, uri);
  }

  // headers, with line folding (§7.3.1)
  const headers = new SipHeaders();
  let count = 0;
  let pendingName: string | undefined;
  let pendingValue = '';
  const flush = (): string | undefined => {
    if (pendingName === undefined) return undefined;
    headers.append(pendingName, pendingValue.trim());
    pendingName = undefined;
    return undefined;
  };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (pendingName === undefined) return fail('continuation line without header', 400, method, uri);
      pendingValue += ' ' + line.trim();
      continue;
    }
    flush();
    const colon = line.indexOf(':');
    if (colon <= 0) return fail('header line without colon', 400, method, uri, headers);
    const name = line.slice(0, colon).trimEnd();
    if (!isToken(name)) return fail('bad header name', 400, method, uri, headers);
    if (++count > limits.maxHeaderCount) return fail('too many headers', 413, method, uri, headers);
    pendingName = name;
    pendingValue = line.slice(colon + 1);
  }
  flush();

  if (status === undefined && lines[0]!.split(' ')[2] !== 'SIP/2.0') {
    return fail('unsupported SIP version', 505, method, uri, headers);
  }

  // body framing
  const bodyStart = headerEnd + 4;
  const available = buf.length - bodyStart;
  const clValues = headers.getAll('content-length');
  let bodyLength = available;
  if (clValues.length > 1 && new Set(clValues).size > 1) return fail('conflicting Content-Length', 400, method, uri, headers);
  if (clValues.length > 0) {
    const cl = clValues[0]!;
    if (!/^[0-9]{1,9}$/.test(cl)) return fail('bad Content-Length', 400, method, uri, headers);
    bodyLength = Number(cl);
    if (bodyLength > available) return fail('body shorter than Content-Length', 400, method, uri, headers);
    if (!datagram && bodyLength !== available) return fail('stream frame length mismatch', 400, method, uri, headers);
  } else if (!datagram) {
    return fail('Content-Length required on stream transports', 400, method, uri, headers);
  }
  if (bodyLength > limits.maxBodyBytes) return fail('body too large', 413, method, uri, headers);
  const body = Buffer.from(buf.subarray(bodyStart, bodyStart + bodyLength));
  if (bodyLength > 0 && !headers.has('content-type')) return fail('body without Content-Type', 400, method, uri, headers);

  // mandatory headers and their syntax (§8.1.1, §8.2)
  const problem = validateCoreHeaders(headers, method);
  if (problem !== undefined) return fail(problem, 400, method, uri, headers);

  if (method !== undefined) {
    const u = parseUri(uri!);
    if (u === undefined) return fail('bad Request-URI', 400, method, uri, headers);
    const cseq = parseCSeq(headers.get('cseq')!)!;
    if (cseq.method !== method) return fail('CSeq method does not match request method', 400, method, uri, headers);
    const mf = headers.get('max-forwards');
    if (mf !== undefined && !/^[0-9]{1,3}$/.test(mf.trim())) return fail('bad Max-Forwards', 400, method, uri, headers);
    if (method === 'INVITE' && headers.getAll('contact').length !== 1) {
      return fail('INVITE needs exactly one Contact', 400, method, uri, headers);
    }
    const req: SipRequest = { kind: 'request', method, uri: uri!, headers, body };
    return { ok: true, message: req };
  }
  return { ok: true, message: { kind: 'response', status: status!, reason, headers, body } };
}

function validateCoreHeaders(h: SipHeaders, method: string | undefined): string | undefined {
  for (const name of ['via', 'from', 'to', 'call-id', 'cseq'] as const) {
    if (!h.has(name)) return `missing ${name} header`;
  }
  for (const name of ['from', 'to', 'call-id', 'cseq'] as const) {
    if (h.getAll(name).length !== 1) return `more than one ${name} header`;
  }
  const vias = h.getAll('via');
  for (const v of vias) if (parseVia(v) === undefined) return 'bad Via header';
  if (method !== undefined && parseVia(vias[0]!)!.branch === undefined) return 'Via without branch';
  if (parseNameAddr(h.get('from')!) === undefined) return 'bad From header';
  if (parseNameAddr(h.get('to')!) === undefined) return 'bad To header';
  const callId = h.get('call-id')!;
  if (!/^[\x21-\x7e]{1,256}$/.test(callId)) return 'bad Call-ID header';
  if (parseCSeq(h.get('cseq')!) === undefined) return 'bad CSeq header';
  for (const c of h.getAll('contact')) {
    if (c === '*') continue;
    if (parseNameAddr(c) === undefined) return 'bad Contact header';
  }
  return undefined;
}

/** True when a failed request still has what a response needs (§8.2.6.2). */
export function canAddressResponse(f: SipParseFailure): boolean {
  const h = f.headers;
  if (f.method === undefined || f.method === 'ACK' || h === undefined) return false;
  const via = h.getAll('via');
  if (via.length === 0 || parseVia(via[0]!) === undefined) return false;
  return (
    h.getAll('from').length === 1 &&
    h.getAll('to').length === 1 &&
    h.getAll('call-id').length === 1 &&
    h.getAll('cseq').length === 1 &&
    parseCSeq(h.get('cseq')!) !== undefined
  );
}
