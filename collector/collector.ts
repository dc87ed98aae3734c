/**
 * The receiver for site aggregates (`edgevox collector`): verifies each payload's signature with
 * the sending site's key, checks it against the aggregates schema and the idempotency key, stores
 * it once per (site, window) in PostgreSQL (`postgres`) or one SQLite file, and answers a repeat of
 * the same key with "duplicate" so sites can retry safely. Tampered or unsigned payloads are
 * refused with 401 and never stored.
 *
 *   POST /api/v1/aggregates   body: the payload; headers: idempotency-key, x-edgevox-site, x-edgevox-signature
 *        201 {"status":"accepted"} | 200 {"status":"duplicate"} | 401 | 400 | 409 (same key, different body) | 503 (store down: retry)
 *   GET  /api/v1/aggregates?site=S&limit=N   what was received (newest first)                  read token
 *   GET  /api/v1/totals?metric=M&from=T&to=T[&site=S][&by=site]   sums per window for HQ         read token
 *   GET  /healthz
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { assertPayload } from '../appliance/aggregates/builder.js';
import { evxError, isEdgeVoxError } from '../appliance/errors.js';
import { SIGNATURE_HEADER, verifierFor, type SiteKey, type Verifier } from '../appliance/sync/signing.js';
import { PostgresStore } from './postgresStore.js';
import { SqliteStore } from './sqliteStore.js';
import { METRIC_NAME, metricRows, type AggregateStore, type TotalsQuery } from './store.js';

export type { ReceivedPayload } from './store.js';

export interface CollectorOptions {
  host: string;
  port: number;
  /** Where the SQLite store lives when no PostgreSQL connection is given. */
  dataDir: string;
  /** Store in PostgreSQL instead of <dataDir>/collector.sqlite. */
  postgres?: { connectionString: string; poolSize?: number | undefined } | undefined;
  /** JSON: {"sites": {"<siteId>": {"enrollmentKey": "..."} | {"ed25519PublicKey": "-----BEGIN PUBLIC KEY-----..."}}} */
  keyFile: string;
  tls?: { cert: Buffer; key: Buffer } | undefined;
  maxBodyBytes?: number;
  /**
   * Bearer token that may read what was received (`GET /api/v1/aggregates`, `/api/v1/totals`).
   * Without one, reading over HTTP is off: the data is only in the store.
   */
  readToken?: string | undefined;
}

const DAY_MS = 86_400_000;
const MAX_ROWS = 10_000;

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
  private readonly server: http.Server;
  private readonly verifiers: Map<string, Verifier>;
  readonly counters = { accepted: 0, duplicates: 0, badSignature: 0, badPayload: 0, conflicts: 0 };
  private closed = false;

  private constructor(
    private readonly options: CollectorOptions,
    readonly store: AggregateStore,
  ) {
    this.verifiers = loadKeyFile(options.keyFile);
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => void this.handle(req, res);
    this.server = options.tls ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, handler) : http.createServer(handler);
  }

  static async start(options: CollectorOptions): Promise<Collector> {
    loadKeyFile(options.keyFile); // a bad key file is refused before the store is opened
    const store = options.postgres ? await PostgresStore.open(options.postgres) : new SqliteStore(options.dataDir);
    const c = new Collector(options, store);
    try {
      await new Promise<void>((resolve, reject) => {
        c.server.once('error', reject);
        c.server.listen(options.port, options.host, () => resolve());
      });
    } catch (err) {
      await store.close();
      throw err;
    }
    return c;
  }

  get url(): string {
    const a = this.server.address() as AddressInfo;
    return `${this.options.tls ? 'https' : 'http'}://${this.options.host}:${a.port}`;
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
        const limit = Math.min(MAX_ROWS, Number(url.searchParams.get('limit') ?? 1000) || 1000);
        const received = await this.store.received(url.searchParams.get('site') ?? undefined, limit);
        return send(200, {
          payloads: received.map((p) => ({
            ...p,
            body: JSON.parse(p.body) as unknown,
          })),
        });
      }
      if (req.method === 'GET' && url.pathname === '/api/v1/totals') {
        const denied = this.readDenied(req.headers.authorization);
        if (denied !== null) return send(denied.status, { error: denied.error });
        const query = totalsQuery(url.searchParams);
        if (typeof query === 'string') return send(400, { error: { code: 'EVX_ERR_BAD_REQUEST', message: query } });
        return send(200, { ...query, rows: await this.store.totals(query) });
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
      const outcome = await this.store.put({
        idempotencyKey: key,
        site,
        windowStartMs: payload.window.startMs,
        durationMs: payload.window.durationMs,
        sha256,
        receivedAtMs: Date.now(),
        body: body.toString('utf8'),
        metrics: metricRows(payload),
      });
      if (outcome === 'accepted') {
        this.counters.accepted++;
        return send(201, { status: 'accepted', idempotencyKey: key });
      }
      if (outcome === 'conflict') {
        this.counters.conflicts++;
        return send(409, {
          error: { code: 'EVX_ERR_SYNC_PAYLOAD', message: 'this idempotency key was already used for a different payload' },
        });
      }
      this.counters.duplicates++;
      return send(200, { status: 'duplicate', idempotencyKey: key });
    } catch (err) {
      if (isEdgeVoxError(err, 'EVX_ERR_SYNC_PAYLOAD')) return send(413, { error: { code: err.code, message: err.message } });
      if (isEdgeVoxError(err, 'EVX_ERR_STORE_WRITE')) return send(503, { error: { code: err.code, message: err.message } });
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
    await this.store.close();
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

/** The totals query from the URL, or what is wrong with it. Times are epoch ms or ISO 8601. */
function totalsQuery(params: URLSearchParams): TotalsQuery | string {
  const metric = params.get('metric') ?? '';
  if (!METRIC_NAME.test(metric)) return 'metric= is required (e.g. calls.total, intent.billing)';
  const time = (name: string, fallback: number): number | string => {
    const raw = params.get(name);
    if (raw === null || raw === '') return fallback;
    const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
    return Number.isFinite(ms) ? ms : `${name}= must be epoch milliseconds or an ISO 8601 time`;
  };
  const toMs = time('to', Date.now());
  if (typeof toMs === 'string') return toMs;
  const fromMs = time('from', toMs - DAY_MS);
  if (typeof fromMs === 'string') return fromMs;
  const site = params.get('site') ?? undefined;
  const by = params.get('by');
  if (by !== null && by !== 'site') return 'by= may only be "site"';
  const limit = Math.min(MAX_ROWS, Number(params.get('limit') ?? MAX_ROWS) || MAX_ROWS);
  return { metric, fromMs, toMs, site, bySite: by === 'site', limit };
}
