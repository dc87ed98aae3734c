import { describe, expect, it } from 'vitest';
import { agitationOf, EmotionTrend } from '../../../appliance/emotion/trend.js';

const r = (angry: number, arousal: number, valence: number) => ({ scores: { angry, neutral: 1 - angry }, arousal, valence });

describe('EmotionTrend', () => {
  it('is steady until it has enough utterances', () => {
    const t = new EmotionTrend();
    expect(t.state()).toEqual({ direction: 'steady', agitation: 0, slope: 0, utterances: 0 });
    expect(t.push(r(0.1, 0, 0)).direction).toBe('steady');
    expect(t.push(r(0.9, 0.8, -0.7)).direction).toBe('steady');
  });

  it('detects an escalating and then a calming caller', () => {
    const t = new EmotionTrend();
    let s = t.push(r(0.05, -0.2, 0.1));
    s = t.push(r(0.2, 0.2, -0.2));
    s = t.push(r(0.5, 0.5, -0.5));
    s = t.push(r(0.8, 0.8, -0.7));
    expect(s.direction).toBe('escalating');
    expect(s.agitation).toBeCloseTo(agitationOf(r(0.8, 0.8, -0.7)), 12);
    for (let i = 0; i < 5; i++) s = t.push(r(0.8 - 0.15 * (i + 1), 0.5 - 0.2 * i, -0.5 + 0.2 * i));
    expect(s.direction).toBe('calming');
    expect(s.utterances).toBe(9);
  });

  it('stays steady for a constant caller and keeps a bounded window', () => {
    const t = new EmotionTrend({ windowSize: 4, minUtterances: 3, slopeThreshold: 0.05 });
    let s = t.push(r(0.9, 0.9, -0.9));
    for (let i = 0; i < 20; i++) s = t.push(r(0.3, 0.1, 0));
    expect(s.direction).toBe('steady');
    expect(s.slope).toBeCloseTo(0, 12);
    expect(() => new EmotionTrend({ windowSize: 2, minUtterances: 3, slopeThreshold: 0.1 })).toThrow(RangeError);
  });
});
