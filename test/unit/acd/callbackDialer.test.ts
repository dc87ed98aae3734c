/**
 * Placing callbacks (acd/callbackDialer.ts) over a real store (the requests' states are the
 * contract: never lost, never placed twice) with fake telephony, routing and trunk: agent first in
 * the caller's place, then the customer; retries with backoff, then closed; refusals; cancelling;
 * the agent giving up; a restart in the middle.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CallbackDialer, type CallbackDialerOptions } from '../../../appliance/acd/callbackDialer.js';
import { CallbackRepo } from '../../../appliance/acd/callbackRepo.js';
import { Callbacks } from '../../../appliance/acd/callbacks.js';
import { evxError } from '../../../appliance/errors.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { TypedEmitter } from '../../../appliance/events/typedEmitter.js';
import { createLogger } from '../../../appliance/log/logger.js';
import { SecretBox } from '../../../appliance/privacy/secrets.js';
import { Store } from '../../../appliance/store/database.js';
import type { OutboundCall, OutboundOutcome } from '../../../appliance/telephony/outbound.js';
import type { TelephonyEvents } from '../../../appliance/telephony/types.js';

const NUMBER = 'sip:+4930123456@trunk.example;user=phone';
const KEY = Buffer.alloc(32, 7);

/** A placed call the test answers or fails. */
interface FakeCall {
  readonly id: string;
  readonly kind: 'agent' | 'customer';
  readonly number: string | null;
  cancelled: boolean;
  settle(o: 'answered' | { reason: string; status?: number }): void;
}

const OPTIONS: CallbackDialerOptions = {
  ringTimeoutMs: 1000,
  customerRingTimeoutMs: 1000,
  maxAttempts: 2,
  retryMs: 60_000,
  maxRetryMs: 600_000,
  maxQueued: 5,
  pollMs: 3_600_000,
  lang: 'en',
  trunk: '',
};

const dirs: string[] = [];
const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function rig(
  dir = mkdtempSync(path.join(tmpdir(), 'evx-cbdial-')),
  opts: {
    refuse?: string;
    noPhone?: boolean;
    answerRefused?: boolean;
    /** Callbacks methods whose store write fails (disk full) when the dialler calls them. */
    failStore?: readonly string[];
  } = {},
) {
  if (!dirs.includes(dir)) dirs.push(dir);
  const clock = { t: 1_000_000 };
  const store = Store.open(dir);
  const subs = new Set<(e: ApplianceEvent) => void>();
  const published: ApplianceEvent[] = [];
  const bus = {
    publish: (e: ApplianceEvent) => {
      published.push(e);
      for (const s of [...subs]) s(e);
    },
    subscribe: (fn: (e: ApplianceEvent) => void) => {
      subs.add(fn);
      return () => subs.delete(fn);
    },
  };
  const callbacks = new Callbacks({
    repo: new CallbackRepo(store.db, store.write.bind(store)),
    box: SecretBox.fromKey(KEY),
    bus,
    now: () => clock.t,
  });
  const queued: { callId: string; groupId: string; enqueuedAt: number }[] = [];
  const removed: string[] = [];
  const agentReports: string[] = [];
  const calls: FakeCall[] = [];
  const hungUp: string[] = [];
  const bridged: string[] = [];
  const interactions: string[] = [];
  const sipEvents = new TypedEmitter<TelephonyEvents>();
  let n = 0;
  const place = (kind: 'agent' | 'customer', number: string | null): OutboundCall => {
    const id = `${kind}-${++n}`;
    let resolve!: (o: OutboundOutcome) => void;
    const result = new Promise<OutboundOutcome>((r) => (resolve = r));
    const fake: FakeCall = {
      id,
      kind,
      number,
      cancelled: false,
      settle: (o) =>
        resolve(
          o === 'answered'
            ? ({ type: 'answered', call: { id } } as never)
            : ({ type: 'failed', reason: o.reason, status: o.status, error: evxError('EVX_ERR_INTERNAL', 'x') } as never),
        ),
    };
    calls.push(fake);
    return {
      id,
      result,
      cancel: () => {
        fake.cancelled = true;
        fake.settle({ reason: 'cancelled', status: 487 });
        return result;
      },
    } as unknown as OutboundCall;
  };
  // what the dialler sees of the requests: the store's writes fail for the methods in failStore
  const dialerCallbacks = new Proxy(callbacks, {
    get: (target, name, receiver) => {
      const v: unknown = Reflect.get(target, name, receiver);
      if (typeof v !== 'function') return v;
      if (opts.failStore?.includes(String(name)) === true)
        return () => {
          throw evxError('EVX_ERR_STORE_WRITE', 'store write failed: SQLITE_FULL');
        };
      return (v as (...args: unknown[]) => unknown).bind(target);
    },
  });
  const dialer = new CallbackDialer({
    callbacks: dialerCallbacks,
    routing: {
      now: () => clock.t,
      requeue: (c, enqueuedAt) => queued.push({ callId: c.callId, groupId: c.groupId, enqueuedAt }),
      removeFromQueue: (callId) => (removed.push(callId), true),
    },
    bus,
    agents: {
      answered: (a, c) => {
        // the agent's state no longer rings (their last phone unregistered meanwhile)
        if (opts.answerRefused === true) throw evxError('EVX_ERR_AGENT_STATE', 'not ringing');
        agentReports.push(`answered ${a} ${c}`);
      },
      noAnswer: (a, c) => agentReports.push(`no-answer ${a} ${c}`),
      offerFailed: (a, c) => agentReports.push(`offer-failed ${a} ${c}`),
    },
    ringer: {
      placeCall: () => place('agent', null),
      hangup: async (id) => void hungUp.push(id),
      contactsOf: () =>
        opts.noPhone ? [] : [{ target: { transport: 'udp', address: '10.0.0.5', port: 5062 }, contact: 'sip:alice@10.0.0.5:5062' }],
      logger: createLogger({ level: 'silent', includePii: false }),
    },
    trunk: {
      place: (req) => {
        if (opts.refuse !== undefined) throw evxError('EVX_ERR_OUTBOUND_REFUSED', 'refused', { details: { reason: opts.refuse } });
        return place('customer', req.number);
      },
    },
    dialable: (uri) => /^sips?:(\+?\d+)@/.exec(uri)?.[1] ?? null,
    sip: {
      events: sipEvents,
      bridge: (a, b) => {
        bridged.push(`${a}<->${b}`);
        return { close: () => undefined } as never;
      },
      hangup: async (id) => void hungUp.push(id),
      leg: () => {
        throw new Error('no media in this test');
      },
    },
    interactions: {
      open: (id, meta) => interactions.push(`open ${id} ${meta.groupId}`),
      answered: (id) => interactions.push(`answered ${id}`),
      legSink: () => undefined,
      end: (id, reason) => interactions.push(`end ${id} ${reason}`),
    },
    prompt: async () => new Int16Array(160),
    logger: createLogger({ level: 'silent', includePii: false }),
    now: () => clock.t,
    options: OPTIONS,
  });
  const decide = (callId: string, agentId = 'alice') =>
    bus.publish({
      type: 'route.decision',
      at: clock.t,
      callId,
      decisionId: null,
      trigger: 'dequeue',
      action: 'agent',
      requestedGroupId: 'cards',
      groupId: 'cards',
      agentId,
      priority: 0,
      needsSenior: false,
      estimatedWaitMs: null,
      overflow: null,
      reasons: [],
      summary: '',
      latencyMs: null,
      decideMs: 0,
    });
  const close = () => {
    dialer.close();
    store.close();
  };
  closers.push(close);
  return {
    dir,
    clock,
    store,
    callbacks,
    dialer,
    queued,
    removed,
    agentReports,
    calls,
    hungUp,
    bridged,
    interactions,
    sipEvents,
    decide,
    published,
    close,
  };
}

const flush = () => new Promise((r) => setImmediate(r));
const settle = async (c: FakeCall | undefined, o: Parameters<FakeCall['settle']>[0]) => {
  c!.settle(o);
  await flush();
  await flush();
};

describe('CallbackDialer', () => {
  it('queues a due request in the caller’s place, rings the agent first, then dials the customer through the trunk and bridges them; done once the customer answered', async () => {
    const r = rig();
    const req = r.callbacks.request('c0', 'cards', NUMBER, 999_000);
    r.dialer.start();
    expect(r.queued).toEqual([{ callId: expect.any(String), groupId: 'cards', enqueuedAt: 999_000 }]);
    const callId = r.queued[0]!.callId;
    expect(r.interactions).toEqual([`open ${callId} cards`]);
    r.decide(callId);
    expect(r.calls.map((c) => c.kind)).toEqual(['agent']);
    expect(r.callbacks.get(req.id)?.state).toBe('pending'); // nothing dialled before the agent answers
    await settle(r.calls[0], 'answered');
    expect(r.agentReports).toEqual([`answered alice ${callId}`]);
    expect(r.callbacks.get(req.id)?.state).toBe('dialing');
    expect(r.calls.map((c) => `${c.kind} ${c.number}`)).toEqual(['agent null', 'customer +4930123456']);
    await settle(r.calls[1], 'answered');
    expect(r.callbacks.get(req.id)).toMatchObject({ state: 'done', attempts: 0 });
    expect(r.bridged).toEqual([`${r.calls[0]!.id}<->${r.calls[1]!.id}`]);
    expect(r.published.filter((e) => e.type === 'callback.completed')).toHaveLength(1);
    // the customer hangs up: the agent's leg and the interaction end
    r.sipEvents.emit('call.ended', { callId: r.calls[1]!.id } as never);
    expect(r.hungUp).toContain(r.calls[0]!.id);
    expect(r.interactions.at(-1)).toBe(`end ${callId} bye`);
    expect(r.dialer.size).toBe(0);
    // done is final: nothing is queued again
    await flush();
    expect(r.queued).toHaveLength(1);
    expect(JSON.stringify(r.published)).not.toMatch(/4930123456/);
  });

  it('an answer the agent state refuses still dials the customer and throws nowhere', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => void rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      const r = rig(undefined, { answerRefused: true });
      const req = r.callbacks.request('c0', 'cards', NUMBER, 999_000);
      r.dialer.start();
      r.decide(r.queued[0]!.callId);
      await settle(r.calls[0], 'answered');
      await flush();
      expect(rejections).toEqual([]);
      expect(r.callbacks.get(req.id)?.state).toBe('dialing');
      expect(r.calls.map((c) => `${c.kind} ${c.number}`)).toEqual(['agent null', 'customer +4930123456']);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  it('a store that fails its writes (disk full) ends or carries on the attempt and throws nowhere', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => void rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      // the agent answers but the request cannot be marked dialling: no customer call, the agent's leg and the attempt end
      const noDial = rig(undefined, { failStore: ['dialing'] });
      const a = noDial.callbacks.request('c0', 'cards', NUMBER, 1);
      noDial.dialer.start();
      const callId = noDial.queued[0]!.callId;
      noDial.decide(callId);
      await settle(noDial.calls[0], 'answered');
      expect(noDial.calls.map((c) => c.kind)).toEqual(['agent']);
      expect(noDial.hungUp).toContain(noDial.calls[0]!.id);
      expect(noDial.interactions).toContain(`end ${callId} error`);
      expect(noDial.callbacks.get(a.id)?.state).toBe('pending');

      // the customer answers but `done` cannot be stored: agent and customer are bridged all the same
      const noDone = rig(undefined, { failStore: ['completed'] });
      noDone.callbacks.request('c0', 'cards', NUMBER, 1);
      noDone.dialer.start();
      noDone.decide(noDone.queued[0]!.callId);
      await settle(noDone.calls[0], 'answered');
      await settle(noDone.calls[1], 'answered');
      expect(noDone.bridged).toEqual([`${noDone.calls[0]!.id}<->${noDone.calls[1]!.id}`]);
      expect(noDone.dialer.size).toBe(1);

      // the customer does not answer and the miss cannot be stored: the attempt ends
      const noMiss = rig(undefined, { failStore: ['attemptFailed'] });
      noMiss.callbacks.request('c0', 'cards', NUMBER, 1);
      noMiss.dialer.start();
      noMiss.decide(noMiss.queued[0]!.callId);
      await settle(noMiss.calls[0], 'answered');
      await settle(noMiss.calls[1], { reason: 'ring_timeout' });
      expect(noMiss.hungUp).toContain(noMiss.calls[0]!.id);
      expect(noMiss.dialer.size).toBe(0);
      await flush();
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  it('an agent who does not answer is reported and the callback waits again in its place; nothing counted against it', async () => {
    const r = rig();
    const req = r.callbacks.request('c0', 'cards', NUMBER, 999_000);
    r.dialer.start();
    const callId = r.queued[0]!.callId;
    r.decide(callId);
    await settle(r.calls[0], { reason: 'ring_timeout' });
    expect(r.agentReports).toEqual([`no-answer alice ${callId}`]);
    expect(r.queued).toHaveLength(2);
    expect(r.queued[1]).toEqual({ callId, groupId: 'cards', enqueuedAt: 999_000 });
    expect(r.callbacks.get(req.id)).toMatchObject({ state: 'pending', attempts: 0 });
    // an agent with no phone registered: offer-failed, and again in its place
    r.decide(callId, 'bob');
    await settle(r.calls[1], { reason: 'error' });
    expect(r.agentReports.at(-1)).toBe(`offer-failed bob ${callId}`);
    expect(r.queued).toHaveLength(3);
  });

  it('a customer who does not answer is called again after the backoff, then the request is closed failed with the reason', async () => {
    const r = rig();
    const req = r.callbacks.request('c0', 'cards', NUMBER, 999_000);
    r.dialer.start();
    r.decide(r.queued[0]!.callId);
    await settle(r.calls[0], 'answered');
    await settle(r.calls[1], { reason: 'ring_timeout' });
    expect(r.callbacks.get(req.id)).toMatchObject({
      state: 'pending',
      attempts: 1,
      reason: 'no-answer',
      nextAttemptAt: 1_000_000 + 60_000,
    });
    expect(r.hungUp).toContain(r.calls[0]!.id); // the agent's leg ends
    expect(r.interactions.at(-1)).toMatch(/ callback-no-answer$/);
    // not before its time
    await flush();
    expect(r.queued).toHaveLength(1);
    r.clock.t += 60_000;
    r.callbacks.request('c1', 'other', 'sip:+4930999999@trunk.example', 1); // any new request makes the dialler look
    await flush();
    const second = r.queued.find((q) => q.groupId === 'cards' && q.callId !== r.queued[0]!.callId)!;
    expect(second.enqueuedAt).toBe(999_000); // still the caller's place
    r.decide(second.callId);
    await settle(r.calls[2], 'answered');
    await settle(r.calls[3], { reason: 'rejected', status: 486 });
    expect(r.callbacks.get(req.id)).toMatchObject({ state: 'failed', attempts: 2, reason: 'busy' });
    expect(r.published.filter((e) => e.type === 'callback.failed')).toEqual([
      expect.objectContaining({ id: req.id, attempts: 2, reason: 'busy', groupId: 'cards' }),
    ]);
  });

  it('a number the trunk refuses closes the request at once; a trunk at its cap leaves it pending for later, no attempt counted', async () => {
    const refused = rig(undefined, { refuse: 'not-allowed' });
    const a = refused.callbacks.request('c0', 'cards', NUMBER, 1);
    refused.dialer.start();
    refused.decide(refused.queued[0]!.callId);
    await settle(refused.calls[0], 'answered');
    expect(refused.callbacks.get(a.id)).toMatchObject({ state: 'failed', reason: 'not-allowed', attempts: 0 });
    expect(refused.hungUp).toContain(refused.calls[0]!.id);

    const capped = rig(undefined, { refuse: 'hourly-cap' });
    const b = capped.callbacks.request('c0', 'cards', NUMBER, 1);
    capped.dialer.start();
    capped.decide(capped.queued[0]!.callId);
    await settle(capped.calls[0], 'answered');
    expect(capped.callbacks.get(b.id)).toMatchObject({
      state: 'pending',
      reason: 'hourly-cap',
      attempts: 0,
      nextAttemptAt: 1_000_000 + 60_000,
    });
  });

  it('a request cancelled while it waits leaves the queue; the agent giving up while the customer rings cancels that call and leaves it pending', async () => {
    const r = rig();
    const a = r.callbacks.request('c0', 'cards', NUMBER, 1);
    r.dialer.start();
    const callId = r.queued[0]!.callId;
    r.callbacks.cancel(a.id);
    expect(r.removed).toEqual([callId]);
    expect(r.interactions.at(-1)).toBe(`end ${callId} cancelled`);
    expect(r.dialer.size).toBe(0);

    const b = r.callbacks.request('c1', 'cards', NUMBER, 2);
    await flush();
    const second = r.queued.at(-1)!.callId;
    r.decide(second);
    await settle(r.calls[0], 'answered');
    expect(r.calls[1]?.kind).toBe('customer');
    r.sipEvents.emit('call.ended', { callId: r.calls[0]!.id } as never);
    expect(r.calls[1]!.cancelled).toBe(true);
    expect(r.callbacks.get(b.id)).toMatchObject({ state: 'pending', attempts: 0, reason: 'agent-hung-up' });
  });

  it('a restart mid-dial neither loses nor repeats the callback: dialling goes back to pending, done stays done', async () => {
    const first = rig();
    const a = first.callbacks.request('c0', 'cards', NUMBER, 1);
    const b = first.callbacks.request('c1', 'cards', 'sip:+4930777777@trunk.example', 2);
    first.dialer.start();
    const [qa, qb] = first.queued;
    first.decide(qa!.callId);
    first.decide(qb!.callId, 'bob');
    await settle(first.calls[0], 'answered'); // a: agent answered, customer ringing
    await settle(first.calls[1], 'answered'); // b: agent answered
    await settle(first.calls[3], 'answered'); // b: customer answered
    expect(first.callbacks.get(a.id)?.state).toBe('dialing');
    expect(first.callbacks.get(b.id)?.state).toBe('done');
    first.close(); // the box stops (the store is left as it was)

    const second = rig(first.dir);
    second.dialer.start();
    expect(second.callbacks.get(a.id)).toMatchObject({ state: 'pending', attempts: 0, reason: 'restart' });
    expect(second.callbacks.get(b.id)?.state).toBe('done');
    expect(second.queued).toEqual([{ callId: expect.any(String), groupId: 'cards', enqueuedAt: 1 }]);
    second.decide(second.queued[0]!.callId);
    await settle(second.calls[0], 'answered');
    await settle(second.calls[1], 'answered');
    expect(second.callbacks.get(a.id)?.state).toBe('done');
    expect(second.calls.filter((c) => c.kind === 'customer').map((c) => c.number)).toEqual(['+4930123456']);
  });
});
