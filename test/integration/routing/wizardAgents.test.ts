/**
 * One source of truth for agents: the first-boot wizard's Agents step (the same request builder the
 * browser runs, web/console/src/agentSetup.ts) saves into the routing configuration, which the
 * routing API then lists — groups, agents, skills and SIP accounts, never the password. Revisiting
 * the step keeps what it does not show (passwords, skill levels); errors name the agent and field;
 * the old `agents.*` configuration keys are gone and an old stored configuration still loads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { validateConfig } from '../../../appliance/config/load.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authHeader, quietApplianceOverrides } from '../../helpers/auth.js';
import { fieldOfError, routingConfigFrom, rowsOf, type AgentRow, type RoutingConfig } from '../../../web/console/src/agentSetup.js';

let app: Appliance;
const api = async (method: string, url: string, body?: unknown) => {
  const res = await app.http.inject({
    method: method as 'GET',
    url,
    headers: authHeader(app),
    ...(body === undefined ? {} : { payload: body as object }),
  });
  return { status: res.statusCode, text: res.body, body: res.body === '' ? null : (JSON.parse(res.body) as Record<string, any>) };
};
const row = (id: string, name: string, skills: string, sipUsername = '', sipPassword = ''): AgentRow => ({
  id,
  name,
  skills,
  sipUsername,
  sipPassword,
  sipUri: '',
  hasPassword: false,
});

/** What the wizard's Save does: read the routing configuration, PUT the form's version of it. */
async function wizardSave(groupLines: string, rows: AgentRow[]) {
  const current = (await api('GET', '/api/v1/routing/config')).body as RoutingConfig;
  return api('PUT', '/api/v1/routing/config', routingConfigFrom(current, groupLines, rows, '127.0.0.1'));
}

beforeAll(async () => {
  ({ app } = await startTestAppliance(quietApplianceOverrides({ sip: { enabled: false } }), { transcribers: null }));
});
afterAll(async () => {
  await app?.close();
});

describe("the wizard's Agents step", () => {
  it('writes groups, agents and SIP accounts into routing, which the routing API lists', async () => {
    expect((await api('GET', '/api/v1/routing/agents')).body).toEqual({ agents: [] });
    const saved = await wizardSave('billing, Billing enquiries\nsupport, Technical support', [
      row('a1', 'Agent One', 'billing support', 'agent.one', 'one-secret-pass'),
      row('a2', 'Agent Two', 'support'),
    ]);
    expect(saved.status).toBe(200);

    const groups = (await api('GET', '/api/v1/routing/groups')).body!['groups'] as { id: string; name: string }[];
    expect(groups.map((g) => [g.id, g.name])).toEqual([
      ['billing', 'Billing enquiries'],
      ['support', 'Technical support'],
    ]);
    const listed = await api('GET', '/api/v1/routing/agents');
    expect(listed.body!['agents']).toEqual([
      expect.objectContaining({
        id: 'a1',
        name: 'Agent One',
        sipUri: 'sip:agent.one@127.0.0.1',
        skills: [
          { group: 'billing', level: 3 },
          { group: 'support', level: 3 },
        ],
        sip: { username: 'agent.one', hasPassword: true },
        state: 'offline',
        activity: expect.objectContaining({ state: 'logged-out' }),
      }),
      expect.objectContaining({ id: 'a2', sipUri: 'sip:a2@127.0.0.1', skills: [{ group: 'support', level: 3 }] }),
    ]);
    expect((listed.body!['agents'] as { sip?: unknown }[])[1]!.sip).toBeUndefined();
    // the default group follows the groups the wizard made
    expect((await api('GET', '/api/v1/routing/rules')).body).toMatchObject({ defaultGroup: 'billing' });
    // the agents API knows them too (logged out until a phone registers)
    expect(
      ((await api('GET', '/api/v1/agents')).body!['agents'] as { agentId: string; state: string }[]).map((a) => [a.agentId, a.state]),
    ).toEqual([
      ['a1', 'logged-out'],
      ['a2', 'logged-out'],
    ]);
    // nowhere is the password returned
    for (const url of ['/api/v1/routing/agents', '/api/v1/routing/config', '/api/v1/agents', '/api/v1/config'])
      expect((await api('GET', url)).text, url).not.toContain('one-secret-pass');
    // the configuration no longer has agents of its own
    const cfg = (await api('GET', '/api/v1/config')).body!['config'] as { agents: Record<string, unknown> };
    expect(Object.keys(cfg.agents).sort()).toEqual(['dispositionCodes', 'noAnswerAwayAfter', 'wrapUpS']);
  });

  it('keeps what the step does not show when it is saved again (passwords, skill levels, group intents)', async () => {
    await api('PUT', '/api/v1/routing/agents/a1', {
      id: 'a1',
      name: 'Agent One',
      sipUri: 'sip:agent.one@127.0.0.1',
      senior: true,
      skills: [
        { group: 'billing', level: 5 },
        { group: 'support', level: 2 },
      ],
      sip: { username: 'agent.one' },
    });
    const billing = (await api('GET', '/api/v1/routing/groups')).body!['groups'][0];
    await api('PUT', '/api/v1/routing/groups/billing', { ...billing, intents: ['card_arrival'] });

    const current = (await api('GET', '/api/v1/routing/config')).body as RoutingConfig;
    const rows = rowsOf(current.agents);
    expect(rows[0]).toMatchObject({ sipUsername: 'agent.one', sipPassword: '', hasPassword: true });
    rows.push(row('a3', 'Agent Three', 'billing'));
    expect((await wizardSave('billing, Billing\nsupport, Technical support', rows)).status).toBe(200);

    const a1 = ((await api('GET', '/api/v1/routing/agents')).body!['agents'] as any[]).find((a) => a.id === 'a1');
    expect(a1).toMatchObject({
      senior: true,
      skills: [
        { group: 'billing', level: 5 },
        { group: 'support', level: 2 },
      ],
      sip: { username: 'agent.one', hasPassword: true },
    });
    expect(app.agents!.presence.view('a3')).toMatchObject({ state: 'logged-out' });
    expect((await api('GET', '/api/v1/routing/groups')).body!['groups'][0]).toMatchObject({
      id: 'billing',
      name: 'Billing',
      intents: ['card_arrival'],
    });
  });

  it('says which agent and which field is wrong, so the form can show it there; nothing is saved', async () => {
    const before = (await api('GET', '/api/v1/routing/config')).text;
    const dup = await wizardSave('billing, Billing\nsupport, Support', [
      row('a1', 'Agent One', 'billing', 'desk'),
      row('a2', 'Agent Two', 'support', 'DESK'),
    ]);
    expect(dup.status).toBe(400);
    expect(dup.body!['error']).toMatchObject({ code: 'EVX_ERR_ROUTING_CONFIG', details: { agent: 'a2', field: 'sip.username' } });
    expect(fieldOfError(dup.body!['error']['details'])).toEqual({ agent: 'a2', column: 'sipUsername' });

    const unknown = await wizardSave('billing, Billing', [row('a1', 'Agent One', 'billing sales')]);
    expect(unknown.body!['error']).toMatchObject({ details: { agent: 'a1', field: 'skills.1.group', group: 'sales' } });
    expect(fieldOfError(unknown.body!['error']['details'])).toEqual({ agent: 'a1', column: 'skills' });

    const twice = await wizardSave('billing, Billing', [row('a1', 'One', 'billing'), row('a1', 'Again', 'billing')]);
    expect(fieldOfError(twice.body!['error']['details'])).toEqual({ agent: 'a1', column: 'id' });
    expect((await api('GET', '/api/v1/routing/config')).text).toBe(before);
  });

  it('refuses the retired agents.* keys as a change, and still loads an old configuration that has them', async () => {
    const patch = await api('PATCH', '/api/v1/config', { changes: { 'agents.agents': [{ id: 'x', name: 'X', skills: [] }] } });
    expect(patch.status).toBe(400);
    expect(patch.body!['error']).toMatchObject({ code: 'EVX_ERR_CONFIG_INVALID', details: { key: 'agents.agents' } });
    const old = validateConfig({ agents: { skillGroups: [{ id: 'g', name: 'G' }], agents: [{ id: 'a', name: 'A', skills: ['g'] }] } });
    expect(old.agents).toEqual({
      wrapUpS: 30,
      noAnswerAwayAfter: 2,
      dispositionCodes: ['resolved', 'follow-up', 'escalated', 'no-action'],
    });
  });
});
