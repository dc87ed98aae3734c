/**
 * Upgrading from a version with the encoded-path hole in the API guard: every console session and
 * API token ends, and the secret that signs softphone and caller tokens is replaced, once. A box
 * that never had accounts is left alone.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { hashPassword } from '../../../appliance/auth/passwords.js';
import { issueApiToken } from '../../../appliance/auth/authService.js';
import { Store } from '../../../appliance/store/database.js';
import { MIGRATIONS } from '../../../appliance/store/migrations.js';
import { ConsoleAuthRepo } from '../../../appliance/auth/repo.js';
import { mintAgentToken, verifyAgentToken } from '../../../appliance/webrtc/tokens.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { quietApplianceOverrides } from '../../helpers/auth.js';
import { scratchDir } from '../../helpers/paths.js';

const OLD_SECRET = 'a-token-secret-from-the-old-version-0123456789abcdef';
const SESSION_ID = 'session-cookie-from-the-old-version';

const running: Appliance[] = [];
afterAll(async () => {
  await Promise.all(running.map((a) => a.close()));
});

async function start(dataDir: string): Promise<Appliance> {
  const { app } = await startTestAppliance(quietApplianceOverrides({ dataDir, sip: { enabled: false }, console: { httpsPort: -1 } }), {
    transcribers: null,
  });
  running.push(app);
  return app;
}

/** A data dir as the version before the fix left it: an account, a session, a token, a secret. */
async function oldVersionDataDir(): Promise<{ dir: string; token: string }> {
  const dir = scratchDir('upgrade');
  const store = Store.open(
    dir,
    MIGRATIONS.filter((m) => m.version <= 5),
  );
  const repo = new ConsoleAuthRepo(store.db, (op, fn) => store.write(op, fn));
  repo.createUser('sup', 'supervisor', await hashPassword('correct horse battery'));
  const now = Date.now();
  repo.createSession({
    idHash: createHash('sha256').update(SESSION_ID).digest('hex'),
    username: 'sup',
    csrfToken: 'csrf',
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + 3_600_000,
  });
  const { token } = issueApiToken(store, 'monitoring', 'viewer', 'sup');
  expect(store.schemaVersion()).toBe(5);
  store.close();
  writeFileSync(join(dir, 'webrtc-token-secret'), `${OLD_SECRET}\n`, { mode: 0o600 });
  return { dir, token };
}

describe('credential reset on upgrade', () => {
  it('ends every session and API token and rotates the token signing secret, once', async () => {
    const { dir, token } = await oldVersionDataDir();
    const oldAgentToken = mintAgentToken(OLD_SECRET, { subject: 'agent-1', role: 'supervisor' });

    const app = await start(dir);
    const calls = (headers: Record<string, string>) => fetch(`${app.httpUrl}/api/v1/calls`, { headers }).then((r) => r.status);
    expect(await calls({ authorization: `Bearer ${token}` })).toBe(401);
    expect(await calls({ cookie: `evx_session=${SESSION_ID}` })).toBe(401);
    const count = (box: Appliance, table: string) => (box.store.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    expect([count(app, 'console_sessions'), count(app, 'api_tokens'), count(app, 'console_users')]).toEqual([0, 0, 1]);

    const secret = readFileSync(join(dir, 'webrtc-token-secret'), 'utf8').trim();
    expect(secret).not.toBe(OLD_SECRET);
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(verifyAgentToken(secret, oldAgentToken)).toBeUndefined();

    const resets = app.store.audit.list(100).filter((e) => e.action === 'credentials.reset');
    expect(resets).toHaveLength(1);
    expect(resets[0]).toMatchObject({ actor: 'system', details: { sessionsEnded: 1, tokensRevoked: 1, secretsRotated: 1 } });
    // The account itself is kept: its owner signs in again.
    const login = await fetch(`${app.httpUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'sup', password: 'correct horse battery' }),
    });
    expect(login.status).toBe(200);
    await app.close();

    // The next start has nothing left to do.
    const again = await start(dir);
    expect(readFileSync(join(dir, 'webrtc-token-secret'), 'utf8').trim()).toBe(secret);
    expect(again.store.audit.list(100).filter((e) => e.action === 'credentials.reset')).toHaveLength(1);
    expect(count(again, 'credential_resets')).toBe(1);
  });

  it('leaves a fresh box alone', async () => {
    const app = await start(scratchDir('fresh'));
    expect(app.store.db.prepare(`SELECT COUNT(*) AS n FROM credential_resets`).get()).toEqual({ n: 0 });
    expect(app.store.audit.list(100).some((e) => e.action === 'credentials.reset')).toBe(false);
  });
});
