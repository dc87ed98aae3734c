/** Migration 27 on a database that already holds callback offers: they are kept, and an offer the caller hung up on can be stored as such. */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { CallbackRepo } from '../../../appliance/acd/callbackRepo.js';
import { DATABASE_FILE, Store, migrate } from '../../../appliance/store/database.js';
import { MIGRATIONS } from '../../../appliance/store/migrations.js';
import { scratchDir } from '../../helpers/paths.js';

describe('migration 27: callback offers answered hung-up', () => {
  it('upgrades a version-26 database: offers and their answers kept, ids go on; hung-up is an answer', () => {
    const dir = scratchDir('store-callback-offers');
    const old = new Database(join(dir, DATABASE_FILE));
    migrate(
      old,
      MIGRATIONS.filter((m) => m.version <= 26),
    );
    const offer = old.prepare(`INSERT INTO callback_offers (call_id, group_id, at, answer) VALUES (NULL, 'cards', ?, ?)`);
    offer.run(1000, 'accepted');
    offer.run(2000, null);
    expect(() => offer.run(3000, 'hung-up')).toThrow(/CHECK/);
    old.close();

    const store = Store.open(dir);
    expect(store.schemaVersion()).toBeGreaterThanOrEqual(27);
    const repo = new CallbackRepo(store.db, store.write.bind(store));
    repo.offerAnswered(2, 'hung-up');
    const third = repo.offered('gone', 'cards', 3000);
    expect(third).toBe(3);
    repo.offerAnswered(third, 'none');
    expect(store.db.prepare('SELECT id, group_id, at, answer FROM callback_offers ORDER BY id').all()).toEqual([
      { id: 1, group_id: 'cards', at: 1000, answer: 'accepted' },
      { id: 2, group_id: 'cards', at: 2000, answer: 'hung-up' },
      { id: 3, group_id: 'cards', at: 3000, answer: 'none' },
    ]);
    expect(repo.counts(0, 4000)).toMatchObject({ offered: 3, accepted: 1 });
    store.close();
  });
});
