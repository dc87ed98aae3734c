import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { DATABASE_FILE, Store, migrate } from '../../../appliance/store/database.js';
import { MIGRATIONS } from '../../../appliance/store/migrations.js';
import { scratchDir } from '../../helpers/paths.js';

const latest = Math.max(...MIGRATIONS.map((m) => m.version));

describe('store', () => {
  it('creates a fresh database in WAL mode at the latest schema version', () => {
    const store = Store.open(scratchDir('store'));
    expect(store.schemaVersion()).toBe(latest);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.integrityCheck()).toBe('ok');
    store.close();
    store.close(); // idempotent
  });

  it('migrates an existing database forward and keeps its data', () => {
    const dir = scratchDir('store');
    const old = new Database(join(dir, DATABASE_FILE));
    migrate(
      old,
      MIGRATIONS.filter((m) => m.version === 1),
    );
    expect(old.pragma('user_version', { simple: true })).toBe(1);
    old.prepare(`INSERT INTO calls (id, source, state, started_at) VALUES ('c1', 'sip', 'ringing', 1000)`).run();
    old.close();
    const store = Store.open(dir);
    expect(store.schemaVersion()).toBe(latest);
    expect(store.calls.get('c1')?.source).toBe('sip');
    store.runs.start('test'); // a table from migration 2 exists
    store.close();
  });

  it('leaves the database at its previous version when a migration fails', () => {
    const dir = scratchDir('store');
    const v1 = new Database(join(dir, DATABASE_FILE));
    migrate(
      v1,
      MIGRATIONS.filter((m) => m.version === 1),
    );
    v1.close();
    const broken = [
      ...MIGRATIONS.filter((m) => m.version === 1),
      { version: 2, name: 'broken', sql: 'CREATE TABLE t (a); INSERT INTO nope VALUES (1);' },
    ];
    let code = '';
    try {
      Store.open(dir, broken);
    } catch (err) {
      if (isEdgeVoxError(err)) code = err.code;
    }
    expect(code).toBe('EVX_ERR_STORE_MIGRATION');
    const db = new Database(join(dir, DATABASE_FILE));
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    expect(db.prepare(`SELECT name FROM sqlite_master WHERE name = 't'`).get()).toBeUndefined();
    db.close();
  });

  it('refuses a database written by a newer version', () => {
    const dir = scratchDir('store');
    const db = new Database(join(dir, DATABASE_FILE));
    db.pragma(`user_version = ${latest + 5}`);
    db.close();
    expect(() => Store.open(dir)).toThrowError(/newer than this build/);
  });

  it('is a no-op to migrate twice', () => {
    const db = new Database(':memory:');
    expect(migrate(db)).toEqual({ from: 0, to: latest });
    expect(migrate(db)).toEqual({ from: latest, to: latest });
    db.close();
  });

  it('stores calls, legs and utterances and lists them newest first', () => {
    const store = Store.open(scratchDir('store'));
    store.calls.create({ id: 'a', source: 'sip', callerHash: null, startedAt: 1 });
    store.calls.create({ id: 'b', source: 'webrtc', callerHash: null, startedAt: 2 });
    store.calls.addLeg({ id: 'a-1', callId: 'a', label: 'caller', codec: 'PCMU', startedAt: 1 });
    store.calls.markAnswered('a', 5);
    store.utterances.insert({
      callId: 'a',
      legId: 'a-1',
      speaker: 'caller',
      startMs: 0,
      endMs: 900,
      text: 'HELLO',
      words: [{ word: 'HELLO', startMs: 0, endMs: 400 }],
      confidence: 0.9,
      analysis: {},
      createdAt: 10,
    });
    expect(store.calls.end('a', 20, 'bye')).toBe(true);
    expect(store.calls.end('a', 30, 'again')).toBe(false);
    const a = store.calls.get('a');
    expect(a).toMatchObject({ state: 'ended', answeredAt: 5, endedAt: 20, endReason: 'bye', legs: [{ id: 'a-1', label: 'caller' }] });
    expect(store.utterances.listByCall('a')[0]?.words).toEqual([{ word: 'HELLO', startMs: 0, endMs: 400 }]);
    expect(store.calls.list({ limit: 10 }).map((c) => c.id)).toEqual(['b', 'a']);
    expect(store.calls.list({ limit: 10, beforeStartedAt: 2 }).map((c) => c.id)).toEqual(['a']);
    expect(store.calls.closeOrphans(99, 'appliance-restarted')).toBe(1);
    expect(store.calls.get('b')?.endReason).toBe('appliance-restarted');
    store.close();
  });

  it('maps a constraint violation to a non-retryable EVX_ERR_STORE_CONSTRAINT and reports it', () => {
    const store = Store.open(scratchDir('store'));
    const seen: string[] = [];
    store.events.on('writeError', (e) => seen.push(`${e.operation}:${e.sqliteCode}`));
    store.calls.create({ id: 'dup', source: 'sip', callerHash: null, startedAt: 1 });
    let code = '';
    try {
      store.calls.create({ id: 'dup', source: 'sip', callerHash: null, startedAt: 1 });
    } catch (err) {
      if (isEdgeVoxError(err)) code = err.code;
    }
    expect(code).toBe('EVX_ERR_STORE_CONSTRAINT');
    expect(seen).toEqual(['calls.create:SQLITE_CONSTRAINT_PRIMARYKEY']);
    store.close();
  });

  it('versions configurations and keeps an audit log', () => {
    const store = Store.open(scratchDir('store'));
    const v1 = store.configVersions.add({ a: 1 }, 'tech', 'first');
    const v2 = store.configVersions.add({ a: 2 }, 'tech', 'second');
    expect(v2).toBe(v1 + 1);
    expect(store.configVersions.latest()?.config).toEqual({ a: 2 });
    expect(store.configVersions.get(v1)?.comment).toBe('first');
    store.audit.record('tech', 'config.change', 'http.port', { from: 1, to: 2 });
    expect(store.audit.list()[0]).toMatchObject({ actor: 'tech', action: 'config.change' });
    store.close();
  });
});
