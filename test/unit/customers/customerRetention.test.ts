/**
 * Customers (one person across channels: hashed identifiers, conversation links, merges) are
 * personal data with a retention like caller profiles (privacy.retention.profilesHours): the
 * retention sweep deletes a customer idle that long once none of its calls, chats or e-mail cases
 * is left on the box, with its identifiers and the merge records it is in. A customer with a call
 * still kept, a recent caller profile, a recent first sight or a linked conversation stays.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../appliance/config/load.js';
import { CustomerRepo } from '../../../appliance/customers/customerRepo.js';
import { createLogger } from '../../../appliance/log/logger.js';
import { RetentionService } from '../../../appliance/retention/retention.js';
import { storeRetentionClasses } from '../../../appliance/retention/storeClasses.js';
import { Store } from '../../../appliance/store/database.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

describe('customer retention', () => {
  let dir: string;
  let store: Store;
  let repo: CustomerRepo;
  const count = (table: string) => (store.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  const call = (id: string, callerHash: string, at: number) => {
    store.calls.create({ id, source: 'sip', callerHash, startedAt: at });
    store.calls.end(id, at + 60_000, 'bye');
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'evx-customer-retention-'));
    store = Store.open(dir);
    repo = new CustomerRepo(store.db, store.write.bind(store));
  });

  afterAll(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('deletes idle customers with nothing left on the box, keeps the others', () => {
    // A called 200 days ago (the call goes at 90 days); F was merged into A the day after.
    const a = repo.ensureForPhone('hash-a', T0);
    call('call-a', 'hash-a', T0);
    const f = repo.ensureForPhone('hash-f', T0);
    repo.merge(f, a, 'supervisor-1', T0 + DAY);
    // B's last call, 50 days ago, is still kept.
    const b = repo.ensureForPhone('hash-b', T0);
    call('call-b', 'hash-b', T0 + 150 * DAY);
    // C's call is gone, but its caller profile says it last called 100 days ago.
    const c = repo.ensureForPhone('hash-c', T0);
    call('call-c', 'hash-c', T0 + 10 * DAY);
    store.db
      .prepare(`INSERT INTO caller_profiles (caller_hash, first_seen_at, last_call_at, calls_total, updated_at) VALUES (?, ?, ?, 2, ?)`)
      .run('hash-c', T0, T0 + 100 * DAY, T0 + 100 * DAY);
    // D was first seen 50 days ago.
    const d = repo.ensureForPhone('hash-d', T0 + 150 * DAY);
    // E's chat (verified by the site's token) is still open.
    store.db
      .prepare(`INSERT INTO conversations (id, channel, state, created_at, updated_at) VALUES ('chat-e', 'chat', 'waiting', ?, ?)`)
      .run(T0, T0);
    const e = repo.linkVerified('chat-e', [{ kind: 'customerId', hash: 'cid-e' }], T0);

    const config = validateConfig({ privacy: { retention: { callsHours: 90 * 24, profilesHours: 180 * 24 } } });
    const sweeper = new RetentionService({
      classes: storeRetentionClasses(store, config.privacy.retention),
      intervalMs: DAY,
      logger: createLogger({ level: 'silent', includePii: false }),
      now: () => T0 + 200 * DAY,
    });
    const purged = sweeper.sweep();

    expect(purged['customers']).toBe(2);
    for (const gone of [a, f]) expect(repo.exists(gone), gone).toBe(false);
    for (const kept of [b, c, d, e]) expect(repo.exists(kept), kept).toBe(true);
    expect(repo.byIdentifier('phone', 'hash-a')).toBeUndefined();
    expect(repo.byIdentifier('phone', 'hash-b')).toBe(b);
    expect(repo.customerOfConversation('chat-e')).toBe(e);
    expect(count('customer_identifiers')).toBe(4);
    expect(count('customer_merges')).toBe(0);
    // a later call from A's number starts a new customer
    expect(repo.ensureForPhone('hash-a', T0 + 201 * DAY)).not.toBe(a);
  });
});
