import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmotionAnalyser } from '../../../appliance/emotion/analyser.js';
import { defaultEmotionSidecar } from '../../../appliance/intent/modelPaths.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { loadRavdess, telephoneChannel } from '../../../models/pipelines/emotion/data.js';
import { emotionMetrics, type EmotionMetrics } from '../../../models/pipelines/emotion/metrics.js';
import { arousalValenceTarget, categoryOf } from '../../../models/pipelines/emotion/model.js';

const SIDECAR = defaultEmotionSidecar();
const RAVDESS = resolve(process.env.EDGEVOX_SHARED ?? '../shared', 'datasets/emotion/ravdess-16k');
const hasData = existsSync(join(RAVDESS, 'labels.csv'));

function expectDistribution(scores: Readonly<Record<string, number>>, categories: readonly string[]): void {
  expect(Object.keys(scores)).toEqual([...categories]);
  const values = Object.values(scores);
  for (const v of values) expect(v >= 0 && v <= 1).toBe(true);
  expect(values.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
}

describe('EmotionAnalyser (shipped model)', () => {
  let analyser: EmotionAnalyser;
  beforeAll(async () => {
    analyser = await EmotionAnalyser.load(SIDECAR);
  });
  afterAll(async () => {
    await analyser.close();
  });

  it('reads its categories from the sidecar', () => {
    const sidecar = JSON.parse(readFileSync(SIDECAR, 'utf8')) as { categories: string[] };
    expect(analyser.categories).toEqual(sidecar.categories);
    for (const c of ['neutral', 'happy', 'sad', 'angry', 'fearful']) expect(analyser.categories).toContain(c);
  });

  it.skipIf(!hasData)('returns a valid distribution, arousal and valence on a RAVDESS clip at 16 kHz and 8 kHz', async () => {
    const clip = loadRavdess(RAVDESS).find((c) => c.file === 'Actor_01/03-01-05-02-01-01-01.wav')!;
    const wide = await analyser.analyse(clip.pcm, clip.sampleRateHz);
    expectDistribution(wide.scores, analyser.categories);
    expect(wide.confidence).toBe(Math.max(...Object.values(wide.scores)));
    expect(wide.scores[wide.category]).toBe(wide.confidence);
    for (const x of [wide.arousal, wide.valence]) expect(x >= -1 && x <= 1).toBe(true);
    expect(wide.durationMs).toBeCloseTo((clip.pcm.length * 1000) / clip.sampleRateHz, 6);

    // The same clip as an 8 kHz int16 telephone leg.
    const phone16 = telephoneChannel(clip.pcm, clip.sampleRateHz);
    const phone8 = new Int16Array(phone16.length / 2);
    for (let i = 0; i < phone8.length; i++) phone8[i] = Math.round(phone16[2 * i]! * 32767);
    const narrow = await analyser.analyse(phone8, 8000);
    expectDistribution(narrow.scores, analyser.categories);
  });

  it.skipIf(!hasData)('reproduces the model card reproducibility slice (actor 01 through the runtime)', async () => {
    const card = JSON.parse(readFileSync(join(SIDECAR, '..', 'metrics.json'), 'utf8')) as {
      reproducibilitySlice: { actor: number; clean: EmotionMetrics };
    };
    const clips = loadRavdess(RAVDESS).filter((c) => c.actor === card.reproducibilitySlice.actor);
    const preds = [];
    for (const c of clips) {
      const r = await analyser.analyse(c.pcm, c.sampleRateHz);
      preds.push({ probs: Float32Array.from(analyser.categories.map((k) => r.scores[k]!)), av: [r.arousal, r.valence] as const });
    }
    const m = emotionMetrics(
      preds,
      clips.map((c) => ({ category: categoryOf(c.emotion), av: arousalValenceTarget(c.emotion, c.strong) })),
    );
    expect(m.ua4).toBeCloseTo(card.reproducibilitySlice.clean.ua4, 9);
    expect(m.angryF1).toBeCloseTo(card.reproducibilitySlice.clean.angryF1, 9);
    expect(m.arousalCcc).toBeCloseTo(card.reproducibilitySlice.clean.arousalCcc, 6);
  });

  it('rejects a too-short utterance with a clear error', async () => {
    const err = await analyser.analyse(new Int16Array(800), 8000).catch((e: unknown) => e);
    expect(isEdgeVoxError(err, 'EVX_ERR_EMOTION_AUDIO_TOO_SHORT')).toBe(true);
  });
});

describe('EmotionAnalyser contract checks', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'evx-emotion-'));
    copyFileSync(join(SIDECAR, '..', 'emotion.onnx'), join(dir, 'emotion.onnx'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const withSidecar = (edit: (s: Record<string, unknown>) => void): string => {
    const s = JSON.parse(readFileSync(SIDECAR, 'utf8')) as Record<string, unknown>;
    edit(s);
    const path = join(dir, `emotion-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, JSON.stringify(s));
    return path;
  };

  it('loads an unmodified copy and closes idempotently', async () => {
    const a = await EmotionAnalyser.load(withSidecar(() => {}));
    await a.close();
    await a.close();
    await expect(a.analyse(new Int16Array(8000), 8000)).rejects.toMatchObject({ code: 'EVX_ERR_STREAM_CLOSED' });
  });

  it('rejects a sidecar whose category count differs from the model output', async () => {
    const path = withSidecar((s) => {
      s.categories = (s.categories as string[]).slice(1);
    });
    expect(isEdgeVoxError(await EmotionAnalyser.load(path).catch((e: unknown) => e), 'EVX_ERR_MODEL_CONTRACT')).toBe(true);
  });

  it('rejects a model trained on a different feature list', async () => {
    const path = withSidecar((s) => {
      s.featureNames = (s.featureNames as string[]).slice(0, -1);
    });
    expect(isEdgeVoxError(await EmotionAnalyser.load(path).catch((e: unknown) => e), 'EVX_ERR_MODEL_CONTRACT')).toBe(true);
  });
});
