/**
 * Callback requests in a running appliance: requests the ACD keeps (through the start module's
 * `callbacks`) are listed to supervisors with masked numbers under GET /api/v1/acd/callbacks and
 * cancelled with DELETE /api/v1/acd/callbacks/:id (404 unknown, 409 no longer pending); viewers are
 * refused; events and the pending gauge carry no number.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authHeader, quietApplianceOverrides } from '../../helpers/auth.js';

let app: Appliance;
const events: ApplianceEvent[] = [];
const ids: string[] = [];

const api = async (method: 'GET' | 'DELETE', url: string, role: 'technician' | 'supervisor' | 'viewer' = 'supervisor') => {
  const res = await app.http.inject({ method, url, headers: authHeader(app, role) });
  return { status: res.statusCode, body: res.body === '' ? null : (JSON.parse(res.body) as Record<string, any>) };
};

beforeAll(async () => {
  ({ app } = await startTestAppliance(quietApplianceOverrides({ sip: { enabled: false }, console: { enabled: false } }), {
    transcribers: null,
  }));
  app.bus.subscribe((e) => events.push(e));
  app.store.calls.create({ id: 'call-1', source: 'sip', callerHash: null, startedAt: Date.now() });
  const callbacks = app.acd!.callbacks;
  ids.push(callbacks.request('call-1', 'cards', 'sip:+4930123456@trunk.example;user=phone').id);
  ids.push(callbacks.request('call-2', 'loans', 'tel:+441632960042').id);
});
afterAll(async () => {
  await app?.close();
});

describe('callback requests API', () => {
  it('lists pending requests to supervisors with the numbers masked; viewers are refused', async () => {
    const list = await api('GET', '/api/v1/acd/callbacks?state=pending');
    expect(list.status).toBe(200);
    expect(list.body!['callbacks']).toEqual([
      expect.objectContaining({ id: ids[0], callId: 'call-1', groupId: 'cards', number: '••••••56', state: 'pending' }),
      expect.objectContaining({ id: ids[1], callId: null, groupId: 'loans', number: '••••••42', state: 'pending' }),
    ]);
    expect(JSON.stringify(list.body)).not.toMatch(/4930123456|1632960042/);
    expect((await api('GET', '/api/v1/acd/callbacks', 'technician')).status).toBe(200);
    expect((await api('GET', '/api/v1/acd/callbacks', 'viewer')).status).toBe(403);
    expect((await api('GET', '/api/v1/acd/callbacks?state=lost')).status).toBe(400);

    const metrics = await app.http.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/^edgevox_acd_callbacks_pending 2$/m);
  });

  it('cancels a pending request (published without the number); 404 for an unknown one, 409 once not pending, 403 for a viewer', async () => {
    expect((await api('DELETE', `/api/v1/acd/callbacks/${ids[0]}`, 'viewer')).status).toBe(403);
    const cancelled = await api('DELETE', `/api/v1/acd/callbacks/${ids[0]}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ id: ids[0], state: 'cancelled', number: '••••••56' });
    const again = await api('DELETE', `/api/v1/acd/callbacks/${ids[0]}`);
    expect(again.status).toBe(409);
    expect(again.body!['error']).toMatchObject({ code: 'EVX_ERR_CALLBACK_STATE', details: { state: 'cancelled' } });
    const unknown = await api('DELETE', '/api/v1/acd/callbacks/00000000-0000-4000-8000-000000000000');
    expect(unknown.status).toBe(404);

    const pending = await api('GET', '/api/v1/acd/callbacks?state=pending');
    expect(pending.body!['callbacks'].map((c: { id: string }) => c.id)).toEqual([ids[1]]);
    const published = events.filter((e) => e.type === 'callback.requested' || e.type === 'callback.cancelled');
    expect(published.map((e) => e.type)).toEqual(['callback.requested', 'callback.requested', 'callback.cancelled']);
    expect(JSON.stringify(published)).not.toMatch(/4930123456|1632960042/);
    const metrics = await app.http.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/^edgevox_acd_callbacks_pending 1$/m);
  });

  it('counts offers, acceptances, hang-ups and unanswered offers, and closed requests over a range (GET /api/v1/acd/callbacks/kpis) and in Prometheus; viewers refused, bad ranges 400', async () => {
    const callbacks = app.acd!.callbacks;
    const offer = callbacks.offered('call-1', 'cards');
    callbacks.offerAnswered(offer, 'accepted');
    callbacks.offerAnswered(callbacks.offered('call-1', 'cards'), 'declined');
    const left = callbacks.offered('call-1', 'cards');
    callbacks.offerAnswered(left, 'hung-up');
    // the caller who hung up at the offer is kept as such, for the supervisor's figures (not left unanswered)
    expect(app.store.db.prepare('SELECT answer FROM callback_offers WHERE id = ?').get(left)).toEqual({ answer: 'hung-up' });
    callbacks.offerAnswered(callbacks.offered('call-1', 'cards'), 'none');
    const kpis = await api('GET', '/api/v1/acd/callbacks/kpis');
    expect(kpis.status).toBe(200);
    // why offers were not taken reaches the supervisor: the reply schema carries hungUp and noAnswer
    expect(kpis.body).toMatchObject({ offered: 4, accepted: 1, hungUp: 1, noAnswer: 1, completed: 0, failed: 0, cancelled: 1, pending: 1 });
    const past = await api('GET', '/api/v1/acd/callbacks/kpis?from=0&to=1000');
    expect(past.body).toMatchObject({ from: 0, to: 1000, offered: 0, accepted: 0, hungUp: 0, noAnswer: 0, cancelled: 0, pending: 1 });
    expect((await api('GET', '/api/v1/acd/callbacks/kpis?from=2000&to=1000')).status).toBe(400);
    expect((await api('GET', '/api/v1/acd/callbacks/kpis', 'viewer')).status).toBe(403);
    const metrics = await app.http.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/^edgevox_acd_callbacks_total\{outcome="offered"\} 4$/m);
    expect(metrics.body).toMatch(/^edgevox_acd_callbacks_total\{outcome="hung-up"\} 1$/m);
    expect(metrics.body).toMatch(/^edgevox_acd_callbacks_total\{outcome="no-answer"\} 1$/m);
    expect(metrics.body).toMatch(/^edgevox_acd_callbacks_total\{outcome="accepted"\} 1$/m);
    expect(metrics.body).toMatch(/^edgevox_acd_callbacks_total\{outcome="cancelled"\} 1$/m);
    expect(metrics.body).toMatch(/^edgevox_acd_callbacks_total\{outcome="completed"\} 0$/m);
  });
});
