import { execFileSync, fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Appliance } from '../../../appliance/app/app.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { DATABASE_FILE } from '../../../appliance/store/database.js';
import { captureLogger, startTestAppliance, testConfig } from '../../helpers/appliance.js';
import { REPO_ROOT, scratchDir } from '../../helpers/paths.js';
import { runCli, serveProcess } from '../../helpers/process.js';
import { authedFetch } from '../../helpers/auth.js';

const running: Appliance[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((a) => a.close()));
});

async function start(overrides: Record<string, unknown> = {}) {
  const r = await startTestAppliance(overrides);
  running.push(r.app);
  return r;
}

function hasPromtool(): boolean {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('appliance lifecycle and API', () => {
  it('is ready when store, models and HTTP are up', async () => {
    const { app } = await start();
    const res = await fetch(`${app.httpUrl}/readyz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { ready: boolean; checks: { name: string; ok: boolean }[] };
    expect(body.ready).toBe(true);
    expect(body.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['store', 'models', 'http']));
    expect((await fetch(`${app.httpUrl}/healthz`)).status).toBe(200);
  });

  it('answers 503 with the reason when a required model is missing', async () => {
    const { app, log } = await start({ modelsDir: scratchDir('empty-models') });
    const res = await fetch(`${app.httpUrl}/readyz`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { checks: { name: string; ok: boolean; reason?: string }[] };
    const models = body.checks.find((c) => c.name === 'models');
    expect(models?.ok).toBe(false);
    expect(models?.reason).toContain('asr');
    expect(log.lines.some((l) => l['msg'] === 'model not installed' && l['code'] === 'EVX_ERR_MODEL_SOURCE_MISSING')).toBe(true);
  });

  it('is not ready while draining and waits for drain hooks up to the grace period', async () => {
    const { app } = await start();
    let finished = false;
    app.onDrain(async () => {
      await new Promise((r) => setTimeout(r, 50));
      finished = true;
    });
    const draining = app.drain(1000);
    expect(app.readiness.evaluate().ready).toBe(false);
    expect((await fetch(`${app.httpUrl}/readyz`)).status).toBe(503);
    await draining;
    expect(finished).toBe(true);
    await app.close();
    await app.close(); // idempotent
    expect(app.store.isOpen).toBe(false);
  });

  it('returns JSON errors with stable codes', async () => {
    const { app } = await start();
    const res = await authedFetch(app)('/api/v1/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'EVX_ERR_NOT_FOUND' } });
  });

  it('serves an OpenAPI document and the system inventory', async () => {
    const { app } = await start();
    const doc = (await (await fetch(`${app.httpUrl}/api/v1/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz', '/api/v1/system', '/metrics']));
    const sys = (await (await authedFetch(app)('/api/v1/system')).json()) as Record<string, any>;
    expect(sys['cpu'].cores).toBeGreaterThan(0);
    expect(sys['memory'].totalBytes).toBeGreaterThan(0);
    expect(sys['dataDisk'].availableBytes).toBeGreaterThan(0);
    expect(sys['runtime'].packages['onnxruntime-node']).toBeDefined();
    expect(Array.isArray(sys['gpus'])).toBe(true);
    expect(sys['inference'].configuredProviders).toEqual(['cpu']);
    expect(sys['models'].map((m: { name: string }) => m.name)).toEqual(expect.arrayContaining(['asr', 'vad']));
  });

  it.runIf(hasPromtool())('exposes metrics that pass promtool check metrics', async () => {
    // sync on (towards a port nothing listens on) so its metrics are part of the exposition too
    const { app } = await start({
      sync: { enabled: true },
      upstream: { endpoint: 'https://127.0.0.1:9/api/v1/aggregates', enrollmentKey: 'enrollment-key-for-the-metrics-test' },
    });
    await fetch(`${app.httpUrl}/readyz`);
    const text = await (await fetch(`${app.httpUrl}/metrics`)).text();
    expect(text).toContain('edgevox_build_info{');
    expect(text).toMatch(/^edgevox_sync_outbox_windows \d+$/m);
    expect(text).toMatch(/^edgevox_sync_uploads_total\{outcome="failed"\} \d+$/m);
    expect(text).toMatch(/^edgevox_sync_windows_dropped_total 0$/m);
    expect(text).toMatch(/^edgevox_up 1$/m);
    expect(text).toMatch(/^edgevox_ready 1$/m);
    // the text channels' KPIs are exposed with no conversation yet (channel series without group)
    expect(text).toMatch(/^edgevox_channel_waiting\{channel="chat"\} 0$/m);
    expect(text).toMatch(/^edgevox_channel_open\{channel="email"\} 0$/m);
    const out = execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(out).toBe('');
  });

  it('fails cleanly when the port is in use, leaving nothing started', async () => {
    const { app } = await start();
    const port = Number(new URL(app.httpUrl).port);
    const { logger } = captureLogger();
    const config = testConfig({ http: { host: '127.0.0.1', port } });
    let code = '';
    try {
      await Appliance.start(config, { logger });
    } catch (err) {
      if (isEdgeVoxError(err)) code = err.code;
    }
    expect(code).toBe('EVX_ERR_PORT_IN_USE');
    // The store of the failed start was closed: the database can be opened exclusively.
    const db = new Database(join(config.dataDir, DATABASE_FILE));
    db.pragma('locking_mode = EXCLUSIVE');
    expect(() => db.prepare('BEGIN EXCLUSIVE').run()).not.toThrow();
    db.close();
  });
});

describe('the serve process', () => {
  it('exits 2 naming the key for a bad config file', async () => {
    const dir = scratchDir('cli');
    const bad = join(dir, 'bad.yaml');
    mkdirSync(dir, { recursive: true });
    execFileSync('sh', ['-c', `printf 'http:\\n  prot: 9000\\n' > ${bad}`]);
    const r = await runCli(['serve', '--config', bad, '--data-dir', join(dir, 'data')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain("unknown key 'http.prot'");
  });

  it('exits 2 for an unwritable data dir', async () => {
    const r = await runCli(['serve', '--data-dir', '/etc/hostname/sub', '--http-port', '0', '--sip-port', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('EVX_ERR_DATA_DIR');
  });

  it('drains and exits 0 on SIGTERM, recording a clean stop', async () => {
    const dataDir = scratchDir('serve');
    const served = await serveProcess(
      ['--data-dir', dataDir, '--http-port', '0', '--sip-port', '0', '--models-dir', join(REPO_ROOT, '..', 'shared', 'models')],
      { EDGEVOX_CONSOLE_HTTPS_PORT: '0' },
    );
    expect((await fetch(`${served.url}/readyz`)).status).toBe(200);
    served.child.kill('SIGTERM');
    expect(await served.exited).toBe(0);
    expect(served.stdout()).toContain('"msg":"appliance stopped"');
    const db = new Database(join(dataDir, DATABASE_FILE), { readonly: true });
    const run = db.prepare('SELECT stop_reason FROM appliance_runs ORDER BY id DESC LIMIT 1').get() as { stop_reason: string };
    expect(run.stop_reason).toBe('signal SIGTERM');
    db.close();
  });
});

describe('crash safety', () => {
  it('keeps a consistent database after kill -9 during writes', async () => {
    const dataDir = scratchDir('crash');
    for (let round = 0; round < 3; round++) {
      const child = fork(join(REPO_ROOT, 'test', 'fixtures', 'store-writer.mjs'), [join(REPO_ROOT, 'dist'), dataDir], { stdio: 'ignore' });
      await new Promise<void>((resolve) => child.once('message', () => resolve()));
      await new Promise((r) => setTimeout(r, 150 + round * 100));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    const db = new Database(join(dataDir, DATABASE_FILE));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const calls = (db.prepare('SELECT COUNT(*) AS n FROM calls').get() as { n: number }).n;
    expect(calls).toBeGreaterThan(0);
    // Every committed call has its leg and all five utterances: transactions were never torn.
    const torn = db
      .prepare(
        `SELECT c.id FROM calls c WHERE (SELECT COUNT(*) FROM call_legs l WHERE l.call_id = c.id) != 1
           OR (SELECT COUNT(*) FROM utterances u WHERE u.call_id = c.id) != 5`,
      )
      .all();
    expect(torn).toEqual([]);
    db.close();
  });

  it('closes calls left open by a crashed run at the next start', async () => {
    const { app } = await start();
    const dataDir = app.config.dataDir;
    app.store.calls.create({ id: 'open-call', source: 'sip', callerHash: null, startedAt: Date.now() });
    // Simulate a crash: the run row never gets its stop; the store is just closed.
    app.store.close();
    await app.http.close();
    running.splice(running.indexOf(app), 1);
    const { logger, log } = captureLogger();
    const again = await Appliance.start(testConfig({ dataDir }), { logger });
    running.push(again);
    expect(again.store.calls.get('open-call')).toMatchObject({ state: 'ended', endReason: 'appliance-crashed' });
    expect(log.lines.some((l) => l['msg'] === 'recovered from unclean stop')).toBe(true);
  });
});
