/** Feature tables for RAVDESS: clean 16 kHz and the simulated telephone channel, per clip. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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
    const cached = JSON.parse(readFileSync(cachePath, 'utf8')) as { scheme: string; rows: { file: string; clean: number[]; phone: number[] }[] };
    if (cached.scheme === EMOTION_FEATURE_SCHEME && cached.rows.length === clips.length && cached.rows.every((r, i) => r.file === clips[i]!.file)) {
      return clips.map((c, i) => ({ ...meta(c), clean: Float32Array.from(cached.rows[i]!.clean), phone: Float32Array.from(cached.rows[i]!.phone) }));
    }
  }
  const fz = new EmotionFeaturizer();
  const rows = clips.map((c) => ({
    ...meta(c),
    clean: fz.extract(toFeatureRate(c.pcm, c.sampleRateHz)),
    phone: fz.extract(toFeatureRate(telephoneChannel(c.pcm, c.sampleRateHz), c.sampleRateHz)),
  }));
  if (cachePath !== undefined) {
    writeFileSync(cachePath, JSON.stringify({ scheme: EMOTION_FEATURE_SCHEME, rows: rows.map((r) => ({ file: r.file, clean: [...r.clean], phone: [...r.phone] })) }));
  }
  return rows;
}
