/**
 * Phrases → tonal pinyin units for the Mandarin model (its real tokens.txt): characters in context,
 * pinyin with marks or numbers, letters, and refusals; only network outputs, never graph-only symbols.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PhraseTokenizer } from '../../../appliance/asr/phraseTokenizer.js';
import { withToneMark } from '../../../appliance/asr/pinyinSpelling.js';
import { TokenTable } from '../../../appliance/asr/tokens.js';

const SHARED = process.env.EDGEVOX_SHARED ?? '../shared';
const ZH_TOKENS = join(SHARED, 'models/asr/kws-zipformer-wenetspeech-zh-3.3m/tokens.txt');
const EN_MODEL = join(SHARED, 'models/asr/zipformer-gigaspeech-3.3m');
/** The joiner's output width of the Mandarin model: ids 197… (`#0`…`#29`) are graph-only. */
const ZH_OUTPUTS = 197;

describe.skipIf(!existsSync(ZH_TOKENS))('pinyin phrase spelling', () => {
  const tokens = TokenTable.fromFile(ZH_TOKENS);
  const tok = new PhraseTokenizer(tokens, undefined, { outputSize: ZH_OUTPUTS });
  const spell = (phrase: string): string =>
    tok
      .encode(phrase)
      .map((id) => tokens.symbol(id))
      .join(' ');

  it('is chosen from the tokens (tone-marked finals), not for an English vocabulary', () => {
    expect(tok.method).toBe('pinyin');
    expect(new PhraseTokenizer(TokenTable.fromFile(join(EN_MODEL, 'tokens.txt')), join(EN_MODEL, 'bpe.model')).method).toBe(
      'unigram-viterbi',
    );
    expect(new PhraseTokenizer(TokenTable.fromFile(join(EN_MODEL, 'tokens.txt'))).method).toBe('longest-match');
  });

  it('spells the evaluation keywords as initial + tone-marked final per syllable', () => {
    expect(spell('交易')).toBe('j iāo y ì');
    expect(spell('情况')).toBe('q íng k uàng');
    expect(spell('信用卡')).toBe('x ìn y òng k ǎ');
    expect(spell('销售')).toBe('x iāo sh òu');
    expect(spell('商场')).toBe('sh āng ch ǎng');
    expect(spell('业绩')).toBe('y è j ì');
    expect(spell('投诉')).toBe('t óu s ù');
    expect(spell('退款')).toBe('t uì k uǎn');
  });

  it('reads polyphones in context and without tone sandhi (as the training labels)', () => {
    expect(spell('银行')).toBe('y ín h áng');
    expect(spell('行走')).toBe('x íng z ǒu');
    expect(spell('长大')).toBe('zh ǎng d à');
    expect(spell('一个')).toBe('y ī g è');
    expect(spell('不是')).toBe('b ù sh ì');
  });

  it('spells zero-initial syllables, ü, the neutral tone and a syllabic n', () => {
    expect(spell('爱')).toBe('ài');
    expect(spell('二')).toBe('èr');
    expect(spell('绿色')).toBe('l ǜ s è');
    expect(spell('略')).toBe('l üè');
    expect(spell('去学校')).toBe('q ù x ué x iào');
    expect(spell('好的')).toBe('h ǎo d e');
    expect(spell('嗯')).toBe('ń'); // pinyin-pro reads ǹg first; the units only have ń
  });

  it('accepts pinyin with tone marks or numbers, spaced or run together', () => {
    expect(spell('jiāo yì')).toBe('j iāo y ì');
    expect(spell('jiao1 yi4')).toBe('j iāo y ì');
    expect(spell('jiāoyì')).toBe('j iāo y ì');
    expect(spell('Qíng Kuàng')).toBe('q íng k uàng');
    expect(spell('xian1')).toBe('x iān');
    expect(spell("xi1'an1")).toBe('x ī ān');
    expect(spell('lv4 se4')).toBe('l ǜ s è');
    expect(spell('ju2')).toBe('j ú');
    expect(spell('de5')).toBe('d e');
  });

  it('mixes characters with upper-case letters the model spells', () => {
    expect(spell('VIP卡')).toBe('V I P k ǎ');
    expect(spell('交易，情况。')).toBe('j iāo y ì q íng k uàng');
  });

  it('refuses a phrase it cannot spell with EVX_ERR_ASR_PHRASE', () => {
    for (const phrase of ['', '  ', '!!', 'hello', 'jiāo6', 'jiao1xyz', 'q1', 'zhng', 'こんにちは', 'Å卡']) {
      expect(() => tok.encode(phrase), phrase).toThrow(expect.objectContaining({ code: 'EVX_ERR_ASR_PHRASE' }));
    }
  });

  it('never spells with a symbol at or past the joiner output size', () => {
    const all = tok.encode('甚至出现交易几乎停滞的情况销售商场业绩投诉退款信用卡银行');
    expect(Math.max(...all)).toBeLessThan(ZH_OUTPUTS);
    // the same tokens with an output size that excludes `iāo` (id 112): 交易 is then unspellable
    expect(tokens.id('iāo')).toBe(112);
    const narrow = new PhraseTokenizer(tokens, undefined, { outputSize: 112 });
    expect(() => narrow.encode('交易')).toThrow(expect.objectContaining({ code: 'EVX_ERR_ASR_PHRASE' }));
    // graph-only `#n` symbols are never used, even without a known output size
    const table = new TokenTable(['<blk>', '<sos/eos>', '<unk>', 'A', '#1']);
    expect(() => new PhraseTokenizer(table).encode('#1')).toThrow(expect.objectContaining({ code: 'EVX_ERR_ASR_PHRASE' }));
  });
});

describe('tone numbers → marks', () => {
  it('marks a/e first, the o of ou, else the last vowel; 5 and 0 are neutral', () => {
    expect(withToneMark('jiao1')).toBe('jiāo');
    expect(withToneMark('dou4')).toBe('dòu');
    expect(withToneMark('gui4')).toBe('guì');
    expect(withToneMark('liu2')).toBe('liú');
    expect(withToneMark('lüe4')).toBe('lüè');
    expect(withToneMark('ma5')).toBe('ma');
    expect(withToneMark('jiāo1')).toBeUndefined();
    expect(withToneMark('ng2')).toBeUndefined();
  });
});
