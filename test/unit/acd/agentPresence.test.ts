/**
 * Agents' states on a real routing service, store and bus: the presence service owns routing's
 * agent states (registrations log agents in and out, routed calls ring them, transfers answer or
 * miss, call ends wrap them up), publishes `agent.state` in order even when an agent takes a queued
 * call at once, feeds the KPI engine, keeps away and logged-out choices across a restart, and hands
 * routing's own state API to the machine.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { AgentPresence } from '../../../appliance/acd/agentPresence.js';
import type { AgentClock } from '../../../appliance/acd/agentState.js';
import type { AcdFactSink } from '../../../appliance/acd/kpis.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { EventBus, type ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { RoutingRepo } from '../../../appliance/routing/repo.js';
import { RoutingService } from '../../../appliance/routing/routingService.js';
import type { AgentInput } from '../../../appliance/routing/schemas.js';
import { Store } from '../../../appliance/store/database.js';
import { scratchDir } from '../../helpers/paths.js';

const logger = pino({ level: 'silent' });
const T0 = 1_800_000_000_000;
const GROUPS = [
  { id: 'general', name: 'General', intents: [], adjacent: [], overflow: { maxWaitMs: 3_600_000, action: 'none' as const } },
  { id: 'cards', name: 'Cards', intents: ['card_arrival'], adjacent: [], overflow: { maxWaitMs: 3_600_000, action: 'none' as const } },
];
const agent = (id: string, extra: Partial<AgentInput> = {}): AgentInput => ({
  id,
  name: id,
  sipUri: `sip:${id}@127.0.0.1`,
  senior: false,
  skills: [{ group: 'cards', level: 3 }],
  ...extra,
});
const req = (callId: string) => ({
  callId,
  intent: { intent: 'card_arrival', confidence: 0.9, outOfScope: false },
  emotion: null,
  profile: null,
});

type AgentStateEvent = Extract<ApplianceEvent, { type: 'agent.state' }>;

describe('AgentPresence', () => {
  let store: Store;
  let bus: EventBus;
  let repo: RoutingRepo;
  let routing: RoutingService;
  let presence: AgentPresence;
  let events: ApplianceEvent[];
  let facts: string[];
  let now: number;
  let timers: { at: number; fn: () => void }[];
  const clock: AgentClock = {
    now: () => now,
    setTimer: (fn, ms) => {
      const t = { at: now + ms, fn };
      timers.push(t);
      return t;
    },
    clearTimer: (h) => {
      timers = timers.filter((t) => t !== h);
    },
  };
  const advance = (ms: number) => {
    now += ms;
    for (const t of timers.filter((x) => x.at <= now)) {
      timers = timers.filter((x) => x !== t);
      t.fn();
    }
  };
  const sink: AcdFactSink = {
    offered: () => {},
    answered: () => {},
    abandoned: () => {},
    overflowed: () => {},
    dequeued: () => {},
    held: () => {},
    resumed: () => {},
    talkEnded: () => {},
    transferred: () => {},
    wrapUpEnded: () => {},
    agentState: (agentId, state) => facts.push(`${agentId}:${state}`),
    agentGroups: (agentId, groupIds) => facts.push(`${agentId} in ${groupIds.join(',')}`),
  };
  const startPresence = () =>
    new AgentPresence({ routing, choices: repo, bus, logger, facts: sink, clock, policy: () => ({ wrapUpMs: 10_000, maxNoAnswers: 2 }) });
  const states = () =>
    events.filter((e): e is AgentStateEvent => e.type === 'agent.state').map((e) => `${e.agentId}:${e.from}>${e.to}:${e.reason}`);
  const routed = (id: string) => routing.agentList().find((a) => a.id === id)!;

  beforeEach(() => {
    now = T0;
    timers = [];
    events = [];
    facts = [];
    store = Store.open(scratchDir('agent-presence'));
    bus = new EventBus();
    bus.subscribe((e) => events.push(e));
    repo = new RoutingRepo(store.db, store.write.bind(store));
    routing = new RoutingService({ repo, bus, logger, transfer: false, now: () => now });
    routing.configure({ groups: GROUPS, agents: [agent('ann', { state: 'available' }), agent('bob')] });
    presence = startPresence();
  });
  afterEach(() => {
    presence.close();
    routing.close();
    store.close();
  });

  it('starts every agent logged out (offline for routing), whatever routing had stored', () => {
    expect(routed('ann')).toMatchObject({ state: 'offline', activity: { state: 'logged-out', reason: null, since: T0 } });
    expect(presence.list().map((v) => [v.agentId, v.state])).toEqual([
      ['ann', 'logged-out'],
      ['bob', 'logged-out'],
    ]);
    expect(facts).toEqual(['ann in cards', 'bob in cards']);
  });

  it('logs an agent in and out with their registrations, publishing typed events with agent ids only', () => {
    now += 500;
    presence.registrationChanged({ agentId: 'ann', contacts: 1, reason: 'registered' });
    expect(routed('ann')).toMatchObject({
      state: 'available',
      stateSince: T0 + 500,
      activity: { state: 'available', reason: 'registered' },
    });
    expect(events.slice(-2)).toEqual([
      { type: 'agent.registration', at: T0 + 500, agentId: 'ann', change: 'registered', contacts: 1 },
      {
        type: 'agent.state',
        at: T0 + 500,
        agentId: 'ann',
        from: 'logged-out',
        to: 'available',
        reason: 'registered',
        awayReason: null,
        by: 'system',
        callId: null,
      },
    ]);
    expect(facts.at(-1)).toBe('ann:available');
    presence.registrationChanged({ agentId: 'ann', contacts: 0, reason: 'expired' });
    expect(routed('ann')).toMatchObject({ state: 'offline', activity: { state: 'logged-out', reason: 'expired' } });
    // a binding of an agent no longer configured changes nothing
    presence.registrationChanged({ agentId: 'gone', contacts: 1, reason: 'registered' });
    expect(presence.view('gone')).toBeUndefined();
  });

  it('rings the routed agent, answers on the completed transfer, keeps the transferred call until it is ended by hand', () => {
    presence.registrationChanged({ agentId: 'ann', contacts: 1, reason: 'registered' });
    const d = routing.route(req('c1'));
    expect(d).toMatchObject({ action: 'agent', agentId: 'ann' });
    expect(routed('ann')).toMatchObject({ state: 'busy', activity: { state: 'ringing' } });
    routing.transferProgress('c1', 'requested', null);
    routing.transferProgress('c1', 'completed', 200);
    expect(presence.view('ann')).toMatchObject({ state: 'on-call', callId: 'c1' });
    bus.publish({ type: 'call.ended', at: now, callId: 'c1', reason: 'transfer', durationMs: 1000 });
    expect(presence.view('ann')).toMatchObject({ state: 'on-call', callId: 'c1' });
    // the box no longer sees the call: the agent says it is over
    presence.set('ann', 'wrap-up', { by: 'agent' });
    expect(routed('ann').state).toBe('wrap-up');
    advance(10_000);
    expect(routed('ann').state).toBe('available');
    expect(states()).toEqual([
      'ann:logged-out>available:registered',
      'ann:available>ringing:offered',
      'ann:ringing>on-call:answered',
      'ann:on-call>wrap-up:call-ended',
      'ann:wrap-up>available:wrap-up-ended',
    ]);
  });

  it('wraps up when a call the box carries ends, and holds in between (her own hold only: the caller holding the call is not hers)', () => {
    presence.registrationChanged({ agentId: 'ann', contacts: 1, reason: 'registered' });
    routing.route(req('c1'));
    presence.answered('ann', 'c1');
    bus.publish({ type: 'call.hold', at: now, callId: 'c1', held: true }); // the caller's re-INVITE
    expect(presence.view('ann')).toMatchObject({ state: 'on-call', held: false });
    presence.held('ann', 'c1', true);
    expect(presence.view('ann')).toMatchObject({ state: 'on-call', held: true });
    bus.publish({ type: 'call.hold', at: now, callId: 'c1', held: false }); // the caller resumes: she still holds
    expect(presence.view('ann')).toMatchObject({ state: 'on-call', held: true });
    bus.publish({ type: 'call.ended', at: now, callId: 'c1', reason: 'bye', durationMs: 1000 });
    expect(presence.view('ann')).toMatchObject({ state: 'wrap-up', callId: null });
    expect(() => presence.set('ann', 'away', { reason: 'lunch', by: 'agent' })).not.toThrow();
    expect(routed('ann')).toMatchObject({ state: 'offline', activity: { state: 'away', reason: 'lunch' } });
  });

  it('frees a ringing agent whose caller hung up; misses count, and two in a row make the agent away', () => {
    presence.registrationChanged({ agentId: 'ann', contacts: 1, reason: 'registered' });
    routing.route(req('c1'));
    bus.publish({ type: 'call.ended', at: now, callId: 'c1', reason: 'bye', durationMs: 1000 });
    expect(presence.view('ann')).toMatchObject({ state: 'available', missedOffers: 0 });
    routing.route(req('c2'));
    routing.transferProgress('c2', 'failed', 480);
    expect(presence.view('ann')).toMatchObject({ state: 'available', missedOffers: 1 });
    routing.route(req('c3'));
    routing.transferProgress('c3', 'failed', 403); // refused by the network, not by the agent: not counted
    expect(presence.view('ann')).toMatchObject({ state: 'available', missedOffers: 1 });
    routing.route(req('c4'));
    routing.transferProgress('c4', 'failed', 408);
    expect(presence.view('ann')).toMatchObject({ state: 'away', awayReason: 'no-answer' });
    expect(routed('ann').state).toBe('offline');
    expect(facts.filter((f) => f.startsWith('ann:')).at(-1)).toBe('ann:away');
  });

  it('publishes the transition to available before the queued call it takes at once', () => {
    const d = routing.route(req('q1'));
    expect(d.action).toBe('queue');
    events.length = 0;
    presence.registrationChanged({ agentId: 'bob', contacts: 1, reason: 'registered' });
    const order = events.map((e) => (e.type === 'agent.state' ? `${e.type}:${e.to}` : e.type));
    expect(order).toEqual(['agent.registration', 'agent.state:available', 'route.decision', 'agent.state:ringing']);
    expect(presence.view('bob')).toMatchObject({ state: 'ringing', callId: 'q1' });
  });

  it("hands routing's own state API to the machine: available logs in, offline logs out, busy is refused", () => {
    expect(routing.setAgentState('bob', 'available')).toMatchObject({
      state: 'available',
      activity: { state: 'available', reason: 'manual' },
    });
    expect(routing.setAgentState('bob', 'offline')).toMatchObject({ state: 'offline', activity: { state: 'logged-out' } });
    let code = '';
    try {
      routing.setAgentState('bob', 'busy');
    } catch (err) {
      code = isEdgeVoxError(err) ? err.code : 'other';
    }
    expect(code).toBe('EVX_ERR_AGENT_STATE');
    // a `state` in an agent's configuration is a change by hand too; new agents start logged out
    routing.putAgent(agent('cy'));
    expect(presence.view('cy')).toMatchObject({ state: 'logged-out' });
    routing.putAgent(agent('cy', { state: 'available' }));
    expect(presence.view('cy')).toMatchObject({ state: 'available' });
    routing.deleteAgent('cy');
    expect(presence.view('cy')).toBeUndefined();
  });

  it('keeps away and logged-out choices across a restart; everything else starts logged out', () => {
    presence.registrationChanged({ agentId: 'ann', contacts: 1, reason: 'registered' });
    presence.set('ann', 'away', { reason: 'training', by: 'agent' });
    presence.registrationChanged({ agentId: 'bob', contacts: 1, reason: 'registered' });
    presence.set('bob', 'logged-out', { by: 'supervisor' });
    presence.close();
    routing.close();
    routing = new RoutingService({ repo, bus, logger, transfer: false, now: () => now });
    presence = startPresence();
    expect(presence.list().map((v) => [v.agentId, v.state, v.choice])).toEqual([
      ['ann', 'logged-out', { kind: 'away', reason: 'training' }],
      ['bob', 'logged-out', { kind: 'logged-out' }],
    ]);
    presence.registrationChanged({ agentId: 'ann', contacts: 1, reason: 'registered' });
    presence.registrationChanged({ agentId: 'bob', contacts: 1, reason: 'registered' });
    expect(presence.view('ann')).toMatchObject({ state: 'away', awayReason: 'training' });
    expect(presence.view('bob')).toMatchObject({ state: 'logged-out' });
    presence.set('ann', 'available', { by: 'agent' });
    expect(repo.agentChoices()).toEqual({ bob: { kind: 'logged-out' } });
  });

  it('counts a softphone like a phone, and gives routing back its states when closed', () => {
    presence.softphoneConnected('bob');
    expect(routed('bob').state).toBe('available');
    presence.softphoneDisconnected('bob');
    presence.softphoneDisconnected('bob'); // one too many: ignored
    expect(presence.view('bob')).toMatchObject({ state: 'logged-out', softphones: 0 });
    presence.close();
    presence.close();
    expect(routing.setAgentState('bob', 'busy').state).toBe('busy');
  });
});
