/**
 * Agent states around a consult call (attended transfer, acd/consultCalls.ts) on a real presence
 * service, routing service, store and bus, with the SIP server replaced by a recorder: the caller
 * hanging up while agent A consults agent B leaves A busy on the consult (never offered a call while
 * talking to B) until the consult ends, and only then starts A's wrap-up.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { AgentPresence } from '../../../appliance/acd/agentPresence.js';
import type { AgentClock } from '../../../appliance/acd/agentState.js';
import { ConsultCalls, type ConsultTelephony } from '../../../appliance/acd/consultCalls.js';
import { EventBus } from '../../../appliance/events/appEvents.js';
import { TypedEmitter } from '../../../appliance/events/typedEmitter.js';
import { RoutingRepo } from '../../../appliance/routing/repo.js';
import { RoutingService } from '../../../appliance/routing/routingService.js';
import type { AgentInput } from '../../../appliance/routing/schemas.js';
import { Store } from '../../../appliance/store/database.js';
import type { OutboundOutcome } from '../../../appliance/telephony/outbound.js';
import type { TelephonyEvents } from '../../../appliance/telephony/types.js';
import { scratchDir } from '../../helpers/paths.js';

const logger = pino({ level: 'silent' });
const T0 = 1_800_000_000_000;
const WRAP_UP_MS = 10_000;
const GROUPS = [
  { id: 'general', name: 'General', intents: [], adjacent: [], overflow: { maxWaitMs: 3_600_000, action: 'none' as const } },
  { id: 'cards', name: 'Cards', intents: ['card_arrival'], adjacent: [], overflow: { maxWaitMs: 3_600_000, action: 'none' as const } },
];
const agent = (id: string): AgentInput => ({
  id,
  name: id,
  sipUri: `sip:${id}@127.0.0.1`,
  senior: false,
  skills: [{ group: 'cards', level: 3 }],
});
const PHONES: Record<string, { address: string }> = { ann: { address: '10.0.0.5' }, bob: { address: '10.0.0.6' } };

describe('agent states around a consult call', () => {
  let store: Store;
  let bus: EventBus;
  let routing: RoutingService;
  let presence: AgentPresence;
  let consults: ConsultCalls;
  let now: number;
  let timers: { at: number; fn: () => void }[];
  const placed: { id: string; settle: (o: OutboundOutcome) => void }[] = [];
  const sipEvents = new TypedEmitter<TelephonyEvents>();
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
  /** A call of the box ends: the SIP server's event, then the call list's on the bus. */
  const ended = (callId: string) => {
    sipEvents.emit('call.ended', { callId } as never);
    bus.publish({ type: 'call.ended', at: now, callId, reason: 'bye', durationMs: 1000 });
  };
  const sip: ConsultTelephony = {
    events: sipEvents,
    placeCall: () => {
      const id = `bob-leg-${placed.length + 1}`;
      let settle!: (o: OutboundOutcome) => void;
      const result = new Promise<OutboundOutcome>((r) => (settle = r));
      placed.push({ id, settle });
      return { id, result, cancel: () => settle({ type: 'failed', reason: 'cancelled', status: 487 } as never) } as never;
    },
    bridge: () => ({ close: () => undefined }) as never,
    hangup: async (callId) => ended(callId),
    leg: () => ({ info: { codec: 'PCMU' } }) as never,
    // the consult call k1: ann's registered phone dialled bob at the box
    dialogOf: (callId) =>
      callId === 'k1'
        ? { sipCallId: 'k1@ann', localTag: 'box', remoteTag: 'ann', peer: { transport: 'udp', address: '10.0.0.5', port: 5062 } }
        : undefined,
  };

  beforeEach(() => {
    now = T0;
    timers = [];
    placed.length = 0;
    store = Store.open(scratchDir('consult-agent-states'));
    bus = new EventBus();
    const repo = new RoutingRepo(store.db, store.write.bind(store));
    routing = new RoutingService({ repo, bus, logger, transfer: false, now: () => now });
    routing.configure({ groups: GROUPS, agents: [agent('ann'), agent('bob')] });
    presence = new AgentPresence({ routing, choices: repo, bus, logger, clock, policy: () => ({ wrapUpMs: WRAP_UP_MS, maxNoAnswers: 0 }) });
    consults = new ConsultCalls({
      sip,
      agents: presence,
      agentIds: () => ['ann', 'bob'],
      contactsOf: (id) => [
        { contact: `sip:${id}@${PHONES[id]!.address}:5062`, target: { transport: 'udp', address: PHONES[id]!.address, port: 5062 } },
      ],
      boxHosts: ['192.0.2.10'],
      agentSink: () => undefined,
      logger,
      ringTimeoutMs: 5000,
    });
  });
  afterEach(() => {
    consults.close();
    presence.close();
    routing.close();
    store.close();
  });

  /** ann on the caller's call c1 consults bob (k1), who answers. */
  const consulting = async () => {
    presence.registrationChanged({ agentId: 'ann', contacts: 1, reason: 'registered' });
    presence.registrationChanged({ agentId: 'bob', contacts: 1, reason: 'registered' });
    presence.offer('ann', 'c1');
    presence.answered('ann', 'c1');
    const claimed = consults.claim({
      callId: 'k1',
      mode: 'call',
      pii: { from: '<sip:ann@10.0.0.5>', to: '<sip:bob@192.0.2.10>' },
    } as never);
    expect(claimed).toBe(true);
    placed[0]!.settle({ type: 'answered', call: { id: 'bob-leg-1' } } as never);
    await new Promise((r) => setImmediate(r));
    expect(presence.view('bob')).toMatchObject({ state: 'on-call', callId: 'k1' });
    expect(presence.view('ann')).toMatchObject({ state: 'on-call', callId: 'c1' });
  };

  it('the caller hanging up while ann consults bob keeps ann busy on the consult; its end starts her wrap-up', async () => {
    await consulting();
    // the caller hangs up: the box ends ann's ACD leg
    ended('c1');
    expect(presence.view('ann')).toMatchObject({ state: 'on-call', callId: 'k1' });
    expect(routing.agentList().find((a) => a.id === 'ann')!.state).toBe('busy');
    advance(WRAP_UP_MS * 3);
    expect(presence.view('ann')?.state).toBe('on-call'); // never available while talking to bob
    // bob hangs up the consult: ann's consult call ends too, both wrap up
    ended('bob-leg-1');
    expect(presence.view('ann')).toMatchObject({ state: 'wrap-up', callId: null });
    expect(presence.view('bob')).toMatchObject({ state: 'wrap-up', callId: null });
    advance(WRAP_UP_MS);
    expect(presence.view('ann')?.state).toBe('available');
  });

  it('ann hanging up the consult first, then the caller: wrap-up once, at the caller’s end', async () => {
    await consulting();
    ended('k1');
    expect(presence.view('ann')).toMatchObject({ state: 'on-call', callId: 'c1' });
    expect(presence.view('bob')?.state).toBe('wrap-up');
    ended('c1');
    expect(presence.view('ann')?.state).toBe('wrap-up');
  });

  it('the hand-over (REFER with Replaces) ends ann’s consult first: her release wraps her up, bob is on the caller’s call', async () => {
    await consulting();
    expect(consults.take({ callId: 'k1@ann', toTag: 'box', fromTag: 'ann' }, 'ann', 'c1')).toEqual({
      agentId: 'bob',
      agentCallId: 'bob-leg-1',
    });
    presence.legEnded('ann', 'c1'); // the ACD releases her leg
    expect(presence.view('ann')).toMatchObject({ state: 'wrap-up', callId: null });
    expect(presence.view('bob')).toMatchObject({ state: 'on-call', callId: 'c1' });
  });

  it('the caller and the consult end at once, whichever event comes first: nobody is left on a call', async () => {
    await consulting();
    ended('c1');
    ended('k1');
    expect(presence.view('ann')?.state).toBe('wrap-up');
    expect(presence.view('bob')?.state).toBe('wrap-up');
  });
});
