/**
 * Mandarin finals on the call path: the leg redacts them by the Chinese rules (their `language`
 * and `pinyin` travel with them), holds a final that ends inside a number, and stores and
 * publishes only placeholders; the analysers get the raw text in memory.
 */
import { pinyin } from 'pinyin-pro';
import { describe, expect, it } from 'vitest';
import type { TranscriberFactory } from '../../../appliance/calls/transcriber.js';
import { Redactor } from '../../../appliance/privacy/redactor.js';
import { testCallManager } from '../../helpers/calls.js';

/** A Mandarin transcriber stand-in: scripted finals (characters, the recogniser's words, pinyin) emitted when the leg closes. */
function scriptedMandarin(finals: readonly { text: string; heard?: string }[]): TranscriberFactory {
  return (_opts, cb) => ({
    write: () => {},
    lagMs: () => 0,
    stats: () => ({ droppedFrames: 0, decodedMs: 0, skippedMs: 0, chunkLatencyP95Ms: 0 }),
    close: async () => {
      let t = 0;
      for (const { text, heard } of finals) {
        const chars = Array.from(text);
        const words = chars.map((word, i) => ({ word, startMs: t + i * 250, endMs: t + i * 250 + 200 }));
        cb.final({
          text,
          words,
          startMs: t,
          endMs: t + chars.length * 250,
          confidence: 0.9,
          latencyMs: 100,
          language: 'zh',
          pinyin: heard ?? pinyin(text, { toneSandhi: false }),
        });
        t += chars.length * 250 + 1500;
      }
    },
  });
}

describe('Mandarin finals on the call path', () => {
  it('a mobile number over two finals and an ID number are stored and published redacted', async () => {
    const seen: string[] = [];
    const finals = [
      { text: '你好我叫王小明' },
      { text: '我的手机号是要散吧', heard: 'wǒ de shǒu jī hào shì yāo sān bā' },
      { text: '一二三四五六七八' },
      { text: '身份证号是一一零一零五一九四九一二三一零零二叉' },
    ];
    const { calls, store, events } = testCallManager('redact-zh', {
      transcribers: scriptedMandarin(finals),
      analysers: [{ name: 'probe', analyse: async (ctx) => (seen.push(ctx.text), null) }],
      redactor: new Redactor(),
    });
    const call = calls.startCall({ source: 'sip' });
    call.addLeg({ label: 'caller', codec: 'PCMU', sampleRateHz: 8000 });
    await call.end('bye');
    await new Promise((r) => setTimeout(r, 20));
    const stored = store.utterances.listByCall(call.id);
    expect(stored.map((u) => u.text)).toEqual(['你好我叫[NAME]', '我的手机号是[PHONE]', '[PHONE]', '身份证号是[ID]']);
    const published = events.filter((e) => e.type === 'asr.final').map((e) => e.text);
    expect(published).toEqual(stored.map((u) => u.text));
    const everything = JSON.stringify(events) + JSON.stringify(stored);
    expect(everything).not.toMatch(/王小明|要散吧|[一二三四五六七八九零]{3}/);
    expect(seen).toEqual(finals.map((f) => f.text));
    await calls.close();
    store.close();
  });
});
