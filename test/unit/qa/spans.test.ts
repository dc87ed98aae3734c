/**
 * Where rules matched: every rule hit names the utterance and the UTF-16 span (what String.slice
 * takes) in its stored, possibly redacted, text, so the console can highlight exactly those words.
 */
import { describe, expect, it } from 'vitest';
import { scoreCall, tokenise, type QaCall, type RuleHit } from '../../../appliance/qa/engine.js';
import { patternProblem, ruleSetIssues, validateRuleSet, type QaRule } from '../../../appliance/qa/rules.js';

const T0 = 1_700_000_000_000;

function call(lines: [speaker: 'agent' | 'caller', startS: number, text: string][]): QaCall {
  return {
    callId: 'c1',
    startedAt: T0,
    answeredAt: T0,
    endedAt: T0 + 60_000,
    legs: [
      { id: 'a', label: 'agent', startedAt: T0 },
      { id: 'c', label: 'caller', startedAt: T0 },
    ],
    utterances: lines.map(([speaker, s, text], i) => ({
      id: 100 + i,
      legId: speaker === 'agent' ? 'a' : 'c',
      speaker,
      startMs: s * 1000,
      endMs: s * 1000 + 900,
      text,
    })),
  };
}

const texts = (c: QaCall, hits: readonly RuleHit[]) => hits.map((h) => c.utterances[h.index]!.text.slice(h.start, h.end));
const result = (c: QaCall, rules: QaRule[]) => scoreCall(c, rules, 80).results;

describe('rule hits carry utterance and character spans', () => {
  it('several hits in one utterance, each with its own span, ids of the stored utterances', () => {
    const c = call([
      ['caller', 0, 'I PROMISE nothing'],
      ['agent', 1, 'Well, I promise… it is guaranteed, I PROMISE you!'],
    ]);
    const [r] = result(c, [{ id: 'fb', kind: 'forbidden', weight: 1, phrases: ['I PROMISE', 'GUARANTEED'] }]);
    expect(r!.outcome).toBe('fail');
    expect(r!.value).toBe(3);
    // the caller's "I PROMISE" is not the agent's: no hit there
    expect(r!.hits.every((h) => h.index === 1 && h.utteranceId === 101)).toBe(true);
    expect(texts(c, r!.hits)).toEqual(['I promise', 'guaranteed', 'I PROMISE']);
    expect(r!.hits.map((h) => h.start)).toEqual([6, 23, 35]);
  });

  it('Chinese text: each Han character is a word; spans are offsets into the original text', () => {
    const c = call([['agent', 1, '您好，欢迎致电。我保证全额退款，保证！']]);
    const [g, f] = result(c, [
      { id: 'greet', kind: 'greeting', weight: 1, withinMs: 5000, phrases: ['欢迎 致电'] },
      { id: 'fb', kind: 'forbidden', weight: 1, phrases: ['保证'] },
    ]);
    expect(g!.outcome).toBe('pass');
    expect(texts(c, g!.hits)).toEqual(['欢迎致电']);
    expect(g!.hits[0]).toMatchObject({ start: 3, end: 7 });
    expect(f!.value).toBe(2);
    expect(texts(c, f!.hits)).toEqual(['保证', '保证']);
  });

  it('offsets are UTF-16 code units: an emoji or accented word before the hit does not shift it', () => {
    const c = call([['agent', 1, '😀 café ok, GUARANTEED']]);
    const [r] = result(c, [{ id: 'fb', kind: 'forbidden', weight: 1, phrases: ['guaranteed'] }]);
    expect(texts(c, r!.hits)).toEqual(['GUARANTEED']);
    expect(tokenise('😀 café ok').tokens).toEqual(['CAFÉ', 'OK']);
  });

  it('redacted text: spans are over the stored text, a redaction tag is one word and can be part of a hit', () => {
    const c = call([['agent', 1, 'your card [CARD] is charged, [NAME] I promise you a refund']]);
    const [r, p] = result(c, [
      { id: 'fb', kind: 'forbidden', weight: 1, phrases: ['I PROMISE YOU A REFUND'] },
      { id: 'card', kind: 'forbidden', weight: 1, phrases: ['CARD [CARD]'] },
    ]);
    expect(texts(c, r!.hits)).toEqual(['I promise you a refund']);
    expect(texts(c, p!.hits)).toEqual(['card [CARD]']);
  });

  it('a disclosure read over two utterances gives one span in each', () => {
    const c = call([
      ['agent', 1, 'Hello. This call may be recorded'],
      ['agent', 3, 'for quality and training purposes, okay?'],
    ]);
    const [d] = result(c, [
      {
        id: 'disc',
        kind: 'disclosure',
        weight: 1,
        minSimilarity: 0.8,
        phrases: ['THIS CALL MAY BE RECORDED FOR QUALITY AND TRAINING PURPOSES'],
      },
    ]);
    expect(d!.outcome).toBe('pass');
    expect(texts(c, d!.hits)).toEqual(['This call may be recorded', 'for quality and training purposes']);
    expect(d!.hits.map((h) => h.index)).toEqual([0, 1]);
  });

  it('pattern rules: regex matches (case-insensitive by default) are the spans; timing rules have none', () => {
    const c = call([['agent', 1, '订单号 AB-1234 和 ab-99，谢谢']]);
    const [p, s] = result(c, [
      { id: 'ref', kind: 'pattern', weight: 1, pattern: '[A-Z]{2}-\\d+', expect: 'absent' },
      { id: 'sil', kind: 'silence', weight: 1, maxRatio: 1 },
    ]);
    expect(p).toMatchObject({ outcome: 'fail', value: 2 });
    expect(texts(c, p!.hits)).toEqual(['AB-1234', 'ab-99']);
    expect(s!.hits).toEqual([]);
  });
});

describe('rule validation in plain language', () => {
  it('refuses a pattern that is not a regex and one with nested repetition (ReDoS)', () => {
    expect(patternProblem('(unclosed')).toMatch(/not a valid regular expression/);
    expect(patternProblem('(a+)+$')).toMatch(/nested repeats/);
    expect(patternProblem('([a-z]*)*x')).toMatch(/nested repeats/);
    // overlapping alternatives under a repeat, which a star-height check does not see
    expect(patternProblem('(a|a)*b')).toMatch(/nested repeats/);
    expect(patternProblem('(x|xy){2,}z')).toMatch(/nested repeats/);
    expect(patternProblem('(a|a){30}b')).toMatch(/nested repeats/);
    expect(patternProblem('(a)\\1')).toMatch(/refers back/);
    expect(patternProblem('refund (now|today)')).toBeNull();
    expect(patternProblem('(now|today)? [|(]x')).toBeNull();
  });

  it('lists every issue with the rule and field it is about', () => {
    const issues = ruleSetIssues({
      rules: [
        { id: 'Bad Id', kind: 'greeting', weight: 1, withinMs: -1, phrases: [] },
        { id: 'x', kind: 'bogus', weight: 1 },
        { id: 'x', kind: 'pattern', weight: 1, pattern: '(a*)*', expect: 'absent' },
      ],
    });
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ index: 0, field: 'id', message: expect.stringMatching(/lower-case letters/) }),
        expect.objectContaining({ index: 0, field: 'withinMs', message: '"withinMs" must be between 0 and 600000.' }),
        expect.objectContaining({ index: 0, field: 'phrases', message: '"phrases" needs at least 1 entry.' }),
        expect.objectContaining({ index: 1, rule: 'x', field: 'kind', message: expect.stringMatching(/Unknown kind of rule "bogus"/) }),
        expect.objectContaining({ index: 2, field: 'pattern', message: expect.stringMatching(/nested repeats/) }),
        expect.objectContaining({ index: 2, field: 'id', message: expect.stringMatching(/Two rules are called "x"/) }),
      ]),
    );
    expect(() => validateRuleSet({ rules: [{ id: 'ok', kind: 'silence', weight: 0, maxRatio: 0.5 }] })).toThrow(/weight above 0/);
  });
});

describe('overlapping hits', () => {
  it('a phrase inside a longer matched phrase is counted but not marked twice', () => {
    const c = call([['agent', 1, 'I PROMISE YOU A REFUND']]);
    const [r] = result(c, [{ id: 'fb', kind: 'forbidden', weight: 1, phrases: ['I PROMISE', 'I PROMISE YOU A REFUND'] }]);
    expect(r!.value).toBe(2);
    expect(texts(c, r!.hits)).toEqual(['I PROMISE YOU A REFUND']);
  });
});
