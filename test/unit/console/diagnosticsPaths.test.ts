/**
 * GET /api/v1/diagnostics, like GET /api/v1/system: viewers and supervisors see the readiness, the
 * model check and the recent errors without the box's filesystem paths in their messages (an HTTP
 * error's route pattern stays); technicians still see them.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandling } from '../../../appliance/api/errors.js';
import type { Principal, Role } from '../../../appliance/auth/authService.js';
import { installAccessGuard } from '../../../appliance/auth/guard.js';
import { validateConfig } from '../../../appliance/config/load.js';
import { RecentErrors, type ConsoleContext } from '../../../appliance/console/context.js';
import { registerOpsRoutes } from '../../../appliance/console/routes/ops.js';
import { Readiness } from '../../../appliance/lifecycle/readiness.js';
import { createLogger } from '../../../appliance/log/logger.js';
import type { ModelStatus } from '../../../appliance/modelstore/modelStore.js';

const SOURCE = '/srv/planted-models-source/vad';
const MISSING = `model 'vad': file vad.onnx is missing from ${SOURCE}`;

describe('diagnostics and filesystem paths', () => {
  let app: FastifyInstance;

  const get = async (role: Role) => {
    const res = await app.inject({ url: '/api/v1/diagnostics', headers: { authorization: `Bearer ${role}` } });
    expect(res.statusCode, role).toBe(200);
    return { text: res.body, body: res.json<Record<string, any>>() };
  };

  beforeAll(async () => {
    const models: ModelStatus[] = [
      {
        name: 'vad',
        family: 'vad',
        licence: 'MIT',
        required: true,
        activeVersion: null,
        dir: null,
        error: { code: 'EVX_ERR_MODEL_SOURCE_MISSING', message: MISSING },
      },
    ];
    const readiness = new Readiness();
    readiness.register('models', () => ({ ok: false, reason: MISSING }));
    const errors = new RecentErrors();
    errors.add({ at: 1, source: 'model:vad', code: 'EVX_ERR_MODEL_SOURCE_MISSING', message: MISSING });
    errors.add({ at: 2, source: 'http', code: '500', message: 'GET /api/v1/calls/:id' });
    const ctx = {
      config: validateConfig({}),
      sip: null,
      readiness,
      models: { status: () => models, manifest: { models: [] } },
      https: { listener: null },
      calls: { activeCount: 0, maxLagMs: () => 0 },
      errors,
    } as unknown as ConsoleContext;
    app = Fastify({ logger: false });
    installErrorHandling(app, createLogger({ level: 'silent', includePii: false }));
    installAccessGuard(app, {
      authenticateToken: (token): Principal | null =>
        ['technician', 'supervisor', 'viewer'].includes(token) ? { kind: 'token', username: token, role: token as Role } : null,
      authenticateSession: () => null,
    });
    registerOpsRoutes(app, ctx);
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
  });

  it.each(['viewer', 'supervisor'] as const)('a %s sees the diagnostics without a path', async (role) => {
    const { text, body } = await get(role);
    expect(text).not.toContain('/srv/');
    const said = "model 'vad': file vad.onnx is missing from (path)";
    expect(body['readiness'].checks).toEqual([{ name: 'models', ok: false, reason: said }]);
    expect(body['models'][0].error).toEqual({ code: 'EVX_ERR_MODEL_SOURCE_MISSING', message: said });
    expect(body['recentErrors'].map((e: { message: string }) => e.message)).toEqual(['GET /api/v1/calls/:id', said]);
  });

  it('a technician sees the paths', async () => {
    const { text } = await get('technician');
    expect(text).toContain(SOURCE);
  });
});
