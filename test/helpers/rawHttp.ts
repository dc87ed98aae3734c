/**
 * HTTP requests with the path sent exactly as written. `fetch` parses URLs the WHATWG way (it
 * resolves `/./`, `/x/../`, backslashes and some escapes before sending), which would hide exactly
 * the spellings an attacker sends; node:http puts the path on the request line untouched.
 */
import http from 'node:http';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RawOptions {
  headers?: Record<string, string>;
  body?: string;
  /** Source address to send from (any 127.0.0.0/8 address works on Linux loopback). */
  localAddress?: string;
}

export function rawRequest(baseUrl: string, method: string, path: string, options: RawOptions = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  const { body, localAddress } = options;
  const headers = { ...options.headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) };
  return new Promise((resolve, reject) => {
    let answered: (() => void) | null = null;
    const req = http.request(
      { host: hostname, port: Number(port), method, path, headers, agent: false, ...(localAddress ? { localAddress } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        answered = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', answered);
      },
    );
    // Node's own 400 for a request line it cannot parse carries a body even to a HEAD: the client
    // then fails to parse those bytes, but the answer was already given.
    req.on('error', (err) => (answered !== null ? answered() : reject(err)));
    req.end(body);
  });
}

/**
 * A WebSocket handshake on a raw path: resolves with 101 when the server upgraded (the socket is
 * closed at once), else with the HTTP status it answered.
 */
export function rawUpgrade(baseUrl: string, path: string, headers: Record<string, string> = {}): Promise<number> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: hostname,
      port: Number(port),
      method: 'GET',
      path,
      agent: false,
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...headers,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 101);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Percent-encode one character (`a` -> `%61`), with upper- or lower-case hex digits. */
export function pct(ch: string, upper = false): string {
  const hex = ch.charCodeAt(0).toString(16).padStart(2, '0');
  return `%${upper ? hex.toUpperCase() : hex}`;
}

/**
 * Spellings of one path that a client may send for it, or that an attacker may try: escaped
 * letters and slashes, double escaping, case, doubled slashes, dot segments, trailing slash,
 * `;` parameters, a query string, backslashes, a NUL.
 */
export function pathSpellings(path: string): string[] {
  const segs = path.split('/').slice(1);
  const join = (parts: string[]) => `/${parts.join('/')}`;
  const firstLetter = (s: string, f: (c: string) => string) => {
    const i = s.search(/[a-z]/i);
    return i < 0 ? s : s.slice(0, i) + f(s[i]!) + s.slice(i + 1);
  };
  const out = [
    path,
    join(segs.map((s) => firstLetter(s, (c) => pct(c)))),
    firstLetter(path, (c) => pct(c)),
    path.replace(/[a-z]/gi, (c) => pct(c)),
    path.replace(/[a-z]/gi, (c) => pct(c, true)),
    `/${segs.join('%2F')}`,
    `/${segs.join('%2f')}`,
    join(segs.map((s) => firstLetter(s, (c) => `%25${pct(c).slice(1)}`))),
    join(segs.map((s) => firstLetter(s, (c) => `%2525${pct(c).slice(1)}`))),
    path.toUpperCase(),
    firstLetter(path, (c) => c.toUpperCase()),
    path.replace(/\//g, '//'),
    `/${path}`,
    `/.${path}`,
    join(segs.flatMap((s) => ['.', s])),
    `/x/..${path}`,
    join([segs[0]!, 'x', '..', ...segs.slice(1)]),
    `/%2e${path}`,
    `/x/%2e%2e${path}`,
    `/x/%2E%2E${path}`,
    `${path}/`,
    `${path}/.`,
    `${path};x=1`,
    join([`${segs[0]!};x=1`, ...segs.slice(1)]),
    `${path}?x=1`,
    `${path}?`,
    `${path}#x`,
    path.replace(/\//g, '\\'),
    `${path}%00`,
    `${path}%20`,
    `${path}.json`,
  ];
  return [...new Set(out)];
}
