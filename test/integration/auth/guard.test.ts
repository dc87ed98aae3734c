/**
 * Every route of the running appliance — enumerated from fastify, so routes added later by anyone
 * are covered — has one access decision: public only where its definition says so; otherwise a
 * missing login, the wrong role and a missing CSRF token are refused. (Every spelling of every
 * path: spellings.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import type { AcdWallboardFigures } from '../../../appliance/events/appEvents.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { findWorkerBin } from '../../../appliance/webrtc/workerBin.js';
import { apiToken, createUser, hasWebrtcSection, login, quietApplianceOverrides, type TestSession } from '../../helpers/auth.js';
import { concretePath, listRoutes } from '../../helpers/routes.js';

const WRITE = /^(POST|PUT|PATCH|DELETE) /;
/**
 * Supervisors may mint softphone tokens (WebRTC agents and listen-in), handle alerts, set agents' states
 * (available, away, logged out: running the floor), supervise SIP-agent calls, run QA (rules, overrides)
 * keep the knowledge base and rate the cards it pushed, and plan (forecast special days and settings);
 * nothing else they may write.
 */
const SUPERVISOR_WRITES = [
  'POST /api/v1/webrtc/agent-tokens',
  'PUT /api/v1/agents/:id/state',
  'PUT /api/v1/agents/:id/disposition',
  'DELETE /api/v1/acd/callbacks/:id',
  // the alert lifecycle (acknowledge, assign, resolve)
  'POST /api/v1/alerts/:id/ack',
  'POST /api/v1/alerts/:id/assign',
  'POST /api/v1/alerts/:id/resolve',
  // supervision of SIP-agent calls (registered in ACD mode with SIP only)
  'POST /api/v1/acd/calls/:callId/supervision',
  'PATCH /api/v1/acd/calls/:callId/supervision',
  'DELETE /api/v1/acd/calls/:callId/supervision',
  // QA: supervisors own the rules (the whole set, one rule, a dry run) and override scores with a reason
  'PUT /api/v1/qa/rules',
  'POST /api/v1/qa/rules/items',
  'PUT /api/v1/qa/rules/items/:ruleId',
  'DELETE /api/v1/qa/rules/items/:ruleId',
  'POST /api/v1/qa/rules/dry-run',
  'POST /api/v1/qa/calls/:callId/overrides',
  'POST /api/v1/qa/conversations/:id/overrides',
  // the knowledge base of agent assist: supervisors upload and delete articles
  'POST /api/v1/knowledge/articles',
  'DELETE /api/v1/knowledge/articles/:articleId',
  // agent assist: a card shown on a call marked useful or not from the console
  'POST /api/v1/calls/:id/cards/:cardId/feedback',
  // forecasting: supervisors plan, so they keep the special days and the forecast settings (targets, shrinkage, the scale-up alert)
  'POST /api/v1/forecast/special-days',
  'PUT /api/v1/forecast/special-days/:id',
  'DELETE /api/v1/forecast/special-days/:id',
  'PUT /api/v1/forecast/settings',
  // e-mail cases: a console user answers a customer's mail through the relay (email.enabled)
  'POST /api/v1/email/cases/:id/reply',
  'POST /api/v1/email/cases/:id/close',
  // one customer across channels: supervisors merge customers / attach a chat or e-mail case, and undo it (audited)
  'POST /api/v1/customers/merge',
  'POST /api/v1/customers/unmerge',
];
/**
 * All a kiosk sign-in (a wall TV showing the wallboard) may use: the KPI figures, the tile colours,
 * the event stream (which gives it acd.kpis only) and signing out.
 */
const KIOSK_ROUTES = ['GET /api/v1/acd/kpis', 'GET /api/v1/acd/wallboard/thresholds', 'GET /api/v1/events', 'POST /api/v1/auth/logout'];
/** Routes as "METHOD /path" with the access the guard applies, from the server's access table. */
const accessOf = (): Map<string, string> => new Map(app.http.accessTable.map((r) => [`${r.method} ${r.url}`, r.access]));
const publicRoutes = (): string[] => [...accessOf()].filter(([, a]) => a === 'public').map(([r]) => r);
/** Writes every signed-in role may make on its own account (sign out, change password). */
const selfService = (): string[] => [...accessOf()].filter(([r, a]) => WRITE.test(r) && (a === 'viewer' || a === 'kiosk')).map(([r]) => r);

/** An acd.kpis event's figures with nothing going on. */
const NO_FIGURES: AcdWallboardFigures = {
  waiting: 0,
  longestWaitingS: null,
  agents: { available: 0, ringing: 0, 'on-call': 0, 'wrap-up': 0, away: 0 },
  offered: 0,
  answered: 0,
  abandoned: 0,
  shortAbandoned: 0,
  overflowedOut: 0,
  serviceLevel: null,
  averageSpeedOfAnswerS: null,
  averageAbandonTimeS: null,
  averageHandleTimeS: null,
  occupancy: null,
};

let app: Appliance;
let base: string;
let tech: TestSession;
let viewer: TestSession;
let supervisor: TestSession;
let kiosk: TestSession;

beforeAll(async () => {
  // With the mediasoup worker built, the WebRTC plane is mounted too, so its routes are checked.
  const webrtc = hasWebrtcSection() && findWorkerBin() !== undefined ? { webrtc: { enabled: true, workers: 1 } } : {};
  // E-mail intake on (listener on loopback), so its console routes are checked too.
  const email = { email: { enabled: true, host: '127.0.0.1', port: 0 } };
  ({ app } = await startTestAppliance(
    { ...quietApplianceOverrides({ sip: { enabled: false } }), ...webrtc, ...email },
    { transcribers: null },
  ));
  base = app.httpUrl;
  const t = await createUser(app, 'tech1', 'technician');
  const v = await createUser(app, 'view1', 'viewer');
  const s = await createUser(app, 'super1', 'supervisor');
  const k = await createUser(app, 'tv1', 'kiosk');
  [tech, viewer, supervisor, kiosk] = await Promise.all([
    login(base, t.username, t.password),
    login(base, v.username, v.password),
    login(base, s.username, s.password),
    login(base, k.username, k.password),
  ]);
});
afterAll(async () => {
  await app?.close();
});

async function send(route: string, headers: Record<string, string>): Promise<{ status: number; code: string | undefined }> {
  const [method, path] = route.split(' ') as [string, string];
  const res = await fetch(`${base}${concretePath(path)}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: method === 'DELETE' || method === 'GET' ? undefined : '{}',
  });
  const text = await res.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { error?: { code: string } }).error?.code;
  } catch {
    code = undefined;
  }
  return { status: res.status, code };
}

describe('the auth guard over every route', () => {
  it('finds the routes of every module, including the ones it does not own', () => {
    const routes = listRoutes(app);
    expect(routes).toEqual(
      expect.arrayContaining([
        'GET /healthz',
        'GET /api/v1/calls',
        'GET /api/v1/calls/:id',
        'GET /api/v1/events',
        'PATCH /api/v1/config',
        'POST /api/v1/backup/restore',
        'DELETE /api/v1/users/:username',
        'GET /api/v1/email/cases',
        'GET /api/v1/email/cases/:id',
        'POST /api/v1/email/cases/:id/reply',
        'POST /api/v1/email/cases/:id/close',
      ]),
    );
    expect(routes.filter((r) => WRITE.test(r)).length).toBeGreaterThanOrEqual(15);
    if (app.webrtc !== null)
      expect(routes).toEqual(expect.arrayContaining(['POST /api/v1/webrtc/agent-tokens', 'GET /api/v1/webrtc/queue']));
  });

  it('knows the access of every route the router has', () => {
    const table = accessOf();
    const routes = listRoutes(app);
    expect(routes.length).toBeGreaterThan(40);
    for (const r of routes) expect(table.has(r), r).toBe(true);
  });

  it('keeps the public routes few, each declared by its own definition', () => {
    const mounted = publicRoutes().filter(
      (r) => !r.startsWith('HEAD ') && !/webrtc|\/api\/v1\/chat\/|^GET \/chat\/|^GET \/(agent|call)$/.test(r),
    );
    expect(mounted.sort()).toEqual([
      'GET /*',
      'GET /api/v1/auth/session',
      'GET /api/v1/openapi.json',
      'GET /api/v1/setup/status',
      'GET /healthz',
      'GET /metrics',
      'GET /readyz',
      'POST /api/v1/auth/login',
      'POST /api/v1/cluster/peer',
      'POST /api/v1/setup/admin',
    ]);
    // The WebRTC routes are public only because they check their own caller/agent tokens.
    if (app.webrtc !== null)
      expect(
        publicRoutes()
          .filter((r) => r.includes('/webrtc/') && !r.startsWith('HEAD '))
          .sort(),
      ).toEqual([
        'GET /api/v1/webrtc/queue',
        'GET /api/v1/webrtc/signal',
        'GET /webrtc/assets/:name',
        'POST /api/v1/webrtc/caller-sessions',
      ]);
    // The chat socket is public for the same reason: visitors' chat tokens and agents' tokens inside
    // the protocol, behind its own origin allow-list (conversations/chatSocket.ts), and the chat's files
    // (chatFileRoutes.ts: the chat token or an agent token in Authorization); the embed snippet
    // and the page it frames are static files (conversations/chatEmbed.ts, framed by allowed origins only).
    if (app.webrtc !== null && app.config.chat.enabled)
      expect(
        publicRoutes()
          .filter((r) => r.includes('/chat/') && !r.startsWith('HEAD '))
          .sort(),
      ).toEqual([
        'GET /api/v1/chat/files/:fileId',
        'GET /api/v1/chat/socket',
        'GET /chat/embed.js',
        'GET /chat/frame',
        'POST /api/v1/chat/conversations/:id/files',
      ]);
  });

  it('answers 401 to every read and write without credentials (except the public routes)', async () => {
    const routes = listRoutes(app).filter((r) => !r.startsWith('HEAD') && !publicRoutes().includes(r));
    expect(routes.length).toBeGreaterThan(25);
    for (const route of routes) expect(await send(route, {}), route).toEqual({ status: 401, code: 'EVX_ERR_AUTH_REQUIRED' });
    // A made-up cookie or token is no better than none.
    expect(await send('PATCH /api/v1/config', { cookie: 'evx_session=forged; evx_csrf=x', 'x-csrf-token': 'x' })).toEqual({
      status: 401,
      code: 'EVX_ERR_AUTH_REQUIRED',
    });
    expect(await send('PATCH /api/v1/config', { authorization: 'Bearer evx_forged' })).toEqual({
      status: 401,
      code: 'EVX_ERR_AUTH_REQUIRED',
    }); // The box-to-box hand-over route is public to the guard because it checks its own token
    // (cluster.peerToken): with none configured, as here, it refuses every token.
    for (const token of ['', 'evx_forged', 'x'.repeat(40)])
      expect(await send('POST /api/v1/cluster/peer', { authorization: `Bearer ${token}` })).toEqual({
        status: 401,
        code: 'EVX_ERR_AUTH_FAILED',
      });
  });

  it('answers 403 to the wrong role on every state-changing route', async () => {
    const writes = listRoutes(app).filter((r) => WRITE.test(r) && !publicRoutes().includes(r));
    const viewerToken = apiToken(app, 'viewer');
    for (const route of writes) {
      if (selfService().includes(route)) continue;
      expect(await send(route, { cookie: viewer.cookie, 'x-csrf-token': viewer.csrf }), `viewer session ${route}`).toEqual({
        status: 403,
        code: 'EVX_ERR_FORBIDDEN',
      });
      expect(await send(route, { authorization: `Bearer ${viewerToken}` }), `viewer token ${route}`).toEqual({
        status: 403,
        code: 'EVX_ERR_FORBIDDEN',
      });
      // Write routes open to supervisors are listed on purpose; every other one must refuse them.
      if (SUPERVISOR_WRITES.includes(route)) continue;
      expect(await send(route, { cookie: supervisor.cookie, 'x-csrf-token': supervisor.csrf }), `supervisor ${route}`).toEqual({
        status: 403,
        code: 'EVX_ERR_FORBIDDEN',
      });
    }
  });

  it("answers 403 to a session write without the CSRF header, or with another session's token", async () => {
    const writes = listRoutes(app).filter((r) => WRITE.test(r) && !publicRoutes().includes(r));
    for (const route of writes) {
      expect(await send(route, { cookie: tech.cookie }), route).toEqual({ status: 403, code: 'EVX_ERR_CSRF' });
      expect(await send(route, { cookie: tech.cookie, 'x-csrf-token': viewer.csrf }), route).toEqual({ status: 403, code: 'EVX_ERR_CSRF' });
    }
  });

  it('lets the right role through with the CSRF header (and bearer tokens without one)', async () => {
    const ok = await send('PATCH /api/v1/config', { cookie: tech.cookie, 'x-csrf-token': tech.csrf });
    // Past the guard: the empty body fails validation, not auth.
    expect(ok).toEqual({ status: 400, code: 'EVX_ERR_BAD_REQUEST' });
    const token = apiToken(app, 'technician');
    const res = await fetch(`${base}/api/v1/config`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ changes: { 'site.name': 'Guard test' } }),
    });
    expect(res.status).toBe(200);
    const viewerRead = await fetch(`${base}/api/v1/calls`, { headers: { cookie: viewer.cookie } });
    expect(viewerRead.status).toBe(200);
    expect((await fetch(`${base}/api/v1/audit`, { headers: { cookie: viewer.cookie } })).status).toBe(403);
    expect((await fetch(`${base}/api/v1/audit`, { headers: { cookie: supervisor.cookie } })).status).toBe(200);
  });

  it('protects the WebSocket event stream and refuses cross-origin upgrades on a session', async () => {
    const { default: WebSocket } = await import('ws');
    const url = `${base.replace('http', 'ws')}/api/v1/events`;
    const outcome = (headers: Record<string, string>) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(url, { headers });
        ws.on('open', () => (ws.close(), resolve('open')));
        ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
        ws.on('error', () => resolve('error'));
      });
    expect(await outcome({})).toBe('401');
    expect(await outcome({ cookie: viewer.cookie, origin: 'https://evil.example' })).toBe('403');
    expect(await outcome({ cookie: viewer.cookie, origin: base })).toBe('open');
  });

  it('lets a kiosk read the wallboard and nothing else: 403 on every other read and write', async () => {
    const kioskLevel = [...accessOf()].filter(([r, a]) => a === 'kiosk' && !r.startsWith('HEAD ')).map(([r]) => r);
    expect(kioskLevel.sort()).toEqual([...KIOSK_ROUTES].sort());
    const headers = { cookie: kiosk.cookie, 'x-csrf-token': kiosk.csrf };
    for (const route of ['GET /api/v1/acd/kpis', 'GET /api/v1/acd/wallboard/thresholds'])
      expect((await send(route, headers)).status, route).toBe(200);
    const others = listRoutes(app).filter((r) => !r.startsWith('HEAD') && !publicRoutes().includes(r) && !KIOSK_ROUTES.includes(r));
    expect(others).toEqual(
      expect.arrayContaining(['GET /api/v1/calls', 'GET /api/v1/calls/:id', 'GET /api/v1/agents', 'PATCH /api/v1/config']),
    );
    for (const route of others) expect(await send(route, headers), `kiosk ${route}`).toEqual({ status: 403, code: 'EVX_ERR_FORBIDDEN' });
    // an API token with the kiosk role is held to the same
    const token = apiToken(app, 'kiosk');
    expect(await send('GET /api/v1/calls', { authorization: `Bearer ${token}` })).toEqual({ status: 403, code: 'EVX_ERR_FORBIDDEN' });
    expect((await send('GET /api/v1/acd/kpis', { authorization: `Bearer ${token}` })).status).toBe(200);
  });

  it("gives a kiosk's event stream the wallboard's figures only, whatever types it asks for", async () => {
    const { default: WebSocket } = await import('ws');
    const ws = new WebSocket(`${base.replace('http', 'ws')}/api/v1/events?types=call.started,alert,acd.kpis`, {
      headers: { cookie: kiosk.cookie, origin: base },
    });
    const messages: { type: string; filters?: { types: string[] | null } }[] = [];
    const kpisSeen = new Promise<void>((resolve, reject) => {
      ws.on('message', (data: Buffer) => {
        const m = JSON.parse(data.toString()) as { type: string; filters?: { types: string[] | null } };
        messages.push(m);
        if (m.type === 'events.hello') {
          // sent in this order on one socket: anything but acd.kpis would arrive before it
          app.bus.publish({ type: 'alert', at: 1, callId: 'c-1', kind: 'test', severity: 'info', message: 'private', details: {} });
          app.bus.publish({ type: 'acd.kpis', at: 2, interval: { start: 0, end: 1 }, groups: {}, overall: NO_FIGURES });
        }
        if (m.type === 'acd.kpis') resolve();
      });
      ws.on('error', reject);
    });
    await kpisSeen;
    ws.close();
    expect(messages.map((m) => m.type)).toEqual(['events.hello', 'acd.kpis']);
    expect(messages[0]!.filters!.types).toEqual(['acd.kpis']);
  });
});
