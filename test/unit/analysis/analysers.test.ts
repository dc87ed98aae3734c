/**
 * The utterance analysers around the intent and emotion models: the shipped intent model on real
 * sentences, and the emotion wrapper's speaker filter, short-audio skip, trend and events (with the
 * shipped emotion model where it is present in models/emotion).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmotionUtteranceAnalyser, type EmotionModel } from '../../../appliance/analysis/emotionAnalyser.js';
import { EmotionTrendTracker } from '../../../appliance/analysis/emotionTrend.js';
import { IntentUtteranceAnalyser } from '../../../appliance/analysis/intentAnalyser.js';
import type { UtteranceContext } from '../../../appliance/calls/analysis.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { IntentClassifier } from '../../../appliance/intent/classifier.js';
import { REPO_ROOT } from '../../helpers/paths.js';

const ctx = (over: Partial<UtteranceContext> = {}): UtteranceContext => ({
  callId: 'call-1',
  legId: 'leg-1',
  speaker: 'caller',
  utteranceId: 7,
  text: '',
  startMs: 0,
  endMs: 2000,
  audio: new Int16Array(16000),
  sampleRateHz: 8000,
  ...over,
});

describe('IntentUtteranceAnalyser on the shipped intent model', () => {
  let model: IntentClassifier;
  beforeAll(async () => {
    model = await IntentClassifier.load(join(REPO_ROOT, 'models', 'intent', 'intent.json'));
  });
  afterAll(() => model?.close());

  it('classifies caller utterances, returns the stored result and the one intent event that announces it', async () => {
    const a = new IntentUtteranceAnalyser(model, { speakers: ['caller'] });
    const c = ctx({ text: 'i lost my card yesterday can you block it' });
    const r = await a.analyse(c);
    expect(r).toMatchObject({ intent: 'lost_or_stolen_card', outOfScope: false });
    const events = [a.eventOf(c, r!, 42)];
    expect(events[0]).toMatchObject({
      type: 'intent',
      at: 42,
      callId: 'call-1',
      legId: 'leg-1',
      utteranceId: 7,
      intent: 'lost_or_stolen_card',
    });
    const e = events[0] as Extract<ApplianceEvent, { type: 'intent' }>;
    expect(e.top.length).toBeGreaterThan(1);
    expect(JSON.stringify(e)).not.toContain('yesterday');
  });
  it('leaves other speakers alone', async () => {
    const a = new IntentUtteranceAnalyser(model, { speakers: ['caller'] });
    expect(await a.analyse(ctx({ speaker: 'agent', text: 'i lost my card' }))).toBeNull();
  });
});

/** A deterministic stand-in for the emotion model: loudness decides how angry it sounds. */
class LoudnessEmotion implements EmotionModel {
  calls = 0;
  async analyse(pcm: Int16Array, rate: number) {
    this.calls++;
    let e = 0;
    for (const s of pcm) e += (s / 32768) ** 2;
    const loud = Math.min(1, Math.sqrt(e / Math.max(1, pcm.length)) * 4);
    return {
      category: loud > 0.5 ? 'angry' : 'neutral',
      confidence: 0.8,
      scores: { angry: loud, neutral: 1 - loud },
      arousal: loud * 2 - 1,
      valence: 1 - loud * 2,
      durationMs: (pcm.length * 1000) / rate,
    };
  }
}

const tone = (amplitude: number, samples = 8000) =>
  Int16Array.from({ length: samples }, (_, i) => Math.round(amplitude * 32767 * Math.sin(i / 3)));

describe('EmotionUtteranceAnalyser', () => {
  it('announces the emotion with a trend that escalates as the caller gets louder', async () => {
    const events: ApplianceEvent[] = [];
    const a = new EmotionUtteranceAnalyser(new LoudnessEmotion(), {
      speakers: ['caller'],
      minAudioMs: 500,
      trends: new EmotionTrendTracker(),
    });
    for (const amp of [0.02, 0.08, 0.15, 0.25]) {
      const c = ctx({ audio: tone(amp) });
      events.push(a.eventOf(c, (await a.analyse(c))!, 0));
    }
    const trends = events.map((e) => (e as Extract<ApplianceEvent, { type: 'emotion' }>).trend);
    expect(trends[0]).toBe('unknown');
    expect(trends[3]).toBe('escalating');
    expect(events[3]).toMatchObject({ type: 'emotion', category: 'angry', callId: 'call-1', speaker: 'caller' });
  });
  it('analyses only the last maxAudioMs of a long utterance', async () => {
    const seen: number[] = [];
    const model: EmotionModel = { analyse: async (pcm, rate) => (seen.push(pcm.length), new LoudnessEmotion().analyse(pcm, rate)) };
    const a = new EmotionUtteranceAnalyser(model, {
      speakers: ['caller'],
      minAudioMs: 500,
      maxAudioMs: 4000,
      trends: new EmotionTrendTracker(),
    });
    await a.analyse(ctx({ audio: tone(0.1, 8000 * 9) }));
    await a.analyse(ctx({ audio: tone(0.1, 8000 * 2) }));
    expect(seen).toEqual([32000, 16000]);
  });
  it('skips other speakers and utterances too short to judge', async () => {
    const model = new LoudnessEmotion();
    const a = new EmotionUtteranceAnalyser(model, {
      speakers: ['caller'],
      minAudioMs: 500,
      trends: new EmotionTrendTracker(),
    });
    expect(await a.analyse(ctx({ speaker: 'agent' }))).toBeNull();
    expect(await a.analyse(ctx({ audio: new Int16Array(3000) }))).toBeNull();
    expect(model.calls).toBe(0);
  });

  const shipped = join(REPO_ROOT, 'models', 'emotion', 'emotion.json');
  it.runIf(existsSync(shipped))('runs the shipped emotion model on utterance audio', async () => {
    const { EmotionAnalyser } = await import('../../../appliance/emotion/analyser.js');
    const model = await EmotionAnalyser.load(shipped);
    try {
      const a = new EmotionUtteranceAnalyser(model, {
        speakers: ['caller'],
        minAudioMs: 500,
        trends: new EmotionTrendTracker(),
      });
      const c = ctx({ audio: tone(0.3, 16000) });
      const r = await a.analyse(c);
      expect(r).not.toBeNull();
      const events = [a.eventOf(c, r!, 0)];
      expect(model.categories).toContain(r!['category']);
      expect(events[0]).toMatchObject({ type: 'emotion', trend: 'unknown' });
    } finally {
      await model.close();
    }
  });
});
