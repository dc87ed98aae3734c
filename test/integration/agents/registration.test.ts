/**
 * Agents as endpoints in the real appliance: an agent with a SIP account in the routing
 * configuration, a scripted phone (UDP on loopback) registering with digest — the agent becomes
 * available for routing —, wrong passwords answered 401 then the source blocked (403, counted in the
 * metrics), the registrations listed for supervisors (no credentials), unregistering logging the
 * agent out. The password is never in an API answer, an event or the log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { answerChallenge } from '../../../appliance/sip/auth.js';
import type { SipResponse } from '../../../appliance/sip/message.js';
import { randomToken } from '../../../appliance/sip/serialize.js';
import { startTestAppliance, type CapturedLog } from '../../helpers/appliance.js';
import { authHeader, quietApplianceOverrides } from '../../helpers/auth.js';
import { TestUac } from '../sip/uac.js';

const PASSWORD = 'ann-Secret-42';
let app: Appliance;
let log: CapturedLog;
const events: ApplianceEvent[] = [];
const uacs: TestUac[] = [];

const api = async (method: string, url: string, body?: unknown, role: 'technician' | 'supervisor' | 'viewer' = 'technician') => {
  const res = await app.http.inject({
    method: method as 'GET',
    url,
    headers: authHeader(app, role),
    ...(body === undefined ? {} : { payload: body as object }),
  });
  return { status: res.statusCode, text: res.body, body: res.body === '' ? null : (JSON.parse(res.body) as Record<string, any>) };
};

async function phone(localAddress = '127.0.0.1'): Promise<TestUac> {
  const u = await new TestUac(app.sip!.port, 'udp', {}, localAddress).open();
  uacs.push(u);
  return u;
}

/** Send a REGISTER; its final response. */
async function send(
  uac: TestUac,
  opts: { user: string; expires?: number; authorization?: string; contacts?: string[] },
): Promise<SipResponse> {
  const cseq = uac.cseq++;
  const after = uac.received.length;
  uac.sendRaw(uac.registerRequest({ ...opts, cseq }));
  return (await uac.waitFor(
    (m) => m.kind === 'response' && m.status >= 200 && m.headers.get('cseq') === `${cseq} REGISTER` && uac.received.indexOf(m) >= after,
  )) as SipResponse;
}

const answer = (uac: TestUac, challenge: SipResponse, user: string, password: string): string =>
  answerChallenge(challenge.headers.getAll('www-authenticate'), {
    method: 'REGISTER',
    uri: uac.registerUri,
    username: user,
    password,
    nc: 1,
    cnonce: randomToken(),
  });

/** REGISTER, its challenge, the answer with `password`: the final response to the answer. */
async function register(uac: TestUac, password: string, expires = 600): Promise<SipResponse> {
  const challenge = await send(uac, { user: 'ann', expires });
  expect(challenge.status).toBe(401);
  return send(uac, { user: 'ann', expires, authorization: answer(uac, challenge, 'ann', password) });
}

const until = async (ok: () => boolean) => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
};
const annState = async (): Promise<Record<string, unknown> | undefined> =>
  ((await api('GET', '/api/v1/routing/agents')).body!['agents'] as Record<string, unknown>[]).find((a) => a.id === 'ann');

beforeAll(async () => {
  ({ app, log } = await startTestAppliance(
    quietApplianceOverrides({ sip: { transports: ['udp'], registrar: { maxAuthFailures: 3 } }, console: { enabled: false } }),
    { transcribers: null },
  ));
  app.bus.subscribe((e) => events.push(e));
  const put = await api('PUT', '/api/v1/routing/config', {
    groups: [{ id: 'general', name: 'General', intents: [], adjacent: [], overflow: { maxWaitMs: 60_000, action: 'none' } }],
    agents: [
      {
        id: 'ann',
        name: 'Ann Example',
        sipUri: 'sip:ann@127.0.0.1',
        senior: false,
        skills: [{ group: 'general', level: 3 }],
        sip: { username: 'ann', password: PASSWORD },
      },
    ],
  });
  expect(put.status).toBe(200);
});
afterAll(async () => {
  for (const u of uacs) u.close();
  await app?.close();
});

describe('agents registering their phones with the box', () => {
  it('starts the agent logged out and offline for routing; REGISTER is served', async () => {
    expect(await annState()).toMatchObject({
      state: 'offline',
      sip: { username: 'ann', hasPassword: true },
      activity: { state: 'logged-out' },
    });
    const uac = await phone();
    uac.sendRaw(uac.request('OPTIONS'));
    expect((await uac.waitResponse('OPTIONS', 200)).headers.getAll('allow').join(',')).toContain('REGISTER');
  });

  it('registers with digest: the agent becomes available, and supervisors see the contact without credentials', async () => {
    const uac = await phone();
    const ok = await register(uac, PASSWORD);
    expect(ok.status).toBe(200);
    await until(() => events.some((e) => e.type === 'agent.state' && e.to === 'available'));
    expect(events.filter((e) => e.type === 'agent.registration' || e.type === 'agent.state')).toEqual([
      { type: 'agent.registration', at: expect.any(Number), agentId: 'ann', change: 'registered', contacts: 1 },
      expect.objectContaining({
        type: 'agent.state',
        agentId: 'ann',
        from: 'logged-out',
        to: 'available',
        reason: 'registered',
        by: 'system',
      }),
    ]);
    expect(await annState()).toMatchObject({ state: 'available', activity: { state: 'available', reason: 'registered' } });
    expect((await api('GET', '/api/v1/agents/ann/state')).body).toMatchObject({ state: 'available', registeredContacts: 1 });

    const regs = await api('GET', '/api/v1/agents/ann/registrations', undefined, 'supervisor');
    expect(regs.status).toBe(200);
    expect(regs.body).toEqual({
      agentId: 'ann',
      registrar: true,
      contacts: [
        {
          contact: `sip:ann@127.0.0.1:${uac.port}`,
          transport: 'udp',
          source: `127.0.0.1:${uac.port}`,
          reach: 'contact',
          expiresAt: expect.any(Number),
          expiresInS: expect.any(Number),
          userAgent: 'TestUac',
        },
      ],
    });
    expect(regs.body!['contacts'][0].expiresInS).toBeGreaterThan(590);
    expect((await api('GET', '/api/v1/agents/ann/registrations', undefined, 'viewer')).status).toBe(403);
    expect((await api('GET', '/api/v1/agents/nobody/registrations', undefined, 'supervisor')).status).toBe(404);
    const metrics = (await app.http.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^edgevox_agents_registered 1$/m);
    expect(metrics).toMatch(/^edgevox_sip_registrations 1$/m);
  });

  it('lets a supervisor set the agent away and back; the box-only reason is not accepted', async () => {
    const away = await api('PUT', '/api/v1/agents/ann/state', { state: 'away', reason: 'lunch' }, 'supervisor');
    expect(away.body).toMatchObject({ agentId: 'ann', state: 'away', awayReason: 'lunch', choice: { kind: 'away', reason: 'lunch' } });
    expect(await annState()).toMatchObject({ state: 'offline', activity: { state: 'away', reason: 'lunch' } });
    expect(events.filter((e) => e.type === 'agent.state').at(-1)).toMatchObject({ to: 'away', awayReason: 'lunch', by: 'supervisor' });
    expect((await api('PUT', '/api/v1/agents/ann/state', { state: 'away', reason: 'no-answer' }, 'supervisor')).status).toBe(400);
    expect((await api('PUT', '/api/v1/agents/ann/state', { state: 'available' }, 'supervisor')).body).toMatchObject({
      state: 'available',
      choice: null,
    });
    expect((await api('PUT', '/api/v1/agents/nobody/state', { state: 'available' }, 'supervisor')).status).toBe(404);
  });

  it('answers wrong passwords with 401, then blocks the source with 403 even for the right one (counted)', async () => {
    const attacker = await phone('127.0.0.2');
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await register(attacker, `wrong-${i}`)).status);
    expect(statuses).toEqual([401, 401, 401]);
    // blocked now: no challenge, and the right password does not help
    expect((await send(attacker, { user: 'ann', expires: 600 })).status).toBe(403);
    const metrics = (await app.http.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^edgevox_sip_registration_refusals_total\{reason="auth"\} 3$/m);
    expect(metrics).toMatch(/^edgevox_sip_registration_refusals_total\{reason="rate_limited"\} 1$/m);
    // the agent's own phone, from another address, is not affected
    expect((await annState())?.['state']).toBe('available');
    expect(app.agents!.registrar!.contactsOf('ann')).toHaveLength(1);
  });

  it('logs the agent out when the phone unregisters', async () => {
    const uac = uacs[1]!;
    const challenge = await send(uac, { user: 'ann', expires: 0 });
    const bye = await send(uac, { user: 'ann', expires: 0, authorization: answer(uac, challenge, 'ann', PASSWORD) });
    expect(bye.status).toBe(200);
    await until(() => events.some((e) => e.type === 'agent.state' && e.to === 'logged-out'));
    expect(events.filter((e) => e.type === 'agent.state').at(-1)).toMatchObject({
      from: 'available',
      to: 'logged-out',
      reason: 'unregistered',
    });
    expect(await annState()).toMatchObject({ state: 'offline', activity: { state: 'logged-out' } });
    expect((await api('GET', '/api/v1/agents/ann/registrations', undefined, 'supervisor')).body!['contacts']).toEqual([]);
  });

  it('never shows the password: not in any API answer, event or log line', async () => {
    const texts = await Promise.all(
      [
        '/api/v1/routing/config',
        '/api/v1/routing/agents',
        '/api/v1/agents',
        '/api/v1/agents/ann/state',
        '/api/v1/agents/ann/registrations',
      ].map(async (url) => (await api('GET', url)).text),
    );
    for (const t of [...texts, JSON.stringify(events), JSON.stringify(log.lines)]) expect(t).not.toContain(PASSWORD);
    // and events name agents by id only
    const agentEvents = JSON.stringify(events.filter((e) => e.type.startsWith('agent.')));
    expect(agentEvents).not.toMatch(/Ann Example|sip:|127\.0\.0/);
  });
});
