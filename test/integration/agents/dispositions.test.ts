/**
 * Wrap-up disposition codes in the real appliance: a supervisor records the code of a call an agent
 * was on (the last one counts, published as agent.disposition, readable with the call); unknown
 * codes, unknown agents and calls, and calls no agent was on are refused and change nothing; a
 * viewer may read but not set; the code goes with the call when retention deletes it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authHeader, quietApplianceOverrides } from '../../helpers/auth.js';

let app: Appliance;
const events: ApplianceEvent[] = [];

const api = async (method: string, url: string, body?: unknown, role: 'technician' | 'supervisor' | 'viewer' = 'supervisor') => {
  const res = await app.http.inject({
    method: method as 'GET',
    url,
    headers: authHeader(app, role),
    ...(body === undefined ? {} : { payload: body as object }),
  });
  return { status: res.statusCode, body: res.body === '' ? null : (JSON.parse(res.body) as Record<string, any>) };
};

beforeAll(async () => {
  ({ app } = await startTestAppliance(
    quietApplianceOverrides({ console: { enabled: false }, agents: { dispositionCodes: ['resolved', 'follow-up'] } }),
    { transcribers: null },
  ));
  app.bus.subscribe((e) => events.push(e));
  const put = await api(
    'PUT',
    '/api/v1/routing/config',
    {
      groups: [{ id: 'general', name: 'General', intents: [], adjacent: [], overflow: { maxWaitMs: 60_000, action: 'none' } }],
      agents: [{ id: 'ann', name: 'Ann', sipUri: 'sip:ann@127.0.0.1', senior: false, skills: [{ group: 'general', level: 3 }] }],
    },
    'technician',
  );
  expect(put.status).toBe(200);
  const now = Date.now();
  for (const [id, withAgent] of [
    ['handled', true],
    ['unanswered', false],
  ] as const) {
    app.store.calls.create({ id, source: 'sip', callerHash: null, startedAt: now });
    app.store.calls.addLeg({ id: `${id}:leg0`, callId: id, label: 'caller', codec: 'PCMU', startedAt: now });
    if (withAgent) app.store.calls.addLeg({ id: `${id}:agent`, callId: id, label: 'agent', codec: 'PCMU', startedAt: now });
  }
});
afterAll(async () => {
  await app?.close();
});

describe('wrap-up disposition codes', () => {
  it('records the code of a call the agent was on; the last one counts and is published', async () => {
    const first = await api('PUT', '/api/v1/agents/ann/disposition', { callId: 'handled', code: 'follow-up' });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ callId: 'handled', agentId: 'ann', code: 'follow-up' });
    const second = await api('PUT', '/api/v1/agents/ann/disposition', { callId: 'handled', code: 'resolved' });
    expect(second.status).toBe(200);
    const read = await api('GET', '/api/v1/calls/handled/disposition', undefined, 'viewer');
    expect(read.body).toMatchObject({ code: 'resolved', agentId: 'ann' });
    expect(events.filter((e) => e.type === 'agent.disposition').map((e) => (e as { code: string }).code)).toEqual([
      'follow-up',
      'resolved',
    ]);
  });

  it('refuses unknown codes, agents and calls, calls no agent was on, and viewers; nothing changes', async () => {
    const before = events.length;
    const cases: [string, unknown, number, 'supervisor' | 'viewer'][] = [
      ['/api/v1/agents/ann/disposition', { callId: 'handled', code: 'escalated' }, 400, 'supervisor'],
      ['/api/v1/agents/nobody/disposition', { callId: 'handled', code: 'resolved' }, 404, 'supervisor'],
      ['/api/v1/agents/ann/disposition', { callId: 'no-such-call', code: 'resolved' }, 404, 'supervisor'],
      ['/api/v1/agents/ann/disposition', { callId: 'unanswered', code: 'resolved' }, 400, 'supervisor'],
      ['/api/v1/agents/ann/disposition', { callId: 'handled', code: 'follow-up' }, 403, 'viewer'],
    ];
    for (const [url, body, status, role] of cases) expect((await api('PUT', url, body, role)).status, JSON.stringify(body)).toBe(status);
    expect(events.length).toBe(before);
    expect((await api('GET', '/api/v1/calls/handled/disposition')).body).toMatchObject({ code: 'resolved' });
    expect((await api('GET', '/api/v1/calls/unanswered/disposition')).status).toBe(404);
  });

  it('goes with the call when the call is deleted', async () => {
    app.store.db.prepare('DELETE FROM calls WHERE id = ?').run('handled');
    expect((await api('GET', '/api/v1/calls/handled/disposition')).status).toBe(404);
  });
});
