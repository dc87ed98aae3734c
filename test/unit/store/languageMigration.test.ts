/** Migration 13 on a database that already holds calls: they become English calls, their utterances English, nothing lost. */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DATABASE_FILE, Store, migrate } from '../../../appliance/store/database.js';
import { MIGRATIONS } from '../../../appliance/store/migrations.js';
import { scratchDir } from '../../helpers/paths.js';

describe('migration 13: speech languages', () => {
  it('upgrades a version-12 database with calls and utterances: English, from the site default', () => {
    const dir = scratchDir('store-language');
    const old = new Database(join(dir, DATABASE_FILE));
    migrate(
      old,
      MIGRATIONS.filter((m) => m.version <= 12),
    );
    expect(old.pragma('user_version', { simple: true })).toBe(12);
    old.prepare(`INSERT INTO calls (id, source, state, started_at) VALUES ('c1', 'sip', 'ended', 1000)`).run();
    old
      .prepare(
        `INSERT INTO utterances (call_id, speaker, start_ms, end_ms, text, created_at) VALUES ('c1', 'caller', 0, 900, 'HELLO', 1500)`,
      )
      .run();
    old.close();

    const store = Store.open(dir);
    expect(store.schemaVersion()).toBeGreaterThanOrEqual(13);
    expect(store.calls.get('c1')).toMatchObject({
      source: 'sip',
      language: 'en',
      languageChoice: 'en',
      languageFrom: 'site',
      languageConfidence: null,
    });
    expect(store.utterances.listByCall('c1')).toMatchObject([{ text: 'HELLO', language: 'en', pinyin: null }]);
    expect(store.calls.list({ limit: 5, language: 'en' }).map((c) => c.id)).toEqual(['c1']);
    expect(store.calls.list({ limit: 5, language: 'zh' })).toEqual([]);
    // the columns refuse what is not a language
    expect(() => store.db.prepare(`UPDATE calls SET language = 'fr' WHERE id = 'c1'`).run()).toThrow(/CHECK/);
    store.close();
  });
});
