/** QA rules on Mandarin calls: the default rules' Chinese wordings, phrase and pattern rules on Han text. */
import { describe, expect, it } from 'vitest';
import { scoreCall, tokenise, type QaCall, type QaUtterance } from '../../../appliance/qa/engine.js';
import { DEFAULT_RULES, patternProblem, validateRuleSet, type QaRule } from '../../../appliance/qa/rules.js';

const T0 = 1_700_000_000_000;

function call(lines: [speaker: 'agent' | 'caller', startS: number, endS: number, text: string][], durationS = 60): QaCall {
  const legs = [
    { id: 'c', label: 'caller', startedAt: T0 },
    { id: 'a', label: 'agent', startedAt: T0 },
  ];
  const utterances: QaUtterance[] = lines.map(([speaker, s, e, text]) => ({
    legId: speaker === 'agent' ? 'a' : 'c',
    speaker,
    startMs: s * 1000,
    endMs: e * 1000,
    text,
  }));
  return { callId: 'call-zh', startedAt: T0, answeredAt: T0, endedAt: T0 + durationS * 1000, legs, utterances };
}

const byId = (card: ReturnType<typeof scoreCall>, id: string) => card.results.find((r) => r.ruleId === id)!;

describe('QA default rules on a Mandarin call', () => {
  it('a model Chinese call (ASR-shaped, no punctuation) passes greeting and disclosure and hits nothing forbidden', () => {
    const c = call([
      ['agent', 1, 4, '您好欢迎致电客服中心我是工号幺二三'],
      ['agent', 5, 9, '为了保证服务质量本次通话可能会被录音'],
      ['caller', 10, 20, '我想查一下我的账户余额'],
      ['agent', 20, 30, '好的麻烦您稍等我帮您查询一下'],
      ['caller', 31, 40, '好的谢谢'],
      ['agent', 40, 50, '您的余额是五十元请问还有什么可以帮您'],
    ]);
    const card = scoreCall(c, DEFAULT_RULES, 80);
    expect(byId(card, 'greeting')).toMatchObject({ outcome: 'pass', matched: ['您好'] });
    expect(byId(card, 'disclosure').outcome).toBe('pass');
    expect(byId(card, 'no-over-promising')).toMatchObject({ outcome: 'pass', value: 0 });
    // 麻烦您 is polite, not a negative word.
    expect(byId(card, 'agent-negative-words')).toMatchObject({ outcome: 'pass', value: 0 });
    expect(card.passed).toBe(true);
  });

  it('finds Chinese over-promising and negative words, with the hit spans on the original text', () => {
    const text = '这个我保证百分之百没问题，你冷静点！';
    const card = scoreCall(
      call([
        ['agent', 1, 5, '你好'],
        ['agent', 6, 10, text],
      ]),
      DEFAULT_RULES,
      80,
    );
    const forbidden = byId(card, 'no-over-promising');
    expect(forbidden.outcome).toBe('fail');
    expect(new Set(forbidden.matched)).toEqual(new Set(['我保证', '百分之百']));
    const spans = forbidden.hits.map((h) => text.slice(h.start, h.end));
    expect(spans).toContain('我保证');
    expect(byId(card, 'agent-negative-words')).toMatchObject({ outcome: 'fail', value: 1, matched: ['你冷静点'] });
    expect(card.passed).toBe(false);
  });

  it('fails the greeting when the agent opens without one', () => {
    const card = scoreCall(call([['agent', 1, 4, '喂什么事']]), DEFAULT_RULES, 80);
    expect(byId(card, 'greeting').outcome).toBe('fail');
  });
});

describe('phrase and pattern rules on Han text', () => {
  it('tokenises Han characters one by one and full-width Latin like half-width', () => {
    expect(tokenise('ＶＩＰ会员，您好').tokens).toEqual(['VIP', '会', '员', '您', '好']);
    const rules: QaRule[] = [{ id: 'vip', kind: 'greeting', weight: 1, withinMs: 60_000, phrases: ['vip会员'] }];
    expect(byId(scoreCall(call([['agent', 1, 3, '尊敬的ＶＩＰ会员您好']]), rules, 80), 'vip').outcome).toBe('pass');
  });

  it('matches a Chinese regular expression inside running text (no word boundaries needed)', () => {
    const rules: QaRule[] = [
      { id: 'closing', kind: 'pattern', weight: 1, pattern: '还有(什么|其他)(可以|能)帮(您|你)', expect: 'present' },
    ];
    const ok = scoreCall(call([['agent', 1, 3, '请问还有什么可以帮您的吗']]), rules, 80);
    expect(byId(ok, 'closing')).toMatchObject({ outcome: 'pass', value: 1 });
    expect(byId(scoreCall(call([['agent', 1, 3, '再见']]), rules, 80), 'closing').outcome).toBe('fail');
  });

  it('refuses \\b next to a Chinese character, which would never match', () => {
    expect(patternProblem('\\b退款\\b')).toMatch(/\\b/);
    expect(patternProblem('退款\\b')).not.toBeNull();
    expect(patternProblem('\\brefund\\b')).toBeNull();
    expect(patternProblem('退款|refund')).toBeNull();
    expect(() => validateRuleSet({ rules: [{ id: 'p', kind: 'pattern', weight: 1, pattern: '\\b投诉', expect: 'absent' }] })).toThrow();
  });
});
