/**
 * The alerts API on a running appliance: an alert raised by the detector path (an angry caller's
 * emotion event on the bus) is listed with filters, acknowledged, assigned and resolved by a signed-in
 * supervisor (the audit trail records who, when and the note); viewers read but may not write;
 * invalid transitions, unknown ids, bad filters and huge pages are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { createUser, login, quietApplianceOverrides, type TestSession } from '../../helpers/auth.js';
import { angryCaller as angryCallerOn } from '../../helpers/alerts.js';

let app: Appliance;
let supervisor: TestSession;
let viewer: TestSession;
const updates: Extract<ApplianceEvent, { type: 'alert.updated' }>[] = [];

async function call(s: TestSession, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${app.httpUrl}${path}`, {
    method,
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : JSON.parse(text) };
}

const angryCaller = (): string => angryCallerOn(app);

beforeAll(async () => {
  ({ app } = await startTestAppliance(quietApplianceOverrides({ sip: { enabled: false } }), { transcribers: null }));
  const s = await createUser(app, 'sup1', 'supervisor');
  const v = await createUser(app, 'view1', 'viewer');
  supervisor = await login(app.httpUrl, s.username, s.password);
  viewer = await login(app.httpUrl, v.username, v.password);
  app.bus.subscribe((e) => {
    if (e.type === 'alert.updated') updates.push(e);
  });
});
afterAll(async () => {
  await app?.close();
});

describe('alerts API', () => {
  it('lists, acknowledges, assigns and resolves an alert with an audited history', async () => {
    const callId = angryCaller();
    const listed = await call(viewer, 'GET', `/api/v1/alerts?state=open&severity=critical&kind=caller_angry&callId=${callId}`);
    expect(listed.status).toBe(200);
    expect(listed.body.alerts).toHaveLength(1);
    const alert = listed.body.alerts[0];
    expect(alert).toMatchObject({ kind: 'caller_angry', severity: 'critical', state: 'open', assignedTo: null });

    // a viewer reads but may not write
    expect((await call(viewer, 'POST', `/api/v1/alerts/${alert.id}/ack`, {})).status).toBe(403);

    const acked = await call(supervisor, 'POST', `/api/v1/alerts/${alert.id}/ack`, { note: 'calling back' });
    expect(acked).toMatchObject({ status: 200, body: { state: 'acknowledged', acknowledgedBy: 'sup1' } });
    const again = await call(supervisor, 'POST', `/api/v1/alerts/${alert.id}/ack`, {});
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'EVX_ERR_ALERT_STATE', details: { state: 'acknowledged' } } } });

    expect((await call(supervisor, 'POST', `/api/v1/alerts/${alert.id}/assign`, { assignee: 'view1' })).body).toMatchObject({
      assignedTo: 'view1',
    });
    expect((await call(supervisor, 'POST', `/api/v1/alerts/${alert.id}/assign`, { assignee: 'ghost' })).status).toBe(400);
    expect((await call(supervisor, 'POST', `/api/v1/alerts/${alert.id}/resolve`, { note: 'sorted' })).body).toMatchObject({
      state: 'resolved',
      resolvedBy: 'sup1',
    });
    expect((await call(supervisor, 'POST', `/api/v1/alerts/${alert.id}/assign`, { assignee: 'sup1' })).status).toBe(409);

    const one = await call(viewer, 'GET', `/api/v1/alerts/${alert.id}`);
    expect(one.body.history.map((h: { action: string; actor: string; details: unknown }) => [h.action, h.actor, h.details])).toEqual([
      ['alert.resolve', 'sup1', { from: 'acknowledged', to: 'resolved', note: 'sorted' }],
      ['alert.assign', 'sup1', { from: 'acknowledged', to: 'acknowledged', assignee: 'view1' }],
      ['alert.acknowledge', 'sup1', { from: 'open', to: 'acknowledged', note: 'calling back' }],
    ]);
    expect(updates.filter((u) => u.alertId === alert.id).map((u) => u.state)).toEqual(['acknowledged', 'acknowledged', 'resolved']);
    // the generic API audit trail still records the requests too
    expect(app.store.audit.list(50).filter((e) => e.target === 'POST /api/v1/alerts/:id/ack')).toHaveLength(1);

    expect((await call(viewer, 'GET', '/api/v1/alerts?state=resolved')).body.alerts.map((a: { id: number }) => a.id)).toContain(alert.id);
    expect((await call(viewer, 'GET', '/api/v1/alerts/counts')).body.counts.resolved.critical).toBeGreaterThanOrEqual(1);
  });

  it('filters by time and pages with nextBefore', async () => {
    const from = Date.now();
    angryCaller();
    angryCaller();
    const page1 = await call(viewer, 'GET', `/api/v1/alerts?since=${from}&limit=1`);
    expect(page1.body.alerts).toHaveLength(1);
    const page2 = await call(viewer, 'GET', `/api/v1/alerts?since=${from}&limit=1&before=${page1.body.nextBefore}`);
    expect(page2.body.alerts).toHaveLength(1);
    expect(page2.body.alerts[0].id).toBeLessThan(page1.body.alerts[0].id);
    expect((await call(viewer, 'GET', `/api/v1/alerts?until=${from}&since=0`)).body.alerts.every((a: { at: number }) => a.at < from)).toBe(
      true,
    );
  });

  it('refuses hostile input: unknown ids, bad filters, huge pages, a forged actor', async () => {
    for (const path of [
      '/api/v1/alerts?limit=100000',
      '/api/v1/alerts?limit=0',
      '/api/v1/alerts?state=closed',
      '/api/v1/alerts?state=open,open,open,open',
      '/api/v1/alerts?severity=CRITICAL',
      "/api/v1/alerts?kind=x'%20OR%201=1--",
      '/api/v1/alerts?since=yesterday',
      '/api/v1/alerts?since=10&until=5',
      '/api/v1/alerts/abc',
      '/api/v1/alerts/0',
    ]) {
      const res = await call(viewer, 'GET', path);
      expect([path, res.status, res.body.error?.code]).toEqual([path, 400, 'EVX_ERR_BAD_REQUEST']);
    }
    expect((await call(viewer, 'GET', '/api/v1/alerts/99999999')).body.error.code).toBe('EVX_ERR_NOT_FOUND');
    expect((await call(supervisor, 'POST', '/api/v1/alerts/99999999/ack', {})).body.error.code).toBe('EVX_ERR_NOT_FOUND');
    expect((await call(supervisor, 'POST', '/api/v1/alerts/99999999/resolve', {})).status).toBe(404);
    const id = (await call(viewer, 'GET', '/api/v1/alerts?limit=1')).body.alerts[0].id;
    expect((await call(supervisor, 'POST', `/api/v1/alerts/${id}/ack`, { note: 'x'.repeat(501) })).status).toBe(400);
    // the actor is the signed-in user; a body cannot name another
    expect((await call(supervisor, 'POST', `/api/v1/alerts/${id}/ack`, { by: 'someone-else' })).body).toMatchObject({
      acknowledgedBy: 'sup1',
    });
    expect((await call(supervisor, 'POST', `/api/v1/alerts/${id}/assign`, {})).status).toBe(400);
  });
});
