/**
 * Changing one's password checks the current one under the same throttle as signing in: a held
 * session cannot be used to guess its account's password without limit.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { createUser, login, quietApplianceOverrides } from '../../helpers/auth.js';

const running: Appliance[] = [];
afterAll(async () => {
  await Promise.all(running.map((a) => a.close()));
});

describe('password change', () => {
  it('locks after repeated wrong current passwords, like sign-in, even against the right one', async () => {
    const { app } = await startTestAppliance(
      quietApplianceOverrides({ sip: { enabled: false }, console: { httpsPort: -1, lockoutThreshold: 3, loginBackoffAfter: 100 } }),
      { transcribers: null },
    );
    running.push(app);
    await createUser(app, 'guessed', 'viewer');
    const s = await login(app.httpUrl, 'guessed', 'correct horse battery');
    const change = (current: string) =>
      fetch(`${app.httpUrl}/api/v1/auth/password`, {
        method: 'POST',
        headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/json' },
        body: JSON.stringify({ current, next: 'a brand new password' }),
      });
    const statuses: number[] = [];
    for (const guess of ['guess number 1', 'guess number 2', 'guess number 3']) statuses.push((await change(guess)).status);
    expect(statuses).toEqual([401, 401, 423]);
    const right = await change('correct horse battery');
    expect(right.status).toBe(423);
    // the password is unchanged
    const audit = app.store.audit.list().map((e) => e.action);
    expect(audit).not.toContain('user.password.changed');
    expect(audit).toContain('user.password.failed');
  });

  it('still changes the password with the right current one, and ends the sessions', async () => {
    const { app } = await startTestAppliance(quietApplianceOverrides({ sip: { enabled: false }, console: { httpsPort: -1 } }), {
      transcribers: null,
    });
    running.push(app);
    await createUser(app, 'changer', 'viewer');
    const s = await login(app.httpUrl, 'changer', 'correct horse battery');
    const res = await fetch(`${app.httpUrl}/api/v1/auth/password`, {
      method: 'POST',
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ current: 'correct horse battery', next: 'a brand new password' }),
    });
    expect(res.status).toBe(200);
    expect((await fetch(`${app.httpUrl}/api/v1/calls`, { headers: { cookie: s.cookie } })).status).toBe(401);
    await login(app.httpUrl, 'changer', 'a brand new password');
  });
});
