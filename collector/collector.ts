/**
 * The reference receiver for site aggregates (`edgevox collector`): verifies each payload's
 * signature with the sending site's key, checks it against the aggregates schema and the
 * idempotency key, stores it once (SQLite), and answers a repeat of the same key with "duplicate"
 * so sites can retry safely. Tampered or unsigned payloads are refused with 401 and never stored.
 *
 *   POST /api/v1/aggregates   body: the payload; headers: idempotency-key, x-edgevox-site, x-edgevox-signature
 *        201 {"status":"accepted"} | 200 {"status":"duplicate"} | 401 | 400 | 409 (same key, different body)
 *   GET  /api/v1/aggregates?site=S&limit=N   what was received (newest first)
 *   GET  /healthz
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { assertPayload } from '../appliance/aggregates/builder.js';
import { evxError, isEdgeVoxError } from '../appliance/errors.js';
import { SIGNATURE_HEADER, verifierFor, type SiteKey, type Verifier } from '../appliance/sync/signing.js';

export interface CollectorOptions {
  host: string;
  port: number;
  dataDir: string;
  /** JSON: {"sites": {"<siteId>": {"enrollmentKey": "..."} | {"ed25519PublicKey": "-----BEGIN PUBLIC KEY-----..."}}} */
  keyFile: string;
  tls?: { cert: Buffer; key: Buffer } | undefined;
  maxBodyBytes?: number;
  /**
   * Bearer token that may read what was received (`GET /api/v1/aggregates`). Without one, reading
   * over HTTP is off: the payloads are only in <dataDir>/collector.sqlite.
   */
  readToken?: string | undefined;
}

export interface ReceivedPayload {
  idempotencyKey: string;
  site: string;
  windowStart: number;
  sha256: string;
  receivedAt: number;
  body: string;
}

export function loadKeyFile(path: string): Map<string, Verifier> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw evxError('EVX_ERR_SYNC_KEY', `cannot read collector key file ${path}: ${(err as Error).message}`, {
      cause: err,
      details: { path },
    });
  }
  const sites = (parsed as { sites?: Record<string, SiteKey> }).sites;
  if (typeof sites !== 'object' || sites === null)
    throw evxError('EVX_ERR_SYNC_KEY', `collector key file ${path} has no "sites" object`, { details: { path } });
  const out = new Map<string, Verifier>();
  for (const [site, key] of Object.entries(sites)) out.set(site, verifierFor(key));
  return out;
}

export class Collector {
  private readonly db: Database.Database;
  private readonly server: http.Server;
  private readonly verifiers: Map<string, Verifier>;
  readonly counters = { accepted: 0, duplicates: 0, badSignature: 0, badPayload: 0, conflicts: 0 };
  private closed = false;

  private constructor(private readonly options: CollectorOptions) {
    this.verifiers = loadKeyFile(options.keyFile);
    mkdirSync(options.dataDir, { recursive: true });
    this.db = new Database(join(options.dataDir, 'collector.sqlite'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS received (
      idempotency_key TEXT PRIMARY KEY, site TEXT NOT NULL, window_start INTEGER NOT NULL,
      sha256 TEXT NOT NULL, received_at INTEGER NOT NULL, body TEXT NOT NULL)`);
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => void this.handle(req, res);
    this.server = options.tls ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, handler) : http.createServer(handler);
  }

  static async start(options: CollectorOptions): Promise<Collector> {
    const c = new Collector(options);
    await new Promise<void>((resolve, reject) => {
      c.server.once('error', reject);
      c.server.listen(options.port, options.host, () => resolve());
    });
    return c;
  }

  get url(): string {
    const a = this.server.address() as AddressInfo;
    return `${this.options.tls ? 'https' : 'http'}://${this.options.host}:${a.port}`;
  }

  received(site?: string, limit = 1000): ReceivedPayload[] {
    const rows = (
      site === undefined
        ? this.db.prepare(`SELECT * FROM received ORDER BY window_start DESC LIMIT ?`).all(limit)
        : this.db.prepare(`SELECT * FROM received WHERE site = ? ORDER BY window_start DESC LIMIT ?`).all(site, limit)
    ) as { idempotency_key: string; site: string; window_start: number; sha256: string; received_at: number; body: string }[];
    return rows.map((r) => ({
      idempotencyKey: r.idempotency_key,
      site: r.site,
      windowStart: r.window_start,
      sha256: r.sha256,
      receivedAt: r.received_at,
      body: r.body,
    }));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      const url = new URL(req.url ?? '/', 'http://collector');
      if (req.method === 'GET' && url.pathname === '/healthz') return send(200, { ok: true });
      if (req.method === 'GET' && url.pathname === '/api/v1/aggregates') {
        const denied = this.readDenied(req.headers.authorization);
        if (denied !== null) return send(denied.status, { error: denied.error });
        const limit = Math.min(10_000, Number(url.searchParams.get('limit') ?? 1000) || 1000);
        return send(200, {
          payloads: this.received(url.searchParams.get('site') ?? undefined, limit).map((p) => ({
            ...p,
            body: JSON.parse(p.body) as unknown,
          })),
        });
      }
      if (req.method !== 'POST' || url.pathname !== '/api/v1/aggregates')
        return send(404, { error: { code: 'EVX_ERR_NOT_FOUND', message: 'no such route' } });
      const body = await readBody(req, this.options.maxBodyBytes ?? 256 * 1024);
      const site = String(req.headers['x-edgevox-site'] ?? '');
      const verifier = this.verifiers.get(site);
      const signature = req.headers[SIGNATURE_HEADER];
      if (verifier === undefined || !verifier.verify(body, typeof signature === 'string' ? signature : undefined)) {
        this.counters.badSignature++;
        return send(401, { error: { code: 'EVX_ERR_SYNC_SIGNATURE', message: 'unknown site or bad signature' } });
      }
      let payload: unknown;
      try {
        payload = JSON.parse(body.toString('utf8'));
        assertPayload(payload);
      } catch (err) {
        this.counters.badPayload++;
        return send(400, { error: { code: 'EVX_ERR_SYNC_PAYLOAD', message: isEdgeVoxError(err) ? err.message : 'body is not JSON' } });
      }
      const key = String(req.headers['idempotency-key'] ?? '');
      if (payload.site !== site || key !== `${site}:${payload.window.startMs}`) {
        this.counters.badPayload++;
        return send(400, { error: { code: 'EVX_ERR_SYNC_PAYLOAD', message: 'site or idempotency key does not match the payload' } });
      }
      const sha256 = createHash('sha256').update(body).digest('hex');
      const inserted = this.db
        .prepare(
          `INSERT OR IGNORE INTO received (idempotency_key, site, window_start, sha256, received_at, body) VALUES (?, ?, ?, ?, ?, ?)`,
        )
        .run(key, site, payload.window.startMs, sha256, Date.now(), body.toString('utf8')).changes;
      if (inserted === 1) {
        this.counters.accepted++;
        return send(201, { status: 'accepted', idempotencyKey: key });
      }
      const existing = this.db.prepare(`SELECT sha256 FROM received WHERE idempotency_key = ?`).get(key) as { sha256: string };
      if (existing.sha256 !== sha256) {
        this.counters.conflicts++;
        return send(409, {
          error: { code: 'EVX_ERR_SYNC_PAYLOAD', message: 'this idempotency key was already used for a different payload' },
        });
      }
      this.counters.duplicates++;
      return send(200, { status: 'duplicate', idempotencyKey: key });
    } catch (err) {
      if (isEdgeVoxError(err, 'EVX_ERR_SYNC_PAYLOAD')) return send(413, { error: { code: err.code, message: err.message } });
      return send(500, { error: { code: 'EVX_ERR_INTERNAL', message: 'internal error' } });
    }
  }

  /** Null when `authorization` carries the read token; else the refusal to send. */
  private readDenied(authorization: string | undefined): { status: number; error: { code: string; message: string } } | null {
    const token = this.options.readToken;
    if (token === undefined || token === '')
      return { status: 403, error: { code: 'EVX_ERR_FORBIDDEN', message: 'reading is off: start the collector with --read-token-file' } };
    const given = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1] ?? '';
    const digest = (s: string) => createHash('sha256').update(s).digest();
    if (!timingSafeEqual(digest(given), digest(token)))
      return { status: 401, error: { code: 'EVX_ERR_AUTH_REQUIRED', message: 'send the read token as Authorization: Bearer <token>' } };
    return null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections?.();
    this.db.close();
  }
}

function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(evxError('EVX_ERR_SYNC_PAYLOAD', `body larger than ${max} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
