/**
 * No number the API takes can be infinite. The validator coerces `?limit=1e400` and `?limit=Infinity`
 * to Infinity, counts it an integer and skips the schema's minimum and maximum for it, so before
 * the finite-number hook (api/finiteNumbers.ts) every bounded query number let Infinity through to
 * its handler (82 of these probes got a 500 or a 200). Every GET route the OpenAPI document lists
 * with a numeric query parameter is asked with each spelling of infinity, as a technician: all must
 * be 400, none 2xx or 5xx; and a body number of 1e400 (Infinity after JSON.parse) is a 400 too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authHeader, quietApplianceOverrides } from '../../helpers/auth.js';
import { concretePath } from '../../helpers/routes.js';

interface OpenApiParameter {
  name: string;
  in: string;
  schema?: { type?: string };
}
type OpenApi = { paths: Record<string, Record<string, { parameters?: OpenApiParameter[] }>> };

describe('non-finite numbers', () => {
  let app: Appliance;
  let auth: { authorization: string };

  beforeAll(async () => {
    ({ app } = await startTestAppliance(quietApplianceOverrides({ sip: { enabled: false } }), { transcribers: null }));
    auth = authHeader(app, 'technician');
  }, 60_000);
  afterAll(async () => {
    await app?.close();
  });

  it('every numeric query parameter of every listed GET route refuses 1e400, Infinity and -Infinity with 400', async () => {
    const doc = (await (await fetch(`${app.httpUrl}/api/v1/openapi.json`)).json()) as OpenApi;
    const probes: { url: string; param: string }[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      const get = ops['get'];
      for (const p of get?.parameters ?? []) {
        if (p.in === 'query' && (p.schema?.type === 'integer' || p.schema?.type === 'number')) {
          probes.push({ url: concretePath(path.replace(/\{(\w+)\}/g, ':$1')), param: p.name });
        }
      }
    }
    // the sweep must reach the paged lists, or it proves nothing
    expect(probes.length).toBeGreaterThan(15);
    const wrong: string[] = [];
    for (const { url, param } of probes) {
      for (const value of ['1e400', 'Infinity', '-Infinity']) {
        const res = await fetch(`${app.httpUrl}${url}?${param}=${value}`, { headers: auth });
        const body = await res.text();
        if (res.status === 403 || res.status === 404) continue; // not the technician's, or no such resource at /1
        if (res.status !== 400 || !body.includes('EVX_ERR_BAD_REQUEST'))
          wrong.push(`${url}?${param}=${value}: ${res.status} ${body.slice(0, 120)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('a body number of 1e400 is refused as well', async () => {
    const res = await fetch(`${app.httpUrl}/api/v1/forecast/special-days`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{"date":"2027-01-01","factor":1e400,"label":"Spring sale"}',
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('EVX_ERR_BAD_REQUEST');
  });
});
