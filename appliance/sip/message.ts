/**
 * SIP message model (RFC 3261 §7): requests, responses and an ordered, case-insensitive header map
 * that understands compact header forms (§7.3.3) and comma-separated multi-value headers (§7.3.1).
 */

/** Compact form (one letter) -> canonical lower-case long name. */
const COMPACT: Readonly<Record<string, string>> = {
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
};

/** Headers whose value is a comma-separated list and may be split into several entries. */
const LIST_HEADERS = new Set([
  'via',
  'contact',
  'route',
  'record-route',
  'allow',
  'supported',
  'require',
  'proxy-require',
  'unsupported',
  'accept',
  'accept-encoding',
  'accept-language',
  'allow-events',
]);

/** Pretty names for serialization; others are written in Title-Case. */
const PRETTY: Readonly<Record<string, string>> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'min-se': 'Min-SE',
  rseq: 'RSeq',
  rack: 'RAck',
};

// Own properties only: a header named `constructor` or `__proto__` must not find Object.prototype's.
export function canonicalHeaderName(name: string): string {
  const lower = name.toLowerCase();
  return Object.hasOwn(COMPACT, lower) ? COMPACT[lower]! : lower;
}

export function prettyHeaderName(canonical: string): string {
  if (Object.hasOwn(PRETTY, canonical)) return PRETTY[canonical]!;
  return canonical.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

export function isListHeader(canonical: string): boolean {
  return LIST_HEADERS.has(canonical);
}

/**
 * Split a header value on commas that are outside quoted strings and angle brackets
 * (so `"Doe, J" <sip:a@b>, <sip:c@d>` gives two entries).
 */
export function splitHeaderList(value: string): string[] {
  const out: string[] = [];
  let depthAngle = 0;
  let inQuote = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value.charCodeAt(i);
    if (inQuote) {
      if (ch === 0x5c)
        i++; // backslash escape inside quoted-string
      else if (ch === 0x22) inQuote = false;
    } else if (ch === 0x22) inQuote = true;
    else if (ch === 0x3c) depthAngle++;
    else if (ch === 0x3e && depthAngle > 0) depthAngle--;
    else if (ch === 0x2c && depthAngle === 0) {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return out.filter((v) => v.length > 0);
}

/** Ordered header multimap keyed by canonical (lower-case, long-form) name. */
export class SipHeaders {
  private readonly map = new Map<string, string[]>();

  /** First value of a header, or undefined. */
  get(name: string): string | undefined {
    return this.map.get(canonicalHeaderName(name))?.[0];
  }

  getAll(name: string): readonly string[] {
    return this.map.get(canonicalHeaderName(name)) ?? [];
  }

  has(name: string): boolean {
    return this.map.has(canonicalHeaderName(name));
  }

  /** Append one header line's value; list headers are split into entries. */
  append(name: string, value: string): this {
    const key = canonicalHeaderName(name);
    let values = isListHeader(key) && !(key === 'contact' && value.trim() === '*') ? splitHeaderList(value) : [value];
    // an empty list value stays one empty entry, so `Via:` fails validation instead of vanishing
    if (values.length === 0) values = [''];
    const list = this.map.get(key);
    if (list === undefined) this.map.set(key, values);
    else list.push(...values);
    return this;
  }

  set(name: string, value: string | readonly string[]): this {
    this.map.set(canonicalHeaderName(name), typeof value === 'string' ? [value] : [...value]);
    return this;
  }

  delete(name: string): this {
    this.map.delete(canonicalHeaderName(name));
    return this;
  }

  /** Number of distinct header names. */
  get size(): number {
    return this.map.size;
  }

  entries(): IterableIterator<[string, string[]]> {
    return this.map.entries();
  }

  clone(): SipHeaders {
    const h = new SipHeaders();
    for (const [k, v] of this.map) h.map.set(k, [...v]);
    return h;
  }
}

export type SipTransportName = 'udp' | 'tcp' | 'tls';

/** Where a message came from / goes to. */
export interface SipPeer {
  readonly transport: SipTransportName;
  readonly address: string;
  readonly port: number;
}

export interface SipRequest {
  readonly kind: 'request';
  readonly method: string;
  readonly uri: string;
  readonly headers: SipHeaders;
  body: Buffer;
}

export interface SipResponse {
  readonly kind: 'response';
  readonly status: number;
  readonly reason: string;
  readonly headers: SipHeaders;
  body: Buffer;
}

export type SipMessage = SipRequest | SipResponse;

/** Default reason phrases for the statuses the appliance sends. */
export const REASON_PHRASES: Readonly<Record<number, string>> = {
  100: 'Trying',
  180: 'Ringing',
  181: 'Call Is Being Forwarded',
  182: 'Queued',
  183: 'Session Progress',
  200: 'OK',
  202: 'Accepted',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  420: 'Bad Extension',
  421: 'Extension Required',
  422: 'Session Interval Too Small',
  423: 'Interval Too Brief',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  483: 'Too Many Hops',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  491: 'Request Pending',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  504: 'Server Time-out',
  505: 'Version Not Supported',
  603: 'Decline',
};
