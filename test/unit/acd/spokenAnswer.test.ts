import { describe, expect, it } from 'vitest';
import { spokenAnswer } from '../../../appliance/acd/spokenAnswer.js';

describe('spokenAnswer', () => {
  it('reads a yes or a no from a final transcript; both, neither or a part of a word is no answer', () => {
    expect(spokenAnswer('YES PLEASE')).toBe('yes');
    expect(spokenAnswer("yeah that's fine")).toBe('yes');
    expect(spokenAnswer('OKAY')).toBe('yes');
    expect(spokenAnswer('NO THANK YOU')).toBe('no');
    expect(spokenAnswer('nope')).toBe('no');
    expect(spokenAnswer('NO YES')).toBeNull();
    expect(spokenAnswer('I LOST MY CARD')).toBeNull();
    expect(spokenAnswer('YESTERDAY NOTHING NOW')).toBeNull();
    expect(spokenAnswer('')).toBeNull();
  });

  it('a yes word under a negation is no yes: "not sure" keeps no callback', () => {
    expect(spokenAnswer("I'M NOT SURE")).toBeNull();
    expect(spokenAnswer('NOT OKAY')).toBeNull();
    expect(spokenAnswer("THAT'S NOT CORRECT")).toBeNull();
    expect(spokenAnswer("DON'T BE SURE")).toBeNull();
    expect(spokenAnswer('NOT REALLY NO')).toBe('no');
    expect(spokenAnswer('SURE NOTHING ELSE')).toBe('yes');
  });
});
