import { describe, expect, it } from 'vitest';
import { scoreCall, type QaCall, type QaUtterance } from '../../../appliance/qa/engine.js';
import { DEFAULT_RULES, validateRuleSet, type QaRule } from '../../../appliance/qa/rules.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';

const T0 = 1_700_000_000_000;

/** A scripted two-leg call: agent leg starts 1 s after the caller leg; times in s on each leg's clock. */
function call(lines: [speaker: 'agent' | 'caller', startS: number, endS: number, text: string][], durationS = 60): QaCall {
  const legs = [
    { id: 'c', label: 'caller', startedAt: T0 },
    { id: 'a', label: 'agent', startedAt: T0 + 1000 },
  ];
  const utterances: QaUtterance[] = lines.map(([speaker, s, e, text]) => ({
    legId: speaker === 'agent' ? 'a' : 'c',
    speaker,
    startMs: s * 1000,
    endMs: e * 1000,
    text,
  }));
  return { callId: 'call-1', startedAt: T0, answeredAt: T0, endedAt: T0 + durationS * 1000, legs, utterances };
}

const byId = (card: ReturnType<typeof scoreCall>, id: string) => card.results.find((r) => r.ruleId === id)!;

describe('QA engine on scripted calls (default rules)', () => {
  it('a model call scores 100 and passes', () => {
    const c = call([
      ['agent', 1, 4, 'GOOD MORNING THANK YOU FOR CALLING ACME MY NAME IS [NAME]'],
      ['agent', 5, 9, 'THIS CALL MAY BE RECORDED FOR QUALITY AND TRAINING PURPOSES'],
      ['caller', 10, 20, 'HI I WANT TO CHECK MY BALANCE MY CARD IS [CARD]'],
      ['agent', 20, 30, 'OF COURSE LET ME LOOK THAT UP FOR YOU'],
      ['caller', 31, 40, 'THANK YOU'],
      ['agent', 40, 50, 'YOUR BALANCE IS FIFTY POUNDS IS THERE ANYTHING ELSE'],
    ]);
    const card = scoreCall(c, DEFAULT_RULES, 80);
    expect(card.score).toBe(100);
    expect(card.passed).toBe(true);
    // Greeting said 1 s into the agent leg, which started 1 s after the call was answered.
    expect(byId(card, 'greeting')).toMatchObject({ outcome: 'pass', value: 2000, matched: ['GOOD MORNING'] });
    expect(byId(card, 'disclosure')).toMatchObject({ outcome: 'pass', value: 1 });
    // Speech covers 3+4+10+10+9+10 = 46 s of 60 (with a gap 4-5 s on the agent leg clock): silence 14/60.
    expect(byId(card, 'silence').value).toBeCloseTo(14 / 60, 3);
  });

  it('late greeting, garbled-but-read disclosure, over-promising (critical), negative word, talk-over', () => {
    const c = call(
      [
        ['caller', 0, 16, 'HELLO HELLO IS ANYONE THERE'],
        ['agent', 16, 19, 'HELLO SORRY ABOUT THAT'], // 17 s after answer: late
        // ASR dropped "FOR" and misheard "TRAINING" as "TRAIN": 2 edits over 10 words = 0.8 similarity
        ['agent', 20, 25, 'THIS CALL MAY BE RECORDED QUALITY AND TRAIN PURPOSES'],
        ['caller', 26, 40, 'I WANT MY MONEY BACK'],
        ['agent', 30, 38, 'CALM DOWN I PROMISE YOU A REFUND IT IS GUARANTEED'], // overlaps caller 30-38 (8 s)
        ['caller', 45, 50, 'FINE'],
      ],
      60,
    );
    const card = scoreCall(c, DEFAULT_RULES, 80);
    expect(byId(card, 'greeting')).toMatchObject({ outcome: 'fail', value: 17_000 });
    expect(byId(card, 'disclosure')).toMatchObject({ outcome: 'pass', value: 0.8 });
    const forbidden = byId(card, 'no-over-promising');
    expect(forbidden.outcome).toBe('fail');
    expect(forbidden.matched.sort()).toEqual(['GUARANTEED', 'I PROMISE', 'I PROMISE YOU A REFUND'].sort());
    expect(byId(card, 'agent-negative-words')).toMatchObject({ outcome: 'fail', value: 1, matched: ['CALM DOWN'] });
    expect(byId(card, 'talk-over')).toMatchObject({ outcome: 'pass', value: 1 });
    // passed: disclosure 25 + silence 10 + talk-over 10 = 45 of 100
    expect(card.score).toBe(45);
    expect(card.passed).toBe(false);
  });

  it('a critical failure fails the call even above the pass score', () => {
    const rules: QaRule[] = [
      { id: 'greet', kind: 'greeting', weight: 90, withinMs: 15_000, phrases: ['HELLO'] },
      { id: 'promise', kind: 'forbidden', weight: 10, critical: true, phrases: ['GUARANTEED'] },
    ];
    const card = scoreCall(call([['agent', 0, 2, 'HELLO IT IS GUARANTEED']]), rules, 80);
    expect(card.score).toBe(90);
    expect(card.passed).toBe(false);
  });

  it('counts talk-over only above the minimum overlap, and silence over the answered call', () => {
    const rules: QaRule[] = [
      { id: 'over', kind: 'talkOver', weight: 1, minOverlapMs: 800, maxCount: 0 },
      { id: 'quiet', kind: 'silence', weight: 1, maxRatio: 0.5 },
    ];
    // Agent leg clock is +1 s: agent 4-6 -> 5-7 call time; caller 6.5-8 overlaps 0.5 s (back-channel).
    const short = scoreCall(
      call(
        [
          ['caller', 0, 5, 'A'],
          ['agent', 4, 6, 'B'],
          ['caller', 6.5, 8, 'C'],
        ],
        10,
      ),
      rules,
      50,
    );
    expect(short.results.map((r) => [r.ruleId, r.outcome, r.value])).toEqual([
      ['over', 'pass', 0],
      ['quiet', 'pass', 0.2], // speech 0-8 of 10 s
    ]);
    const long = scoreCall(
      call(
        [
          ['caller', 0, 5, 'A'],
          ['agent', 3, 6, 'B'],
        ],
        40,
      ),
      rules,
      50,
    );
    expect(long.results.map((r) => [r.ruleId, r.outcome, r.value])).toEqual([
      ['over', 'fail', 1], // caller 0-5 vs agent 4-7: 1 s overlap
      ['quiet', 'fail', 0.825], // speech 0-7 of 40 s
    ]);
    expect(long.score).toBe(0);
  });

  it('agent rules do not apply to calls without an agent leg', () => {
    const c: QaCall = {
      callId: 'ivr',
      startedAt: T0,
      answeredAt: T0,
      endedAt: T0 + 10_000,
      legs: [{ id: 'c', label: 'caller', startedAt: T0 }],
      utterances: [{ legId: 'c', speaker: 'caller', startMs: 0, endMs: 9000, text: 'BALANCE PLEASE' }],
    };
    const card = scoreCall(c, DEFAULT_RULES, 80);
    expect(
      card.results
        .filter((r) => r.outcome === 'na')
        .map((r) => r.ruleId)
        .sort(),
    ).toEqual(['agent-negative-words', 'disclosure', 'greeting', 'no-over-promising', 'talk-over']);
    expect(card.score).toBe(100); // only silence applies: 1 s of 10
    const none = scoreCall({ ...c, endedAt: T0 }, DEFAULT_RULES, 80);
    expect(none).toMatchObject({ score: null, passed: null });
  });

  it('an agent who never speaks fails the greeting and disclosure', () => {
    const card = scoreCall(call([['caller', 0, 30, 'HELLO']], 40), DEFAULT_RULES, 80);
    expect(byId(card, 'greeting')).toMatchObject({ outcome: 'fail', value: null });
    expect(byId(card, 'disclosure')).toMatchObject({ outcome: 'fail', value: 0 });
  });
});

describe('QA rule validation', () => {
  const fails = (input: unknown) => {
    try {
      validateRuleSet(input);
    } catch (err) {
      return isEdgeVoxError(err, 'EVX_ERR_QA_RULES') ? err.message : 'other error';
    }
    return 'accepted';
  };
  it('accepts the defaults and rejects bad sets naming the rule, in plain words', () => {
    expect(fails({ rules: DEFAULT_RULES })).toBe('accepted');
    expect(fails({ rules: [] })).toMatch(/rules/);
    expect(fails({ rules: [{ id: 'x', kind: 'nope', weight: 1 }] })).toMatch(/rule "x": Unknown kind of rule "nope"/);
    expect(
      fails({
        rules: [
          { id: 'x', kind: 'silence', weight: 1, maxRatio: 0.5 },
          { id: 'x', kind: 'silence', weight: 1, maxRatio: 0.5 },
        ],
      }),
    ).toMatch(/Two rules are called "x"/);
    expect(fails({ rules: [{ id: 'x', kind: 'silence', weight: 0, maxRatio: 0.5 }] })).toMatch(/weight above 0/);
    expect(fails({ rules: [{ id: 'x', kind: 'silence', weight: 1, maxRatio: 0.5, extra: 1 }] })).not.toBe('accepted');
  });
});
