/**
 * Agents' SIP accounts in the routing configuration: the password sealed in the store and in
 * memory, never in an agent object; the registrar's lookup; a PUT without a password keeps it; and
 * the cross-checks (unknown skill group, duplicate agent id, duplicate SIP username) naming the field.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { EventBus } from '../../../appliance/events/appEvents.js';
import { SecretBox } from '../../../appliance/privacy/secrets.js';
import { RoutingRepo } from '../../../appliance/routing/repo.js';
import { RoutingService } from '../../../appliance/routing/routingService.js';
import type { AgentInput } from '../../../appliance/routing/schemas.js';
import { Store } from '../../../appliance/store/database.js';
import { scratchDir } from '../../helpers/paths.js';

const logger = pino({ level: 'silent' });
const GROUPS = [
  { id: 'general', name: 'General', intents: [], adjacent: [], overflow: { maxWaitMs: 60_000, action: 'none' as const } },
  { id: 'cards', name: 'Cards', intents: ['card_arrival'], adjacent: [], overflow: { maxWaitMs: 60_000, action: 'none' as const } },
];
const agent = (id: string, extra: Partial<AgentInput> = {}): AgentInput => ({
  id,
  name: id.toUpperCase(),
  sipUri: `sip:${id}@127.0.0.1`,
  senior: false,
  skills: [{ group: 'cards', level: 3 }],
  ...extra,
});

/** The code and details of what `fn` throws. */
function refusal(fn: () => unknown): { code: string; message: string; details: Record<string, unknown> } {
  try {
    fn();
  } catch (err) {
    if (isEdgeVoxError(err)) return { code: err.code, message: err.message, details: { ...err.details } };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('agent SIP accounts', () => {
  let store: Store;
  let box: SecretBox;
  let service: RoutingService;
  const open = (secrets: SecretBox | null = box) =>
    new RoutingService({
      repo: new RoutingRepo(store.db, store.write.bind(store)),
      bus: new EventBus(),
      logger,
      ...(secrets === null ? {} : { secrets }),
    });

  beforeEach(() => {
    store = Store.open(scratchDir('agent-accounts'));
    box = SecretBox.fromKey(randomBytes(32));
    service = open();
  });
  afterEach(() => {
    service.close();
    store.close();
  });

  it('seals the password: agents show hasPassword only, the store holds no plaintext, the registrar gets it', () => {
    service.configure({
      groups: GROUPS,
      agents: [agent('ann', { sip: { username: 'ann.phone', password: 'correct-horse-1' } }), agent('bob')],
    });
    const listed = service.agentList();
    expect(listed.find((a) => a.id === 'ann')?.sip).toEqual({ username: 'ann.phone', hasPassword: true });
    expect(listed.find((a) => a.id === 'bob')?.sip).toBeUndefined();
    expect(JSON.stringify(listed)).not.toMatch(/correct-horse-1|evx1:|passwordSealed/);
    const rows = JSON.stringify(store.db.prepare('SELECT * FROM routing_agents').all());
    expect(rows).not.toContain('correct-horse-1');
    expect(rows).toContain('evx1:');
    expect(service.sipAccount('ann.phone')).toEqual({ agentId: 'ann', password: 'correct-horse-1' });
    // user parts compare exactly; unknown names and agents without an account have none
    expect(service.sipAccount('ANN.PHONE')).toBeUndefined();
    expect(service.sipAccount('bob')).toBeUndefined();

    // after a restart the account is still there, still sealed
    service.close();
    service = open();
    expect(service.agentList().find((a) => a.id === 'ann')?.sip).toEqual({ username: 'ann.phone', hasPassword: true });
    expect(service.sipAccount('ann.phone')?.password).toBe('correct-horse-1');
  });

  it('keeps the stored password when a PUT leaves it out, replaces it when given, drops the account with sip', () => {
    service.configure({ groups: GROUPS, agents: [] });
    service.putAgent(agent('ann', { sip: { username: 'ann', password: 'first-pass-1' } }));
    // the API never returns the password: a client re-sends the account without one
    expect(service.putAgent(agent('ann', { name: 'Ann B', sip: { username: 'ann-desk' } })).sip).toEqual({
      username: 'ann-desk',
      hasPassword: true,
    });
    expect(service.sipAccount('ann')).toBeUndefined();
    expect(service.sipAccount('ann-desk')).toEqual({ agentId: 'ann', password: 'first-pass-1' });
    service.putAgent(agent('ann', { sip: { username: 'ann-desk', password: 'second-pass-2' } }));
    expect(service.sipAccount('ann-desk')?.password).toBe('second-pass-2');
    // the same through a whole-configuration PUT
    service.configure({ groups: GROUPS, agents: [agent('ann', { sip: { username: 'ann-desk' } })] });
    expect(service.sipAccount('ann-desk')?.password).toBe('second-pass-2');
    expect(service.putAgent(agent('ann')).sip).toBeUndefined();
    expect(service.sipAccount('ann-desk')).toBeUndefined();
    // an account without a password yet: shown, but nobody can register with it
    expect(service.putAgent(agent('ann', { sip: { username: 'ann-desk' } })).sip).toEqual({ username: 'ann-desk', hasPassword: false });
    expect(service.sipAccount('ann-desk')).toBeUndefined();
    service.deleteAgent('ann');
    expect(JSON.stringify(store.db.prepare('SELECT * FROM routing_agents').all())).not.toContain('ann-desk');
  });

  it('does not open a password sealed for another agent (the agent id is the associated data)', () => {
    service.configure({ groups: GROUPS, agents: [agent('ann', { sip: { username: 'ann', password: 'ann-pass-123' } }), agent('bob')] });
    const annRow = store.db.prepare(`SELECT agent_json FROM routing_agents WHERE id = 'ann'`).get() as { agent_json: string };
    const sealed = (JSON.parse(annRow.agent_json) as { sip: { passwordSealed: string } }).sip.passwordSealed;
    store.db
      .prepare(`UPDATE routing_agents SET agent_json = ? WHERE id = 'bob'`)
      .run(JSON.stringify({ ...agent('bob'), sip: { username: 'bob', passwordSealed: sealed } }));
    service.close();
    service = open();
    expect(refusal(() => service.sipAccount('bob')).code).toBe('EVX_ERR_SECRET');
    expect(service.sipAccount('ann')?.password).toBe('ann-pass-123');
  });

  it('refuses a duplicate SIP username (case aside), naming the agent and the field', () => {
    service.configure({ groups: GROUPS, agents: [agent('ann', { sip: { username: 'desk1', password: 'pass-word-1' } })] });
    const dup = refusal(() => service.putAgent(agent('bob', { sip: { username: 'Desk1', password: 'pass-word-2' } })));
    expect(dup).toMatchObject({ code: 'EVX_ERR_ROUTING_CONFIG', details: { agent: 'bob', field: 'sip.username', other: 'ann' } });
    expect(dup.message).toContain('already agent ann');
    expect(
      refusal(() =>
        service.configure({
          groups: GROUPS,
          agents: [agent('a', { sip: { username: 'x' } }), agent('b', { sip: { username: 'x' } })],
        }),
      ).details,
    ).toMatchObject({ agent: 'b', field: 'sip.username' });
    // renaming an agent's own account is no clash
    expect(service.putAgent(agent('ann', { sip: { username: 'DESK1' } })).sip?.username).toBe('DESK1');
    expect(service.agentList().map((a) => a.id)).toEqual(['ann']);
  });

  it('refuses an unknown skill group and a duplicate agent id, naming the field', () => {
    service.configure({ groups: GROUPS, agents: [] });
    expect(
      refusal(() =>
        service.putAgent(
          agent('ann', {
            skills: [
              { group: 'cards', level: 2 },
              { group: 'nope', level: 2 },
            ],
          }),
        ),
      ),
    ).toMatchObject({
      code: 'EVX_ERR_ROUTING_CONFIG',
      details: { agent: 'ann', field: 'skills.1.group', group: 'nope' },
    });
    expect(refusal(() => service.configure({ groups: GROUPS, agents: [agent('ann'), agent('ann')] }))).toMatchObject({
      code: 'EVX_ERR_ROUTING_CONFIG',
      details: { agent: 'ann', field: 'id' },
    });
    // nothing of a refused change was stored
    expect(service.agentList()).toEqual([]);
  });

  it('refuses a password when the store key is not available', () => {
    service.close();
    service = open(null);
    service.configure({ groups: GROUPS, agents: [] });
    expect(refusal(() => service.putAgent(agent('ann', { sip: { username: 'ann', password: 'pass-word-1' } })))).toMatchObject({
      code: 'EVX_ERR_ROUTING_CONFIG',
      details: { agent: 'ann', field: 'sip.password' },
    });
    expect(service.putAgent(agent('ann', { sip: { username: 'ann' } })).sip).toEqual({ username: 'ann', hasPassword: false });
  });
});
