/**
 * HTTP Digest authentication for SIP (RFC 3261 §22, RFC 2617, RFC 7616): MD5 and SHA-256,
 * qop=auth or none. Server side: nonces are stateless (timestamp + HMAC), expire, and a (nonce, nc)
 * pair is accepted once (bounded replay window). Client side (`answerChallenge`): the Authorization
 * value for a registrar's or proxy's challenge, on the strongest algorithm it offers.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { evxError } from '../errors.js';

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

/** The parameters of `Digest k=v, k="v", ...` (names lower-cased, quotes and escapes removed). */
function parseDigestParams(header: string): Map<string, string> | undefined {
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
  return params;
}

/** Parse `Digest k=v, k="v", ...`; undefined when not a Digest header or malformed. */
export function parseDigest(header: string): DigestCredentials | undefined {
  const params = parseDigestParams(header);
  if (params === undefined) return undefined;
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

/** One challenge of a WWW-Authenticate or Proxy-Authenticate header (RFC 7616 §3.3). */
export interface DigestChallenge {
  readonly realm: string;
  readonly nonce: string;
  readonly algorithm: DigestAlgorithm;
  /** The challenge lists qop values: the answer must carry qop=auth (the only one offered that is answered). */
  readonly qop: boolean;
  readonly opaque: string | undefined;
  /** The previous nonce was only stale (RFC 7616 §3.3): the same credentials may answer the new one. */
  readonly stale: boolean;
}

/** Parse one challenge; undefined when malformed, or when it asks for what this side cannot answer. */
export function parseChallenge(header: string): DigestChallenge | undefined {
  const params = parseDigestParams(header);
  if (params === undefined) return undefined;
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  if (realm === undefined || nonce === undefined || nonce === '') return undefined;
  const alg = (params.get('algorithm') ?? 'MD5').toUpperCase();
  // -sess variants and unknown algorithms are not spoken; a challenge among several may still be
  if (alg !== 'MD5' && alg !== 'SHA-256') return undefined;
  const qopList = params.get('qop');
  const qops = qopList === undefined ? [] : qopList.split(',').map((q) => q.trim().toLowerCase());
  // qop=auth-int alone would need the body hashed: not answered
  if (qopList !== undefined && !qops.includes('auth')) return undefined;
  return {
    realm,
    nonce,
    algorithm: alg,
    qop: qopList !== undefined,
    opaque: params.get('opaque'),
    stale: (params.get('stale') ?? '').toLowerCase() === 'true',
  };
}

const STRENGTH: Readonly<Record<DigestAlgorithm, number>> = { MD5: 1, 'SHA-256': 2 };

/**
 * The challenge to answer among those a response carries (one header value each): the strongest
 * algorithm this side speaks (RFC 7616 §3.7), the first of equals. Undefined when none can be answered.
 */
export function chooseChallenge(headers: string | readonly string[]): DigestChallenge | undefined {
  let best: DigestChallenge | undefined;
  for (const h of typeof headers === 'string' ? [headers] : headers) {
    const c = parseChallenge(h);
    if (c !== undefined && (best === undefined || STRENGTH[c.algorithm] > STRENGTH[best.algorithm])) best = c;
  }
  return best;
}

export interface DigestAnswerOptions {
  /** Method of the request the answer goes on (REGISTER, INVITE, ...). */
  readonly method: string;
  /** The request's Request-URI, as sent. */
  readonly uri: string;
  readonly username: string;
  readonly password: string;
  /** Nonce count: requests this nonce has answered, this one included (1 for the first). */
  readonly nc: number;
  /** Client nonce: fresh for each nonce answered. */
  readonly cnonce: string;
}

function quoted(s: string): string {
  return `"${s.replace(/["\\]/g, '\\$&')}"`;
}

/** The Authorization (or Proxy-Authorization) value answering one parsed challenge. */
export function answerDigestChallenge(c: DigestChallenge, opts: DigestAnswerOptions): string {
  if (!Number.isInteger(opts.nc) || opts.nc < 1 || opts.nc > 0xffffffff) {
    throw evxError('EVX_ERR_SIP_REQUEST_FAILED', 'digest nonce count out of range', { details: { reason: 'nonce count' } });
  }
  const nc = opts.nc.toString(16).padStart(8, '0');
  const qop = c.qop ? 'auth' : undefined;
  const response = digestResponse({
    algorithm: c.algorithm,
    username: opts.username,
    realm: c.realm,
    password: opts.password,
    method: opts.method,
    uri: opts.uri,
    nonce: c.nonce,
    qop,
    nc,
    cnonce: opts.cnonce,
  });
  const parts = [
    `username=${quoted(opts.username)}`,
    `realm=${quoted(c.realm)}`,
    `nonce=${quoted(c.nonce)}`,
    `uri=${quoted(opts.uri)}`,
    `response=${quoted(response)}`,
    `algorithm=${c.algorithm}`,
  ];
  if (c.opaque !== undefined) parts.push(`opaque=${quoted(c.opaque)}`);
  if (qop !== undefined) parts.push(`qop=${qop}`, `nc=${nc}`, `cnonce=${quoted(opts.cnonce)}`);
  return `Digest ${parts.join(', ')}`;
}

/**
 * The Authorization (or Proxy-Authorization) value for a challenge: `challengeHeader` is one
 * WWW-Authenticate / Proxy-Authenticate value or all of them (the strongest algorithm offered is
 * answered). Throws EVX_ERR_SIP_REQUEST_FAILED when none can be answered.
 */
export function answerChallenge(challengeHeader: string | readonly string[], opts: DigestAnswerOptions): string {
  const c = chooseChallenge(challengeHeader);
  if (c === undefined) {
    throw evxError('EVX_ERR_SIP_REQUEST_FAILED', 'no digest challenge this side can answer (MD5 or SHA-256, qop auth or none)', {
      details: { reason: 'unsupported challenge' },
    });
  }
  return answerDigestChallenge(c, opts);
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
