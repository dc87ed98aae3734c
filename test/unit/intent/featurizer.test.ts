import { describe, expect, it } from 'vitest';
import { IntentFeaturizer, validateFeaturizerConfig, type IntentFeaturizerConfig } from '../../../appliance/intent/featurizer.js';
import { normalizeText, numberToWords } from '../../../appliance/intent/normalize.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';

const CONFIG: IntentFeaturizerConfig = { scheme: 'edgevox-intent-hash-v1', hashDim: 65536, wordNgrams: [1, 3], charNgrams: [2, 5] };

function snapshot(f: IntentFeaturizer, text: string): { ids: number[]; counts: number[] } {
  const r = f.featurize(text);
  return { ids: [...r.ids.subarray(0, r.length)].map(Number), counts: [...r.counts.subarray(0, r.length)] };
}

describe('intent text normalisation', () => {
  it('maps typed text and ASR transcripts to the same form', () => {
    expect(normalizeText("I don't have my card after 2 weeks!")).toBe('i dont have my card after two weeks');
    expect(normalizeText('I DONT HAVE MY CARD AFTER TWO WEEKS')).toBe('i dont have my card after two weeks');
    expect(normalizeText('Why is there a $1 charge?')).toBe('why is there a one dollars charge');
    expect(normalizeText('a 1£ fee and 25% off')).toBe('a one pounds fee and twenty five percent off');
    expect(normalizeText('  ¿¿ ...  ')).toBe('');
  });

  it('spells numbers the way they are spoken', () => {
    expect(numberToWords(0)).toBe('zero');
    expect(numberToWords(19)).toBe('nineteen');
    expect(numberToWords(40)).toBe('forty');
    expect(numberToWords(125)).toBe('one hundred twenty five');
    expect(numberToWords(2020)).toBe('two thousand twenty');
    expect(normalizeText('card 0042')).toBe('card zero zero four two');
    expect(normalizeText('£1,500.50')).toBe('one thousand five hundred point five zero pounds');
  });
});

describe('IntentFeaturizer', () => {
  it('is deterministic and independent of buffer reuse', () => {
    const a = new IntentFeaturizer(CONFIG);
    const b = new IntentFeaturizer(CONFIG);
    const first = snapshot(a, 'Where is my new card?');
    snapshot(a, 'a completely different and much longer sentence about exchange rates and top ups');
    expect(snapshot(a, 'Where is my new card?')).toEqual(first);
    expect(snapshot(b, 'WHERE IS MY NEW CARD')).toEqual(first);
  });

  it('emits sorted distinct bucket ids inside the hash space with counts', () => {
    const f = new IntentFeaturizer(CONFIG);
    const { ids, counts } = snapshot(f, 'card card card');
    expect(ids.length).toBeGreaterThan(10);
    for (let i = 1; i < ids.length; i++) expect(ids[i]!).toBeGreaterThan(ids[i - 1]!);
    for (const id of ids) expect(id >= 0 && id < CONFIG.hashDim).toBe(true);
    // "card" as a unigram occurs three times; its char n-grams too.
    expect(Math.max(...counts)).toBeGreaterThanOrEqual(3);
  });

  it('keeps the hashing stable (a change here silently breaks every shipped model)', () => {
    const f = new IntentFeaturizer({ ...CONFIG, hashDim: 1 << 20 });
    expect(snapshot(f, 'card').ids).toEqual([
      111539, 141374, 284897, 313420, 356260, 447979, 481631, 494454, 600879, 624380, 678685, 709468, 801140, 847042, 867272, 975176,
      977728, 1026790,
    ]);
  });

  it('returns no features for text without words', () => {
    expect(new IntentFeaturizer(CONFIG).featurize('?!').length).toBe(0);
  });

  it('rejects a malformed config with a model-contract error', () => {
    let caught: unknown;
    try {
      validateFeaturizerConfig({ scheme: 'other', hashDim: 10, wordNgrams: [1, 2], charNgrams: [2, 5] });
    } catch (err) {
      caught = err;
    }
    expect(isEdgeVoxError(caught, 'EVX_ERR_MODEL_CONTRACT')).toBe(true);
  });
});
