/**
 * The forecasting API in a running appliance: every route refuses a request without credentials and
 * a viewer, and answers a supervisor; bad input is refused with EVX_ERR_BAD_REQUEST naming the field
 * (days, interval, range, date, settings), an unknown group with 404, a second special day for the
 * same date and group with EVX_ERR_FORECAST_SPECIAL_DAY_EXISTS; history, forecast, staffing and the
 * CSV read two weeks of calls seeded through the KPI engine and the box's own history roll-up; a
 * settings change is audited and used by the staffing; the box's own ACD figures reach the history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KpiService } from '../../../appliance/acd/kpiService.js';
import { AcdRepo } from '../../../appliance/acd/repo.js';
import type { Appliance } from '../../../appliance/app/app.js';
import { IntervalHistoryRepo } from '../../../appliance/forecast/historyRepo.js';
import { HistoryRollup } from '../../../appliance/forecast/historyRollup.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authHeader } from '../../helpers/auth.js';
import { expectedIntervals, officeProfile, replayCalls, simulateCalls, type SimCall } from '../../helpers/contactCentreHistory.js';

const DAY = 86_400_000;
const INTERVAL = 15 * 60_000;
let app: Appliance;
let calls: SimCall[] = [];
let until = 0;

type Role = 'viewer' | 'supervisor' | 'technician' | null;
const api = async (url: string, role: Role = 'supervisor', method = 'GET', body?: unknown) => {
  const res = await app.http.inject({
    method: method as 'GET',
    url,
    headers: role === null ? {} : authHeader(app, role),
    ...(body === undefined ? {} : { payload: body as object }),
  });
  const json = res.headers['content-type']?.toString().startsWith('application/json')
    ? (JSON.parse(res.body) as Record<string, any>)
    : null;
  return { status: res.statusCode, body: json, text: res.body, headers: res.headers };
};

beforeAll(async () => {
  ({ app } = await startTestAppliance(
    { sip: { enabled: false }, console: { enabled: false }, webrtc: { enabled: false }, acd: { timeZone: 'UTC' } },
    { transcribers: null },
  ));
  until = Date.now();
  const from = Math.floor(until / DAY) * DAY - 14 * DAY;
  calls = simulateCalls({
    from,
    to: until,
    intervalMs: INTERVAL,
    groups: [{ id: 'billing', mean: officeProfile(8, 0), talkS: 200 }],
    seed: 3,
  });
  const clock = { now: from };
  const store = app.store;
  const seeder = new KpiService(
    { repo: new AcdRepo(store.db, store.write.bind(store)), bus: app.bus, logger: app.logger, groups: () => [], now: () => clock.now },
    { serviceLevelS: 20, shortAbandonS: 5, intervalMs: INTERVAL },
  );
  const rollup = new HistoryRollup(new IntervalHistoryRepo(store.db, store.write.bind(store)), seeder);
  replayCalls(seeder.facts, calls, { clock, rollUp: () => rollup.rollUp(), rollUpEveryMs: 6 * 3_600_000, until });
}, 60_000);
afterAll(async () => {
  await app?.close();
});

const READS = [
  '/api/v1/forecast/groups',
  '/api/v1/forecast/history?group=billing',
  '/api/v1/forecast?group=billing',
  '/api/v1/forecast/staffing?group=billing',
  '/api/v1/forecast/export.csv?group=billing',
  '/api/v1/forecast/special-days',
  '/api/v1/forecast/settings',
];

describe('forecast API', () => {
  it('refuses requests without credentials and a viewer, and answers a supervisor', async () => {
    for (const url of READS) {
      expect((await api(url, null)).status, url).toBe(401);
      expect((await api(url, 'viewer')).status, url).toBe(403);
      expect((await api(url, 'supervisor')).status, url).toBe(200);
    }
    expect((await api('/api/v1/forecast/settings', 'viewer', 'PUT', {})).status).toBe(403);
    expect((await api('/api/v1/forecast/special-days', null, 'POST', {})).status).toBe(401);
  });

  it('serves the history as stored: offered, abandoned and handle time per interval, at 15 and 30 minutes', async () => {
    const from = Math.floor(until / DAY) * DAY - 7 * DAY;
    const to = from + DAY;
    const h = await api(`/api/v1/forecast/history?group=billing&from=${from}&to=${to}`);
    expect(h.status).toBe(200);
    const rows = h.body!['intervals'] as { start: number; offered: number; abandoned: number; averageHandleS: number | null }[];
    expect(rows).toHaveLength(96);
    const expected = expectedIntervals(calls, INTERVAL, until, 'billing');
    for (const r of rows) {
      const e = expected.get(r.start);
      expect(r.offered).toBe(e?.offered ?? 0);
      expect(r.abandoned).toBe(e?.abandoned ?? 0);
      if (e !== undefined && e.handled > 0)
        expect(Math.abs(r.averageHandleS! - e.handleMs / e.handled / 1000)).toBeLessThanOrEqual(0.05 + 1e-9);
    }
    const half = await api(`/api/v1/forecast/history?group=billing&from=${from}&to=${to}&interval=30`);
    expect(half.body!['intervals']).toHaveLength(48);
    const all = await api(`/api/v1/forecast/history?group=_all&from=${from}&to=${to}`);
    expect((all.body!['intervals'] as { offered: number }[]).reduce((a, r) => a + r.offered, 0)).toBe(
      rows.reduce((a, r) => a + r.offered, 0),
    );
  });

  it('refuses bad input with the field named, and an unknown group with 404', async () => {
    const bad = async (url: string, method = 'GET', body?: unknown) => {
      const r = await api(url, 'supervisor', method, body);
      expect(r.status, url).toBe(400);
      expect(r.body!['error'].code, url).toBe('EVX_ERR_BAD_REQUEST');
      return r.body!['error'] as { message: string; details: Record<string, unknown> };
    };
    await bad('/api/v1/forecast?group=billing&days=0');
    await bad('/api/v1/forecast?group=billing&days=29');
    expect((await bad('/api/v1/forecast?group=billing&interval=7')).details['field']).toBe('interval');
    await bad('/api/v1/forecast?group=bill%20ing');
    expect((await bad(`/api/v1/forecast/history?group=billing&from=${until}&to=${until - 1}`)).details['field']).toBe('from');
    await bad(`/api/v1/forecast/history?group=billing&from=0&to=${until}`);
    const missing = await api('/api/v1/forecast?group=nosuchgroup');
    expect(missing.status).toBe(404);
    expect(missing.body!['error'].code).toBe('EVX_ERR_NOT_FOUND');
    // special days: a date that is not on the calendar, a blank label, a factor out of range
    expect((await bad('/api/v1/forecast/special-days', 'POST', { date: '2027-02-30', factor: 1.2, label: 'x' })).details['field']).toBe(
      'date',
    );
    expect((await bad('/api/v1/forecast/special-days', 'POST', { date: '2027-02-03', factor: 1.2, label: '   ' })).details['field']).toBe(
      'label',
    );
    await bad('/api/v1/forecast/special-days', 'POST', { date: '2027-02-03', factor: -1, label: 'x' });
    // settings: every field is required and range-checked
    const settings = (await api('/api/v1/forecast/settings')).body!;
    await bad('/api/v1/forecast/settings', 'PUT', { ...settings, shrinkage: 1.5 });
    await bad('/api/v1/forecast/settings', 'PUT', { ...settings, alert: { ...settings['alert'], intervals: 0 } });
    const { patienceS: _dropped, ...partial } = settings;
    await bad('/api/v1/forecast/settings', 'PUT', partial);
  });

  it('keeps special days (one per date and group), audited, and applies them to the forecast', async () => {
    const tomorrow = new Date(Math.floor(until / DAY) * DAY + DAY).toISOString().slice(0, 10);
    const before = await api('/api/v1/forecast?group=billing&days=2&interval=60');
    const added = await api('/api/v1/forecast/special-days', 'supervisor', 'POST', {
      date: tomorrow,
      group: 'billing',
      factor: 2,
      label: 'Launch',
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ date: tomorrow, group: 'billing', factor: 2, label: 'Launch' });
    const again = await api('/api/v1/forecast/special-days', 'supervisor', 'POST', {
      date: tomorrow,
      group: 'billing',
      factor: 3,
      label: 'Again',
    });
    expect(again.status).toBe(409);
    expect(again.body!['error'].code).toBe('EVX_ERR_FORECAST_SPECIAL_DAY_EXISTS');
    const after = await api('/api/v1/forecast?group=billing&days=2&interval=60');
    const day2 = (r: typeof before) => (r.body!['points'] as { forecast: number }[]).slice(24).reduce((a, p) => a + p.forecast, 0);
    expect(day2(after) / day2(before)).toBeCloseTo(2, 1);
    const id = added.body!['id'] as number;
    expect(
      (
        await api(`/api/v1/forecast/special-days/${id}`, 'supervisor', 'PUT', {
          date: tomorrow,
          group: '_all',
          factor: 1.5,
          label: 'Launch',
        })
      ).body,
    ).toMatchObject({ group: '_all', factor: 1.5 });
    expect((await api(`/api/v1/forecast/special-days/${id}`, 'supervisor', 'DELETE')).status).toBe(200);
    expect((await api(`/api/v1/forecast/special-days/${id}`, 'supervisor', 'DELETE')).status).toBe(404);
    const actions = app.store.audit.forTarget(`forecast-day:${id}`).map((e) => e.action);
    expect(actions).toEqual(['forecast.specialDay.delete', 'forecast.specialDay.update', 'forecast.specialDay.add']);
  });

  it('staffs by the settings and exports forecast and staffing as CSV', async () => {
    const settings = (await api('/api/v1/forecast/settings')).body!;
    const s1 = await api('/api/v1/forecast/staffing?group=billing&days=1&interval=30');
    expect(s1.body!['points']).toHaveLength(48);
    const peak = (r: typeof s1) => r.body!['peak'] as { erlangC: number; erlangA: number };
    expect(peak(s1).erlangC).toBeGreaterThan(0);
    const saved = await api('/api/v1/forecast/settings', 'supervisor', 'PUT', { ...settings, serviceLevelTarget: 0.95, serviceLevelS: 10 });
    expect(saved.status).toBe(200);
    expect(app.store.audit.forTarget('forecast-settings')[0]?.action).toBe('forecast.settings');
    const s2 = await api('/api/v1/forecast/staffing?group=billing&days=1&interval=30');
    expect(peak(s2).erlangC).toBeGreaterThan(peak(s1).erlangC);
    const csv = await api('/api/v1/forecast/export.csv?group=billing&days=2');
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.text.trim().split('\r\n');
    expect(lines).toHaveLength(2 * 96 + 1);
    expect(lines[1]).toMatch(/^\d{4}-\d{2}-\d{2}T00:00:00\.000Z,\d{4}-\d{2}-\d{2}T00:15:00\.000Z,billing,/);
  });

  it("rolls the box's own ACD figures into the history: a call to a new group shows up once its interval has closed", async () => {
    const facts = app.acd!.facts;
    const at = Math.floor(Date.now() / INTERVAL) * INTERVAL - INTERVAL + 1000;
    facts.offered('live-1', 'sales', at);
    facts.answered('live-1', 'agent-live', at + 5000);
    facts.talkEnded('live-1', at + 125_000);
    facts.wrapUpEnded('agent-live', at + 155_000);
    facts.offered('live-2', 'sales', at + 10_000);
    facts.abandoned('live-2', at + 40_000);
    app.forecast!.tick();
    const h = await api(`/api/v1/forecast/history?group=sales&from=${at - 1000}&to=${at + INTERVAL}`);
    expect(h.status).toBe(200);
    expect(h.body!['intervals']).toEqual([{ start: at - 1000, offered: 2, answered: 1, abandoned: 1, handled: 1, averageHandleS: 150 }]);
    expect((await api('/api/v1/forecast/groups')).body!['groups']).toContain('sales');
  });
});
