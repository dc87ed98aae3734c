import { describe, expect, it } from 'vitest';
import { EmotionTrendTracker } from '../../../appliance/analysis/emotionTrend.js';

const calm = { scores: { angry: 0.02, neutral: 0.98 }, arousal: -0.2, valence: 0.2 };
const hot = (x: number) => ({ scores: { angry: x, neutral: 1 - x }, arousal: x, valence: -x });

describe('EmotionTrendTracker', () => {
  it('says unknown until the trend can judge, then escalating as the caller gets angrier', () => {
    const t = new EmotionTrendTracker();
    expect(t.add('a', 'caller', calm).trend).toBe('unknown');
    expect(t.add('a', 'caller', hot(0.4)).trend).toBe('unknown');
    const r = t.add('a', 'caller', hot(0.9));
    expect(r.trend).toBe('escalating');
    expect(r.agitation).toBeGreaterThan(0.9);
  });
  it('says calming as the anger falls away', () => {
    const t = new EmotionTrendTracker();
    for (const x of [0.9, 0.6, 0.3, 0.05]) t.add('a', 'caller', hot(x));
    expect(t.add('a', 'caller', calm).trend).toBe('calming');
  });
  it('keeps one series per call and speaker, bounded, and forgets a call', () => {
    const t = new EmotionTrendTracker(undefined, 3);
    t.add('a', 'caller', calm);
    t.add('a', 'agent', calm);
    t.add('b', 'caller', calm);
    t.add('c', 'caller', calm); // evicts the oldest key (a|caller)
    expect(t.size).toBe(3);
    t.add('a', 'caller', hot(0.9));
    t.forgetCall('a');
    expect(t.size).toBe(2);
  });
});
