/**
 * HTTP Digest authentication for SIP (RFC 3261 §22, RFC 2617, RFC 7616): MD5 and SHA-256,
 * qop=auth or none. Nonces are stateless (timestamp + HMAC), expire, and a (nonce, nc) pair is
 * accepted once (bounded replay window).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface SipAccount {
  readonly username: string;
  readonly password: string;
}

export type DigestAlgorithm = 'MD5' | 'SHA-256';

export interface DigestCredentials {
  readonly username: string;
  readonly realm: string;
  readonly nonce: string;
  readonly uri: string;
  readonly response: string;
  readonly algorithm: DigestAlgorithm;
  readonly qop: string | undefined;
  readonly nc: string | undefined;
  readonly cnonce: string | undefined;
  readonly opaque: string | undefined;
}

export type AuthOutcome = 'ok' | 'missing' | 'stale' | 'invalid';

function hash(alg: DigestAlgorithm, s: string): string {
  return createHash(alg === 'MD5' ? 'md5' : 'sha256')
    .update(s, 'utf8')
    .digest('hex');
}

/** Parse `Digest k=v, k="v", ...`; undefined when not a Digest header or malformed. */
export function parseDigest(header: string): DigestCredentials | undefined {
  const m = /^\s*Digest\s+(.*)$/is.exec(header);
  if (m === null) return undefined;
  const params = new Map<string, string>();
  const re = /\s*([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^\s,]+)\s*(,|$)/gy;
  const text = m[1]!;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const mm = re.exec(text);
    if (mm === null) return undefined;
    params.set(mm[1]!.toLowerCase(), mm[3] !== undefined ? mm[3].replace(/\\(.)/g, '$1') : mm[2]!);
    pos = re.lastIndex;
  }
  const get = (k: string): string | undefined => params.get(k);
  const alg = (get('algorithm') ?? 'MD5').toUpperCase();
  if (alg !== 'MD5' && alg !== 'SHA-256') return undefined;
  const username = get('username');
  const realm = get('realm');
  const nonce = get('nonce');
  const uri = get('uri');
  const response = get('response');
  if (username === undefined || realm === undefined || nonce === undefined || uri === undefined || response === undefined) return undefined;
  return {
    username,
    realm,
    nonce,
    uri,
    response,
    algorithm: alg,
    qop: get('qop'),
    nc: get('nc'),
    cnonce: get('cnonce'),
    opaque: get('opaque'),
  };
}

/** Expected `response` value for given credentials (RFC 2617 §3.2.2.1). */
export function digestResponse(p: {
  algorithm: DigestAlgorithm;
  username: string;
  realm: string;
  password: string;
  method: string;
  uri: string;
  nonce: string;
  qop?: string | undefined;
  nc?: string | undefined;
  cnonce?: string | undefined;
}): string {
  const ha1 = hash(p.algorithm, `${p.username}:${p.realm}:${p.password}`);
  const ha2 = hash(p.algorithm, `${p.method}:${p.uri}`);
  if (p.qop === 'auth') return hash(p.algorithm, `${ha1}:${p.nonce}:${p.nc ?? ''}:${p.cnonce ?? ''}:auth:${ha2}`);
  return hash(p.algorithm, `${ha1}:${p.nonce}:${ha2}`);
}

export interface DigestAuthOptions {
  readonly realm: string;
  readonly accounts: readonly SipAccount[];
  readonly nonceTtlMs?: number;
  /** Injected for tests; default Date.now. */
  readonly now?: () => number;
}

export class DigestAuthenticator {
  private readonly secret = randomBytes(32);
  private readonly opaque = randomBytes(8).toString('hex');
  private readonly accounts: Map<string, string>;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly seen = new Set<string>();
  private readonly seenOrder: string[] = [];

  constructor(private readonly opts: DigestAuthOptions) {
    this.accounts = new Map(opts.accounts.map((a) => [a.username, a.password]));
    this.ttlMs = opts.nonceTtlMs ?? 300_000;
    this.now = opts.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.accounts.size > 0;
  }

  private sign(ts: string): string {
    return createHmac('sha256', this.secret).update(ts).digest('base64url').slice(0, 22);
  }

  newNonce(): string {
    const ts = this.now().toString(36);
    return `${ts}.${this.sign(ts)}`;
  }

  /** WWW-Authenticate values: SHA-256 first (RFC 7616 §3.7 preference order), then MD5. */
  challenges(stale = false): string[] {
    const nonce = this.newNonce();
    const tail = `qop="auth", opaque="${this.opaque}"${stale ? ', stale=true' : ''}`;
    return [
      `Digest realm="${this.opts.realm}", nonce="${nonce}", algorithm=SHA-256, ${tail}`,
      `Digest realm="${this.opts.realm}", nonce="${nonce}", algorithm=MD5, ${tail}`,
    ];
  }

  /** Check an Authorization header for `method`; `missing` when absent. */
  verify(authorization: string | undefined, method: string): AuthOutcome {
    if (authorization === undefined) return 'missing';
    const c = parseDigest(authorization);
    if (c === undefined || c.realm !== this.opts.realm) return 'invalid';
    const dot = c.nonce.indexOf('.');
    if (dot <= 0) return 'invalid';
    const ts = c.nonce.slice(0, dot);
    const sig = Buffer.from(c.nonce.slice(dot + 1));
    const expect = Buffer.from(this.sign(ts));
    if (sig.length !== expect.length || !timingSafeEqual(sig, expect)) return 'invalid';
    const password = this.accounts.get(c.username);
    if (password === undefined) return 'invalid';
    if (c.qop !== undefined && c.qop !== 'auth') return 'invalid';
    const want = Buffer.from(digestResponse({ ...c, password, method }));
    const got = Buffer.from(c.response.toLowerCase());
    if (want.length !== got.length || !timingSafeEqual(want, got)) return 'invalid';
    const age = this.now() - parseInt(ts, 36);
    if (!(age >= 0 && age <= this.ttlMs)) return 'stale';
    const replayKey = `${c.nonce}|${c.nc ?? ''}|${c.cnonce ?? ''}|${method}`;
    if (this.seen.has(replayKey)) return 'stale';
    this.seen.add(replayKey);
    this.seenOrder.push(replayKey);
    if (this.seenOrder.length > 10_000) this.seen.delete(this.seenOrder.shift()!);
    return 'ok';
  }
}
