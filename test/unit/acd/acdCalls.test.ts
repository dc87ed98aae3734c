/**
 * The ACD's orchestration of one caller, with the SIP server, routing and the prompt store replaced
 * by recorders (the end-to-end test with real phones is test/e2e/acd/acd-call.test.ts): what is
 * played, who is rung, what is bridged, which KPI facts and agent-state calls result.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AcdCalls, type AcdTelephony } from '../../../appliance/acd/acdCalls.js';
import type { AcdFactSink } from '../../../appliance/acd/kpis.js';
import type { QueueState } from '../../../appliance/acd/queuePolicy.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { TypedEmitter } from '../../../appliance/events/typedEmitter.js';
import type { SkillGroup } from '../../../appliance/routing/types.js';
import type { OutboundOutcome } from '../../../appliance/telephony/outbound.js';
import type { TelephonyEvents } from '../../../appliance/telephony/types.js';
import { createLogger } from '../../../appliance/log/logger.js';

const GROUP: SkillGroup = {
  id: 'cards',
  name: 'Cards',
  intents: [],
  adjacent: [],
  overflow: { maxWaitMs: 600_000, action: 'none' },
};

interface FakeLeg {
  id: string;
  target: string;
  cancelled: boolean;
  settle: (o: OutboundOutcome) => void;
}

function harness(
  opts: {
    groups?: SkillGroup[];
    contacts?: string[];
    routeTimeoutMs?: number;
    maxWaitDueInMs?: number;
    callbackOfferMs?: number;
    /** none: no callback store; fail: its request throws. */
    callbackStore?: 'ok' | 'none' | 'fail';
  } = {},
) {
  const events = new TypedEmitter<TelephonyEvents>();
  const listeners: ((e: ApplianceEvent) => void)[] = [];
  const sent: { callId: string; frames: number }[] = [];
  const played: string[] = [];
  const placed: FakeLeg[] = [];
  const bridged: [string, string][] = [];
  const hungUp: string[] = [];
  const facts: string[] = [];
  const agentCalls: string[] = [];
  const requeued: string[] = [];
  const defaultRouted: string[] = [];
  const callbacks: { callId: string; groupId: string; numberUri: string }[] = [];
  /** Callback offers as kept for the KPIs: `<callId> <groupId> <answer or open>`. */
  const offers: string[] = [];
  /** The place in the queue each kept request got. */
  const queuedAts: (number | undefined)[] = [];
  const queue = new Map<string, string>(); // callId → groupId
  const queuedAt = new Map<string, number>();
  const groups = opts.groups ?? [GROUP];
  let n = 0;
  const legs = new Map<string, { rtp: { sendPayload: () => void; isClosed: boolean }; info: { codec: 'PCMU' } }>();
  const sip: AcdTelephony = {
    events,
    placeCall: (o) => {
      const id = `agent-call-${++n}`;
      let settle: (x: OutboundOutcome) => void = () => {};
      const result = new Promise<OutboundOutcome>((r) => (settle = r));
      const leg: FakeLeg = { id, target: 'contact' in o.target ? o.target.contact : o.target.uri, cancelled: false, settle };
      placed.push(leg);
      return {
        id,
        result,
        cancel: () => {
          leg.cancelled = true;
          settle({ type: 'failed', reason: 'cancelled', status: 487, error: new Error('cancelled') as never });
        },
      } as never;
    },
    bridge: (a, b) => {
      bridged.push([a, b]);
      return {
        close: () => undefined,
        stats: () => ({ transcoding: false, delay: { samples: 3, p50Ms: 0.03, p95Ms: 0.1, maxMs: 0.2 } }),
      } as never;
    },
    hangup: async (callId) => {
      hungUp.push(callId);
      events.emit('call.ended', { callId } as never);
    },
    transfer: async () => 202,
    leg: (callId) => {
      let leg = legs.get(callId);
      if (leg === undefined) {
        const entry = { callId, frames: 0 };
        sent.push(entry);
        leg = { rtp: { sendPayload: () => void entry.frames++, isClosed: false }, info: { codec: 'PCMU' } };
        legs.set(callId, leg);
      }
      return leg as never;
    },
  };
  const sink: AcdFactSink = {
    offered: (c, g) => facts.push(`offered ${c} ${g}`),
    answered: (c, a) => facts.push(`answered ${c} ${a}`),
    abandoned: (c) => facts.push(`abandoned ${c}`),
    overflowed: (c, g) => facts.push(`overflowed ${c} ${g}`),
    dequeued: (c) => facts.push(`dequeued ${c}`),
    held: (c) => facts.push(`held ${c}`),
    resumed: (c) => facts.push(`resumed ${c}`),
    talkEnded: (c) => facts.push(`talk-ended ${c}`),
    wrapUpEnded: () => undefined,
    agentState: () => undefined,
    agentGroups: () => undefined,
  };
  const state = (): QueueState => {
    const waiting = new Map<string, number>();
    for (const g of queue.values()) waiting.set(g, (waiting.get(g) ?? 0) + 1);
    return { groups, waiting, nowMs: Date.now(), timeZone: 'UTC', serviceLevelS: 20 };
  };
  const acd = new AcdCalls({
    sip,
    routing: {
      now: () => Date.now(),
      groupList: () => groups,
      requeue: (c) => {
        requeued.push(c.callId);
        queue.set(c.callId, c.groupId);
      },
      removeFromQueue: (callId) => queue.delete(callId),
      isRouted: (callId) => defaultRouted.includes(callId),
      route: (req) => {
        defaultRouted.push(req.callId);
        return {} as never;
      },
    },
    bus: {
      subscribe: (l) => {
        listeners.push(l);
        return () => listeners.splice(listeners.indexOf(l), 1);
      },
    },
    agents: {
      answered: (a, c) => agentCalls.push(`answered ${a} ${c}`),
      noAnswer: (a, c) => agentCalls.push(`no-answer ${a} ${c}`),
      offerFailed: (a, c) => agentCalls.push(`offer-failed ${a} ${c}`),
      held: (a, c, h) => agentCalls.push(`held ${a} ${c} ${h}`),
    },
    contactsOf: () =>
      (opts.contacts ?? ['sip:alice@10.0.0.5:5062']).map((contact) => ({
        contact,
        target: { transport: 'udp', address: '10.0.0.5', port: 5062 },
      })),
    facts: sink,
    queues: {
      state,
      view: (callId, visited) =>
        queue.has(callId)
          ? {
              callId,
              groupId: queue.get(callId)!,
              position: 1,
              expectedWaitMs: null,
              announceIntervalMs: 30_000,
              maxWaitDueAt: opts.maxWaitDueInMs === undefined ? null : queuedAt.get(callId)! + opts.maxWaitDueInMs,
              groupEnqueuedAt: opts.maxWaitDueInMs === undefined ? Date.now() : queuedAt.get(callId)! - 10_000,
              visited: visited ?? [],
            }
          : null,
    },
    prompt: async (_lang, name) => {
      played.push(name);
      return new Int16Array(name === 'hold-music' ? 1600 : 160); // 200 ms of music, 20 ms prompts
    },
    agentSink: () => undefined,
    ...(opts.callbackStore === 'none'
      ? {}
      : {
          callbacks: {
            request: (callId: string, groupId: string, numberUri: string, queuedAt?: number) => {
              if (opts.callbackStore === 'fail') throw Object.assign(new Error('disk full'), { code: 'EVX_ERR_STORE_WRITE' });
              callbacks.push({ callId, groupId, numberUri });
              queuedAts.push(queuedAt);
            },
            offered: (callId: string, groupId: string) => offers.push(`${callId} ${groupId} open`) - 1,
            offerAnswered: (offerId: number | null, answer: string) => {
              if (offerId !== null) offers[offerId] = offers[offerId]!.replace(/ open$/, ` ${answer}`);
            },
          },
        }),
    logger: createLogger({ level: 'silent', includePii: false }),
    now: () => Date.now(),
    options: {
      ringTimeoutMs: 5000,
      routeTimeoutMs: opts.routeTimeoutMs ?? 60_000,
      lang: 'en',
      callbackOfferMs: opts.callbackOfferMs ?? 5000,
    },
  });
  const publish = (e: Partial<ApplianceEvent> & { type: 'route.decision' }) => {
    if (e.action === 'queue' && e.groupId) {
      queue.set(e.callId!, e.groupId);
      queuedAt.set(e.callId!, Date.now());
    }
    if (e.action === 'agent') queue.delete(e.callId!);
    for (const l of [...listeners])
      l({
        at: Date.now(),
        decisionId: 1,
        trigger: 'utterance',
        requestedGroupId: e.groupId ?? null,
        priority: 0,
        needsSenior: false,
        estimatedWaitMs: null,
        overflow: null,
        reasons: [],
        summary: '',
        latencyMs: null,
        decideMs: 0,
        agentId: null,
        groupId: null,
        ...e,
      } as ApplianceEvent);
  };
  const start = (callId: string, mode: 'call' | 'siprec' = 'call', from = '"Ann" <sip:+4930123456@trunk.example;user=phone>;tag=a1') =>
    events.emit('call.started', { callId, mode, pii: { from, to: '<sip:service@box>', remoteAddress: '192.0.2.1' } } as never);
  const dtmf = (callId: string, digit: string) =>
    events.emit('dtmf', { callId, legId: 'leg0', digit, durationMs: 100, source: 'rfc4733' } as never);
  return {
    acd,
    events,
    publish,
    start,
    dtmf,
    sent,
    played,
    placed,
    bridged,
    hungUp,
    facts,
    agentCalls,
    requeued,
    queue,
    defaultRouted,
    callbacks,
    offers,
    queuedAts,
  };
}

const until = async (cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('ACD orchestration of a call', () => {
  let open: AcdCalls[] = [];
  afterEach(() => {
    for (const a of open) a.close();
    open = [];
  });

  it('greets, queues with music, rings every registered phone of the agent, bridges the first to answer and cancels the rest', async () => {
    const h = harness({ contacts: ['sip:alice@10.0.0.5:5062', 'sip:alice@10.0.0.6:5062'] });
    open.push(h.acd);
    const bridgeEnded: unknown[] = [];
    const settled: string[] = [];
    h.acd.events.on('bridge.ended', (e) => bridgeEnded.push(e));
    h.acd.events.on('offer.settled', (e) => settled.push(e.outcome));
    h.start('c1');
    await until(() => h.played.includes('greeting'));
    h.publish({ type: 'route.decision', callId: 'c1', action: 'queue', groupId: 'cards' });
    expect(h.facts).toEqual(['offered c1 cards']);
    await until(() => h.played.includes('hold-music'));
    expect(h.played.slice(0, 3)).toEqual(['greeting', 'position-1', 'hold-music']);
    h.publish({ type: 'route.decision', callId: 'c1', action: 'agent', groupId: 'cards', agentId: 'alice', trigger: 'dequeue' });
    expect(h.placed.map((l) => l.target)).toEqual(['sip:alice@10.0.0.5:5062', 'sip:alice@10.0.0.6:5062']);
    expect(h.acd.phases()).toEqual({ c1: 'offering' });
    h.placed[1]!.settle({ type: 'answered', call: {} as never });
    await until(() => h.bridged.length === 1);
    expect(h.bridged).toEqual([['c1', 'agent-call-2']]);
    expect(h.placed[0]!.cancelled).toBe(true);
    expect(h.facts).toEqual(['offered c1 cards', 'answered c1 alice']);
    expect(h.agentCalls).toEqual(['answered alice c1']);
    expect(h.acd.phases()).toEqual({ c1: 'bridged' });
    expect(h.sent[0]!.frames).toBeGreaterThan(0); // the caller heard the prompts and music

    // the agent hangs up: the caller's leg goes too, talk ends once
    h.events.emit('call.ended', { callId: 'agent-call-2' } as never);
    await until(() => h.acd.size === 0);
    expect(h.hungUp).toEqual(['c1']);
    expect(h.facts).toEqual(['offered c1 cards', 'answered c1 alice', 'talk-ended c1']);
    expect(bridgeEnded).toEqual([{ callId: 'c1', delay: { samples: 3, p50Ms: 0.03, p95Ms: 0.1, maxMs: 0.2 }, transcoding: false }]);
    expect(settled).toEqual(['answered']);
  });

  it('an agent who lets it ring is reported no-answer and the caller waits again in its old place; a caller hanging up while queued is an abandon', async () => {
    const h = harness();
    open.push(h.acd);
    h.start('c2');
    h.publish({ type: 'route.decision', callId: 'c2', action: 'agent', groupId: 'cards', agentId: 'alice' });
    expect(h.facts).toEqual(['offered c2 cards']);
    h.placed[0]!.settle({ type: 'failed', reason: 'ring_timeout', status: 487, error: new Error('x') as never });
    await until(() => h.requeued.length === 1);
    expect(h.agentCalls).toEqual(['no-answer alice c2']);
    expect(h.acd.phases()).toEqual({ c2: 'queued' });
    // waiting again: its place is announced (routing has it back before the announcer looks)
    await until(() => h.played.includes('position-1'));
    h.events.emit('call.ended', { callId: 'c2' } as never);
    expect(h.facts).toEqual(['offered c2 cards', 'abandoned c2']);
    expect(h.acd.size).toBe(0);
  });

  it('an agent with no registered phone is offer-failed; a busy 486 counts as not answered', async () => {
    const h = harness({ contacts: [] });
    open.push(h.acd);
    h.start('c3');
    h.publish({ type: 'route.decision', callId: 'c3', action: 'agent', groupId: 'cards', agentId: 'bob' });
    expect(h.agentCalls).toEqual(['offer-failed bob c3']);
    expect(h.requeued).toEqual(['c3']);

    const busy = harness();
    open.push(busy.acd);
    busy.start('c4');
    busy.publish({ type: 'route.decision', callId: 'c4', action: 'agent', groupId: 'cards', agentId: 'alice' });
    busy.placed[0]!.settle({ type: 'failed', reason: 'rejected', status: 486, error: new Error('x') as never });
    await until(() => busy.agentCalls.length === 1);
    expect(busy.agentCalls).toEqual(['no-answer alice c4']);
  });

  it('a closed queue plays the closed prompt and hangs up; the call is not queued and not counted as abandoned', async () => {
    const closed: SkillGroup = { ...GROUP, queue: { hours: { weekly: {} } } };
    const h = harness({ groups: [closed] });
    open.push(h.acd);
    h.start('c5');
    h.publish({ type: 'route.decision', callId: 'c5', action: 'queue', groupId: 'cards' });
    await until(() => h.hungUp.includes('c5'));
    expect(h.played).toEqual(['greeting', 'closed']);
    expect(h.queue.has('c5')).toBe(false);
    expect(h.facts).toEqual([]);
  });

  it('routes a caller who says nothing routable to the default group once the route timeout after the greeting passes', async () => {
    const h = harness({ routeTimeoutMs: 50 });
    open.push(h.acd);
    h.start('quiet');
    h.start('talker');
    await until(() => h.played.filter((p) => p === 'greeting').length === 2);
    h.publish({ type: 'route.decision', callId: 'talker', action: 'queue', groupId: 'cards' });
    await until(() => h.defaultRouted.length === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(h.defaultRouted).toEqual(['quiet']);
  });

  it('a closed group takes no call even when routing found a free agent: the agent is not rung and is freed, the caller hears closed', async () => {
    const closed: SkillGroup = { ...GROUP, queue: { hours: { weekly: {} } } };
    const h = harness({ groups: [closed] });
    open.push(h.acd);
    h.start('c6');
    h.publish({ type: 'route.decision', callId: 'c6', action: 'agent', groupId: 'cards', agentId: 'alice' });
    await until(() => h.hungUp.includes('c6'));
    expect(h.placed).toEqual([]);
    expect(h.agentCalls).toEqual(['offer-failed alice c6']);
    expect(h.played).toEqual(['greeting', 'closed']);
    expect(h.facts).toEqual([]);
  });

  it('a queued call the box ends itself (longest wait, message) leaves the KPI queue as dequeued, not abandoned', async () => {
    const limited: SkillGroup = { ...GROUP, queue: { maxWaitS: 10, maxWaitAction: 'message' } };
    const h = harness({ groups: [limited], maxWaitDueInMs: 30 });
    open.push(h.acd);
    h.start('c7');
    h.publish({ type: 'route.decision', callId: 'c7', action: 'queue', groupId: 'cards' });
    await until(() => h.hungUp.includes('c7'));
    expect(h.facts).toEqual(['offered c7 cards', 'dequeued c7']);
    expect(h.played).toContain('all-busy');
    expect(h.queue.has('c7')).toBe(false);
  });

  it('SIPREC sessions are never answered with media, queued or rung', async () => {
    const h = harness();
    open.push(h.acd);
    h.start('rec1', 'siprec');
    h.publish({ type: 'route.decision', callId: 'rec1', action: 'agent', groupId: 'cards', agentId: 'alice' });
    await new Promise((r) => setTimeout(r, 30));
    expect(h.played).toEqual([]);
    expect(h.placed).toEqual([]);
    expect(h.acd.size).toBe(0);
  });
  describe('callback offer', () => {
    const CALLER = 'sip:+4930123456@trunk.example;user=phone';

    it('a caller who presses 1 at the longest-wait callback offer is kept for a callback, hears the confirmation and is hung up; the call is dequeued, not abandoned', async () => {
      const limited: SkillGroup = { ...GROUP, queue: { maxWaitS: 10, maxWaitAction: 'callback' } };
      const h = harness({ groups: [limited], maxWaitDueInMs: 30 });
      open.push(h.acd);
      const requested: unknown[] = [];
      const refused: string[] = [];
      h.acd.events.on('callback.requested', (e) => requested.push(e));
      h.acd.events.on('call.refused', (e) => refused.push(e.reason));
      h.start('cb1');
      h.dtmf('cb1', '1'); // during the greeting: nothing is offered yet
      h.publish({ type: 'route.decision', callId: 'cb1', action: 'queue', groupId: 'cards' });
      await until(() => h.played.includes('callback-offer'));
      expect(h.acd.phases()).toEqual({ cb1: 'callback-offer' });
      expect(h.queue.has('cb1')).toBe(false);
      expect(h.callbacks).toEqual([]);
      h.dtmf('cb1', '1');
      await until(() => h.hungUp.includes('cb1'));
      expect(h.callbacks).toEqual([{ callId: 'cb1', groupId: 'cards', numberUri: CALLER }]);
      expect(h.offers).toEqual(['cb1 cards accepted']);
      // the request keeps the caller's place: when it first queued
      expect(h.queuedAts).toEqual([expect.any(Number)]);
      expect(h.queuedAts[0]).toBeLessThanOrEqual(Date.now());
      expect(h.played.slice(-2)).toEqual(['callback-offer', 'callback-confirmed']);
      expect(h.facts).toEqual(['offered cb1 cards', 'dequeued cb1']);
      expect(requested).toEqual([{ callId: 'cb1', groupId: 'cards' }]);
      expect(refused).toEqual(['max-wait']);
      expect(h.acd.size).toBe(0);
    });

    it('no key within acd.callbackOfferS: no request, goodbye and hang-up (a closed group offering a callback plays closed, then the offer)', async () => {
      const closed: SkillGroup = { ...GROUP, queue: { hours: { weekly: {} }, whenClosed: 'callback' } };
      const h = harness({ groups: [closed], callbackOfferMs: 50 });
      open.push(h.acd);
      h.start('cb2');
      h.publish({ type: 'route.decision', callId: 'cb2', action: 'queue', groupId: 'cards' });
      await until(() => h.hungUp.includes('cb2'));
      expect(h.played).toEqual(['greeting', 'closed', 'callback-offer', 'goodbye']);
      expect(h.callbacks).toEqual([]);
      expect(h.offers).toEqual(['cb2 cards none']);
      expect(h.facts).toEqual([]);
      // a key after the offer was settled changes nothing
      h.dtmf('cb2', '1');
      expect(h.callbacks).toEqual([]);
    });

    it('any other key declines: no request, goodbye and hang-up (routing offered the callback); keys of calls not at an offer are ignored', async () => {
      const h = harness();
      open.push(h.acd);
      h.start('cb3');
      h.start('other');
      h.publish({ type: 'route.decision', callId: 'other', action: 'queue', groupId: 'cards' });
      h.publish({ type: 'route.decision', callId: 'cb3', action: 'callback', groupId: 'cards' });
      await until(() => h.played.includes('callback-offer'));
      h.dtmf('other', '1');
      h.dtmf('cb3', '2');
      await until(() => h.hungUp.includes('cb3'));
      expect(h.played.filter((p) => p === 'goodbye')).toHaveLength(1);
      expect(h.played).not.toContain('callback-confirmed');
      expect(h.callbacks).toEqual([]);
      expect(h.offers).toEqual(['cb3 cards declined']);
      expect(h.acd.phases()).toEqual({ other: 'queued' });
    });

    it('an anonymous caller is not offered a callback: the message of the case plays instead', async () => {
      const closed: SkillGroup = { ...GROUP, queue: { hours: { weekly: {} }, whenClosed: 'callback' } };
      const h = harness({ groups: [closed] });
      open.push(h.acd);
      h.start('anon1', 'call', '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=x');
      h.publish({ type: 'route.decision', callId: 'anon1', action: 'queue', groupId: 'cards' });
      await until(() => h.hungUp.includes('anon1'));
      expect(h.played).toEqual(['greeting', 'closed']);

      const busy = harness();
      open.push(busy.acd);
      busy.start('anon2', 'call', '<sip:trunk.example>;tag=y'); // no user part: no number
      busy.publish({ type: 'route.decision', callId: 'anon2', action: 'callback', groupId: 'cards' });
      await until(() => busy.hungUp.includes('anon2'));
      expect(busy.played).toEqual(['greeting', 'all-busy']);
      busy.dtmf('anon2', '1');
      expect(busy.callbacks).toEqual([]);
    });

    it('a full queue whose overflow is callback offers one; without a callback store it plays queue-full', async () => {
      const full: SkillGroup = { ...GROUP, queue: { maxQueued: 1 }, overflow: { maxWaitMs: 600_000, action: 'callback' } };
      const h = harness({ groups: [full] });
      open.push(h.acd);
      h.start('first');
      h.publish({ type: 'route.decision', callId: 'first', action: 'queue', groupId: 'cards' });
      h.start('cb4');
      h.publish({ type: 'route.decision', callId: 'cb4', action: 'queue', groupId: 'cards' });
      await until(() => h.played.includes('callback-offer'));
      h.dtmf('cb4', '1');
      await until(() => h.hungUp.includes('cb4'));
      expect(h.callbacks).toEqual([{ callId: 'cb4', groupId: 'cards', numberUri: CALLER }]);

      const bare = harness({ groups: [full], callbackStore: 'none' });
      open.push(bare.acd);
      bare.start('first');
      bare.publish({ type: 'route.decision', callId: 'first', action: 'queue', groupId: 'cards' });
      bare.start('cb5');
      bare.publish({ type: 'route.decision', callId: 'cb5', action: 'queue', groupId: 'cards' });
      await until(() => bare.hungUp.includes('cb5'));
      expect(bare.played).toContain('queue-full');
      expect(bare.played).not.toContain('callback-offer');
    });

    it('a request the store cannot keep is not confirmed: the caller hears all-busy', async () => {
      const h = harness({ callbackStore: 'fail' });
      open.push(h.acd);
      const requested: unknown[] = [];
      h.acd.events.on('callback.requested', (e) => requested.push(e));
      h.start('cb6');
      h.publish({ type: 'route.decision', callId: 'cb6', action: 'callback', groupId: 'cards' });
      await until(() => h.played.includes('callback-offer'));
      h.dtmf('cb6', '1');
      await until(() => h.hungUp.includes('cb6'));
      expect(h.played.slice(-1)).toEqual(['all-busy']);
      expect(requested).toEqual([]);
    });

    it('a caller who hangs up at the offer is not an abandon and leaves no request', async () => {
      const limited: SkillGroup = { ...GROUP, queue: { maxWaitS: 10, maxWaitAction: 'callback' } };
      const h = harness({ groups: [limited], maxWaitDueInMs: 30, callbackOfferMs: 30 });
      open.push(h.acd);
      h.start('cb7');
      h.publish({ type: 'route.decision', callId: 'cb7', action: 'queue', groupId: 'cards' });
      await until(() => h.played.includes('callback-offer'));
      h.events.emit('call.ended', { callId: 'cb7' } as never);
      await new Promise((r) => setTimeout(r, 80));
      expect(h.facts).toEqual(['offered cb7 cards', 'dequeued cb7']);
      expect(h.callbacks).toEqual([]);
      expect(h.hungUp).toEqual([]);
      expect(h.acd.size).toBe(0);
    });
  });
});
