/**
 * Parsers for the structured SIP header values the appliance relies on (RFC 3261 §19, §20, §25):
 * SIP URIs, name-addr (From/To/Contact/Refer-To), Via, CSeq and generic `;param=value` lists.
 * Every parser returns `undefined` for malformed input instead of throwing: callers turn that into
 * a 400 with the header name as the reason.
 */

/** RFC 3261 token characters. */
const TOKEN_RE = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
const PARAM_VALUE_RE = /^[A-Za-z0-9\-.!%*_+`'~:[\]/&$]*$/;
const HOST_RE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9\-.]*[A-Za-z0-9])?\.?)$/;

export function isToken(s: string): boolean {
  return TOKEN_RE.test(s);
}

export interface SipUri {
  readonly scheme: 'sip' | 'sips' | 'tel';
  readonly user: string | undefined;
  readonly host: string;
  readonly port: number | undefined;
  readonly params: ReadonlyMap<string, string | null>;
  /** The original text. */
  readonly raw: string;
}

/** Parse `;a=b;c` into a map (names lower-cased, values kept; flag params map to null). */
export function parseParams(text: string): Map<string, string | null> | undefined {
  const out = new Map<string, string | null>();
  if (text.trim() === '') return out;
  for (const part of splitOutsideQuotes(text, ';')) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    const name = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
    if (!isToken(name)) return undefined;
    let value: string | null = eq < 0 ? null : p.slice(eq + 1).trim();
    if (value !== null && value.startsWith('"')) {
      if (value.length < 2 || !value.endsWith('"')) return undefined;
      value = value.slice(1, -1);
    } else if (value !== null && !PARAM_VALUE_RE.test(value)) {
      // gen-value = token / host / quoted-string (§25.1), plus URI paramchars
      return undefined;
    }
    out.set(name, value);
  }
  return out;
}

function splitOutsideQuotes(text: string, sep: string): string[] {
  const out: string[] = [];
  let inQuote = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') inQuote = !inQuote;
    else if (ch === '\\' && inQuote) i++;
    else if (!inQuote && ch === sep) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

/** Parse a sip:, sips: or tel: URI. */
export function parseUri(raw: string): SipUri | undefined {
  const text = raw.trim();
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  const scheme = text.slice(0, colon).toLowerCase();
  if (scheme !== 'sip' && scheme !== 'sips' && scheme !== 'tel') return undefined;
  let rest = text.slice(colon + 1);
  if (/[\s<>"]/.test(rest) || rest.length === 0) return undefined;
  const q = rest.indexOf('?');
  if (q >= 0) rest = rest.slice(0, q);
  const semi = rest.indexOf(';');
  const paramText = semi >= 0 ? rest.slice(semi + 1) : '';
  const hostPart0 = semi >= 0 ? rest.slice(0, semi) : rest;
  const params = parseParams(paramText);
  if (params === undefined) return undefined;
  if (scheme === 'tel') {
    if (!/^\+?[0-9A-Fa-f*#().-]+$/.test(hostPart0)) return undefined;
    return { scheme, user: hostPart0, host: '', port: undefined, params, raw: text };
  }
  let user: string | undefined;
  let hostPort = hostPart0;
  const at = hostPart0.lastIndexOf('@');
  if (at >= 0) {
    user = hostPart0.slice(0, at);
    hostPort = hostPart0.slice(at + 1);
    if (user.length === 0) return undefined;
  }
  const hp = parseHostPort(hostPort);
  if (hp === undefined) return undefined;
  return { scheme, user, host: hp.host, port: hp.port, params, raw: text };
}

/** Parse `host[:port]` (IPv6 references in brackets). */
export function parseHostPort(text: string): { host: string; port: number | undefined } | undefined {
  let host = text;
  let port: number | undefined;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0) return undefined;
    host = text.slice(0, end + 1);
    const after = text.slice(end + 1);
    if (after.length > 0) {
      if (!after.startsWith(':')) return undefined;
      port = parsePort(after.slice(1));
      if (port === undefined) return undefined;
    }
  } else {
    const c = text.indexOf(':');
    if (c >= 0) {
      host = text.slice(0, c);
      port = parsePort(text.slice(c + 1));
      if (port === undefined) return undefined;
    }
  }
  if (!HOST_RE.test(host)) return undefined;
  return { host, port };
}

function parsePort(s: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(s)) return undefined;
  const n = Number(s);
  return n > 0 && n <= 65535 ? n : undefined;
}

export interface NameAddr {
  readonly display: string | undefined;
  readonly uri: SipUri;
  /** Header parameters after the URI (tag, expires, q, ...). */
  readonly params: ReadonlyMap<string, string | null>;
}

/** Parse name-addr / addr-spec with header params (From, To, Contact, Refer-To, Referred-By). */
export function parseNameAddr(raw: string): NameAddr | undefined {
  const text = raw.trim();
  let display: string | undefined;
  let uriText: string;
  let paramText: string;
  const lt = findAngle(text);
  if (lt >= 0) {
    const gt = text.indexOf('>', lt);
    if (gt < 0) return undefined;
    const disp = text.slice(0, lt).trim();
    if (disp.length > 0) {
      if (disp.startsWith('"')) {
        if (disp.length < 2 || !disp.endsWith('"')) return undefined;
        display = disp.slice(1, -1);
      } else {
        if (!/^[A-Za-z0-9\-.!%*_+`'~ \t]+$/.test(disp)) return undefined;
        display = disp;
      }
    }
    uriText = text.slice(lt + 1, gt);
    const after = text.slice(gt + 1).trim();
    if (after.length > 0 && !after.startsWith(';')) return undefined;
    paramText = after.slice(1);
  } else {
    // addr-spec: parameters after the URI belong to the header, not the URI (§20.10)
    const semi = text.indexOf(';');
    uriText = semi >= 0 ? text.slice(0, semi) : text;
    paramText = semi >= 0 ? text.slice(semi + 1) : '';
  }
  const uri = parseUri(uriText);
  if (uri === undefined) return undefined;
  const params = parseParams(paramText);
  if (params === undefined) return undefined;
  return { display, uri, params };
}

/** Index of the `<` that opens the URI, skipping a quoted display name. */
function findAngle(text: string): number {
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inQuote) {
      if (ch === '\\') i++;
      else if (ch === '"') inQuote = false;
    } else if (ch === '"') inQuote = true;
    else if (ch === '<') return i;
  }
  return -1;
}

export interface Via {
  readonly transport: string;
  readonly host: string;
  readonly port: number | undefined;
  readonly branch: string | undefined;
  readonly params: ReadonlyMap<string, string | null>;
}

/** Parse one Via entry: `SIP/2.0/UDP host:port;branch=...`. */
export function parseVia(raw: string): Via | undefined {
  const m = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z]+)\s+([^;\s]+)\s*(?:;(.*))?$/i.exec(raw.trim());
  if (m === null) return undefined;
  const hp = parseHostPort(m[2]!);
  if (hp === undefined) return undefined;
  const params = parseParams(m[3] ?? '');
  if (params === undefined) return undefined;
  const branch = params.get('branch');
  return {
    transport: m[1]!.toUpperCase(),
    host: hp.host,
    port: hp.port,
    branch: branch === null || branch === undefined ? undefined : branch,
    params,
  };
}

export interface CSeq {
  readonly seq: number;
  readonly method: string;
}

export function parseCSeq(raw: string): CSeq | undefined {
  const m = /^([0-9]{1,10})\s+(\S+)$/.exec(raw.trim());
  if (m === null) return undefined;
  const seq = Number(m[1]);
  if (seq > 0x7fffffff || !isToken(m[2]!)) return undefined;
  return { seq, method: m[2]! };
}

/** Session-Expires / Min-SE: `delta-seconds[;refresher=uac|uas]` (RFC 4028). */
export function parseSessionExpires(raw: string): { seconds: number; refresher: 'uac' | 'uas' | undefined } | undefined {
  const semi = raw.indexOf(';');
  const num = (semi >= 0 ? raw.slice(0, semi) : raw).trim();
  if (!/^[0-9]{1,9}$/.test(num)) return undefined;
  const params = parseParams(semi >= 0 ? raw.slice(semi + 1) : '');
  if (params === undefined) return undefined;
  const r = params.get('refresher');
  const refresher = r === 'uac' || r === 'uas' ? r : undefined;
  if (r !== undefined && r !== null && refresher === undefined) return undefined;
  return { seconds: Number(num), refresher };
}

/** Lower-cased option tags of Supported / Require headers. */
export function optionTags(values: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const v of values) for (const t of v.split(',')) if (t.trim() !== '') out.add(t.trim().toLowerCase());
  return out;
}
