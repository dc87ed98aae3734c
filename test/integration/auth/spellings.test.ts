/**
 * The access guard decides on the route the router matched, so no spelling of a path gets past it.
 * Every route the server registered (from its router and access table, not a hand-written list) is
 * requested under many spellings of its path — escaped letters and slashes, double escaping, case,
 * doubled slashes, dot segments, trailing slash, `;` parameters, a query string — without
 * credentials, and every write with a viewer's credentials. The canonical path must get 401 (403
 * for the viewer); every other spelling either reaches a protected route and gets the same
 * refusal, or misses (404 from the router or the static pages, 403 for a path the static pages
 * refuse, 400 when malformed) — never a 2xx, 3xx or 5xx. Hundreds of spellings must reach the
 * routes (`/%61pi/...`), or the sweep would prove nothing. Before and after, the database, the
 * audit log and the SIP server's counters must be identical, and nothing may reach an outside SIP
 * address.
 *
 * Also here: the same sweep over the WebSocket routes, and the attack an outside tester ran on
 * the version before this guard (`/%61pi/...`: create an agent at their own address, make it
 * available, have callers transferred to it).
 */
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { findWorkerBin } from '../../../appliance/webrtc/workerBin.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { apiToken, createUser, hasWebrtcSection, login, type TestSession } from '../../helpers/auth.js';
import { pathSpellings, rawRequest, rawUpgrade } from '../../helpers/rawHttp.js';
import { concretePath, listRoutes } from '../../helpers/routes.js';

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Columns a read may legitimately touch (sliding session expiry, token last use). */
const VOLATILE = new Set(['last_seen_at', 'expires_at', 'last_used_at']);

/** A digest of every table of the store, row by row. */
function storeDigest(app: Appliance): Record<string, string> {
  const tables = app.store.db
    .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
    .all() as { name: string }[];
  const out: Record<string, string> = {};
  for (const { name } of tables) {
    const rows = app.store.db.prepare(`SELECT * FROM "${name}" ORDER BY 1`).all() as Record<string, unknown>[];
    const stable = rows.map((r) => Object.entries(r).filter(([k]) => !VOLATILE.has(k)));
    out[name] = `${rows.length}:${createHash('sha256').update(JSON.stringify(stable)).digest('hex').slice(0, 16)}`;
  }
  return out;
}

/** A UDP socket standing for an address outside the box (an attacker's phone). */
async function outsidePhone(host: string): Promise<{ port: number; received: () => number; close: () => void }> {
  const socket = dgram.createSocket('udp4');
  let received = 0;
  socket.on('message', () => received++);
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  return { port: socket.address().port, received: () => received, close: () => socket.close() };
}

interface Probe {
  method: string;
  route: string;
  path: string;
  canonical: boolean;
}

/** Every spelling of every route (from the access table) whose method and access `keep` accepts. */
function probes(app: Appliance, keep: (method: string, access: string) => boolean): Probe[] {
  const out: Probe[] = [];
  for (const r of app.http.accessTable) {
    if (!keep(r.method, r.access) || r.websocket) continue;
    const canonical = concretePath(r.url);
    for (const path of pathSpellings(canonical)) out.push({ method: r.method, route: r.url, path, canonical: path === canonical });
  }
  return out;
}

/** Answers that refuse or miss: nothing served, nothing done. */
const MISSES = [400, 403, 404];

function errorCode(body: string): string | undefined {
  try {
    return (JSON.parse(body) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

let app: Appliance;
let base: string;
let viewer: TestSession;
let viewerToken: string;
let phone: Awaited<ReturnType<typeof outsidePhone>>;

beforeAll(async () => {
  const webrtc =
    hasWebrtcSection() && findWorkerBin() !== undefined ? { webrtc: { enabled: true, workers: 1 } } : { webrtc: { enabled: false } };
  ({ app } = await startTestAppliance({ console: { httpsPort: -1 }, ...webrtc }, { transcribers: null }));
  base = app.httpUrl;
  const v = await createUser(app, 'view1', 'viewer');
  viewer = await login(base, v.username, v.password);
  viewerToken = apiToken(app, 'viewer');
  phone = await outsidePhone('127.0.0.1');
});
afterAll(async () => {
  phone?.close();
  await app?.close();
});

describe('every spelling of every route', () => {
  it('covers every route the router has, and at least every operation of the OpenAPI document', async () => {
    const table = new Set(app.http.accessTable.map((r) => `${r.method} ${r.url}`));
    for (const r of listRoutes(app)) expect(table.has(r), r).toBe(true);
    const doc = (await (await fetch(`${base}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
    expect(operations).toBeGreaterThan(30);
    expect(app.http.accessTable.filter((r) => r.method !== 'HEAD').length).toBeGreaterThanOrEqual(operations);
  });

  it('refuses every protected route under every spelling without credentials, and changes nothing', async () => {
    const before = { store: storeDigest(app), sip: { ...app.sip!.counters } };
    const all = probes(app, (_m, access) => access !== 'public');
    const wrong: string[] = [];
    let aliased = 0;
    for (const p of all) {
      const res = await rawRequest(base, p.method, p.path, {
        headers: { 'content-type': 'application/json' },
        ...(WRITE_METHODS.has(p.method) ? { body: '{}' } : {}),
      });
      const refused = res.status === 401 && (p.method === 'HEAD' || errorCode(res.body) === 'EVX_ERR_AUTH_REQUIRED');
      if (refused && !p.canonical) aliased++;
      if (p.canonical ? !refused : !refused && !MISSES.includes(res.status))
        wrong.push(`${p.method} ${p.path} (${p.route}) -> ${res.status}`);
    }
    expect(wrong).toEqual([]);
    // The sweep really exercises the router's decoding: `/%61pi/...` and friends reach the routes.
    expect(aliased).toBeGreaterThan(300);
    expect(storeDigest(app)).toEqual(before.store);
    expect({ ...app.sip!.counters }).toEqual(before.sip);
    expect(phone.received()).toBe(0);
  });

  it("refuses every write to a viewer's session and token under every spelling, and changes nothing", async () => {
    const before = storeDigest(app);
    // Writes every role may make on its own account (sign out, password: open to kiosk or viewer) are the viewer's to make.
    const all = probes(app, (m, access) => WRITE_METHODS.has(m) && !['public', 'kiosk', 'viewer'].includes(access));
    expect(all.length).toBeGreaterThan(500);
    const wrong: string[] = [];
    let aliased = 0;
    for (const p of all) {
      const credentials: Record<string, string>[] = [
        { cookie: viewer.cookie, 'x-csrf-token': viewer.csrf },
        { authorization: `Bearer ${viewerToken}` },
      ];
      for (const headers of credentials) {
        const res = await rawRequest(base, p.method, p.path, { headers: { 'content-type': 'application/json', ...headers }, body: '{}' });
        const refused = res.status === 403 && errorCode(res.body) === 'EVX_ERR_FORBIDDEN';
        if (refused && !p.canonical) aliased++;
        if (p.canonical ? !refused : !MISSES.includes(res.status))
          wrong.push(`${p.method} ${p.path} (${p.route}) as ${Object.keys(headers)[0]} -> ${res.status}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(aliased).toBeGreaterThan(300);
    expect(storeDigest(app)).toEqual(before);
  });

  it('refuses every protected WebSocket route under every spelling, and cross-site upgrades on a session', async () => {
    const sockets = app.http.accessTable.filter((r) => r.websocket && r.access !== 'public');
    expect(sockets.map((r) => r.url)).toContain('/api/v1/events');
    const wrong: string[] = [];
    let aliased = 0;
    for (const r of sockets) {
      const canonical = concretePath(r.url);
      for (const path of pathSpellings(canonical)) {
        const anonymous = await rawUpgrade(base, path);
        const foreign = await rawUpgrade(base, path, { cookie: viewer.cookie, origin: 'https://evil.example' });
        if (anonymous === 401 && path !== canonical) aliased++;
        if (path === canonical ? anonymous !== 401 : anonymous !== 401 && !MISSES.includes(anonymous))
          wrong.push(`anonymous ${path} -> ${anonymous}`);
        if (path === canonical ? foreign !== 403 : !MISSES.includes(foreign)) wrong.push(`cross-site ${path} -> ${foreign}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(aliased).toBeGreaterThan(5);
    // The console's own origin still gets its stream.
    expect(await rawUpgrade(base, '/api/v1/events', { cookie: viewer.cookie, origin: base })).toBe(101);
  });
});

describe('the public pages', () => {
  it('serve nothing from outside their folders, under any spelling of a way out', async () => {
    const secrets = ['package.json', 'var/edgevox.sqlite', 'webrtc-token-secret', 'setup-token', 'etc/passwd'];
    const ways = ['/../', '/..%2f', '/%2e%2e/', '/%2e%2e%2f', '/..%5c', '/.%2e/', '/%252e%252e/', '//..//', '/..\\'];
    const wrong: string[] = [];
    for (const prefix of ['', '/webrtc/assets', '/agent', '/api/v1/webrtc']) {
      for (const way of ways) {
        for (const secret of secrets) {
          const path = `${prefix}${way.repeat(1)}${way.slice(1).repeat(4)}${secret}`;
          const res = await rawRequest(base, 'GET', path);
          if (!MISSES.includes(res.status) && res.status !== 401) wrong.push(`${path} -> ${res.status}`);
          if (/"devDependencies"|SQLite format|root:x:0/.test(res.body)) wrong.push(`${path} served a file`);
        }
      }
    }
    expect(wrong).toEqual([]);
    // The pages themselves are there.
    expect((await rawRequest(base, 'GET', '/')).status).toBe(200);
  });
});

describe('the encoded-path attack on the version before this guard', () => {
  it('creates no agent, sends no REFER and writes nothing, and a stored outside target is never dialled', async () => {
    const attacker = await outsidePhone('127.0.0.3');
    try {
      const before = { store: storeDigest(app), audit: app.store.audit.list(1000).length };
      const evil = {
        id: 'evil',
        name: 'evil',
        sipUri: `sip:attacker@127.0.0.3:${attacker.port}`,
        senior: true,
        state: 'available',
        skills: [{ group: 'general', level: 5 }],
      };
      const json = { 'content-type': 'application/json' };
      const attempts: [string, string, string | undefined][] = [
        ['GET', '/%61pi/v1/calls', undefined],
        ['GET', '/%61pi/v1/users', undefined],
        ['GET', '/%61pi/v1/tokens', undefined],
        ['GET', '/%61pi/v1/audit', undefined],
        ['PUT', '/%61pi/v1/routing/agents/evil', JSON.stringify(evil)],
        ['PUT', '/%61pi/v1/routing/agents/evil/state', JSON.stringify({ state: 'available' })],
        ['PUT', '/%61pi/v1/routing/rules', JSON.stringify({ angerThreshold: 0.1 })],
        ['POST', '/%61pi/v1/webrtc/agent-tokens', JSON.stringify({ agentId: 'evil', role: 'supervisor' })],
        ['POST', '/%61pi/v1/selftest', '{}'],
      ];
      for (const [method, path, body] of attempts) {
        const res = await rawRequest(base, method, path, { headers: json, ...(body !== undefined ? { body } : {}) });
        // 404 only where that route is not mounted here (no WebRTC plane without the built worker).
        expect([401, 404], `${method} ${path}`).toContain(res.status);
        if (res.status === 404) expect(app.http.findRoute({ method, url: path })).toBeNull();
      }
      expect(await rawUpgrade(base, '/%61pi/v1/events')).toBe(401);
      // A viewer's login could change the routing rules the same way.
      const asViewer = await rawRequest(base, 'PUT', '/%61pi/v1/routing/rules', {
        headers: { ...json, cookie: viewer.cookie, 'x-csrf-token': viewer.csrf },
        body: JSON.stringify({ angerThreshold: 0.1 }),
      });
      expect(asViewer.status).toBe(403);
      const agents = (await (await fetch(`${base}/api/v1/routing/agents`, { headers: { cookie: viewer.cookie } })).json()) as {
        agents: { id: string }[];
      };
      expect(agents.agents.map((a) => a.id)).not.toContain('evil');
      expect(storeDigest(app)).toEqual(before.store);
      expect(app.store.audit.list(1000).length).toBe(before.audit);

      // Defence in depth: even a technician cannot point an agent outside the transfer networks
      // (here: this host, 127.0.0.0/8, so use an address form that is not an IP literal there)...
      const tech = apiToken(app, 'technician');
      for (const sipUri of [
        'sip:attacker@attacker.example:5060',
        `sip:attacker@127.0.0.1:${attacker.port};maddr=203.0.113.7`,
        'sip:attacker@127.1',
        'sip:attacker@127.0.0.1@203.0.113.7',
        'sip:attacker@%31%32%37.0.0.1',
      ]) {
        const res = await fetch(`${base}/api/v1/routing/agents/evil`, {
          method: 'PUT',
          headers: { ...json, authorization: `Bearer ${tech}` },
          body: JSON.stringify({ ...evil, sipUri }),
        });
        const body = await res.text();
        expect([res.status, errorCode(body)], sipUri).toEqual([400, expect.stringMatching(/^EVX_ERR_(TRANSFER_TARGET|BAD_REQUEST)$/)]);
      }
      // ...and a REFER to a target outside them is refused before anything is sent.
      const transfers: unknown[] = [];
      const off = app.sip!.events.on('call.transfer', (e) => transfers.push(e));
      try {
        await app.sip!.transfer('any-call', 'sip:attacker@203.0.113.7:5060');
        expect.unreachable('the transfer should have been refused');
      } catch (err) {
        expect(isEdgeVoxError(err, 'EVX_ERR_TRANSFER_TARGET')).toBe(true);
      } finally {
        off();
      }
      expect(transfers).toEqual([]);
      await new Promise((r) => setTimeout(r, 200));
      expect(attacker.received()).toBe(0);
    } finally {
      attacker.close();
    }
  });
});
