import { describe, expect, it } from 'vitest';
import { countWordEdits } from '../../../appliance/text/wordEdits.js';

const words = (s: string): string[] => s.split(' ').filter(Boolean);

describe('countWordEdits', () => {
  it('counts nothing between two empty inputs, and only insertions or deletions against an empty side', () => {
    expect(countWordEdits([], [])).toEqual({ substitutions: 0, deletions: 0, insertions: 0, total: 0 });
    expect(countWordEdits([], words('a b c'))).toEqual({ substitutions: 0, deletions: 0, insertions: 3, total: 3 });
    expect(countWordEdits(words('a b c'), [])).toEqual({ substitutions: 0, deletions: 3, insertions: 0, total: 3 });
  });

  it('counts nothing between identical inputs', () => {
    expect(countWordEdits(words('the cat sat'), words('the cat sat'))).toEqual({ substitutions: 0, deletions: 0, insertions: 0, total: 0 });
  });

  it('counts a word-for-word different hypothesis as substitutions', () => {
    expect(countWordEdits(words('a b c'), words('x y z'))).toEqual({ substitutions: 3, deletions: 0, insertions: 0, total: 3 });
  });

  it('counts extra hypothesis words as insertions', () => {
    expect(countWordEdits(words('a b'), words('x a y b z'))).toEqual({ substitutions: 0, deletions: 0, insertions: 3, total: 3 });
  });

  it('counts missing reference words as deletions', () => {
    expect(countWordEdits(words('a b c d'), words('b d'))).toEqual({ substitutions: 0, deletions: 2, insertions: 0, total: 2 });
  });

  it('scores a known WER example', () => {
    // "he was not an ill disposed young man" heard as "he was not an old supposed young man and":
    // 2 substitutions and 1 insertion over 8 reference words, WER 3/8.
    const e = countWordEdits(words('he was not an ill disposed young man'), words('he was not an old supposed young man and'));
    expect(e).toEqual({ substitutions: 2, deletions: 0, insertions: 1, total: 3 });
    expect(e.total / 8).toBe(0.375);
    // The WER scorer's reference case: one substitution and one insertion.
    expect(countWordEdits(words('a b c d'), words('a x c d e'))).toEqual({ substitutions: 1, deletions: 0, insertions: 1, total: 2 });
  });

  it('aligns against a window of the hypothesis, with rows reused between calls of any size', () => {
    const transcript = words('so thank you for calling acme today goodbye');
    const phrase = words('thank you for calling acme');
    expect(countWordEdits(phrase, transcript, 1, 5).total).toBe(0);
    expect(countWordEdits(phrase, transcript, 1, 4)).toEqual({ substitutions: 0, deletions: 1, insertions: 0, total: 1 });
    expect(countWordEdits(phrase, transcript, 0, 0).total).toBe(5);
    const long = Array.from({ length: 300 }, (_, i) => `w${i % 7}`);
    expect(countWordEdits(long, long).total).toBe(0);
    expect(countWordEdits(phrase, transcript, 2, 5)).toEqual({ substitutions: 0, deletions: 1, insertions: 1, total: 2 });
    expect(() => countWordEdits(phrase, transcript, 6, 5)).toThrow(RangeError);
  });
});
