import { describe, expect, it } from 'vitest';
import { clauses, isNegated, negationCues } from '../../../appliance/qa/negation.js';
import { semanticSegments } from '../../../appliance/qa/semanticMatch.js';

describe('negation cues', () => {
  it.each([
    'I will not resolve this.',
    "I can't fix that for you.",
    'I CANT FIX THAT',
    'We won’t be able to resolve this today.',
    "I'm unable to sort this out.",
    'I never said I would fix it.',
    "There's nothing I can do.",
    'I cannot transfer you.',
    'No, we do not record calls.',
    "THERE ISN'T ANYTHING ELSE I CAN DO",
  ])('"%s" is negated', (text) => {
    expect(isNegated(text)).toBe(true);
  });

  it.each([
    'I will resolve this.',
    "I'll make sure this gets fixed.",
    "Don't worry, I'll get this resolved.",
    "No problem, I'll have this fixed by the end of the day.",
    'NO WORRIES I WILL SORT IT OUT',
    'That is not a problem at all.',
    'Is there anything else I can help you with?',
    'I know how frustrating this is.',
  ])('"%s" is not negated', (text) => {
    expect(isNegated(text)).toBe(false);
  });

  it('lists the cues in order, idioms left out', () => {
    expect(negationCues("Don't worry, I can't and won't do that, never")).toEqual(["can't", "won't", 'never']);
  });
});

describe('clauses', () => {
  it('splits at punctuation and before contrast words, with offsets into the text', () => {
    const text = 'I understand your frustration, but I cannot refund it.';
    const parts = clauses(text);
    expect(parts.map((c) => c.text)).toEqual(['I understand your frustration', 'but I cannot refund it']);
    for (const c of parts) expect(text.slice(c.start, c.end)).toBe(c.text);
  });

  it('splits recogniser text (no punctuation) at BUT', () => {
    expect(clauses('I UNDERSTAND YOUR FRUSTRATION BUT I CANNOT REFUND IT').map((c) => c.text)).toEqual([
      'I UNDERSTAND YOUR FRUSTRATION',
      'BUT I CANNOT REFUND IT',
    ]);
  });

  it('segments: the whole utterance, then clauses of three words or more, each with its own polarity', () => {
    const segs = semanticSegments('Sorry, I understand your frustration but I cannot refund it');
    expect(segs.map((s) => [s.text, s.negated])).toEqual([
      ['Sorry, I understand your frustration but I cannot refund it', true],
      ['I understand your frustration', false],
      ['but I cannot refund it', true],
    ]);
    expect(semanticSegments('I will resolve this.').map((s) => s.text)).toEqual(['I will resolve this.']);
  });
});
