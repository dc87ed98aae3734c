/** Feature tables for RAVDESS: clean 16 kHz and the simulated telephone channel, per clip. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resample } from '../../../appliance/audio/resample.js';
import { EMOTION_FEATURE_SCHEME, EmotionFeaturizer, toFeatureRate } from '../../../appliance/emotion/features.js';
import { type Clip, telephoneChannel } from './data.js';
import { arousalValenceTarget, categoryOf, type Category } from './model.js';

export interface FeatureRow {
  readonly file: string;
  readonly actor: number;
  readonly category: Category;
  readonly av: readonly [number, number];
  readonly clean: Float32Array;
  readonly phone: Float32Array;
}

/** Compute (or, with `cachePath`, reuse for the same scheme and files) the feature table. */
export function featureTable(clips: readonly Clip[], cachePath?: string): FeatureRow[] {
  const meta = (c: Clip): Omit<FeatureRow, 'clean' | 'phone'> => ({
    file: c.file,
    actor: c.actor,
    category: categoryOf(c.emotion),
    av: arousalValenceTarget(c.emotion, c.strong),
  });
  if (cachePath !== undefined && existsSync(cachePath)) {
    const cached = JSON.parse(readFileSync(cachePath, 'utf8')) as {
      scheme: string;
      rows: { file: string; clean: number[]; phone: number[] }[];
    };
    if (
      cached.scheme === EMOTION_FEATURE_SCHEME &&
      cached.rows.length === clips.length &&
      cached.rows.every((r, i) => r.file === clips[i]!.file)
    ) {
      return clips.map((c, i) => ({
        ...meta(c),
        clean: Float32Array.from(cached.rows[i]!.clean),
        phone: Float32Array.from(cached.rows[i]!.phone),
      }));
    }
  }
  const fz = new EmotionFeaturizer();
  const rows = clips.map((c) => ({
    ...meta(c),
    clean: fz.extract(toFeatureRate(c.pcm, c.sampleRateHz)),
    phone: fz.extract(toFeatureRate(telephoneChannel(c.pcm, c.sampleRateHz), c.sampleRateHz)),
  }));
  if (cachePath !== undefined) {
    writeFileSync(
      cachePath,
      JSON.stringify({
        scheme: EMOTION_FEATURE_SCHEME,
        rows: rows.map((r) => ({ file: r.file, clean: [...r.clean], phone: [...r.phone] })),
      }),
    );
  }
  return rows;
}

/** Speed perturbation (tempo and pitch together, as in ASR training): factor 1.1 = 10 % faster and higher. */
export function speedPerturb(pcm: Float32Array, sampleRateHz: number, factor: number): Float32Array {
  return resample(pcm, Math.round(sampleRateHz * factor), sampleRateHz);
}

/** Feature rows of speed-perturbed copies (training augmentation only; never evaluated). */
export function augmentedTable(clips: readonly Clip[], factors: readonly number[], cachePath?: string): FeatureRow[] {
  const key = factors.join(',');
  if (cachePath !== undefined && existsSync(cachePath)) {
    const cached = JSON.parse(readFileSync(cachePath, 'utf8')) as {
      scheme: string;
      key: string;
      rows: { file: string; clean: number[]; phone: number[] }[];
    };
    const metaRows = factors.flatMap(() => clips);
    if (
      cached.scheme === EMOTION_FEATURE_SCHEME &&
      cached.key === key &&
      cached.rows.length === metaRows.length &&
      cached.rows.every((r, i) => r.file === metaRows[i]!.file)
    ) {
      return metaRows.map((c, i) => ({
        file: c.file,
        actor: c.actor,
        category: categoryOf(c.emotion),
        av: arousalValenceTarget(c.emotion, c.strong),
        clean: Float32Array.from(cached.rows[i]!.clean),
        phone: Float32Array.from(cached.rows[i]!.phone),
      }));
    }
  }
  const fz = new EmotionFeaturizer();
  const rows: FeatureRow[] = [];
  for (const factor of factors) {
    for (const c of clips) {
      const pcm = speedPerturb(c.pcm, c.sampleRateHz, factor);
      rows.push({
        file: c.file,
        actor: c.actor,
        category: categoryOf(c.emotion),
        av: arousalValenceTarget(c.emotion, c.strong),
        clean: fz.extract(toFeatureRate(pcm, c.sampleRateHz)),
        phone: fz.extract(toFeatureRate(telephoneChannel(pcm, c.sampleRateHz), c.sampleRateHz)),
      });
    }
  }
  if (cachePath !== undefined) {
    writeFileSync(
      cachePath,
      JSON.stringify({
        scheme: EMOTION_FEATURE_SCHEME,
        key,
        rows: rows.map((r) => ({ file: r.file, clean: [...r.clean], phone: [...r.phone] })),
      }),
    );
  }
  return rows;
}
