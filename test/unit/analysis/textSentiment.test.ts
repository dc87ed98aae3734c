/**
 * Text sentiment per utterance (VADER on English finals) and the call's mood: acoustic emotion and
 * text sentiment kept apart, combined on one distress scale, each with its own trend.
 */
import { describe, expect, it } from 'vitest';
import { callMood, combineDistress, moodPoint, trendOf } from '../../../appliance/analysis/callMood.js';
import { SentimentUtteranceAnalyser, textSentiment } from '../../../appliance/analysis/textSentiment.js';
import type { UtteranceContext } from '../../../appliance/calls/analysis.js';

const ctx = (over: Partial<UtteranceContext> = {}): UtteranceContext => ({
  callId: 'call-1',
  legId: 'leg-1',
  speaker: 'caller',
  utteranceId: 3,
  text: '',
  startMs: 0,
  endMs: 1000,
  audio: new Int16Array(0),
  sampleRateHz: 8000,
  ...over,
});

describe('textSentiment', () => {
  it('labels plain positive, neutral and negative contact-centre English', () => {
    expect(textSentiment('thank you so much that was really helpful')?.label).toBe('positive');
    expect(textSentiment('i need to change my address')?.label).toBe('neutral');
    expect(textSentiment('this is ridiculous and i am really angry')?.label).toBe('negative');
  });
  it('follows negation ("not happy" is negative)', () => {
    const s = textSentiment('i am not happy with this at all');
    expect(s?.label).toBe('negative');
    expect(s!.compound).toBeLessThan(0);
  });
  it('gives Mandarin finals (no licensed lexicon) and wordless text no sentiment', () => {
    expect(textSentiment('我非常生气', 'zh')).toBeNull();
    expect(textSentiment('angry', 'zh')).toBeNull();
    expect(textSentiment('   ')).toBeNull();
  });
});

describe('SentimentUtteranceAnalyser', () => {
  const a = new SentimentUtteranceAnalyser({ speakers: ['caller'] });
  it('stores scores and a label, never the words', async () => {
    const r = await a.analyse(ctx({ text: 'terrible service i want to close my account' }));
    expect(r).toMatchObject({ label: 'negative', lexicon: 'vader-en' });
    expect(JSON.stringify(r)).not.toContain('terrible');
    expect(a.name).toBe('sentiment');
  });
  it('skips other speakers and Mandarin finals', async () => {
    expect(await a.analyse(ctx({ speaker: 'agent', text: 'great news' }))).toBeNull();
    expect(await a.analyse(ctx({ text: '太好了谢谢', language: 'zh' }))).toBeNull();
  });
});

describe('call mood', () => {
  it('puts acoustic and text distress on one 0..1 scale and averages what is there', () => {
    expect(combineDistress(0.8, 0.2)).toBeCloseTo(0.5);
    expect(combineDistress(null, 0.4)).toBe(0.4);
    expect(combineDistress(0.3, null)).toBe(0.3);
    expect(combineDistress(null, null)).toBeNull();
    // agitation above 1 is capped; positive words are no distress (they do not cancel an angry voice)
    const p = moodPoint({
      id: 1,
      speaker: 'caller',
      startMs: 0,
      analysis: { emotion: { agitation: 1.4, category: 'angry' }, sentiment: { compound: 0.6, label: 'positive' } },
    });
    expect(p).toMatchObject({ acoustic: 1, text: 0, combined: 0.5, emotion: 'angry', sentimentLabel: 'positive' });
    expect(moodPoint({ id: 2, speaker: 'caller', startMs: 0, analysis: { intent: { intent: 'x' } } })).toBeNull();
  });
  it('trends each series on its own: words escalating while the voice stays steady', () => {
    const utterances = [0, 1, 2, 3, 4].map((i) => ({
      id: i + 1,
      speaker: 'caller',
      startMs: i * 5000,
      analysis: {
        emotion: { agitation: 0.2, category: 'neutral' },
        sentiment: { compound: -0.2 * i, label: i > 1 ? 'negative' : 'neutral' },
      },
    }));
    const mood = callMood([...utterances].reverse());
    expect(mood.speakers).toHaveLength(1);
    const s = mood.speakers[0]!;
    expect(s.points.map((p) => p.utteranceId)).toEqual([1, 2, 3, 4, 5]);
    expect(s.trend).toEqual({ acoustic: 'steady', text: 'escalating', combined: 'escalating' });
    expect(s.mean.acoustic).toBeCloseTo(0.2);
    expect(mood.method).toMatchObject({ acousticWeight: 0.5, textWeight: 0.5 });
  });
  it('needs enough points for a trend and sees calming', () => {
    expect(trendOf([0.9, 0.1])).toBe('unknown');
    expect(trendOf([0.9, 0.6, 0.3, 0.1])).toBe('calming');
    expect(trendOf([0.3, 0.31, 0.29, 0.3])).toBe('steady');
  });
});
