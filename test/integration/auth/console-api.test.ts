/**
 * The console API end to end over HTTP(S): first-boot setup token, sessions and cookie flags,
 * lockout and rate limiting, audit, config versions with diff and rollback, encrypted backup to a
 * second box, TLS replacement, and a support bundle free of personal data.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import tls from 'node:tls';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authedFetch, createUser, login, quietApplianceOverrides } from '../../helpers/auth.js';
import { scratchDir } from '../../helpers/paths.js';
import { rawRequest } from '../../helpers/rawHttp.js';
import { plantedIn } from '../../helpers/planted.js';

const running: Appliance[] = [];
afterAll(async () => {
  await Promise.all(running.map((a) => a.close()));
});

async function start(overrides: Record<string, unknown> = {}) {
  const r = await startTestAppliance(quietApplianceOverrides({ sip: { enabled: false }, ...overrides }), { transcribers: null });
  running.push(r.app);
  return r;
}

const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

function httpsGet(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; cert: X509Certificate }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path, headers, rejectUnauthorized: false }, (res) => {
      const cert = new X509Certificate((res.socket as tls.TLSSocket).getPeerCertificate().raw);
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, cert }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('first boot', () => {
  it('prints a one-time setup token, stores it 0600, and retires it once the admin exists', async () => {
    const { app, log } = await start();
    const file = join(app.config.dataDir, 'setup-token');
    const token = readFileSync(file, 'utf8').trim();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(log.lines.some((l) => l['setupToken'] === token && String(l['msg']).startsWith('first boot'))).toBe(true);
    const base = app.httpUrl;
    expect(await (await fetch(`${base}/api/v1/auth/session`)).json()).toMatchObject({ authenticated: false, setupRequired: true });
    // No default password: nothing to sign in with yet.
    expect((await fetch(`${base}/api/v1/auth/login`, json({ username: 'admin', password: 'admin' }))).status).toBe(401);
    const wrong = await fetch(
      `${base}/api/v1/setup/admin`,
      json({ setupToken: 'x'.repeat(24), username: 'admin', password: 'a long password' }),
    );
    expect(wrong.status).toBe(401);
    const weak = await fetch(`${base}/api/v1/setup/admin`, json({ setupToken: token, username: 'admin', password: 'short' }));
    expect(weak.status).toBe(400);
    expect(((await weak.json()) as { error: { message: string } }).error.message).toContain('at least 10 characters');
    const ok = await fetch(`${base}/api/v1/setup/admin`, json({ setupToken: token, username: 'admin', password: 'a long password' }));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ authenticated: true, username: 'admin', role: 'technician' });
    const cookies = ok.headers.getSetCookie();
    expect(cookies.find((c) => c.startsWith('evx_session='))).toMatch(/HttpOnly; Path=\/; SameSite=Strict; Max-Age=\d+$/);
    expect(cookies.find((c) => c.startsWith('evx_csrf='))).not.toContain('HttpOnly');
    // Used once: the file is gone and the token no longer works.
    expect(() => statSync(file)).toThrow();
    const again = await fetch(`${base}/api/v1/setup/admin`, json({ setupToken: token, username: 'admin2', password: 'a long password' }));
    expect(again.status).toBe(409);
    expect(app.store.audit.list().map((e) => e.action)).toEqual(expect.arrayContaining(['setup.admin.created']));
  });

  it('serves HTTPS with a self-signed certificate and marks cookies Secure there', async () => {
    const { app } = await start();
    await createUser(app, 'tech', 'technician');
    const port = ((await (await authedFetch(app)('/api/v1/tls')).json()) as { httpsPort: number }).httpsPort;
    const res = await httpsGet(port, '/api/v1/auth/session');
    expect(res.status).toBe(200);
    expect(res.cert.subject).toContain('CN=edgevox-unprovisioned');
    expect(res.headers['x-frame-options']).toBe('DENY');
    const login = await new Promise<string[]>((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port,
          path: '/api/v1/auth/login',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          rejectUnauthorized: false,
        },
        (r) => {
          r.resume();
          resolve(r.headers['set-cookie'] ?? []);
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ username: 'tech', password: 'correct horse battery' }));
    });
    expect(login.find((c) => c.startsWith('evx_session='))).toMatch(/; Secure$/);
  });
});

describe('sign-in protection', () => {
  it('locks an account after repeated bad passwords, even against the right one, and audits it', async () => {
    const { app } = await start({ console: { httpsPort: -1, lockoutThreshold: 3, lockoutMs: 60_000 } });
    await createUser(app, 'sup', 'supervisor');
    const base = app.httpUrl;
    const codes: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await fetch(`${base}/api/v1/auth/login`, json({ username: 'sup', password: `wrong password ${i}` }));
      codes.push(((await r.json()) as { error: { code: string } }).error.code);
    }
    expect(codes).toEqual(['EVX_ERR_AUTH_FAILED', 'EVX_ERR_AUTH_FAILED', 'EVX_ERR_AUTH_LOCKED', 'EVX_ERR_AUTH_LOCKED']);
    const right = await fetch(`${base}/api/v1/auth/login`, json({ username: 'sup', password: 'correct horse battery' }));
    expect(right.status).toBe(423);
    const actions = app.store.audit.list().map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['login.failed', 'login.locked', 'login.refused']));
  });

  it('answers an unknown username exactly like a known one through a whole lockout sequence', async () => {
    const { app } = await start({ console: { httpsPort: -1, lockoutThreshold: 3, lockoutMs: 60_000 } });
    await createUser(app, 'sup', 'supervisor');
    // Each sequence from its own client address, so neither sees the other's failures.
    const sequence = async (username: string, from: string) => {
      const out: string[] = [];
      const attempts = [...Array.from({ length: 4 }, (_, i) => `wrong password ${i}`), 'correct horse battery'];
      for (const password of attempts) {
        const r = await rawRequest(app.httpUrl, 'POST', '/api/v1/auth/login', {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username, password }),
          localAddress: from,
        });
        const body = JSON.parse(r.body) as { error?: { code: string; message: string; details?: { retryAfterMs?: number } } };
        const retry = body.error?.details?.retryAfterMs;
        out.push(
          `${r.status} ${body.error?.code ?? 'ok'} ${body.error?.message ?? ''} ${retry === undefined ? '' : Math.round(retry / 60_000)}`,
        );
      }
      return out;
    };
    const known = await sequence('sup', '127.0.0.2');
    const unknown = await sequence('nobody-here', '127.0.0.3');
    // The right password for the known name is refused too (it is locked from that address), so
    // the two sequences differ nowhere.
    expect(known).toEqual(unknown);
    expect(known.map((l) => l.split(' ')[0])).toEqual(['401', '401', '423', '423', '423']);
  });

  it('locks a name only from the address that guessed: the real user signs in from her own desk', async () => {
    const { app } = await start({ console: { httpsPort: -1, lockoutThreshold: 3, lockoutMs: 60_000 } });
    await createUser(app, 'sup', 'supervisor');
    const attempt = (password: string, from: string) =>
      rawRequest(app.httpUrl, 'POST', '/api/v1/auth/login', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'sup', password }),
        localAddress: from,
      });
    for (let i = 0; i < 3; i++) await attempt(`wrong password ${i}`, '127.0.0.4');
    expect((await attempt('correct horse battery', '127.0.0.4')).status).toBe(423);
    expect((await attempt('correct horse battery', '127.0.0.5')).status).toBe(200);
    const users = (await (await authedFetch(app)('/api/v1/users')).json()) as { users: { username: string; locked: boolean }[] };
    expect(users.users.find((u) => u.username === 'sup')?.locked).toBe(true);
  });

  it('backs off a client address that keeps guessing across names, doubling the wait', async () => {
    const { app } = await start({ console: { httpsPort: -1, lockoutThreshold: 3, loginBackoffAfter: 3, loginRatePerMin: 1000 } });
    const results: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await rawRequest(app.httpUrl, 'POST', '/api/v1/auth/login', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: `name${i}`, password: 'whatever password' }),
        localAddress: '127.0.0.6',
      });
      const body = JSON.parse(r.body) as { error: { code: string; details?: { retryAfterMs?: number } } };
      results.push(`${r.status} ${body.error.code}`);
      // The one error mapper turns "when to come back" into a Retry-After header.
      if (r.status === 429) expect(Number(r.headers['retry-after'])).toBe(Math.ceil(body.error.details!.retryAfterMs! / 1000));
    }
    // Three failures are free; the third starts a 1 s backoff, so the next attempts wait.
    expect(results).toEqual([
      '401 EVX_ERR_AUTH_FAILED',
      '401 EVX_ERR_AUTH_FAILED',
      '401 EVX_ERR_AUTH_FAILED',
      '429 EVX_ERR_AUTH_RATE_LIMITED',
      '429 EVX_ERR_AUTH_RATE_LIMITED',
    ]);
    // Another address is not affected.
    const other = await rawRequest(app.httpUrl, 'POST', '/api/v1/auth/login', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'name0', password: 'whatever password' }),
      localAddress: '127.0.0.7',
    });
    expect(other.status).toBe(401);
  });

  it('rate-limits login attempts per client across usernames', async () => {
    const { app } = await start({ console: { httpsPort: -1, loginRatePerMin: 5 } });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++)
      statuses.push(
        (await fetch(`${app.httpUrl}/api/v1/auth/login`, json({ username: `user${i}`, password: 'whatever password' }))).status,
      );
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
  });

  it('ends the session on logout and audits login and logout', async () => {
    const { app } = await start({ console: { httpsPort: -1 } });
    await createUser(app, 'viewer1', 'viewer');
    const s = await login(app.httpUrl, 'viewer1', 'correct horse battery');
    expect((await fetch(`${app.httpUrl}/api/v1/calls`, { headers: { cookie: s.cookie } })).status).toBe(200);
    const out = await fetch(`${app.httpUrl}/api/v1/auth/logout`, { method: 'POST', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });
    expect(out.status).toBe(200);
    expect((await fetch(`${app.httpUrl}/api/v1/calls`, { headers: { cookie: s.cookie } })).status).toBe(401);
    const actions = app.store.audit.list().map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['login', 'logout']));
  });
});

describe('configuration', () => {
  it('validates, versions, diffs and rolls back settings, telling which need a restart', async () => {
    const { app } = await start({ console: { httpsPort: -1 } });
    const f = authedFetch(app);
    const patch = (changes: Record<string, unknown>) =>
      f('/api/v1/config', {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ changes, comment: 'test' }),
      });
    const bad = await patch({ 'calls.maxConcurrent': 0 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain("key 'calls.maxConcurrent'");
    const unknown = await patch({ 'calls.maxConcurent': 3 });
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain("unknown key 'calls.maxConcurent'");
    const before = ((await (await f('/api/v1/config')).json()) as { version: number }).version;
    const r = (await (await patch({ 'site.name': 'Leeds branch', 'calls.maxConcurrent': 40 })).json()) as {
      version: number;
      restartRequired: string[];
      changes: { key: string; live: boolean }[];
    };
    expect(r.changes.map((c) => [c.key, c.live])).toEqual([
      ['site.name', true],
      ['calls.maxConcurrent', false],
    ]);
    expect(r.restartRequired).toEqual(['calls.maxConcurrent']);
    // Live keys apply at once.
    expect(app.config.site.name).toBe('Leeds branch');
    const diff = (await (await f(`/api/v1/config/diff?from=${before}&to=${r.version}`)).json()) as {
      changes: { key: string; from: unknown; to: unknown }[];
    };
    expect(diff.changes).toEqual([
      { key: 'site.name', from: 'EdgeVox appliance', to: 'Leeds branch', live: true },
      { key: 'calls.maxConcurrent', from: 120, to: 40, live: false },
    ]);
    const rb = (await (
      await f('/api/v1/config/rollback', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ version: before }),
      })
    ).json()) as { version: number; restartRequired: string[] };
    expect(rb.restartRequired).toEqual([]);
    expect(app.config.site.name).toBe('EdgeVox appliance');
    expect(app.store.audit.list().map((e) => e.action)).toEqual(expect.arrayContaining(['config.change', 'config.rollback']));
    // Secrets are masked in diffs and for read-only roles.
    await patch({ 'upstream.enrollmentKey': 'enrol-secret-123' });
    const latest = ((await (await f('/api/v1/config')).json()) as { version: number }).version;
    const masked = JSON.stringify(await (await f(`/api/v1/config/diff?from=${latest - 1}`)).json());
    expect(masked).not.toContain('enrol-secret-123');
    const asViewer = JSON.stringify(await (await authedFetch(app, 'viewer')('/api/v1/config')).json());
    expect(asViewer).not.toContain('enrol-secret-123');
  });

  it('applies console-saved settings at the next start', async () => {
    const { app } = await start({ console: { httpsPort: -1 } });
    const dataDir = app.config.dataDir;
    await authedFetch(app)('/api/v1/config', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ changes: { 'calls.maxConcurrent': 7 } }),
    });
    await app.close();
    const { app: again } = await start({ dataDir, console: { httpsPort: -1 } });
    expect(again.config.calls.maxConcurrent).toBe(7);
    expect(((await (await authedFetch(again)('/api/v1/config')).json()) as { restartRequired: string[] }).restartRequired).toEqual([]);
  });
});

describe('backup and TLS', () => {
  it('exports an encrypted backup and restores it on a new box, accounts included', async () => {
    const { app: oldBox } = await start();
    await createUser(oldBox, 'tech', 'technician', 'old box password');
    const f = authedFetch(oldBox);
    await f('/api/v1/config', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ changes: { 'site.id': 'leeds-01', 'sip.allowList': ['10.0.0.0/8'] } }),
    });
    const exported = await f('/api/v1/backup/export', json({ passphrase: 'backup passphrase 1' }));
    expect(exported.headers.get('content-disposition')).toMatch(/edgevox-leeds-01-.*\.evxbak/);
    const file = Buffer.from(await exported.arrayBuffer());
    expect(file.subarray(0, 8).toString()).toBe('EVXBAK1\n');
    expect(file.includes(Buffer.from('10.0.0.0/8'))).toBe(false);
    expect(file.includes(Buffer.from('scrypt$'))).toBe(false);

    const { app: newBox } = await start({ dataDir: scratchDir('newbox') });
    const g = authedFetch(newBox);
    const wrong = await g('/api/v1/backup/restore', json({ passphrase: 'not the passphrase', file: file.toString('base64') }));
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ error: { code: 'EVX_ERR_BACKUP_INVALID' } });
    const restored = await g('/api/v1/backup/restore', json({ passphrase: 'backup passphrase 1', file: file.toString('base64') }));
    expect(restored.status).toBe(200);
    expect(await restored.json()).toMatchObject({ siteId: 'leeds-01', signInAgain: true });
    const cfg = (await (await g('/api/v1/config')).json()) as {
      config: { site: { id: string }; sip: { allowList: string[] }; dataDir: string };
    };
    expect(cfg.config.site.id).toBe('leeds-01');
    expect(cfg.config.sip.allowList).toEqual(['10.0.0.0/8']);
    expect(cfg.config.dataDir).toBe(newBox.config.dataDir);
    await login(newBox.httpUrl, 'tech', 'old box password');
    // Same certificate as the old box: clients that pinned it keep working.
    const oldTls = (await (await f('/api/v1/tls')).json()) as { certificate: { fingerprint256: string } };
    const newTls = (await (await g('/api/v1/tls')).json()) as { certificate: { fingerprint256: string }; httpsPort: number };
    expect(newTls.certificate.fingerprint256).toBe(oldTls.certificate.fingerprint256);
    expect((await httpsGet(newTls.httpsPort, '/healthz')).cert.fingerprint256).toBe(oldTls.certificate.fingerprint256);
  });

  it('replaces the certificate by upload and refuses a key that does not match', async () => {
    const { app } = await start();
    const dir = scratchDir('cert');
    const mk = (name: string) =>
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-days',
          '30',
          '-subj',
          `/CN=${name}`,
          '-keyout',
          join(dir, `${name}.key`),
          '-out',
          join(dir, `${name}.pem`),
        ],
        { stdio: 'ignore' },
      );
    mk('branch.example');
    mk('other.example');
    const f = authedFetch(app);
    const put = (cert: string, key: string) =>
      f('/api/v1/tls', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ cert, key }) });
    const read = (n: string) => readFileSync(join(dir, n), 'utf8');
    const mismatch = await put(read('branch.example.pem'), read('other.example.key'));
    expect(mismatch.status).toBe(400);
    expect(await mismatch.json()).toMatchObject({
      error: { code: 'EVX_ERR_TLS_CERT', message: 'the private key does not belong to the certificate' },
    });
    expect((await put('not a cert', read('other.example.key'))).status).toBe(400);
    const ok = await put(read('branch.example.pem'), read('branch.example.key'));
    expect(ok.status).toBe(200);
    const port = ((await (await f('/api/v1/tls')).json()) as { httpsPort: number }).httpsPort;
    expect((await httpsGet(port, '/healthz')).cert.subject).toBe('CN=branch.example');
  });
});

describe('diagnostics', () => {
  it('builds a support bundle without transcripts, numbers, caller hashes, names or secrets', async () => {
    const { app } = await start({ console: { httpsPort: -1 } });
    const f = authedFetch(app);
    await f('/api/v1/config', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        changes: {
          'upstream.enrollmentKey': 'enrol-secret-xyz',
          'sip.accounts': [{ username: 'trunk1', password: 'sip-pass-789' }],
        },
      }),
    });
    // agents (names, SIP accounts) are routing data
    await f('/api/v1/routing/agents/a1', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'a1',
        name: 'Priya Sharma',
        sipUri: 'sip:a1@127.0.0.1',
        senior: false,
        skills: [],
        sip: { username: 'priya', password: 'agent-pass-456' },
      }),
    });
    await createUser(app, 'jane.doe', 'supervisor');
    const callerHash = 'feedfacefeedfacefeedfacefeedface';
    app.store.calls.create({ id: 'call-pii', source: 'sip', callerHash, startedAt: Date.now() });
    app.store.utterances.insert({
      callId: 'call-pii',
      legId: null,
      speaker: 'caller',
      startMs: 0,
      endMs: 1000,
      text: 'my number is 07700 900123',
      words: [],
      confidence: 0.9,
      analysis: {},
      createdAt: Date.now(),
    });
    const res = await f('/api/v1/diagnostics/support-bundle');
    expect(res.status).toBe(200);
    const text = gunzipSync(Buffer.from(await res.arrayBuffer())).toString('utf8');
    const bundle = JSON.parse(text) as { kind: string; diagnostics: { models: unknown[] }; callTotals7d: { calls: number } };
    expect(bundle.kind).toBe('edgevox-support-bundle');
    expect(bundle.callTotals7d.calls).toBe(1);
    expect(bundle.diagnostics.models.length).toBeGreaterThan(0);
    // Numbers are matched as whole numbers only: the bundle carries metric values such as
    // 0.00019407700000010662, in which a short digit string can stand by chance.
    const planted = [
      '07700 900123',
      '07700900123',
      'my number',
      callerHash,
      'enrol-secret-xyz',
      'sip-pass-789',
      'agent-pass-456',
      'Priya',
      'jane.doe',
      'scrypt$',
    ];
    expect(plantedIn(text, planted)).toEqual([]);
    // The planted values are really where the bundle's sources could have taken them from.
    const sources = JSON.stringify({
      config: await (await f('/api/v1/config')).text(),
      agents: await (await f('/api/v1/routing/agents')).text(),
      utterances: app.store.utterances.listByCall('call-pii'),
      call: app.store.calls.get('call-pii'),
      users: await (await f('/api/v1/users')).text(),
    });
    expect(plantedIn(sources, ['07700 900123', callerHash, 'Priya', 'jane.doe'])).toHaveLength(4);
    // The search finds the call by what was said (for signed-in users only).
    const hits = (await (await f('/api/v1/console/calls?q=number')).json()) as { calls: { id: string; match: string }[] };
    expect(hits.calls.map((c) => c.id)).toEqual(['call-pii']);
  });
});
