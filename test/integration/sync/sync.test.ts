/**
 * Sync against a real collector process (`edgevox collector`, from dist/) on loopback:
 *  - collector down for a while, then up: every window arrives exactly once;
 *  - the uploader process killed mid-upload (its answer held back by a proxy): no loss, no duplicate;
 *  - a tampered or unsigned payload is rejected and never stored;
 *  - upstream down for two days: the outbox stays bounded (oldest dropped, audited, counted), then drains.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildAggregates } from '../../../appliance/aggregates/builder.js';
import { Store } from '../../../appliance/store/database.js';
import { hmacSigner } from '../../../appliance/sync/signing.js';
import { createLogger } from '../../../appliance/log/logger.js';
import { SyncOutbox } from '../../../appliance/sync/outbox.js';
import { SyncService } from '../../../appliance/sync/syncService.js';
import { postSigned } from '../../../appliance/sync/uploader.js';
import { CLI } from '../../helpers/process.js';
import { REPO_ROOT, scratchDir } from '../../helpers/paths.js';
import { pathSpellings, rawRequest } from '../../helpers/rawHttp.js';
import { freePort } from '../../e2e/sip/harness.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 20, 0);
const KEY = 'enrollment-key-branch-7-0123456789';
const SITE = 'branch-7';
const WINDOWS = 6;
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

function keyFile(): string {
  const path = join(scratchDir('keys'), 'sites.json');
  writeFileSync(path, JSON.stringify({ sites: { [SITE]: { enrollmentKey: KEY } } }));
  return path;
}

/** The collector's read token (reading what it received needs it). */
const READ_TOKEN = 'collector-read-token-for-tests';
const readHeaders = { authorization: `Bearer ${READ_TOKEN}` };

/** Start `edgevox collector` and wait for its URL. */
async function startCollector(port: number, dataDir: string, keys: string): Promise<{ child: ChildProcess; url: string }> {
  const tokenFile = join(scratchDir('keys'), 'read-token');
  writeFileSync(tokenFile, `${READ_TOKEN}\n`, { mode: 0o600 });
  const args = ['collector', '--port', String(port), '--data-dir', dataDir, '--key-file', keys, '--read-token-file', tokenFile];
  const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT });
  children.push(child);
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /collector listening on (\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`collector exited ${code}: ${err}`)));
  });
  return { child, url };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

/** A site store with one call in each of `windows` hourly windows. */
function siteStore(windows = WINDOWS): string {
  const dir = scratchDir('site');
  const store = Store.open(dir);
  for (let w = 0; w < windows; w++) {
    const s = T0 + w * HOUR + 60_000;
    store.calls.create({ id: `call-${w}`, source: 'sip', callerHash: null, startedAt: s });
    store.calls.markAnswered(`call-${w}`, s + 2000);
    store.calls.end(`call-${w}`, s + 90_000, 'bye');
  }
  store.close();
  return dir;
}

function uploader(dataDir: string, endpoint: string): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'test/fixtures/sync-uploader.mjs')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      ENDPOINT: endpoint,
      SITE_ID: SITE,
      ENROLLMENT_KEY: KEY,
      NOW_MS: String(T0 + WINDOWS * HOUR + 1),
      BACKFILL_MS: String(T0),
    },
  });
  children.push(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return { child, out: () => out, exited: new Promise((r) => child.on('exit', (code) => r(code))) };
}

async function received(url: string): Promise<{ idempotencyKey: string; windowStart: number }[]> {
  return (
    (await (await fetch(`${url}/api/v1/aggregates?site=${SITE}`, { headers: readHeaders })).json()) as {
      payloads: { idempotencyKey: string; windowStart: number }[];
    }
  ).payloads;
}

function auditOf(dataDir: string) {
  const store = Store.open(dataDir);
  try {
    return {
      audit: new SyncOutbox(store.db, (op, fn) => store.write(op, fn), 1000).audit(1000).reverse(),
      outbox: new SyncOutbox(store.db, (op, fn) => store.write(op, fn), 1000).size,
    };
  } finally {
    store.close();
  }
}

const expectedKeys = Array.from({ length: WINDOWS }, (_, w) => `${SITE}:${T0 + w * HOUR}`).sort();

describe('sync to a real collector', () => {
  it('lets only the read token read what it received, under any spelling of the path', async () => {
    const collector = await startCollector(0, scratchDir('coll'), keyFile());
    try {
      const get = (path: string, headers: Record<string, string> = {}) => rawRequest(collector.url, 'GET', path, { headers });
      expect((await get('/api/v1/aggregates', readHeaders)).status).toBe(200);
      expect((await get('/api/v1/aggregates')).status).toBe(401);
      expect((await get('/api/v1/aggregates', { authorization: 'Bearer collector-read-token-for-testz' })).status).toBe(401);
      for (const path of pathSpellings('/api/v1/aggregates')) expect([400, 401, 404], path).toContain((await get(path)).status);
    } finally {
      await stop(collector.child);
    }
  });

  it('collector down for a while then up: every window arrives exactly once', async () => {
    const port = await freePort();
    const site = siteStore();
    const up = uploader(site, `http://127.0.0.1:${port}/api/v1/aggregates`);
    // Let it fail against the closed port a few times (backoff 50..200 ms).
    for (let i = 0; i < 100 && (up.out().match(/retry/g) ?? []).length < 3; i++) await new Promise((r) => setTimeout(r, 50));
    expect(up.out()).toContain(`built ${WINDOWS}`);
    expect((up.out().match(/retry/g) ?? []).length).toBeGreaterThanOrEqual(3);
    const collector = await startCollector(port, scratchDir('coll'), keyFile());
    expect(await up.exited).toBe(0);
    const got = await received(collector.url);
    expect(got.map((p) => p.idempotencyKey).sort()).toEqual(expectedKeys);
    const { audit, outbox } = auditOf(site);
    expect(outbox).toBe(0);
    expect(audit.filter((a) => a.outcome === 'failed').length).toBeGreaterThanOrEqual(3);
    expect(
      audit
        .filter((a) => a.outcome === 'accepted')
        .map((a) => a.idempotencyKey)
        .sort(),
    ).toEqual(expectedKeys);
    // The audit holds exactly what left: the accepted bodies are byte-identical to what the collector stored.
    const stored = (await (await fetch(`${collector.url}/api/v1/aggregates?site=${SITE}`, { headers: readHeaders })).json()) as {
      payloads: { idempotencyKey: string; sha256: string }[];
    };
    for (const p of stored.payloads)
      expect(audit.find((a) => a.outcome === 'accepted' && a.idempotencyKey === p.idempotencyKey)!.sha256).toBe(p.sha256);
    await stop(collector.child);
  });

  it('uploader killed mid-upload: after a restart nothing is lost and nothing is counted twice', async () => {
    const collector = await startCollector(0, scratchDir('coll'), keyFile());
    // A proxy that forwards requests but, while `hold` is set, swallows the collector's answers:
    // the collector has stored the window, the uploader never learns it.
    let hold = true;
    let forwarded = 0;
    const target = new URL(collector.url);
    const proxy = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const up = http.request(
          { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
          (r) => {
            const body: Buffer[] = [];
            r.on('data', (c: Buffer) => body.push(c));
            r.on('end', () => {
              forwarded++;
              if (hold) return; // never answer
              res.writeHead(r.statusCode ?? 502, r.headers);
              res.end(Buffer.concat(body));
            });
          },
        );
        up.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/api/v1/aggregates`;
    try {
      const site = siteStore();
      const first = uploader(site, endpoint);
      for (let i = 0; i < 200 && forwarded === 0; i++) await new Promise((r) => setTimeout(r, 25));
      expect(forwarded).toBe(1);
      first.child.kill('SIGKILL');
      await first.exited;
      expect((await received(collector.url)).map((p) => p.idempotencyKey)).toEqual([`${SITE}:${T0}`]);
      expect(auditOf(site).outbox).toBe(WINDOWS); // nothing settled locally

      hold = false;
      const second = uploader(site, endpoint);
      expect(await second.exited).toBe(0);
      const got = await received(collector.url);
      expect(got.map((p) => p.idempotencyKey).sort()).toEqual(expectedKeys);
      const { audit, outbox } = auditOf(site);
      expect(outbox).toBe(0);
      // The window that reached the collector before the kill is acknowledged as a duplicate.
      expect(audit.filter((a) => a.outcome === 'duplicate').map((a) => a.idempotencyKey)).toEqual([`${SITE}:${T0}`]);
      expect(audit.filter((a) => a.outcome === 'accepted')).toHaveLength(WINDOWS - 1);
    } finally {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
      await stop(collector.child);
    }
  });

  it('upstream down for two days: the outbox stays bounded, drops the oldest windows, then drains the rest once', async () => {
    const HOURS = 48;
    const MAX = 12;
    const port = await freePort(); // nothing listens here until the collector starts
    const store = Store.open(siteStore(HOURS));
    let now = T0;
    const sync = new SyncService(
      {
        siteId: SITE,
        endpoint: `http://127.0.0.1:${port}/api/v1/aggregates`,
        signer: hmacSigner(KEY),
        windowMs: HOUR,
        settleMs: 0,
        intervalMs: 1000,
        k: 1,
        epsilon: 0,
        epsilonBudget: 10,
        epsilonBudgetMs: 30 * 24 * HOUR,
        outboxMaxWindows: MAX,
        backoffBaseMs: 50,
        backoffMaxMs: 60_000,
        requestTimeoutMs: 2000,
        backfillFromMs: T0,
      },
      { store, logger: createLogger({ level: 'silent', includePii: false }), now: () => now },
    );
    try {
      // The site's clock runs through two days of outage, one tick per hour: every window is built,
      // every upload attempt fails, and the outbox never holds more than MAX windows.
      let most = 0;
      for (let h = 1; h <= HOURS; h++) {
        now = T0 + h * HOUR + 1;
        await sync.tick();
        most = Math.max(most, sync.outbox.size);
      }
      expect(sync.counters.windowsBuilt).toBe(HOURS);
      expect(most).toBe(MAX);
      expect(sync.counters.dropped).toBe(HOURS - MAX);
      expect(sync.counters.failures).toBeGreaterThanOrEqual(HOURS);
      expect(sync.counters.accepted).toBe(0);

      // Upstream is back: the newest MAX windows arrive, each exactly once; the dropped ones are audited.
      const collector = await startCollector(port, scratchDir('coll'), keyFile());
      for (let i = 0; i < 10 && sync.outbox.size > 0; i++) {
        now += 61_000; // past any backoff
        await sync.drain();
      }
      expect(sync.outbox.size).toBe(0);
      const key = (w: number) => `${SITE}:${T0 + w * HOUR}`;
      const newest = Array.from({ length: MAX }, (_, i) => key(HOURS - MAX + i)).sort();
      expect((await received(collector.url)).map((p) => p.idempotencyKey).sort()).toEqual(newest);
      const audit = sync.outbox.audit(10_000);
      expect(
        audit
          .filter((a) => a.outcome === 'accepted')
          .map((a) => a.idempotencyKey)
          .sort(),
      ).toEqual(newest);
      expect(
        audit
          .filter((a) => a.outcome === 'dropped')
          .map((a) => a.idempotencyKey)
          .sort(),
      ).toEqual(Array.from({ length: HOURS - MAX }, (_, w) => key(w)).sort());
      await stop(collector.child);
    } finally {
      await sync.close();
      store.close();
    }
  });

  it('rejects tampered, unsigned, wrongly keyed and mismatched payloads, and stores none of them', async () => {
    const collector = await startCollector(0, scratchDir('coll'), keyFile());
    try {
      const store = Store.open(siteStore());
      const payload = buildAggregates(store, {
        siteId: SITE,
        windowStartMs: T0,
        windowMs: HOUR,
        k: 1,
        epsilon: 0,
        generatedAtMs: T0 + 2 * HOUR,
      });
      store.close();
      const body = Buffer.from(JSON.stringify(payload));
      const signer = hmacSigner(KEY);
      const url = `${collector.url}/api/v1/aggregates`;
      const post = (b: Buffer, signature: string, key = `${SITE}:${T0}`, site = SITE) =>
        postSigned({ url, body: b, idempotencyKey: key, site, signature, timeoutMs: 2000 });

      const tampered = Buffer.from(body.toString().replace('"total":1', '"total":9'));
      expect(tampered.equals(body)).toBe(false);
      expect((await post(tampered, signer.sign(body))).status).toBe(401);
      expect((await post(body, '')).status).toBe(401);
      expect((await post(body, hmacSigner('some-other-enrollment-key-xyz').sign(body))).status).toBe(401);
      expect((await post(body, signer.sign(body), 'branch-7:0')).status).toBe(400);
      const extra = Buffer.from(JSON.stringify({ ...payload, callIds: ['c1'] }));
      expect((await post(extra, signer.sign(extra))).status).toBe(400);
      expect(await received(collector.url)).toEqual([]);

      const ok = await post(body, signer.sign(body));
      expect(ok.status).toBe(201);
      const again = await post(body, signer.sign(body));
      expect(again.status).toBe(200);
      expect(JSON.parse(again.body)).toMatchObject({ status: 'duplicate' });
      const changed = Buffer.from(JSON.stringify({ ...payload, generatedAtMs: payload.generatedAtMs + 1 }));
      expect((await post(changed, signer.sign(changed))).status).toBe(409);
      expect(await received(collector.url)).toHaveLength(1);
    } finally {
      await stop(collector.child);
    }
  });
});
