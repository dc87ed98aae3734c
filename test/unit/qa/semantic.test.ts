/**
 * Semantic QA rules in the engine, with the real embedding model (Universal Sentence Encoder lite
 * in its worker thread): a paraphrase satisfies the rule, a negation and an unrelated sentence do
 * not; Chinese text falls back to exact phrases; rule validation guards the threshold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scoreCall, semanticTexts, type QaCall } from '../../../appliance/qa/engine.js';
import { ruleIssues, validateRuleSet, type QaRule } from '../../../appliance/qa/rules.js';
import { SentenceEmbedder } from '../../../appliance/qa/sentenceEmbedder.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';

const T0 = 1_700_000_000_000;
function call(agent: string[], language?: string): QaCall {
  return {
    callId: 'c',
    startedAt: T0,
    answeredAt: T0,
    endedAt: T0 + 60_000,
    legs: [
      { id: 'a', label: 'agent', startedAt: T0 },
      { id: 'c', label: 'caller', startedAt: T0 },
    ],
    utterances: [
      { legId: 'c', speaker: 'caller', startMs: 0, endMs: 1000, text: 'I will resolve this myself' },
      ...agent.map((text, i) => ({
        legId: 'a',
        speaker: 'agent',
        startMs: 2000 + i * 3000,
        endMs: 4000 + i * 3000,
        text,
        ...(language ? { language } : {}),
      })),
    ],
  };
}

const resolveRule: QaRule = {
  id: 'resolve',
  kind: 'semantic',
  weight: 10,
  phrases: ['I will resolve this', '我会帮您解决'],
  threshold: 0.55,
  expect: 'present',
};

let embedder: SentenceEmbedder;
beforeAll(async () => {
  embedder = new SentenceEmbedder();
  await embedder.load();
}, 60_000);
afterAll(async () => {
  await embedder?.close();
});

async function score(c: QaCall, rules: QaRule[] = [resolveRule]) {
  const texts = semanticTexts(c, rules);
  const v = await embedder.embed(texts);
  return scoreCall(c, rules, 80, new Map(texts.map((t, i) => [t, v[i]!]))).results[0]!;
}

describe('semantic QA rule', () => {
  it('a paraphrase satisfies it; the hit is the utterance that said it', async () => {
    const c = call(['Good morning, how can I help?', "I'll make sure this gets fixed."]);
    const r = await score(c);
    expect(r.outcome).toBe('pass');
    expect(r.matched).toEqual(['I will resolve this']);
    expect(r.value).toBeGreaterThanOrEqual(0.55);
    expect(r.hits).toHaveLength(1);
    expect(c.utterances[r.hits[0]!.index]!.text.slice(r.hits[0]!.start, r.hits[0]!.end)).toBe("I'll make sure this gets fixed.");
  });

  it('exact words alone (a keyword rule) miss the paraphrase', () => {
    const c = call(["I'll make sure this gets fixed."]);
    const kw = scoreCall(c, [{ id: 'kw', kind: 'greeting', weight: 1, withinMs: 600_000, phrases: ['I will resolve this'] }], 80);
    expect(kw.results[0]!.outcome).toBe('fail');
  });

  it('a negation does not satisfy it, although its embedding is close', async () => {
    const c = call(['I will not resolve this.']);
    const texts = semanticTexts(c, [resolveRule]);
    const [u, p] = await embedder.embed(['I will not resolve this.', 'I will resolve this']);
    let dot = 0;
    for (let i = 0; i < u!.length; i++) dot += u![i]! * p![i]!;
    expect(dot).toBeGreaterThan(0.8); // what the negation check is for
    expect(texts).toContain('I will not resolve this.');
    expect((await score(c)).outcome).toBe('fail');
    expect((await score(call(["I CAN'T FIX THAT FOR YOU"]))).outcome).toBe('fail');
  });

  it('an unrelated sentence does not satisfy it; the caller saying it does not count for the agent', async () => {
    expect((await score(call(['Your parcel was delivered on Tuesday.']))).outcome).toBe('fail');
  });

  it('a positive clause next to a negated one counts (clauses are compared apart)', async () => {
    const empathy: QaRule = {
      id: 'empathy',
      kind: 'semantic',
      weight: 1,
      phrases: ['I understand your frustration'],
      threshold: 0.55,
      expect: 'present',
    };
    expect((await score(call(['I UNDERSTAND YOUR FRUSTRATION BUT I CANNOT REFUND IT']), [empathy])).outcome).toBe('pass');
    expect((await score(call(["I DON'T UNDERSTAND YOUR FRUSTRATION"]), [empathy])).outcome).toBe('fail');
  });

  it("expect 'absent' fails when the speaker says it in other words", async () => {
    const rule: QaRule = { id: 'no-blame', kind: 'semantic', weight: 1, phrases: ['this is your fault'], threshold: 0.6, expect: 'absent' };
    expect((await score(call(['Well, you caused this problem yourself.']), [rule])).outcome).toBe('fail');
    expect((await score(call(['Let me check that for you.']), [rule])).outcome).toBe('pass');
  });

  it('Chinese utterances are matched on exact phrases (the model is English); negated English phrases are not embedded for them', async () => {
    const zh = call(['好的我会帮您解决这个问题'], 'zh');
    expect(semanticTexts(zh, [resolveRule])).toEqual(['I will resolve this']);
    expect(await score(zh)).toMatchObject({ outcome: 'pass', matched: ['我会帮您解决'], value: 1 });
    expect((await score(call(['好的我们再看看'], 'zh'))).outcome).toBe('fail');
  });

  it('without vectors (model unavailable) it falls back to exact phrases, negation still respected', () => {
    const run = (text: string) => scoreCall(call([text]), [resolveRule], 80).results[0]!.outcome;
    expect(run('OK I WILL RESOLVE THIS TODAY')).toBe('pass');
    expect(run("I'll make sure this gets fixed.")).toBe('fail');
    expect(run('NO I WILL RESOLVE THIS NEVER')).toBe('fail');
  });

  it('each text is embedded once (cached)', async () => {
    const before = embedder.counters.embedded;
    await embedder.embed(['A brand new sentence for the cache test', 'a brand new sentence for the cache test!']);
    expect(embedder.counters.embedded - before).toBe(1);
    await embedder.embed(['A BRAND NEW SENTENCE FOR THE CACHE TEST']);
    expect(embedder.counters.embedded - before).toBe(1);
  });
});

describe('sentence embedder', () => {
  it('a closed embedder refuses with EVX_ERR_QA_SEMANTIC_UNAVAILABLE (the QA service then falls back to exact phrases)', async () => {
    const e = new SentenceEmbedder();
    await e.close();
    await expect(e.embed(['I will resolve this'])).rejects.toMatchObject({ code: 'EVX_ERR_QA_SEMANTIC_UNAVAILABLE' });
  });
});

describe('semantic rule validation', () => {
  const rule = (extra: Record<string, unknown>) => ({
    id: 'sem',
    kind: 'semantic',
    weight: 1,
    phrases: ['I will resolve this'],
    expect: 'present',
    ...extra,
  });

  it.each([0.2, 0, 1, 1.5, -0.7, '0.8', null])('rejects threshold %s', (threshold) => {
    const issues = ruleIssues(rule({ threshold }));
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]!.field).toBe('threshold');
    try {
      validateRuleSet({ rules: [rule({ threshold })] });
      expect.unreachable();
    } catch (err) {
      expect(isEdgeVoxError(err) && err.code).toBe('EVX_ERR_QA_RULES');
    }
  });

  it('rejects a missing threshold, no phrases, an unknown expectation', () => {
    expect(ruleIssues({ id: 'sem', kind: 'semantic', weight: 1, phrases: ['x'], expect: 'present' })[0]!.message).toBe(
      '"threshold" is missing.',
    );
    expect(ruleIssues(rule({ threshold: 0.7, phrases: [] }))[0]!.field).toBe('phrases');
    expect(ruleIssues(rule({ threshold: 0.7, expect: 'sometimes' }))[0]!.field).toBe('expect');
  });

  it('accepts thresholds from 0.5 to 0.99', () => {
    expect(ruleIssues(rule({ threshold: 0.5 }))).toEqual([]);
    expect(ruleIssues(rule({ threshold: 0.99 }))).toEqual([]);
    expect(validateRuleSet({ rules: [rule({ threshold: 0.7, speaker: 'caller' })] }).rules).toHaveLength(1);
  });
});
