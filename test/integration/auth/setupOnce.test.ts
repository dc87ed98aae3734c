/**
 * The first-boot setup token makes one account, once: requests racing each other with the token
 * (the second arrives while the first one's password is being hashed) make one account, and the
 * others are told setup is done.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { quietApplianceOverrides } from '../../helpers/auth.js';

const running: Appliance[] = [];
afterAll(async () => {
  await Promise.all(running.map((a) => a.close()));
});

describe('first-boot setup', () => {
  it('creates exactly one account when requests race with the setup token', async () => {
    const { app } = await startTestAppliance(quietApplianceOverrides({ sip: { enabled: false }, console: { httpsPort: -1 } }), {
      transcribers: null,
    });
    running.push(app);
    const setupToken = readFileSync(join(app.config.dataDir, 'setup-token'), 'utf8').trim();
    const attempt = (username: string) =>
      fetch(`${app.httpUrl}/api/v1/setup/admin`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ setupToken, username, password: 'a long enough password' }),
      }).then(async (r) => ({ status: r.status, code: r.ok ? null : ((await r.json()) as { error: { code: string } }).error.code }));
    const results = await Promise.all(['first', 'second', 'third'].map((u) => attempt(u)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status !== 200).map((r) => r.code)).toEqual(['EVX_ERR_SETUP_DONE', 'EVX_ERR_SETUP_DONE']);
    expect(app.store.db.prepare('SELECT COUNT(*) AS n FROM console_users').get()).toEqual({ n: 1 });
  });
});
