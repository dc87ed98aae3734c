/**
 * Keywords written in Chinese characters on the Mandarin model (tonal pinyin units): the keyword
 * spotter finds 交易 and 情况 in the AISHELL-1 clip where they are spoken, at 16 kHz and through the
 * 8 kHz G.711 μ-law path, and a Chinese hotword list works through beam search.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FinalEvent } from '../../../appliance/asr/events.js';
import { Recognizer } from '../../../appliance/asr/recognizer.js';
import { readWavFile, transcribeAudio } from '../../../appliance/asr/transcribeFile.js';
import { mulawRoundTrip8k } from '../../../tools/asr/telephone.js';
import { SHARED } from './helpers.js';

const ZH_MODEL_DIR = join(SHARED, 'models', 'asr', 'kws-zipformer-wenetspeech-zh-3.3m');
const BAC009 = join(SHARED, 'datasets', 'speech-zh', 'BAC009S0764W0121.wav'); // 甚至出现交易几乎停滞的情况
const IT0011 = join(SHARED, 'datasets', 'speech-zh', 'IT0011W0001.wav'); // 换一首歌
const HAVE = existsSync(ZH_MODEL_DIR) && existsSync(BAC009) && existsSync(IT0011);

describe.skipIf(!HAVE)('Chinese keywords on the Mandarin model', () => {
  let rec: Recognizer;
  beforeAll(async () => {
    rec = await Recognizer.create({ modelDir: ZH_MODEL_DIR, threads: 1 });
  });
  afterAll(async () => {
    await rec.close();
  });

  it('spells phrases in pinyin units, never with a graph-only symbol', () => {
    expect(rec.info().phraseTokenizer).toBe('pinyin');
    const ids = rec.tokenize('甚至出现交易几乎停滞的情况');
    expect(ids.map((i) => rec.model.tokens.symbol(i)).join(' ')).toBe(
      'sh èn zh ì ch ū x iàn j iāo y ì j ī h ū t íng zh ì d e q íng k uàng',
    );
    expect(Math.max(...ids)).toBeLessThan(rec.info().geometry.vocabSize);
  });

  it('detects 交易 and 情况 in the clip that speaks them, in order, and no keyword that is absent', async () => {
    const keywords = ['交易', '情况', '销售', '商场', '业绩', '投诉', '退款', '信用卡'];
    const t = await transcribeAudio(rec, readWavFile(BAC009), 'BAC009', { vad: false, endpoint: false, keywords });
    expect(t.keywords.map((k) => k.keyword)).toEqual(['交易', '情况']);
    const [deal, situation] = t.keywords;
    expect(deal!.startMs).toBeLessThan(situation!.startMs);
    expect(deal!.score).toBeGreaterThanOrEqual(0.25);
    // nothing on a clip that speaks none of them
    const other = await transcribeAudio(rec, readWavFile(IT0011), 'IT0011', { vad: false, endpoint: false, keywords });
    expect(other.keywords).toEqual([]);
  });

  it('detects them through the 8 kHz G.711 μ-law telephone path too', async () => {
    const audio = mulawRoundTrip8k(readWavFile(BAC009));
    const t = await transcribeAudio(rec, audio, 'BAC009-8k', { vad: false, endpoint: false, keywords: ['交易', 'qíng kuàng'] });
    expect(t.keywords.map((k) => k.keyword)).toEqual(['交易', 'qíng kuàng']);
  });

  it('a Chinese hotword fixes the tone of 停滞 in the pinyin transcript', async () => {
    const audio = readWavFile(BAC009);
    const plain = await transcribeAudio(rec, audio, 'BAC009', { vad: false, endpoint: false, decoding: 'beam' });
    const biased = await transcribeAudio(rec, audio, 'BAC009', { vad: false, endpoint: false, hotwords: ['停滞'] });
    expect(pinyinOf(plain.finals)).toContain('tíngzhī');
    expect(pinyinOf(biased.finals)).toContain('tíngzhì');
  });
});

/** The recognised pinyin, run together (a final's `pinyin` where the engine gives characters as text). */
function pinyinOf(finals: readonly FinalEvent[]): string {
  return finals
    .map((f) => (f as { readonly pinyin?: string }).pinyin ?? f.text)
    .join('')
    .replaceAll(' ', '');
}
