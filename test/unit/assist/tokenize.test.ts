import { describe, expect, it } from 'vitest';
import { englishTerm, searchTerms } from '../../../appliance/assist/tokenize.js';

describe('search terms', () => {
  it('lower-cases English words, drops apostrophes and a plural s', () => {
    expect(searchTerms("I DON'T have my Cards! It's lost, 2 ATMs.")).toEqual([
      'i',
      'dont',
      'have',
      'my',
      'card',
      'its',
      'lost',
      '2',
      'atm',
    ]);
  });

  it('keeps words that only look plural', () => {
    expect(['address', 'status', 'this', 'bus', 'currencies', 'is'].map(englishTerm)).toEqual([
      'address',
      'status',
      'this',
      'bus',
      'currency',
      'is',
    ]);
  });

  it('segments Chinese into words, not characters or whole runs', () => {
    const terms = searchTerms('我的银行卡丢了，怎么办？');
    // ICU's dictionary: 银行 | 卡 | 怎么 ...; never single characters for 银行, never the whole run
    expect(terms).toEqual(expect.arrayContaining(['银行', '怎么']));
    expect(terms).not.toContain('银');
    expect(terms).not.toContain('我的银行卡丢了');
    expect(terms).not.toContain('，');
    expect(terms.join('')).toBe('我的银行卡丢了怎么办');
  });

  it('splits Latin letters glued to Chinese and treats full-width letters as ASCII', () => {
    expect(searchTerms('ATM机吞卡了')).toEqual(expect.arrayContaining(['atm']));
    expect(searchTerms('ＡＴＭ')).toEqual(['atm']);
  });

  it('gives nothing for punctuation alone', () => {
    expect(searchTerms(' ?! … ，。')).toEqual([]);
  });
});
