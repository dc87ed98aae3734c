/**
 * The OpenAPI document a running box serves: valid OpenAPI 3.0 (checked with a maintained schema
 * validator), security schemes for what the access guard accepts, a security requirement on every
 * operation matching the guard's decision for the route, and a unique operationId for each.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { operationIdOf, securityOf } from '../../../appliance/api/openapi.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { quietApplianceOverrides } from '../../helpers/auth.js';

interface Operation {
  operationId?: string;
  security?: Record<string, string[]>[];
  'x-min-role'?: string;
}
interface OpenApiDocument {
  openapi: string;
  security?: unknown;
  components: { securitySchemes?: Record<string, { type: string; in?: string; name?: string; scheme?: string }> };
  paths: Record<string, Record<string, Operation>>;
}
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

let app: Appliance;
let doc: OpenApiDocument;

beforeAll(async () => {
  ({ app } = await startTestAppliance(quietApplianceOverrides({ sip: { enabled: false }, acd: { mode: 'acd' } }), { transcribers: null }));
  const res = await fetch(`${app.httpUrl}/api/v1/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as OpenApiDocument;
});
afterAll(async () => {
  await app?.close();
});

const operations = (): { method: string; path: string; op: Operation }[] =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ method, path, op })),
  );

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.0 document', async () => {
    const result = await new Validator().validate(doc as unknown as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toMatch(/^3\.0\./);
    expect(operations().length).toBeGreaterThan(50);
  });

  it('declares the bearer token, the session cookie and the CSRF header as security schemes', () => {
    expect(doc.components.securitySchemes).toEqual({
      bearerAuth: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      sessionCookie: expect.objectContaining({ type: 'apiKey', in: 'cookie', name: 'evx_session' }),
      csrfHeader: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'x-csrf-token' }),
    });
  });

  it('gives every operation a unique operationId', () => {
    const ids = operations().map((o) => o.op.operationId);
    for (const [i, id] of ids.entries()) expect(id, `${operations()[i]!.method} ${operations()[i]!.path}`).toMatch(/^[a-z]+[A-Za-z0-9]*$/);
    const seen = new Map<string, number>();
    for (const id of ids) seen.set(id!, (seen.get(id!) ?? 0) + 1);
    expect([...seen].filter(([, n]) => n > 1)).toEqual([]);
  });

  it('requires on every operation what the access guard requires of the route (public routes: security [])', () => {
    const access = new Map(app.http.accessTable.map((r) => [`${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`, r.access]));
    let checked = 0;
    for (const { method, path, op } of operations()) {
      const guard = access.get(`${method.toUpperCase()} ${path}`);
      expect(guard, `${method} ${path} is a route the guard knows`).toBeDefined();
      expect(op['x-min-role'], `${method} ${path}`).toBe(guard);
      if (guard === 'public') {
        expect(op.security, `${method} ${path}`).toEqual([]);
      } else {
        checked++;
        expect(op.security, `${method} ${path}`).toContainEqual({ bearerAuth: [] });
        const session = ['get', 'head', 'options'].includes(method) ? { sessionCookie: [] } : { sessionCookie: [], csrfHeader: [] };
        expect(op.security, `${method} ${path}`).toContainEqual(session);
        expect(op.security, `${method} ${path}`).toHaveLength(2);
      }
    }
    expect(checked).toBeGreaterThan(30);
  });
});

describe('operation ids and security requirements', () => {
  it('derives ids from the method and path', () => {
    expect(operationIdOf('GET', '/api/v1/calls/:id/transcript')).toBe('getCallsByIdTranscript');
    expect(operationIdOf('POST', '/api/v1/alerts/:id/acknowledge')).toBe('postAlertsByIdAcknowledge');
    expect(operationIdOf('GET', '/api/v1/config-versions')).toBe('getConfigVersions');
    expect(operationIdOf('GET', '/metrics')).toBe('getMetrics');
    expect(operationIdOf('GET', '/')).toBe('getRoot');
  });
  it('asks a token or a session, with the CSRF header on writes, unless the route is public', () => {
    expect(securityOf('GET', { public: true })).toEqual([]);
    expect(securityOf('GET', {})).toEqual([{ bearerAuth: [] }, { sessionCookie: [] }]);
    expect(securityOf('POST', { minRole: 'supervisor' })).toEqual([{ bearerAuth: [] }, { sessionCookie: [], csrfHeader: [] }]);
  });
});
