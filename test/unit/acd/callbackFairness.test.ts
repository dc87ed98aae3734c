/**
 * Callbacks of one group never hold up another's (acd/callbackDialer.ts over a real store, fake
 * routing and telephony): the attempts waiting for an agent are limited per group
 * (`acd.callbacks.maxQueued` each), so a backlog in a group nobody staffs leaves the other groups'
 * callbacks placed in turn; a group no longer configured gets no attempt at all (its requests stay
 * pending in the store), and attempts already waiting for a group that was deleted are withdrawn.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CallbackDialer, type CallbackDialerOptions } from '../../../appliance/acd/callbackDialer.js';
import { CallbackRepo } from '../../../appliance/acd/callbackRepo.js';
import { Callbacks } from '../../../appliance/acd/callbacks.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { TypedEmitter } from '../../../appliance/events/typedEmitter.js';
import { createLogger } from '../../../appliance/log/logger.js';
import { SecretBox } from '../../../appliance/privacy/secrets.js';
import { Store } from '../../../appliance/store/database.js';
import type { TelephonyEvents } from '../../../appliance/telephony/types.js';

const OPTIONS: CallbackDialerOptions = {
  ringTimeoutMs: 1000,
  customerRingTimeoutMs: 1000,
  maxAttempts: 2,
  retryMs: 60_000,
  maxRetryMs: 600_000,
  maxQueued: 2,
  pollMs: 3_600_000,
  lang: 'en',
  trunk: '',
};

const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

function rig(groups: string[] | undefined) {
  const dir = mkdtempSync(path.join(tmpdir(), 'evx-cbfair-'));
  const clock = { t: 1_000_000 };
  const store = Store.open(dir);
  const subs = new Set<(e: ApplianceEvent) => void>();
  const bus = {
    publish: (e: ApplianceEvent) => {
      for (const s of [...subs]) s(e);
    },
    subscribe: (fn: (e: ApplianceEvent) => void) => {
      subs.add(fn);
      return () => subs.delete(fn);
    },
  };
  const callbacks = new Callbacks({
    repo: new CallbackRepo(store.db, store.write.bind(store)),
    box: SecretBox.fromKey(Buffer.alloc(32, 7)),
    bus,
    now: () => clock.t,
  });
  /** Routing's queue: call id → group. */
  const queue = new Map<string, string>();
  const ended: string[] = [];
  const dialer = new CallbackDialer({
    callbacks,
    routing: {
      now: () => clock.t,
      requeue: (c) => void queue.set(c.callId, c.groupId),
      removeFromQueue: (callId) => queue.delete(callId),
    },
    ...(groups === undefined ? {} : { groupIds: () => groups }),
    bus,
    agents: { answered: () => undefined, noAnswer: () => undefined, offerFailed: () => undefined },
    ringer: {
      placeCall: () => {
        throw new Error('no agent is offered anything in this test');
      },
      hangup: async () => undefined,
      contactsOf: () => [],
      logger: createLogger({ level: 'silent', includePii: false }),
    },
    trunk: {
      place: () => {
        throw new Error('no customer is dialled in this test');
      },
    },
    dialable: (uri) => /^sips?:(\+?\d+)@/.exec(uri)?.[1] ?? null,
    sip: {
      events: new TypedEmitter<TelephonyEvents>(),
      bridge: () => ({ close: () => undefined }) as never,
      hangup: async () => undefined,
      leg: () => {
        throw new Error('no media in this test');
      },
    },
    interactions: {
      open: () => undefined,
      answered: () => undefined,
      legSink: () => undefined,
      end: (id, reason) => void ended.push(`${id} ${reason}`),
    },
    prompt: async () => new Int16Array(160),
    logger: createLogger({ level: 'silent', includePii: false }),
    now: () => clock.t,
    options: OPTIONS,
  });
  closers.push(() => {
    dialer.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const waiting = (groupId: string) => [...queue.values()].filter((g) => g === groupId).length;
  return { callbacks, dialer, queue, ended, waiting };
}

const flush = () => new Promise((r) => setImmediate(r));
const number = (i: number) => `sip:+49301234${String(i).padStart(2, '0')}@trunk.example`;

describe('callback attempts per group', () => {
  it('a backlog in a group nobody staffs does not keep another group’s callbacks from their agents', async () => {
    const r = rig(['ghost', 'cards']);
    // the ghost group's callers asked first (older places) and nobody ever takes them
    for (let i = 0; i < 4; i++) r.callbacks.request(`g${i}`, 'ghost', number(i), 1 + i);
    r.dialer.start();
    expect(r.waiting('ghost')).toBe(2); // maxQueued of its own
    const cards = r.callbacks.request('c0', 'cards', number(10), 100);
    await flush();
    expect(r.waiting('cards')).toBe(1);
    expect(r.waiting('ghost')).toBe(2);
    expect(r.callbacks.get(cards.id)?.state).toBe('pending');
  });

  it('requests of a group no longer configured get no attempt; attempts already waiting for a deleted group are withdrawn', async () => {
    const groups = ['gone', 'cards'];
    const r = rig(groups);
    const gone = [0, 1].map((i) => r.callbacks.request(`g${i}`, 'gone', number(i), 1 + i));
    r.dialer.start();
    expect(r.waiting('gone')).toBe(2);
    groups.splice(0, 1); // the group is deleted from the configuration
    r.callbacks.request('c0', 'cards', number(10), 100); // the dialler looks again
    await flush();
    expect(r.waiting('gone')).toBe(0);
    expect(r.waiting('cards')).toBe(1);
    expect(r.ended.filter((e) => e.endsWith(' group-missing'))).toHaveLength(2);
    // kept in the store: placed if the group comes back
    for (const g of gone) expect(r.callbacks.get(g.id)).toMatchObject({ state: 'pending', attempts: 0 });
  });
});
