/** Tonal-pinyin units grouped into timed syllables; pinyin token sets recognised from the tokens. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPinyinTokenSet, toSyllables } from '../../../appliance/asr/pinyinSyllables.js';
import { TokenTable } from '../../../appliance/asr/tokens.js';

const SHARED = process.env.EDGEVOX_SHARED ?? '../shared';
const zh = TokenTable.fromFile(join(SHARED, 'models/asr/kws-zipformer-wenetspeech-zh-3.3m/tokens.txt'));
const en = TokenTable.fromFile(join(SHARED, 'models/asr/zipformer-gigaspeech-3.3m/tokens.txt'));

function hyp(symbols: string[]) {
  const tokens = symbols.map((s) => {
    const id = zh.id(s);
    if (id === undefined) throw new Error(`no token ${s}`);
    return id;
  });
  return { tokens, frames: symbols.map((_, i) => i * 2), tokenLogProbs: symbols.map(() => Math.log(0.5)) };
}

describe('pinyin syllables', () => {
  it('tells a pinyin token set from a word-piece one', () => {
    expect(isPinyinTokenSet(zh)).toBe(true);
    expect(isPinyinTokenSet(en)).toBe(false);
  });

  it('joins initials to their finals, keeps zero-initial and neutral-tone syllables', () => {
    // the model card's example decode
    const h = hyp('sh èn zh ì ch ū x iàn j iāo y ì j ī h ū t íng zh ī d e q íng k uàng'.split(' '));
    const s = toSyllables(h, zh, (f) => f * 40, 40);
    expect(s.map((x) => x.text).join(' ')).toBe('shèn zhì chū xiàn jiāo yì jī hū tíng zhī de qíng kuàng');
    // times: from its initial's frame to one encoder frame after its final, never past the next syllable
    expect(s[0]).toMatchObject({ startMs: 0, endMs: 120, tokens: 2 });
    expect(s[1]!.startMs).toBe(160);
    expect(s[0]!.logProb).toBeCloseTo(2 * Math.log(0.5));
    const zero = toSyllables(hyp(['ān', 'q', 'uán', 'èr']), zh, (f) => f * 40, 40);
    expect(zero.map((x) => x.text)).toEqual(['ān', 'quán', 'èr']);
  });

  it('an initial without a final and a letter stand alone', () => {
    const s = toSyllables(hyp(['zh', 'A', 'b', 'ā', 'x']), zh, (f) => f * 40, 40);
    expect(s.map((x) => x.text)).toEqual(['zh', 'A', 'bā', 'x']);
  });
});
