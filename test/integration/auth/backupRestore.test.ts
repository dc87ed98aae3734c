/**
 * A restore applies all of a backup or none of it: a part that is refused (here a TLS pair that
 * does not validate) leaves the box's configuration, accounts and certificate as they were.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { hashPassword } from '../../../appliance/auth/passwords.js';
import { encryptBackup, type BackupPayload } from '../../../appliance/console/backup.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authedFetch, createUser, login, quietApplianceOverrides } from '../../helpers/auth.js';

const running: Appliance[] = [];
afterAll(async () => {
  await Promise.all(running.map((a) => a.close()));
});

describe('backup restore', () => {
  it('refuses a backup with a bad TLS pair before changing anything', async () => {
    const { app } = await startTestAppliance(quietApplianceOverrides({ sip: { enabled: false }, console: { httpsPort: -1 } }), {
      transcribers: null,
    });
    running.push(app);
    const admin = authedFetch(app);
    await createUser(app, 'keeper', 'viewer');
    const before = (await (await admin('/api/v1/config')).json()) as { version: number; config: { site: { name: string } } };
    const payload: BackupPayload = {
      format: 'edgevox-backup',
      version: 1,
      createdAt: 1,
      appVersion: '0',
      siteId: 'elsewhere',
      config: { ...before.config, site: { ...before.config.site, name: 'Restored Elsewhere' } },
      users: [],
      tls: { cert: 'not a certificate', key: 'not a key' },
      callerSalt: null,
    };
    const file = await encryptBackup(payload, 'a long passphrase');
    const res = await admin('/api/v1/backup/restore', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ passphrase: 'a long passphrase', file: file.toString('base64') }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('EVX_ERR_TLS_CERT');
    const after = (await (await admin('/api/v1/config')).json()) as { version: number; config: { site: { name: string } } };
    expect(after.config.site.name).toBe(before.config.site.name);
    expect(after.version).toBe(before.version);
    expect(app.store.audit.list().map((e) => e.action)).not.toContain('backup.restore');
  });
});

describe('restoring accounts', () => {
  it('revokes the API tokens of accounts the backup does not have', async () => {
    const { app } = await startTestAppliance(quietApplianceOverrides({ sip: { enabled: false }, console: { httpsPort: -1 } }), {
      transcribers: null,
    });
    running.push(app);
    const admin = authedFetch(app);
    await createUser(app, 'bob', 'technician');
    const s = await login(app.httpUrl, 'bob', 'correct horse battery');
    const minted = await fetch(`${app.httpUrl}/api/v1/tokens`, {
      method: 'POST',
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bob-script', role: 'technician' }),
    });
    const bobToken = ((await minted.json()) as { token: string }).token;
    const current = (await (await admin('/api/v1/config')).json()) as { config: Record<string, unknown> };
    const payload: BackupPayload = {
      format: 'edgevox-backup',
      version: 1,
      createdAt: 1,
      appVersion: '0',
      siteId: 'elsewhere',
      config: current.config,
      users: [{ username: 'alice', role: 'technician', passwordHash: await hashPassword('another long password'), createdAt: 1 }],
      tls: null,
      callerSalt: null,
    };
    const file = await encryptBackup(payload, 'a long passphrase');
    const res = await admin('/api/v1/backup/restore', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ passphrase: 'a long passphrase', file: file.toString('base64') }),
    });
    expect(res.status).toBe(200);
    expect((await fetch(`${app.httpUrl}/api/v1/users`, { headers: { authorization: `Bearer ${bobToken}` } })).status).toBe(401);
    // a token minted outside any account (the test's own, like the console-token command's) stays
    expect((await admin('/api/v1/users')).status).toBe(200);
  });
});
