/** The console's chart aggregates by language: calls per language spoken, and the top intents of each language's utterances. */
import { describe, expect, it } from 'vitest';
import type { LanguageChoice } from '../../../appliance/asr/language.js';
import { ConsoleStatsRepo } from '../../../appliance/console/statsRepo.js';
import { Store } from '../../../appliance/store/database.js';
import { scratchDir } from '../../helpers/paths.js';

describe('console stats by language', () => {
  it('counts calls per language and ranks intents within each language', () => {
    const store = Store.open(scratchDir('stats-lang'));
    const now = Date.now();
    let n = 0;
    const call = (choice: LanguageChoice, intents: string[], language: 'en' | 'zh' = choice === 'zh' ? 'zh' : 'en') => {
      const id = `c${++n}`;
      store.calls.create({ id, source: 'sip', callerHash: null, startedAt: now, language: { choice, from: 'site' } });
      for (const intent of intents)
        store.utterances.insert({
          callId: id,
          legId: null,
          speaker: 'caller',
          startMs: 0,
          endMs: 500,
          text: 'x',
          words: [],
          confidence: 1,
          analysis: { intent: { intent, confidence: 0.9, outOfScope: false } },
          createdAt: now,
          language,
        });
    };
    call('en', ['balance', 'balance', 'card_lost']);
    call('zh', ['card_lost', 'card_lost']);
    call('zh', ['balance']);
    call('auto', []);
    const s = new ConsoleStatsRepo(store.db).stats(now - 60_000);
    expect(s.callsByLanguage).toEqual([
      { language: 'zh', calls: 2 },
      { language: 'en', calls: 1 },
      { language: 'undecided', calls: 1 },
    ]);
    expect(s.topIntentsByLanguage).toEqual([
      { language: 'en', label: 'balance', utterances: 2 },
      { language: 'en', label: 'card_lost', utterances: 1 },
      { language: 'zh', label: 'card_lost', utterances: 2 },
      { language: 'zh', label: 'balance', utterances: 1 },
    ]);
    expect(s.topIntents.map((i) => `${i.label}:${i.utterances}`).sort()).toEqual(['balance:3', 'card_lost:3']);
    store.close();
  });
});
