/**
 * The console's dry run of a configuration change: every issue, keyed, in plain language, nothing
 * stored; saving answers the same issues; a supervisor may not use it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authedFetch, quietApplianceOverrides } from '../../helpers/auth.js';

let app: Appliance;

beforeAll(async () => {
  ({ app } = await startTestAppliance(quietApplianceOverrides()));
});
afterAll(async () => {
  await app?.close();
});

async function send(method: string, path: string, body: unknown, role: 'technician' | 'supervisor' = 'technician') {
  const res = await authedFetch(app, role)(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as any };
}

describe('POST /api/v1/config/validate', () => {
  it('lists every issue of a change with key, code and message, and stores nothing', async () => {
    const before = app.store.configVersions.latest()?.version;
    const bad = await send('POST', '/api/v1/config/validate', {
      changes: { 'sip.rtpHost': '999.1.2.3', 'sip.allowList': ['not-an-ip', '10.0.0.0/33'] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('EVX_ERR_CONFIG_INVALID');
    expect(bad.body.error.details.issues).toEqual([
      expect.objectContaining({
        key: 'sip.rtpHost',
        code: 'ip',
        message: '999.1.2.3 is not an IP address: each of the four numbers must be 0–255',
      }),
      expect.objectContaining({ key: 'sip.allowList.0', code: 'ip' }),
      expect.objectContaining({ key: 'sip.allowList.1', code: 'cidr', message: '10.0.0.0/33: an IPv4 prefix length is 0 to 32' }),
    ]);
    const good = await send('POST', '/api/v1/config/validate', { changes: { 'sip.rtpHost': '192.0.2.10' } });
    expect(good).toEqual({ status: 200, body: { ok: true, issues: [] } });
    expect(app.store.configVersions.latest()?.version).toBe(before);
    // a whole configuration is checked too, the data dir included
    const whole = await send('POST', '/api/v1/config/validate', { config: { dataDir: '/elsewhere', sip: { host: 'nowhere!' } } });
    expect(whole.body.error.details.issues.map((i: { key: string }) => i.key)).toEqual(['sip.host', 'dataDir']);
  });

  it('saving refuses with the same issues; a supervisor may not validate', async () => {
    const saved = await send('PATCH', '/api/v1/config', { changes: { 'sip.allowList': ['not-an-ip'], 'sip.rtpHost': '999.1.2.3' } });
    expect(saved.status).toBe(400);
    expect(saved.body.error.details.issues.map((i: { key: string }) => i.key)).toEqual(['sip.rtpHost', 'sip.allowList.0']);
    expect((await send('POST', '/api/v1/config/validate', { changes: { 'site.name': 'x' } }, 'supervisor')).status).toBe(403);
  });

  it('a version stored before a rule refused it still opens, and saving names the old problem at its key', async () => {
    const current = (await (await authedFetch(app)('/api/v1/config')).json()) as { config: Record<string, any> };
    const old = structuredClone(current.config);
    old['sip'].rtpHost = '999.1.2.3';
    app.store.configVersions.add(old as never, 'console:admin', 'stored by an older version');
    const read = await authedFetch(app)('/api/v1/config');
    expect(read.status).toBe(200);
    expect(((await read.json()) as { config: any }).config.sip.rtpHost).toBe('999.1.2.3');
    const saved = await send('PATCH', '/api/v1/config', { changes: { 'site.name': 'Leeds' } });
    expect(saved.status).toBe(400);
    expect(saved.body.error.details.issues.map((i: { key: string }) => i.key)).toEqual(['sip.rtpHost']);
    expect((await send('PATCH', '/api/v1/config', { changes: { 'site.name': 'Leeds', 'sip.rtpHost': '' } })).status).toBe(200);
  });
});
