/**
 * The console's built front end is public (it is the sign-in page), but its source maps are not
 * served at all: they carry the whole front-end source. Every spelling of a map's path is refused,
 * signed in or not, while the pages and scripts themselves are still served.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandling } from '../../../appliance/api/errors.js';
import type { Principal } from '../../../appliance/auth/authService.js';
import { installAccessGuard } from '../../../appliance/auth/guard.js';
import { registerConsolePages } from '../../../appliance/console/mount.js';
import { createLogger } from '../../../appliance/log/logger.js';

const TECHNICIAN: Principal = { kind: 'token', username: 'tech', role: 'technician' };

describe('console source maps', () => {
  let dir: string;
  let app: FastifyInstance;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'evx-console-pages-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>EdgeVox</title>');
    writeFileSync(join(dir, 'app.js'), 'console.log(1);\n//# sourceMappingURL=app.js.map\n');
    writeFileSync(join(dir, 'app.js.map'), '{"version":3,"sources":["src/secret.tsx"],"sourcesContent":["planted source"]}');
    mkdirSync(join(dir, 'chunks'));
    writeFileSync(join(dir, 'chunks', 'x.js.map'), '{"version":3,"sourcesContent":["planted source"]}');
    app = Fastify({ logger: false });
    installErrorHandling(app, createLogger({ level: 'silent', includePii: false }));
    installAccessGuard(app, {
      authenticateToken: (token) => (token === 'tech' ? TECHNICIAN : null),
      authenticateSession: () => null,
    });
    await registerConsolePages(app, dir);
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the pages and scripts to anyone', async () => {
    expect((await app.inject({ url: '/' })).statusCode).toBe(200);
    const script = await app.inject({ url: '/app.js' });
    expect(script.statusCode).toBe(200);
    expect(script.body).toContain('console.log(1)');
  });

  it('serves no source map, under any spelling, signed in or not', async () => {
    const spellings = [
      '/app.js.map',
      '/app.js.map?v=1',
      '/%61pp.js.map',
      '/app.js%2Emap',
      '/./app.js.map',
      '/chunks/../app.js.map',
      '/chunks/x.js.map',
    ];
    for (const url of spellings)
      for (const headers of [{}, { authorization: 'Bearer tech' }]) {
        const res = await app.inject({ url, headers });
        expect(res.statusCode, `${url} ${JSON.stringify(headers)}`).toBe(404);
        expect(res.body, url).not.toContain('planted source');
      }
  });
});
