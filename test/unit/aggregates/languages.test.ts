/**
 * The language dimension of the aggregates that leave the box: calls per language (a partition of
 * the total, with secondary suppression) and the published intents split by language, where a
 * hidden cell — and the one that would give it away by subtraction — is left out.
 */
import { describe, expect, it } from 'vitest';
import type { LanguageChoice } from '../../../appliance/asr/language.js';
import { assertPayload, buildAggregates } from '../../../appliance/aggregates/builder.js';
import { Store } from '../../../appliance/store/database.js';
import { scratchDir } from '../../helpers/paths.js';

const HOUR = 3_600_000;
const W = Date.UTC(2026, 11, 6, 9);
let seq = 0;

/** `n` calls in the window asking for `choice` (auto: decided as `decided`, or not), each with one caller utterance of `intent`. */
function seed(store: Store, n: number, choice: LanguageChoice, intent: string | null, decided?: 'en' | 'zh'): void {
  for (let i = 0; i < n; i++) {
    const id = `call-${++seq}`;
    const at = W + seq * 1000;
    store.calls.create({ id, source: 'sip', callerHash: null, startedAt: at, language: { choice, from: 'site' } });
    if (decided !== undefined) store.calls.decideAutoLanguage(id, decided, 0.9);
    store.utterances.insert({
      callId: id,
      legId: null,
      speaker: 'caller',
      startMs: 0,
      endMs: 1000,
      text: '[REDACTED]',
      words: [],
      confidence: 1,
      analysis: intent === null ? {} : { intent: { intent, confidence: 0.9 } },
      createdAt: at,
      language: choice === 'zh' || decided === 'zh' ? 'zh' : 'en',
    });
  }
}

const build = (store: Store) =>
  buildAggregates(store, { siteId: 'branch-1', windowStartMs: W, windowMs: HOUR, k: 5, epsilon: 0, generatedAtMs: W + HOUR });

describe('aggregates by language', () => {
  it('count calls per language and the published intents per language', () => {
    const store = Store.open(scratchDir('agg-lang'));
    seed(store, 6, 'en', 'card_lost');
    seed(store, 3, 'zh', 'card_lost');
    seed(store, 2, 'auto', 'card_lost', 'zh');
    seed(store, 5, 'en', 'balance');
    seed(store, 5, 'zh', 'balance');
    const p = build(store);
    expect(p.languages?.calls).toEqual({ en: 11, zh: 10, undecided: 0 });
    expect(p.languages?.intents).toEqual([
      { language: 'en', intent: 'card_lost', calls: 6 },
      { language: 'zh', intent: 'card_lost', calls: 5 },
      { language: 'en', intent: 'balance', calls: 5 },
      { language: 'zh', intent: 'balance', calls: 5 },
    ]);
    expect(p.privacy.suppressedCells).toBe(0);
    store.close();
  });

  it('hide a small language cell and the one that would reveal it, in the calls and in an intent', () => {
    const store = Store.open(scratchDir('agg-lang'));
    seed(store, 8, 'en', 'balance');
    seed(store, 3, 'zh', 'balance'); // balance: 11 published, zh 3 hidden, en 8 would give it away
    seed(store, 6, 'en', 'card_lost');
    seed(store, 2, 'auto', null); // never decided
    const p = build(store);
    assertPayload(p);
    expect(p.topIntents).toEqual([
      { intent: 'balance', calls: 11 },
      { intent: 'card_lost', calls: 6 },
    ]);
    // undecided 2 is hidden, and so is the next smallest (zh 3)
    expect(p.languages?.calls).toEqual({ en: 14, zh: null, undecided: null });
    expect(p.languages?.intents).toEqual([{ language: 'en', intent: 'card_lost', calls: 6 }]);
    expect(JSON.stringify(p)).not.toContain('call-');
    store.close();
  });

  it('leave the payload valid without the language part (a box from before languages)', () => {
    const store = Store.open(scratchDir('agg-lang'));
    seed(store, 5, 'en', 'balance');
    const { languages, ...older } = build(store);
    expect(languages).toBeDefined();
    expect(() => assertPayload(older)).not.toThrow();
    expect(() => assertPayload({ ...older, languages: { calls: { en: 5, zh: 0, undecided: 0, fr: 1 }, intents: [] } })).toThrow();
    store.close();
  });
});
