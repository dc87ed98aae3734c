/**
 * Pinyin → characters on the real sunpinyin data (Debian sunpinyin-data, installed by make setup):
 * lexicon lookups, sane trigram probabilities, the model card's example sentence, wrong tones,
 * n-best choice, syllables the lexicon cannot spell, the no-LM baseline, and damaged data refused.
 */
import { closeSync, copyFileSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_HANZI_DATA_DIR, HanziConverter, type PinyinHypothesis } from '../../../../appliance/asr/hanzi/converter.js';
import { isEdgeVoxError } from '../../../../appliance/errors.js';

const HAVE = existsSync(join(DEFAULT_HANZI_DATA_DIR, 'lm_sc.t3g')) && existsSync(join(DEFAULT_HANZI_DATA_DIR, 'pydict_sc.bin'));
/** The model card's transcript of BAC009S0764W0121 (甚至出现交易几乎停滞的情况), as syllables. */
const EXAMPLE = 'shèn zhì chū xiàn jiāo yì jī hū tíng zhī de qíng kuàng';

function hyp(text: string, logProb = 0): PinyinHypothesis {
  return { logProb, syllables: text.split(' ').map((t, i) => ({ text: t, startMs: 1000 + 200 * i, endMs: 1180 + 200 * i })) };
}

describe.skipIf(!HAVE)('HanziConverter on sunpinyin-data', () => {
  let hz: HanziConverter;
  let tmp: string;
  beforeAll(() => {
    hz = HanziConverter.load();
    tmp = mkdtempSync(join(tmpdir(), 'hanzi-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('reports the data it loaded', () => {
    const info = hz.info();
    expect(info.dataDir).toBe(DEFAULT_HANZI_DATA_DIR);
    expect(info.words).toBeGreaterThan(80_000);
    expect(info.ngrams).toHaveLength(3);
    expect(info.ngrams[1]).toBeGreaterThan(1_000_000);
  });

  it('looks up known words by toneless syllables, most likely first', () => {
    expect(hz.lookup("jiao'yi")[0]!.word).toBe('交易');
    expect(hz.lookup("qing'kuang")[0]!.word).toBe('情况');
    expect(hz.lookup("chu'xian").map((w) => w.word)).toContain('出现');
    expect(hz.lookup('shi')[0]!.word).toBe('是');
    expect(hz.lookup("xyz'yi")).toEqual([]);
  });

  it('gives sane trigram probabilities: a seen bigram beats its back-off, a common word a rare homophone', () => {
    const id = (p: string, w: string) => hz.lookup(p).find((x) => x.word === w)!.id;
    // (pairs that are lexicon words themselves, 我想, 中国人民, are rare as bigrams of the segmented text)
    const yige = id("yi'ge", '一个');
    const ren = id('ren', '人');
    const zai = id('zai', '在');
    const zhongguo = id("zhong'guo", '中国');
    const de = id('de', '的');
    const wo = id('wo', '我');
    expect(hz.lnProbability([yige], ren)).toBeGreaterThan(hz.lnProbability([], ren) + 2);
    expect(hz.lnProbability([zai], zhongguo)).toBeGreaterThan(hz.lnProbability([], zhongguo) + 2);
    expect(hz.lnProbability([wo, zai], zhongguo)).toBeGreaterThan(hz.lnProbability([], zhongguo) + 2);
    expect(hz.lnProbability([de], id("qing'kuang", '情况'))).toBeGreaterThan(hz.lnProbability([de], id("qing'kuang", '轻狂')) + 2);
    expect(hz.lnProbability([], wo)).toBeLessThan(0);
    expect(hz.lnProbability([], wo)).toBeGreaterThan(Math.log(1e-3));
  });

  it("converts the model card's example close to 甚至出现交易几乎停滞的情况, words timed by their syllables", () => {
    const r = hz.convert([hyp(EXAMPLE)]);
    const words = r.words.map((w) => w.word);
    for (const w of ['甚至', '出现', '交易', '几乎', '情况']) expect(words).toContain(w);
    expect([...r.text]).toHaveLength(13);
    expect(r.pinyin).toBe(EXAMPLE);
    const jiaoyi = r.words.find((w) => w.word === '交易')!;
    expect(jiaoyi).toMatchObject({ pinyin: 'jiāo yì', startMs: 1000 + 200 * 4, endMs: 1180 + 200 * 5 });
    expect(r.words[0]!.startMs).toBe(1000);
    expect(r.words.at(-1)!.endMs).toBe(1180 + 200 * 12);
    expect(Number.isFinite(r.score)).toBe(true);
  });

  it('keeps a word whose tone was misrecognised', () => {
    expect(hz.convert([hyp('jiāo yí')]).text).toBe('交易');
    expect(hz.convert([hyp('qīng kuàng')]).text).toBe('情况');
    expect(hz.convert([hyp('chū xiǎn jiāo yì')]).text).toBe('出现交易');
  });

  it('lets tones choose among homophones', () => {
    expect(hz.convert([hyp('shì')]).text).toBe('是');
    expect(hz.convert([hyp('shí')]).text).not.toBe('是');
    expect(hz.convert([hyp('mǎi')]).text).toBe('买');
    expect(hz.convert([hyp('mài')]).text).toBe('卖');
  });

  it('ends an utterance with any closing mark, so a question keeps its particle 吗', () => {
    expect(hz.convert([hyp('zhōu biān yǒu shén me jǐng diǎn ma')]).text).toBe('周边有什么景点吗');
  });

  it('takes the best over the n-best: LM and acoustic score together', () => {
    const garbled = hyp('xyz qqq jiāo', 0);
    const good = hyp('jiāo yì', -1);
    const r = hz.convert([garbled, good]);
    expect(r.text).toBe('交易');
    expect(r.pinyin).toBe('jiāo yì');
    // the same syllables: the acoustic score decides
    expect(hz.convert([hyp('mǎi', -9), hyp('mài', 0)]).text).toBe('卖');
    expect(hz.convert([hyp('mǎi', 0), hyp('mài', -9)]).text).toBe('买');
  });

  it('keeps what the lexicon cannot spell instead of failing', () => {
    const r = hz.convert([hyp('jiāo yì zh')]);
    expect(r.text).toBe('交易zh');
    expect(r.words.at(-1)).toMatchObject({ word: 'zh', pinyin: 'zh' });
    expect(hz.convert([hyp('!!')]).text).toBe('!!');
    expect(hz.convert([])).toEqual({ text: '', words: [], pinyin: '', score: 0 });
    expect(hz.convert([{ syllables: [], logProb: 0 }]).text).toBe('');
  });

  it('maps each syllable alone without the LM (the baseline), one character per syllable', () => {
    const r = hz.convert([hyp(EXAMPLE)], { useLm: false });
    expect([...r.text]).toHaveLength(13);
    expect(r.words).toHaveLength(13);
    expect(r.words[2]).toMatchObject({ pinyin: 'chū', startMs: 1400, endMs: 1580 });
    expect(hz.convert([hyp('shì de')], { useLm: false }).text).toBe('是的');
    expect(hz.convert([hyp('jiāo zh')], { useLm: false }).text).toBe('交zh');
  });

  it('refuses a missing directory, a truncated model and a corrupt lexicon with EVX_ERR_ASR_HANZI_DATA', () => {
    const refused = (dir: string, what: RegExp) => {
      try {
        HanziConverter.load(dir);
      } catch (err) {
        expect(isEdgeVoxError(err, 'EVX_ERR_ASR_HANZI_DATA')).toBe(true);
        expect((err as Error).message).toMatch(what);
        return;
      }
      throw new Error(`${dir} loaded`);
    };
    refused(join(tmp, 'nowhere'), /lm_sc\.t3g is missing.*sunpinyin-data/);
    const lmHead = Buffer.alloc(1 << 20);
    const fd = openSync(join(DEFAULT_HANZI_DATA_DIR, 'lm_sc.t3g'), 'r');
    readSync(fd, lmHead, 0, lmHead.length, 0);
    closeSync(fd);
    writeFileSync(join(tmp, 'lm_sc.t3g'), lmHead); // a download cut off after 1 MB
    copyFileSync(join(DEFAULT_HANZI_DATA_DIR, 'pydict_sc.bin'), join(tmp, 'pydict_sc.bin'));
    refused(tmp, /lm_sc\.t3g is truncated or corrupt: size 1048576 bytes, its header describes 39188868/);
    copyFileSync(join(DEFAULT_HANZI_DATA_DIR, 'lm_sc.t3g'), join(tmp, 'lm_sc.t3g'));
    const dict = readFileSync(join(DEFAULT_HANZI_DATA_DIR, 'pydict_sc.bin'));
    writeFileSync(join(tmp, 'pydict_sc.bin'), dict.subarray(0, dict.length - 4000));
    refused(tmp, /pydict_sc\.bin is truncated or corrupt/);
    writeFileSync(join(tmp, 'pydict_sc.bin'), dict);
    expect(HanziConverter.load(tmp).info().dataDir).toBe(tmp);
  });
});
