/**
 * GET /api/v1/system: viewers and supervisors see the inventory (hardware, versions, models and
 * whether they are installed) but none of the box's filesystem paths (the data directory and its
 * mount, the models' directories, paths in a model's error); technicians still see them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandling } from '../../../appliance/api/errors.js';
import type { ApiDeps } from '../../../appliance/api/deps.js';
import { registerSystemRoutes } from '../../../appliance/api/routes/system.js';
import type { Principal, Role } from '../../../appliance/auth/authService.js';
import { installAccessGuard } from '../../../appliance/auth/guard.js';
import { validateConfig } from '../../../appliance/config/load.js';
import { createLogger } from '../../../appliance/log/logger.js';
import type { ModelStatus } from '../../../appliance/modelstore/modelStore.js';

const MODELS_SOURCE = '/srv/planted-models-source';

describe('system inventory and filesystem paths', () => {
  let dataDir: string;
  let modelDir: string;
  let app: FastifyInstance;

  const get = async (role: Role) => {
    const res = await app.inject({ url: '/api/v1/system', headers: { authorization: `Bearer ${role}` } });
    expect(res.statusCode, role).toBe(200);
    return { text: res.body, body: res.json<Record<string, any>>() };
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'evx-system-paths-'));
    modelDir = join(dataDir, 'models', 'asr', '0123abcd');
    const models: ModelStatus[] = [
      { name: 'asr', family: 'asr', licence: 'MIT', required: true, activeVersion: '0123abcd', dir: modelDir, error: null },
      {
        name: 'vad',
        family: 'vad',
        licence: 'MIT',
        required: true,
        activeVersion: null,
        dir: null,
        error: { code: 'EVX_ERR_MODEL_SOURCE_MISSING', message: `model 'vad': file vad.onnx is missing from ${MODELS_SOURCE}/vad` },
      },
    ];
    const deps = {
      config: validateConfig({ dataDir }),
      models: { status: () => models },
      store: { schemaVersion: () => 26 },
      repoRoot: resolve('.'),
    } as unknown as ApiDeps;
    app = Fastify({ logger: false });
    installErrorHandling(app, createLogger({ level: 'silent', includePii: false }));
    installAccessGuard(app, {
      authenticateToken: (token): Principal | null =>
        ['technician', 'supervisor', 'viewer'].includes(token) ? { kind: 'token', username: token, role: token as Role } : null,
      authenticateSession: () => null,
    });
    registerSystemRoutes(app, deps);
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it.each(['viewer', 'supervisor'] as const)('a %s sees the inventory without a path', async (role) => {
    const { text, body } = await get(role);
    expect(text).not.toContain(dataDir);
    expect(text).not.toContain(MODELS_SOURCE);
    expect(text).not.toContain(tmpdir());
    expect(body['cpu'].cores).toBeGreaterThan(0);
    expect(body['memory'].totalBytes).toBeGreaterThan(0);
    if (body['dataDisk'] !== null) {
      expect(body['dataDisk'].availableBytes).toBeGreaterThan(0);
      expect(body['dataDisk'].path).toBe('(omitted)');
      expect(body['dataDisk'].mount).toBe('(omitted)');
    }
    const [asr, vad] = body['models'] as ModelStatus[];
    expect(asr).toMatchObject({ name: 'asr', activeVersion: '0123abcd', dir: 'installed', error: null });
    expect(vad).toMatchObject({ name: 'vad', dir: null, error: { code: 'EVX_ERR_MODEL_SOURCE_MISSING' } });
    expect(vad!.error!.message).toBe("model 'vad': file vad.onnx is missing from (path)");
  });

  it('a technician sees the paths', async () => {
    const { text, body } = await get('technician');
    expect(text).toContain(modelDir);
    expect(text).toContain(MODELS_SOURCE);
    if (body['dataDisk'] !== null) expect(body['dataDisk'].path).toBe(resolve(dataDir));
  });
});
