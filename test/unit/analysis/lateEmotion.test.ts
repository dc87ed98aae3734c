/**
 * An emotion analysis that finishes after its call ended (past the call's bounded analysis drain,
 * when app/analysis.ts has already forgotten the call's trend) must not bring the call's trend
 * series back: it would stay until the tracker's 4,096-key bound pushed it out.
 */
import { describe, expect, it } from 'vitest';
import { EmotionUtteranceAnalyser, type EmotionModel } from '../../../appliance/analysis/emotionAnalyser.js';
import { EmotionTrendTracker } from '../../../appliance/analysis/emotionTrend.js';
import type { EmotionResult } from '../../../appliance/emotion/analyser.js';
import type { UtteranceContext } from '../../../appliance/calls/analysis.js';

const angry: EmotionResult = {
  category: 'angry',
  confidence: 0.8,
  scores: { angry: 0.9, neutral: 0.1 },
  arousal: 0.8,
  valence: -0.8,
  durationMs: 2000,
};

/** An emotion model whose answers come only when the test releases them. */
class SlowEmotion implements EmotionModel {
  private readonly waiting: ((r: EmotionResult) => void)[] = [];
  analyse(): Promise<EmotionResult> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    for (const resolve of this.waiting.splice(0)) resolve(angry);
  }
}

const ctx = (callId: string): UtteranceContext => ({
  callId,
  legId: `${callId}-leg`,
  speaker: 'caller',
  utteranceId: 1,
  text: '',
  startMs: 0,
  endMs: 2000,
  audio: new Int16Array(16000),
  sampleRateHz: 8000,
});

describe('a late emotion result for an ended call', () => {
  it('is still returned (stored with its utterance) but leaves no trend series behind', async () => {
    const trends = new EmotionTrendTracker();
    const model = new SlowEmotion();
    const a = new EmotionUtteranceAnalyser(model, { speakers: ['caller'], minAudioMs: 500, trends });
    const running = a.analyse(ctx('call-1'));
    trends.forgetCall('call-1'); // the call ended and its drain gave up on this analysis
    model.release();
    const r = await running;
    expect(r).toMatchObject({ category: 'angry', trend: 'unknown' });
    expect(r!.agitation).toBeGreaterThan(0.9);
    expect(trends.size).toBe(0);
  });
  it('does not start a series for any speaker of the ended call, while live calls keep theirs', () => {
    const trends = new EmotionTrendTracker();
    trends.add('live', 'caller', angry);
    trends.add('gone', 'caller', angry);
    trends.forgetCall('gone');
    expect(trends.add('gone', 'caller', angry)).toEqual({ agitation: expect.any(Number), slope: 0, trend: 'unknown' });
    trends.add('gone', 'agent', angry);
    expect(trends.size).toBe(1);
    trends.add('live', 'caller', angry);
    expect(trends.add('live', 'caller', angry).trend).not.toBe('unknown');
  });
  it('remembers ended calls within the same bound as the series', () => {
    const trends = new EmotionTrendTracker(undefined, 2);
    for (const id of ['a', 'b', 'c']) trends.forgetCall(id); // 'a' is pushed out of the memory
    trends.add('a', 'caller', angry);
    trends.add('b', 'caller', angry);
    expect(trends.size).toBe(1);
  });
});
