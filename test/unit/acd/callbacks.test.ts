/**
 * Callback requests kept in the store (acd/callbacks.ts): the caller's URI sealed at rest and
 * opened only by `open`, listings masked, the cancel rules, the requests still there after the
 * store is reopened, and a request that outlives its call record. Also the From-header rule of who
 * has a number to call back.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { CallbackRepo } from '../../../appliance/acd/callbackRepo.js';
import { Callbacks, callbackUri, maskNumber } from '../../../appliance/acd/callbacks.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { SecretBox } from '../../../appliance/privacy/secrets.js';
import { Store } from '../../../appliance/store/database.js';
import { scratchDir } from '../../helpers/paths.js';

const NUMBER = 'sip:+4930123456@trunk.example;user=phone';

function open(dir: string, key: Buffer, clock: { t: number }) {
  const store = Store.open(dir);
  const events: ApplianceEvent[] = [];
  const callbacks = new Callbacks({
    repo: new CallbackRepo(store.db, store.write.bind(store)),
    box: SecretBox.fromKey(key),
    bus: { publish: (e) => events.push(e) },
    now: () => clock.t,
  });
  return { store, callbacks, events };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isEdgeVoxError(err)) return err.code;
    throw err;
  }
  return 'no error';
}

describe('callback requests', () => {
  const stores: Store[] = [];
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
  });

  it('seals the number at rest, opens it only through open(), and lists it masked', () => {
    const clock = { t: 1_000 };
    const { store, callbacks, events } = open(scratchDir('callbacks'), randomBytes(32), clock);
    stores.push(store);
    store.calls.create({ id: 'c1', source: 'sip', callerHash: null, startedAt: 500 });
    const entry = callbacks.request('c1', 'cards', NUMBER);
    expect(entry).toMatchObject({ callId: 'c1', groupId: 'cards', number: '••••••56', state: 'pending', requestedAt: 1_000 });
    expect(entry.id).toMatch(/^[0-9a-f-]{36}$/);
    const raw = store.db.prepare('SELECT * FROM callback_requests').all() as Record<string, unknown>[];
    expect(raw).toHaveLength(1);
    expect(JSON.stringify(raw)).not.toContain('4930123456');
    expect(String(raw[0]!['number_sealed'])).toMatch(/^evx1:/);
    expect(callbacks.open(entry.id)).toBe(NUMBER);
    expect(callbacks.open('no-such-id')).toBeUndefined();
    expect(JSON.stringify(callbacks.list())).not.toContain('4930123456');
    expect(events).toEqual([{ type: 'callback.requested', at: 1_000, id: entry.id, callId: 'c1', groupId: 'cards' }]);
    expect(JSON.stringify(events)).not.toContain('4930123456');
    expect(callbacks.pending()).toBe(1);
  });

  it('lists oldest first and by state; a supervisor cancels a pending request only (404 unknown, 409 not pending)', () => {
    const clock = { t: 1_000 };
    const { store, callbacks, events } = open(scratchDir('callbacks'), randomBytes(32), clock);
    stores.push(store);
    const a = callbacks.request('c-a', 'cards', 'tel:+441632960042');
    clock.t = 2_000;
    const b = callbacks.request('c-b', 'loans', NUMBER);
    expect(callbacks.list().map((e) => e.id)).toEqual([a.id, b.id]);
    expect(callbacks.list({ limit: 1 }).map((e) => e.id)).toEqual([a.id]);
    expect(a.number).toBe('••••••42');
    expect(a.callId).toBeNull(); // no such call record: kept without one

    clock.t = 3_000;
    const cancelled = callbacks.cancel(a.id);
    expect(cancelled).toMatchObject({ id: a.id, state: 'cancelled', updatedAt: 3_000, requestedAt: 1_000 });
    expect(events.at(-1)).toEqual({ type: 'callback.cancelled', at: 3_000, id: a.id, callId: null, groupId: 'cards' });
    expect(callbacks.list({ state: 'pending' }).map((e) => e.id)).toEqual([b.id]);
    expect(callbacks.list({ state: 'cancelled' }).map((e) => e.id)).toEqual([a.id]);
    expect(callbacks.pending()).toBe(1);

    const before = events.length;
    expect(codeOf(() => callbacks.cancel(a.id))).toBe('EVX_ERR_CALLBACK_STATE');
    expect(codeOf(() => callbacks.cancel('no-such-id'))).toBe('EVX_ERR_NOT_FOUND');
    store.db.prepare(`UPDATE callback_requests SET state = 'done' WHERE id = ?`).run(b.id);
    expect(codeOf(() => callbacks.cancel(b.id))).toBe('EVX_ERR_CALLBACK_STATE');
    expect(events.length).toBe(before);
    expect(codeOf(() => callbacks.request('c-c', 'cards', ' '))).toBe('EVX_ERR_BAD_REQUEST');
  });

  it('a restart loses no request: reopening the store lists it and opens its number with the same key', () => {
    const dir = scratchDir('callbacks');
    const key = randomBytes(32);
    const clock = { t: 5_000 };
    const first = open(dir, key, clock);
    const entry = first.callbacks.request('c1', 'cards', NUMBER);
    first.store.close();

    const again = open(dir, key, clock);
    stores.push(again.store);
    expect(again.callbacks.list({ state: 'pending' })).toEqual([entry]);
    expect(again.callbacks.pending()).toBe(1);
    expect(again.callbacks.open(entry.id)).toBe(NUMBER);

    // another key (the store key replaced): still listed, fully masked; open() refuses
    const other = open(dir, randomBytes(32), clock);
    stores.push(other.store);
    expect(other.callbacks.list()[0]).toMatchObject({ id: entry.id, number: '••••••' });
    expect(codeOf(() => other.callbacks.open(entry.id))).toBe('EVX_ERR_SECRET');
  });

  it('counts offers by how they ended: accepted, hung up on, let pass unanswered (declined and open ones only in offered)', () => {
    const clock = { t: 1_000 };
    const { store, callbacks } = open(scratchDir('callbacks'), randomBytes(32), clock);
    stores.push(store);
    store.calls.create({ id: 'c1', source: 'sip', callerHash: null, startedAt: 500 });
    const answers = ['accepted', 'hung-up', 'hung-up', 'none', 'declined', null] as const;
    for (const answer of answers) {
      const offer = callbacks.offered('c1', 'cards');
      if (answer !== null) callbacks.offerAnswered(offer, answer);
    }
    expect(callbacks.counts(0, 2_000)).toEqual({ offered: 6, accepted: 1, hungUp: 2, noAnswer: 1, completed: 0, failed: 0, cancelled: 0 });
    expect(callbacks.counts(2_000, 3_000)).toMatchObject({ offered: 0, accepted: 0, hungUp: 0, noAnswer: 0 });
  });

  it('outlives its call record: deleting the call (retention) keeps the request, without the call id', () => {
    const clock = { t: 1_000 };
    const { store, callbacks } = open(scratchDir('callbacks'), randomBytes(32), clock);
    stores.push(store);
    store.calls.create({ id: 'gone', source: 'sip', callerHash: null, startedAt: 500 });
    const entry = callbacks.request('gone', 'cards', NUMBER);
    expect(entry.callId).toBe('gone');
    store.db.prepare('DELETE FROM calls WHERE id = ?').run('gone');
    expect(callbacks.get(entry.id)).toMatchObject({ id: entry.id, callId: null, state: 'pending', number: '••••••56' });
    expect(callbacks.open(entry.id)).toBe(NUMBER);
  });

  it('takes the number to call back from the From header; anonymous, withheld or user-less callers have none', () => {
    expect(callbackUri('"Ann" <sip:+4930123456@trunk.example;user=phone>;tag=a1')).toBe(NUMBER);
    expect(callbackUri('<sips:1001@pbx.example:5061;transport=tls>;tag=1')).toBe('sips:1001@pbx.example:5061');
    expect(callbackUri('<tel:+441632960042>;tag=1')).toBe('tel:+441632960042');
    // not a number the trunk could dial back
    expect(callbackUri('sip:bob@192.0.2.7;tag=9')).toBeNull();
    expect(callbackUri('<sip:12@pbx.example>;tag=9')).toBeNull();
    for (const none of [
      '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=x',
      '<sip:Anonymous@trunk.example>;tag=x',
      '<sip:1234@anonymous.invalid>;tag=x',
      '<sip:restricted@trunk.example>;tag=x',
      '<sip:trunk.example>;tag=x',
      '',
      'not a header',
    ])
      expect(callbackUri(none), none).toBeNull();
    expect(maskNumber('sip:+4930123456@trunk.example')).toBe('••••••56');
    expect(maskNumber('sip:1001@pbx')).toBe('••••••');
    expect(maskNumber('garbage')).toBe('••••••');
  });
});
