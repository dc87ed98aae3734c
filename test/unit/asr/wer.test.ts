import { describe, expect, it } from 'vitest';
import { normalizeForWer, werCounts, werLine } from '../../../tools/asr/wer.js';

describe('WER scoring', () => {
  it('normalises like the model card and counts S/D/I', () => {
    expect(normalizeForWer("COLD-HEARTED, isn't it?")).toEqual(['cold', 'hearted', "isn't", 'it']);
    const c = werCounts('a b c d'.split(' '), 'a x c d e'.split(' '));
    expect(c).toEqual({ words: 4, subs: 1, dels: 0, ins: 1 });
    expect(werCounts(['a', 'b'], [])).toEqual({ words: 2, subs: 0, dels: 2, ins: 0 });
    expect(werLine({ words: 227, subs: 18, dels: 4, ins: 3 }, 17)).toBe('WER 11.01% over 17 utterances (18 subs, 4 dels, 3 ins)');
  });
});
