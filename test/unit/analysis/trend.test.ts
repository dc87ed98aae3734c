import { describe, expect, it } from 'vitest';
import { agitation, EmotionTrendTracker, slope, trendOf } from '../../../appliance/analysis/emotionTrend.js';

describe('agitation', () => {
  it('is low for a calm neutral voice, high for an angry one, and stays in [0, 1]', () => {
    const calm = agitation({ angry: 0.02, arousal: -0.3, valence: 0.3 });
    const angry = agitation({ angry: 0.9, arousal: 0.8, valence: -0.7 });
    expect(calm).toBeLessThan(0.3);
    expect(angry).toBeGreaterThan(0.8);
    expect(agitation({ angry: 5, arousal: 5, valence: -5 })).toBe(1);
    expect(agitation({ angry: -1, arousal: -5, valence: 5 })).toBe(0);
  });
});

describe('trendOf', () => {
  it('needs two utterances', () => {
    expect(trendOf([]).trend).toBe('unknown');
    expect(trendOf([0.9]).trend).toBe('unknown');
  });
  it('calls a rising, already agitated series escalating and a falling one calming', () => {
    expect(trendOf([0.3, 0.45, 0.6, 0.75])).toMatchObject({ trend: 'escalating' });
    expect(trendOf([0.8, 0.6, 0.5, 0.3])).toMatchObject({ trend: 'calming' });
  });
  it('does not call a calm caller getting slightly livelier escalating', () => {
    expect(trendOf([0.1, 0.2, 0.3]).trend).toBe('steady');
    expect(trendOf([0.5, 0.52, 0.49, 0.51]).trend).toBe('steady');
  });
  it('looks only at the window', () => {
    expect(trendOf([0.9, 0.9, 0.9, 0.9, 0.2, 0.3, 0.45, 0.6, 0.75], { window: 5, slopeThreshold: 0.06, minEscalatedLevel: 0.4 }).trend).toBe('escalating');
  });
  it('uses the least-squares slope', () => {
    expect(slope([0, 1, 2, 3])).toBeCloseTo(1);
    expect(slope([5, 5])).toBe(0);
  });
});

describe('EmotionTrendTracker', () => {
  it('keeps one series per call and speaker, bounded, and forgets a call', () => {
    const t = new EmotionTrendTracker(undefined, 3);
    const calm = { angry: 0.05, arousal: -0.2, valence: 0.2 };
    const hot = (x: number) => ({ angry: x, arousal: x, valence: -x });
    t.add('a', 'caller', calm);
    expect(t.add('a', 'caller', hot(0.5)).trend).toBe('escalating');
    expect(t.add('a', 'agent', calm).trend).toBe('unknown');
    t.add('b', 'caller', calm);
    t.add('c', 'caller', calm); // evicts the oldest key (a|caller)
    expect(t.size).toBe(3);
    expect(t.add('a', 'caller', hot(0.9)).trend).toBe('unknown');
    t.forgetCall('a');
    expect(t.size).toBe(2);
  });
});
