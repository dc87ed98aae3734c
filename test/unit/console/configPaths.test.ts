/**
 * The configuration as a viewer or supervisor reads it (GET /api/v1/config, a stored version, the
 * diff between versions) has the box's file paths (data and model directories, certificates, CA
 * files, the token secret) replaced, as GET /api/v1/system does; technicians still read them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandling } from '../../../appliance/api/errors.js';
import type { Principal, Role } from '../../../appliance/auth/authService.js';
import { installAccessGuard } from '../../../appliance/auth/guard.js';
import { validateConfig } from '../../../appliance/config/load.js';
import { ConfigService } from '../../../appliance/console/configService.js';
import type { ConsoleContext } from '../../../appliance/console/context.js';
import { registerConfigRoutes } from '../../../appliance/console/routes/config.js';
import { createLogger } from '../../../appliance/log/logger.js';
import { Store } from '../../../appliance/store/database.js';

const CERT = '/etc/planted-edgevox/tls/sip.pem';
const CA = '/etc/planted-edgevox/tls/carrier-ca.pem';

describe('configuration paths below the technician role', () => {
  let dir: string;
  let store: Store;
  let app: FastifyInstance;

  const get = async (url: string, role: Role) => {
    const res = await app.inject({ url, headers: { authorization: `Bearer ${role}` } });
    expect(res.statusCode, `${role} ${url}`).toBe(200);
    return res.body;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'evx-config-view-'));
    store = Store.open(dir);
    const logger = createLogger({ level: 'silent', includePii: false });
    const config = validateConfig({ dataDir: dir });
    const configs = new ConfigService({ store, running: config, logger });
    const ctx = { config, dataDir: dir, logger, store, configs } as unknown as ConsoleContext;
    app = Fastify({ logger: false });
    installErrorHandling(app, logger);
    installAccessGuard(app, {
      authenticateToken: (token): Principal | null =>
        ['technician', 'supervisor', 'viewer'].includes(token) ? { kind: 'token', username: token, role: token as Role } : null,
      authenticateSession: () => null,
    });
    registerConfigRoutes(app, ctx);
    await app.ready();
    const res = await app.inject({
      method: 'PATCH',
      url: '/api/v1/config',
      headers: { authorization: 'Bearer technician' },
      payload: {
        changes: { 'sip.tlsCertFile': CERT, 'sip.trunks': [{ name: 'carrier', host: 'sbc.example.net', tlsCaFile: CA }] },
      },
    });
    expect(res.statusCode, res.body).toBe(200);
  });

  afterAll(async () => {
    await app.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const views = async (role: Role) => {
    const current = JSON.parse(await get('/api/v1/config', role)) as { version: number; config: Record<string, any> };
    return {
      current,
      text: [
        JSON.stringify(current),
        await get(`/api/v1/config/versions/${current.version}`, role),
        await get(`/api/v1/config/diff?from=${current.version - 1}`, role),
      ].join('\n'),
    };
  };

  it.each(['viewer', 'supervisor'] as const)('a %s reads no path on the box', async (role) => {
    const { current, text } = await views(role);
    for (const path of [CERT, CA, dir, '/etc/planted-edgevox']) expect(text, path).not.toContain(path);
    expect(current.config['sip'].tlsCertFile).toBe('(omitted)');
    expect(current.config['sip'].tlsKeyFile).toBe('');
    expect(current.config['sip'].trunks[0]).toMatchObject({ name: 'carrier', host: 'sbc.example.net', tlsCaFile: '(omitted)' });
    expect(current.config['dataDir']).toBe('(omitted)');
    expect(text).toContain('sip.tlsCertFile');
  });

  it('a technician reads them', async () => {
    const { current, text } = await views('technician');
    expect(current.config['sip'].tlsCertFile).toBe(CERT);
    expect(text).toContain(CA);
    expect(text).toContain(dir);
  });
});
