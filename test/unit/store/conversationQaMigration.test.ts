/** Migration 26 on a database that already holds analysed conversations: the effective score is the original, nothing overridden. */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ConversationAnalysisRepo } from '../../../appliance/conversations/conversationAnalysisRepo.js';
import { DATABASE_FILE, Store, migrate } from '../../../appliance/store/database.js';
import { MIGRATIONS } from '../../../appliance/store/migrations.js';
import { scratchDir } from '../../helpers/paths.js';

describe('migration 26: QA overrides of conversations', () => {
  it('upgrades a version-25 database: effective = original score and result, and the overrides table cascades', () => {
    const dir = scratchDir('store-conversation-qa');
    const old = new Database(join(dir, DATABASE_FILE));
    migrate(
      old,
      MIGRATIONS.filter((m) => m.version <= 25),
    );
    expect(old.pragma('user_version', { simple: true })).toBe(25);
    const conversation = old.prepare(
      `INSERT INTO conversations (id, channel, state, created_at, updated_at) VALUES (?, ?, 'closed', 1000, 2000)`,
    );
    const analysis = old.prepare(
      `INSERT INTO conversation_analysis (conversation_id, channel, sentiment_json, qa_score, qa_passed, qa_rules_version, qa_json,
         summary_outcome, summary_json, created_at) VALUES (?, 'chat', '{}', ?, ?, 0, '{"results":[]}', 'resolved', '{}', 2000)`,
    );
    conversation.run('c1', 'chat');
    analysis.run('c1', 75, 0);
    conversation.run('c2', 'email');
    analysis.run('c2', null, null);
    old.close();

    const store = Store.open(dir);
    expect(store.schemaVersion()).toBeGreaterThanOrEqual(26);
    const repo = new ConversationAnalysisRepo(store.db, store.write.bind(store));
    expect(
      repo
        .qaList({ limit: 500 })
        .sort((a, b) => a.conversationId.localeCompare(b.conversationId))
        .map((r) => [r.conversationId, r.score, r.passed, r.effectiveScore, r.effectivePassed, r.overridden]),
    ).toEqual([
      ['c1', 75, false, 75, false, false],
      ['c2', null, null, null, null, false],
    ]);
    repo.addOverride({ conversationId: 'c1', ruleId: null, outcome: 'pass', reason: 'checked', author: 'sup', at: 3000 });
    expect(() =>
      repo.addOverride({ conversationId: 'c1', ruleId: null, outcome: 'maybe' as 'pass', reason: 'x', author: 'sup', at: 3000 }),
    ).toThrow();
    expect(() =>
      repo.addOverride({ conversationId: 'nope', ruleId: null, outcome: 'pass', reason: 'x', author: 'sup', at: 3000 }),
    ).toThrow();
    store.db.prepare(`DELETE FROM conversations WHERE id = 'c1'`).run();
    expect(repo.overrides('c1')).toEqual([]);
    store.close();
  });
});
