/**
 * Text sentiment in a leg's analysis stage on a real store: an English final's sentiment is stored
 * with its utterance (scores and label, no words) and announced once as an `analysis` event named
 * `sentiment`; a Mandarin final gets none; the call's mood reads it back next to the emotion.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callMood } from '../../../appliance/analysis/callMood.js';
import { SentimentUtteranceAnalyser } from '../../../appliance/analysis/textSentiment.js';
import { LegAnalysis } from '../../../appliance/calls/legAnalysis.js';
import type { LegContext } from '../../../appliance/calls/legContext.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { Store } from '../../../appliance/store/database.js';
import { scratchDir } from '../../helpers/paths.js';

describe('text sentiment in the leg analysis stage', () => {
  let store: Store;
  beforeEach(() => {
    store = Store.open(scratchDir('leg-sentiment'));
    store.calls.create({ id: 'c1', source: 'sip', callerHash: null, startedAt: 1 });
  });
  afterEach(() => store.close());

  it('stores and announces the sentiment of English finals, none for Mandarin', async () => {
    const published: ApplianceEvent[] = [];
    const leg: LegContext = {
      callId: 'c1',
      legId: 'l1',
      speaker: 'caller',
      sampleRateHz: 8000,
      store,
      logger: pino({ level: 'silent' }),
      now: () => 5,
      publish: (e) => published.push(e),
      persist: (_op, write) => write(),
    };
    const stage = new LegAnalysis(leg, [new SentimentUtteranceAnalyser({ speakers: ['caller'] })], 10_000);
    const base = { words: [], confidence: 0.9, latencyMs: 10, createdAt: 2, callId: 'c1', legId: 'l1', speaker: 'caller', analysis: {} };
    const en = store.utterances.insert({ ...base, startMs: 0, endMs: 900, text: 'THIS IS RIDICULOUS I AM FURIOUS' });
    const zh = store.utterances.insert({ ...base, startMs: 1000, endMs: 1900, text: '太糟糕了', language: 'zh' });
    stage.analyse({ words: [], startMs: 0, endMs: 900, confidence: 0.9, latencyMs: 10, text: 'this is ridiculous i am furious' }, en);
    stage.analyse({ words: [], startMs: 1000, endMs: 1900, confidence: 0.9, latencyMs: 10, text: '太糟糕了', language: 'zh' }, zh);
    await stage.drain(1000);
    const stored = store.utterances.listByCall('c1');
    expect(stored[0]!.analysis['sentiment']).toMatchObject({ label: 'negative', lexicon: 'vader-en' });
    expect(stored[1]!.analysis['sentiment']).toBeUndefined();
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ type: 'analysis', name: 'sentiment', utteranceId: en, result: { label: 'negative' } });
    expect(JSON.stringify(published[0])).not.toMatch(/ridiculous|furious/i);
    const mood = callMood(stored);
    expect(mood.speakers[0]!.points).toHaveLength(1);
    expect(mood.speakers[0]!.points[0]!.text).toBeGreaterThan(0.5);
  });
});
