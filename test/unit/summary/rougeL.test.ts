/** ROUGE-L F1 as make eval-summary scores summary text: words for English, characters for Chinese. */
import { describe, expect, it } from 'vitest';
import { rougeLF1, rougeTokens } from '../../../tools/assist/rougeL.js';

describe('ROUGE-L F1', () => {
  it('is 1 for the same text, 0 for nothing in common or an empty side', () => {
    expect(rougeLF1('Agent cancelled the card.', 'agent cancelled the card', 'en')).toBe(1);
    expect(rougeLF1('hello there', 'card blocked', 'en')).toBe(0);
    expect(rougeLF1('', 'card blocked', 'en')).toBe(0);
  });
  it('scores the longest common subsequence, in order', () => {
    // LCS of "caller lost their card" and "the caller lost a debit card" = caller lost card (3): P 3/4, R 3/6.
    expect(rougeLF1('caller lost their card', 'the caller lost a debit card', 'en')).toBeCloseTo((2 * 0.75 * 0.5) / 1.25, 6);
    expect(rougeLF1('card lost caller', 'caller lost card', 'en')).toBeCloseTo(1 / 3, 6);
  });
  it('compares Chinese by character, without punctuation', () => {
    expect(rougeTokens('客户来电：激活新卡。', 'zh')).toEqual(['客', '户', '来', '电', '激', '活', '新', '卡']);
    expect(rougeLF1('已激活卡片', '坐席已帮客户激活卡片', 'zh')).toBeCloseTo((2 * 1 * 0.5) / 1.5, 6);
  });
});
