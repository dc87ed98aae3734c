import { describe, expect, it } from 'vitest';
import {
  callRow,
  conversationQuery,
  conversationRow,
  failedRuleIds,
  mergeQaRows,
  qaCursor,
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
    const q = new URLSearchParams(
      scorecardQuery({ ...NO_FILTERS, agent: ' alice ', result: 'fail', rule: 'greeting' }, 50, { before: 123, beforeId: 'call-9' }),
    );
    expect(Object.fromEntries(q)).toEqual({
      limit: '50',
      agent: 'alice',
      passed: 'false',
      rule: 'greeting',
      before: '123',
      beforeId: 'call-9',
    });
  });

  it("pages on from the last row's (when scored, id): the page's nextBefore and nextBeforeId", () => {
    expect(qaCursor({ nextBefore: null, nextBeforeId: null })).toBeNull();
    expect(qaCursor({ nextBefore: 5, nextBeforeId: 'c 1&x' })).toEqual({ before: 5, beforeId: 'c 1&x' });
    expect(new URLSearchParams(scorecardQuery(NO_FILTERS, 10, qaCursor({ nextBefore: 5, nextBeforeId: 'c 1&x' }))).get('beforeId')).toBe(
      'c 1&x',
    );
    // A server that gives no nextBeforeId: paged by time alone, as before.
    expect(Object.fromEntries(new URLSearchParams(scorecardQuery(NO_FILTERS, 10, qaCursor({ nextBefore: 5 }))))).toEqual({
      limit: '10',
      before: '5',
    });
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

describe('QA list of calls and conversations', () => {
  const call = (id: string, scoredAt: number) =>
    callRow({
      callId: id,
      scoredAt,
      callStartedAt: scoredAt - 60_000,
      agentLabel: 'alice',
      groupId: 'billing',
      score: 75,
      passed: false,
      effectiveScore: 100,
      effectivePassed: true,
      overridden: true,
      results: [{ ruleId: 'greeting', outcome: 'fail' }],
    });
  const chat = (id: string, createdAt: number, over: Partial<Parameters<typeof conversationRow>[0]> = {}) =>
    conversationRow({
      conversationId: id,
      channel: 'chat',
      createdAt,
      startedAt: createdAt - 60_000,
      agentId: 'bob',
      groupId: 'cards',
      score: 55,
      passed: false,
      failedRules: ['no-over-promising', 'disclosure'],
      ...over,
    });

  it('makes one row shape of both, overrides applied', () => {
    expect(call('c1', 1000)).toMatchObject({
      kind: 'call',
      channel: 'voice',
      score: 100,
      passed: true,
      overridden: true,
      failed: 'greeting',
    });
    expect(chat('k1', 2000)).toMatchObject({
      kind: 'conversation',
      channel: 'chat',
      agent: 'bob',
      group: 'cards',
      scoredAt: 2000,
      failed: 'no-over-promising, disclosure',
    });
    expect(chat('k1', 2000)).toMatchObject({ score: 55, passed: false, overridden: false });
    expect(chat('k2', 2000, { effectiveScore: 80, effectivePassed: true, overridden: true })).toMatchObject({
      score: 80,
      passed: true,
      overridden: true,
    });
  });

  it('orders by when scored; rows older than the oldest loaded row of a side with more to load wait for it', () => {
    const calls = [call('c2', 500), call('c1', 300)];
    const chats = [chat('k3', 600), chat('k2', 400), chat('k1', 100)];
    const ids = (a: boolean, b: boolean) => mergeQaRows({ rows: calls, more: a }, { rows: chats, more: b }).map((r) => r.id);
    expect(ids(true, false)).toEqual(['k3', 'c2', 'k2', 'c1']);
    expect(ids(false, false)).toEqual(['k3', 'c2', 'k2', 'c1', 'k1']);
    // more conversations to come: the calls older than the oldest loaded conversation wait too
    expect(mergeQaRows({ rows: calls, more: false }, { rows: chats.slice(0, 2), more: true }).map((r) => r.id)).toEqual(['k3', 'c2', 'k2']);
    expect(mergeQaRows({ rows: [], more: false }, { rows: chats, more: false }).map((r) => r.id)).toEqual(['k3', 'k2', 'k1']);
  });

  it("asks the conversations API with the calls' filters, the text channel and the page cursor", () => {
    expect(Object.fromEntries(new URLSearchParams(conversationQuery(NO_FILTERS, 50)))).toEqual({ limit: '50' });
    const q = new URLSearchParams(
      conversationQuery(
        { ...NO_FILTERS, channel: 'email', agent: ' bob ', result: 'fail', rule: 'disclosure', from: '2026-03-10', to: '2026-03-10' },
        10,
        { before: 777, beforeId: 'conv-1' },
      ),
    );
    expect(Object.fromEntries(q)).toEqual({
      limit: '10',
      channel: 'email',
      agent: 'bob',
      passed: 'false',
      rule: 'disclosure',
      from: String(new Date('2026-03-10T00:00:00').getTime()),
      to: String(new Date('2026-03-10T00:00:00').getTime() + 86_400_000),
      before: '777',
      beforeId: 'conv-1',
    });
    expect(new URLSearchParams(conversationQuery({ ...NO_FILTERS, channel: 'voice' }, 10)).has('channel')).toBe(false);
  });
});
