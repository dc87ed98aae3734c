import { describe, expect, it } from 'vitest';
import {
  failedRuleIds,
  formFromRule,
  markSegments,
  marksByUtterance,
  ruleFromForm,
  scorecardQuery,
  NO_FILTERS,
  RULE_KINDS,
} from '../../../web/console/src/qaModel.js';
import { RULE_KINDS as SERVER_RULE_KINDS } from '../../../appliance/qa/rules.js';

describe('QA transcript marking', () => {
  it('cuts a line at hit boundaries; overlapping hits of two rules give a piece marked with both', () => {
    const text = '我保证 I PROMISE YOU A REFUND now';
    const pieces = markSegments(text, [
      { start: 1, end: 3, rule: 'fb' },
      { start: 4, end: 26, rule: 'fb' },
      { start: 20, end: 26, rule: 'refund' },
    ]);
    expect(pieces).toEqual([
      { text: '我', rules: [] },
      { text: '保证', rules: ['fb'] },
      { text: ' ', rules: [] },
      { text: 'I PROMISE YOU A ', rules: ['fb'] },
      { text: 'REFUND', rules: ['fb', 'refund'] },
      { text: ' now', rules: [] },
    ]);
    expect(pieces.map((p) => p.text).join('')).toBe(text);
  });

  it('ignores spans outside the text and places hits by stored utterance id first', () => {
    expect(markSegments('abc', [{ start: 2, end: 9, rule: 'x' }])).toEqual([{ text: 'abc', rules: [] }]);
    const marks = marksByUtterance(
      [{ ruleId: 'g', hits: [{ utteranceId: 7, index: 0, start: 0, end: 5 }] }],
      [
        { id: 6, index: 0 },
        { id: 7, index: 1 },
      ],
    );
    expect(marks.get(1)).toEqual([{ start: 0, end: 5, rule: 'g' }]);
  });
});

describe('QA rule editor form', () => {
  it('round-trips a rule through the form (lines, numbers, booleans, optional fields left out)', () => {
    const rule = { id: 'greet', kind: 'greeting', weight: 20, critical: true, withinMs: 15000, phrases: ['HELLO', '您好'] };
    expect(ruleFromForm(formFromRule(rule))).toEqual(rule);
    const pattern = { id: 'p', kind: 'pattern', weight: 1, pattern: 'a|b', expect: 'present' };
    expect(ruleFromForm(formFromRule(pattern))).toEqual(pattern);
    const semantic = {
      id: 's',
      kind: 'semantic',
      weight: 5,
      phrases: ['I will resolve this', '我会帮您解决'],
      threshold: 0.55,
      expect: 'present',
    };
    expect(ruleFromForm(formFromRule(semantic))).toEqual(semantic);
    // what the user typed that is not a number is sent as typed, for the server to explain
    expect(ruleFromForm({ ...formFromRule(rule), weight: 'ten' })['weight']).toBe('ten');
  });

  it('offers every kind of rule the server knows', () => {
    expect([...RULE_KINDS].sort()).toEqual([...SERVER_RULE_KINDS].sort());
  });

  it('builds the list query from filters', () => {
    const q = new URLSearchParams(scorecardQuery({ ...NO_FILTERS, agent: ' alice ', result: 'fail', rule: 'greeting' }, 50, 123));
    expect(Object.fromEntries(q)).toEqual({ limit: '50', agent: 'alice', passed: 'false', rule: 'greeting', before: '123' });
  });

  it('lists the rules a call failed, in order, for a table cell', () => {
    const results = [
      { ruleId: 'greeting', outcome: 'pass' },
      { ruleId: 'disclosure', outcome: 'fail' },
      { ruleId: 'silence', outcome: 'fail' },
    ];
    expect(failedRuleIds(results)).toBe('disclosure, silence');
    expect(failedRuleIds([])).toBe('');
  });
});
