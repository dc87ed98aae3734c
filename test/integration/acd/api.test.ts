/**
 * The contact-centre KPIs inside a running appliance: queue policies edited through the routing API,
 * facts reported to the fact sink the start module exposes, GET /api/v1/acd/kpis and
 * /api/v1/acd/kpis/intervals for supervisors only, the Prometheus series, the wallboard event, and
 * the day's intervals still there after a restart on the same data dir; the per-agent report
 * (/api/v1/acd/kpis/agents and agents.csv) against the group figures, restored after the restart too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authHeader } from '../../helpers/auth.js';
import { scratchDir } from '../../helpers/paths.js';

const INTERVAL_MS = 15 * 60_000;
const dataDir = scratchDir('acd-api');
const overrides = { dataDir, sip: { enabled: false }, console: { enabled: false }, webrtc: { enabled: false }, acd: { publishS: 1 } };

let app: Appliance;
const events: ApplianceEvent[] = [];

async function start(): Promise<Appliance> {
  const started = (await startTestAppliance(overrides, { transcribers: null })).app;
  started.bus.subscribe((e) => events.push(e));
  return started;
}

const api = async (url: string, role: 'viewer' | 'supervisor' | 'technician' | null = 'supervisor', method = 'GET', body?: unknown) => {
  const res = await app.http.inject({
    method: method as 'GET',
    url,
    headers: role === null ? {} : authHeader(app, role),
    ...(body === undefined ? {} : { payload: body as object }),
  });
  return { status: res.statusCode, body: res.body === '' ? null : (JSON.parse(res.body) as Record<string, unknown>) };
};

const group = (id: string, queue?: Record<string, unknown>) => ({
  id,
  name: id,
  intents: [],
  adjacent: [],
  overflow: { maxWaitMs: 120_000, action: 'none' },
  ...(queue === undefined ? {} : { queue }),
});

/** In the previous interval (the waiting call w1 is in the current one): billing (T = 30 s) c1 answered after 25 s; cards c2 abandoned after 30 s. */
const BASE = Math.floor(Date.now() / INTERVAL_MS) * INTERVAL_MS - INTERVAL_MS + 1000;
const t = (seconds: number) => BASE + seconds * 1000;

beforeAll(async () => {
  app = await start();
});
afterAll(async () => {
  await app?.close();
});

describe('contact-centre KPIs in the appliance', () => {
  it('edits a queue policy through the routing API and refuses an inconsistent one', async () => {
    expect((await api('/api/v1/routing/groups/general', 'technician', 'PUT', group('general'))).status).toBe(200);
    const policy = {
      hours: {
        weekly: { mon: [{ from: '08:00', to: '18:00' }] },
        holidays: [{ date: '2026-12-24', open: [{ from: '09:00', to: '12:00' }] }],
      },
      whenClosed: 'callback',
      maxQueued: 10,
      maxWaitS: 300,
      maxWaitAction: 'overflow',
      maxWaitGroup: 'general',
      serviceLevelS: 30,
      announceIntervalS: 45,
    };
    const put = await api('/api/v1/routing/groups/billing', 'technician', 'PUT', group('billing', policy));
    expect(put).toMatchObject({ status: 200, body: { id: 'billing', queue: policy } });
    expect((await api('/api/v1/routing/groups/cards', 'technician', 'PUT', group('cards'))).status).toBe(200);
    const groups = (await api('/api/v1/routing/groups', 'viewer')).body!['groups'] as { id: string; queue?: unknown }[];
    expect(groups.find((g) => g.id === 'billing')!.queue).toEqual(policy);
    const bad = await api('/api/v1/routing/groups/cards', 'technician', 'PUT', group('cards', { maxWaitGroup: 'nope' }));
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'EVX_ERR_ROUTING_CONFIG' } } });
    const badTime = await api(
      '/api/v1/routing/groups/cards',
      'technician',
      'PUT',
      group('cards', { hours: { weekly: { mon: [{ from: '8', to: '9' }] } } }),
    );
    expect(badTime.status).toBe(400);
  });

  it('serves the real-time and per-interval figures to supervisors only', async () => {
    const f = app.acd!.facts;
    f.agentGroups('agent-1', ['billing'], t(0));
    f.agentGroups('agent-2', ['cards'], t(0));
    f.agentState('agent-1', 'available', t(0));
    f.agentState('agent-2', 'available', t(0));
    f.offered('c1', 'billing', t(0));
    f.offered('c2', 'cards', t(10));
    f.answered('c1', 'agent-1', t(25));
    f.abandoned('c2', t(40));
    f.talkEnded('c1', t(100));
    f.wrapUpEnded('agent-1', t(110));
    f.agentState('agent-1', 'logged-out', t(140));
    f.agentState('agent-2', 'logged-out', t(140));
    f.offered('w1', 'billing', Date.now() - 3000);

    expect((await api('/api/v1/acd/kpis', null)).status).toBe(401);
    // the real-time snapshot is the wallboard's: every signed-in role (a wall TV's kiosk too); the report supervisors only
    expect((await api('/api/v1/acd/kpis', 'viewer')).status).toBe(200);
    expect((await api('/api/v1/acd/kpis/intervals', 'viewer')).status).toBe(403);
    expect((await api('/api/v1/acd/kpis/intervals.csv', 'viewer')).status).toBe(403);

    const now = await api('/api/v1/acd/kpis');
    expect(now.status).toBe(200);
    const at = now.body!['at'] as number;
    expect(now.body).toMatchObject({ interval: { start: Math.floor(at / INTERVAL_MS) * INTERVAL_MS } });
    expect(Object.keys(now.body!['groups'] as object).sort()).toEqual(['billing', 'cards', 'general']);
    expect(now.body).toMatchObject({
      overall: { waiting: 1 },
      groups: { billing: { waiting: 1 }, cards: { waiting: 0, longestWaitingS: null } },
    });
    expect((now.body!['overall'] as { longestWaitingS: number }).longestWaitingS).toBeGreaterThanOrEqual(3);
    // the text channels ride along (the wallboard's channel section): no conversation yet
    expect(now.body).toMatchObject({
      channels: { channels: { chat: { waiting: 0, open: 0, firstResponse: { count: 0, p95S: null } }, email: { open: 0 } } },
    });

    const range = await api(`/api/v1/acd/kpis/intervals?from=${BASE - 1000}&to=${BASE + 60_000}`);
    expect(range).toMatchObject({ status: 200, body: { from: BASE - 1000, to: BASE - 1000 + INTERVAL_MS, intervalMs: INTERVAL_MS } });
    const intervals = range.body!['intervals'] as {
      start: number;
      groups: Record<string, Record<string, unknown>>;
      overall: Record<string, unknown>;
    }[];
    expect(intervals).toHaveLength(1);
    // billing's own T is 30 s: c1 answered after 25 s is within it; overall T is 20 s and c2's 30 s abandon counts against it.
    expect(intervals[0]!.groups['billing']).toMatchObject({
      offered: 1,
      answered: 1,
      serviceLevel: 1,
      averageSpeedOfAnswerS: 25,
      averageHandleTimeS: 85,
    });
    expect(intervals[0]!.groups['cards']).toMatchObject({ offered: 1, abandoned: 1, serviceLevel: 0, averageAbandonTimeS: 30 });
    expect(intervals[0]!.overall).toMatchObject({ offered: 2, answered: 1, abandoned: 1, serviceLevel: 0 });
    expect(JSON.stringify(range.body)).not.toMatch(/agent-\d|"c\d"/);
    expect((await api(`/api/v1/acd/kpis/intervals?from=${BASE}&to=${BASE}`)).status).toBe(400);

    // the same figures as CSV, from the server
    const csv = await app.http.inject({
      method: 'GET',
      url: `/api/v1/acd/kpis/intervals.csv?from=${BASE - 1000}&to=${BASE + 60_000}`,
      headers: authHeader(app, 'supervisor'),
    });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toMatch(/^attachment; filename="edgevox-kpis-\d{12}\.csv"$/);
    const rows = csv.body.split('\r\n').map((r) => r.split(','));
    const header = rows[0]!;
    const col = (row: string[], name: string) => row[header.indexOf(name)];
    expect(rows.slice(1, -1).map((r) => col(r, 'group'))).toEqual(['overall', 'billing', 'cards', 'general']);
    const billing = rows.find((r) => col(r, 'group') === 'billing')!;
    expect([col(billing, 'offered'), col(billing, 'answered'), col(billing, 'serviceLevel'), col(billing, 'averageHandleTimeS')]).toEqual([
      '1',
      '1',
      '1',
      '85',
    ]);
    expect(
      col(
        rows.find((r) => col(r, 'group') === 'general')!,
        'serviceLevel',
      ),
    ).toBe('');
    expect(csv.body).not.toMatch(/agent-\d|\bc\d\b/);
    const one = await app.http.inject({
      method: 'GET',
      url: `/api/v1/acd/kpis/intervals.csv?from=${BASE - 1000}&to=${BASE + 60_000}&group=cards`,
      headers: authHeader(app, 'supervisor'),
    });
    expect(
      one.body
        .split('\r\n')
        .slice(1, -1)
        .map((r) => r.split(',')[2]),
    ).toEqual(['cards']);
  });

  it('serves the per-agent figures (JSON and CSV) to supervisors only, summing to the group figures', async () => {
    // agent-2 (cards) is rung once and does not answer
    const f = app.acd!.facts;
    f.agentState('agent-2', 'available', t(150));
    f.agentState('agent-2', 'ringing', t(151));
    f.agentState('agent-2', 'available', t(160));
    f.agentState('agent-2', 'logged-out', t(170));
    const q = `from=${BASE - 1000}&to=${BASE + 60_000}`;
    expect((await api(`/api/v1/acd/kpis/agents?${q}`, 'viewer')).status).toBe(403);
    expect((await api(`/api/v1/acd/kpis/agents.csv?${q}`, 'viewer')).status).toBe(403);
    expect((await api(`/api/v1/acd/kpis/agents?from=${BASE}&to=${BASE}`)).status).toBe(400);

    const all = await api(`/api/v1/acd/kpis/agents?${q}`);
    expect(all).toMatchObject({ status: 200, body: { from: BASE - 1000, to: BASE - 1000 + INTERVAL_MS, group: 'overall' } });
    expect(all.body!['agents']).toEqual([
      {
        agentId: 'agent-1',
        rung: 0,
        answered: 1,
        notAnswered: 0,
        transferred: 0,
        handled: 1,
        talkS: 75,
        holdS: 0,
        wrapUpS: 10,
        handleTimeS: 85,
        averageHandleTimeS: 85,
        averageAnswerTimeS: null,
      },
      expect.objectContaining({ agentId: 'agent-2', rung: 1, answered: 0, notAnswered: 1, handled: 0 }),
    ]);

    // each group's agents add up to the group's interval figures
    const intervals = (await api(`/api/v1/acd/kpis/intervals?${q}`)).body!['intervals'] as {
      groups: Record<string, { answered: number; handled: number; talkS: number; holdS: number; wrapUpS: number }>;
    }[];
    for (const g of ['billing', 'cards']) {
      const agents = (await api(`/api/v1/acd/kpis/agents?${q}&group=${g}`)).body!['agents'] as {
        answered: number;
        handled: number;
        handleTimeS: number;
      }[];
      const kpis = intervals[0]!.groups[g]!;
      expect(agents.reduce((n, a) => n + a.answered, 0)).toBe(kpis.answered);
      expect(agents.reduce((n, a) => n + a.handled, 0)).toBe(kpis.handled);
      expect(agents.reduce((n, a) => n + a.handleTimeS, 0)).toBe(kpis.talkS + kpis.holdS + kpis.wrapUpS);
    }

    const csv = await app.http.inject({
      method: 'GET',
      url: `/api/v1/acd/kpis/agents.csv?${q}&group=billing`,
      headers: authHeader(app, 'supervisor'),
    });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toMatch(/^attachment; filename="edgevox-agents-\d{12}\.csv"$/);
    const rows = csv.body.split('\r\n').map((r) => r.split(','));
    const header = rows[0]!;
    const col = (row: string[], name: string) => row[header.indexOf(name)];
    expect(rows.slice(1, -1).map((r) => [col(r, 'group'), col(r, 'agent'), col(r, 'answered'), col(r, 'averageHandleTimeS')])).toEqual([
      ['billing', 'agent-1', '1', '85'],
    ]);
  });

  it('refuses report bounds past the year 9999 (400; the CSV reports answered 500, their dates not writable)', async () => {
    const huge = Number.MAX_SAFE_INTEGER;
    for (const route of ['intervals', 'intervals.csv', 'agents', 'agents.csv'])
      for (const q of [`to=${huge}`, `from=${huge - 1000}&to=${huge}`, `from=0&to=253402300800000`]) {
        const res = await api(`/api/v1/acd/kpis/${route}?${q}`);
        expect(res, `${route}?${q}`).toMatchObject({ status: 400, body: { error: { code: 'EVX_ERR_BAD_REQUEST' } } });
      }
    // the last instant of 9999 is still a report range
    const last = await app.http.inject({
      method: 'GET',
      url: '/api/v1/acd/kpis/agents.csv?from=253402300000000&to=253402300799999',
      headers: authHeader(app, 'supervisor'),
    });
    expect(last.statusCode).toBe(200);
  });

  it('exports the Prometheus series and sends the wallboard event', async () => {
    const metrics = await app.http.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain('edgevox_acd_calls_offered_total{scope="group",group="billing"} 2');
    expect(metrics.body).toContain('edgevox_acd_calls_abandoned_total{scope="group",group="cards"} 1');
    expect(metrics.body).toContain('edgevox_acd_calls_waiting{scope="group",group="billing"} 1');
    expect(metrics.body).not.toMatch(/agent-\d/);
    for (let i = 0; i < 300 && !events.some((e) => e.type === 'acd.kpis' && e.overall.waiting === 1); i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(events.find((e) => e.type === 'acd.kpis' && e.overall.waiting === 1)).toMatchObject({ groups: { billing: { waiting: 1 } } });
  });

  it("keeps the day's intervals after a restart on the same data dir", async () => {
    const url = `/api/v1/acd/kpis/intervals?from=${BASE - 1000}&to=${BASE + 60_000}`;
    const before = (await api(url)).body!['intervals'];
    const agentsUrl = `/api/v1/acd/kpis/agents?from=${BASE - 1000}&to=${BASE + 60_000}`;
    const agentsBefore = (await api(agentsUrl)).body!['agents'];
    expect(agentsBefore).toHaveLength(2);
    await app.close();
    app = await start();
    expect((await api(url)).body!['intervals']).toEqual(before);
    expect((await api(agentsUrl)).body!['agents']).toEqual(agentsBefore);
    // The groups (and their policies) came back from the store too.
    expect((await api('/api/v1/acd/kpis')).body!['groups']).toHaveProperty('billing');
  });
});
