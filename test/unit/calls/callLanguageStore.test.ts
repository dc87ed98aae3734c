/**
 * The language of a call on the call path: the choice reaches each leg's transcriber, each stored
 * utterance carries its language (and a Mandarin one its pinyin), `auto`'s decision is stored on
 * the call once and taken by legs added later; calls are listed by language.
 */
import { describe, expect, it } from 'vitest';
import type { LanguageChoice, LanguageDecision } from '../../../appliance/asr/language.js';
import type { TranscriberFactory, TranscriberOptions, TranscriptFinal } from '../../../appliance/calls/transcriber.js';
import { Redactor } from '../../../appliance/privacy/redactor.js';
import { testCallManager } from '../../helpers/calls.js';

/** A transcriber that, on close, reports `decision` (if any) and then each of `finals`; records its options. */
function scripted(
  seen: TranscriberOptions[],
  finals: Omit<TranscriptFinal, 'words' | 'confidence' | 'latencyMs'>[],
  decision?: LanguageDecision,
): TranscriberFactory {
  return (opts, cb) => {
    seen.push(opts);
    return {
      write: () => {},
      lagMs: () => 0,
      stats: () => ({ droppedFrames: 0, decodedMs: 0, skippedMs: 0, chunkLatencyP95Ms: 0 }),
      close: async () => {
        if (decision !== undefined) cb.language?.(decision);
        for (const f of finals) cb.final({ words: [], confidence: 0.9, latencyMs: 50, ...f });
      },
    };
  };
}

describe('the language of a call and its utterances', () => {
  it('gives each leg the call’s language and stores it on the call and on each utterance, with the pinyin of Mandarin', async () => {
    const seen: TranscriberOptions[] = [];
    const zh = { text: '你好我想查询账单', pinyin: 'nǐ hǎo wǒ xiǎng chá xún zhàng dān', language: 'zh' as const, startMs: 0, endMs: 1500 };
    const { calls, store, events } = testCallManager('lang-zh', { transcribers: scripted(seen, [zh]) });
    const call = calls.startCall({ source: 'sip', language: { choice: 'zh', from: 'did' } });
    call.addLeg({ label: 'caller', codec: 'PCMU', sampleRateHz: 8000 });
    await call.end('bye');
    expect(seen.map((o) => o.language)).toEqual(['zh']);
    expect(store.calls.get(call.id)).toMatchObject({ language: 'zh', languageChoice: 'zh', languageFrom: 'did', languageConfidence: null });
    expect(store.utterances.listByCall(call.id)).toMatchObject([{ text: zh.text, language: 'zh', pinyin: zh.pinyin }]);
    expect(events.find((e) => e.type === 'call.started')).toMatchObject({ language: 'zh' });
    expect(events.find((e) => e.type === 'asr.final')).toMatchObject({ language: 'zh', pinyin: zh.pinyin });
    await calls.close();
    store.close();
  });

  it('takes the site default when a call brings none, and treats a final without a language as English', async () => {
    const seen: TranscriberOptions[] = [];
    const { calls, store } = testCallManager('lang-default', {
      transcribers: scripted(seen, [{ text: 'HELLO', startMs: 0, endMs: 900 }]),
      defaultLanguage: 'en',
    });
    const call = calls.startCall({ source: 'webrtc' });
    call.addLeg({ label: 'caller', codec: 'opus', sampleRateHz: 16000 });
    await call.end('bye');
    expect(seen.map((o) => o.language)).toEqual(['en']);
    expect(store.calls.get(call.id)).toMatchObject({ language: 'en', languageChoice: 'en', languageFrom: 'site' });
    expect(store.utterances.listByCall(call.id)).toMatchObject([{ language: 'en', pinyin: null }]);
    await calls.close();
    store.close();
  });

  it("stores auto's first decision on the call (language, confidence) and gives it to legs added later", async () => {
    const seen: TranscriberOptions[] = [];
    const decided: LanguageDecision = { language: 'zh', confidence: 0.87, decidedAtMs: 2400 };
    const { calls, store, events } = testCallManager('lang-auto', {
      transcribers: scripted(seen, [{ text: '好的', language: 'zh', pinyin: 'hǎo de', startMs: 0, endMs: 600 }], decided),
      defaultLanguage: 'auto',
    });
    const call = calls.startCall({ source: 'sip' });
    expect(store.calls.get(call.id)).toMatchObject({ language: null, languageChoice: 'auto', languageFrom: 'site' });
    const caller = call.addLeg({ label: 'caller', codec: 'PCMU', sampleRateHz: 8000 });
    await caller.end(); // its transcriber decides (zh) as it closes
    call.languageDecided({ language: 'en', confidence: 0.99, decidedAtMs: 100 }); // a later decision does not count
    call.addLeg({ label: 'agent', codec: 'PCMU', sampleRateHz: 8000 });
    await call.end('bye');
    expect(seen.map((o) => o.language)).toEqual(['auto', 'zh']);
    expect(store.calls.get(call.id)).toMatchObject({ language: 'zh', languageChoice: 'auto', languageConfidence: 0.87 });
    expect(events.filter((e) => e.type === 'call.language')).toMatchObject([{ callId: call.id, language: 'zh', confidence: 0.87 }]);
    await calls.close();
    store.close();
  });

  it('ignores a decision on a call that asked for one language', async () => {
    const seen: TranscriberOptions[] = [];
    const { calls, store, events } = testCallManager('lang-fixed', {
      transcribers: scripted(seen, [], { language: 'zh', confidence: 0.6, decidedAtMs: 3000 }),
    });
    const call = calls.startCall({ source: 'sip', language: { choice: 'en', from: 'trunk' } });
    call.addLeg({ label: 'caller', codec: 'PCMU', sampleRateHz: 8000 });
    await call.end('bye');
    expect(store.calls.get(call.id)).toMatchObject({ language: 'en', languageConfidence: null });
    expect(events.some((e) => e.type === 'call.language')).toBe(false);
    await calls.close();
    store.close();
  });

  it('does not store the pinyin of a final whose text redaction changed (it would spell what was removed)', async () => {
    const seen: TranscriberOptions[] = [];
    const text = '我的手机号是13812345678';
    const pinyin = 'wǒ de shǒu jī hào shì yāo sān bā yāo èr sān sì wǔ liù qī bā';
    const { calls, store, events } = testCallManager('lang-redacted', {
      transcribers: scripted(seen, [{ text, language: 'zh', pinyin, startMs: 0, endMs: 5000 }]),
      redactor: new Redactor(),
    });
    const call = calls.startCall({ source: 'sip', language: { choice: 'zh', from: 'site' } });
    call.addLeg({ label: 'caller', codec: 'PCMU', sampleRateHz: 8000 });
    await call.end('bye');
    const [u] = store.utterances.listByCall(call.id);
    expect(u?.text).not.toBe(text);
    expect(u).toMatchObject({ language: 'zh', pinyin: null });
    expect(JSON.stringify(events) + JSON.stringify(store.utterances.listByCall(call.id))).not.toContain('yāo');
    await calls.close();
    store.close();
  });

  it('lists calls by language', async () => {
    const { calls, store } = testCallManager('lang-list', { transcribers: null });
    const langs: LanguageChoice[] = ['en', 'zh', 'auto', 'zh'];
    const ids = langs.map((choice, i) => calls.startCall({ source: 'sip', callId: `c${i}`, language: { choice, from: 'site' } }).id);
    expect(
      store.calls
        .list({ limit: 10, language: 'zh' })
        .map((c) => c.id)
        .sort(),
    ).toEqual([ids[1], ids[3]]);
    expect(store.calls.list({ limit: 10, language: 'en' }).map((c) => c.id)).toEqual([ids[0]]);
    expect(store.calls.list({ limit: 10 })).toHaveLength(4);
    await calls.close();
    store.close();
  });
});
