/** Speaker-independent cross-validation: 5 folds of held-out speakers (RAVDESS actors 01-20: 4 actors, 2 male + 2 female, per fold). */
import { emotionMetrics, type EmotionMetrics, type Prediction, type Truth } from './metrics.js';
import type { FeatureRow } from './dataset.js';
import { CATEGORIES, predictEmotion, trainEmotion, type EmotionParams, type EmotionSample, type EmotionTrainOptions } from './model.js';

/** Speaker-disjoint folds: the sorted speaker ids cut into `k` contiguous groups (RAVDESS 01-20: 1-4, 5-8, ...). */
export function speakerFolds(rows: readonly { actor: number }[], k = 5): number[][] {
  const speakers = [...new Set(rows.map((r) => r.actor))].sort((a, b) => a - b);
  if (speakers.length < k) throw new Error(`cross-validation needs at least ${k} speakers, got ${speakers.length}`);
  const folds: number[][] = [];
  for (let f = 0; f < k; f++)
    folds.push(speakers.slice(Math.floor((f * speakers.length) / k), Math.floor(((f + 1) * speakers.length) / k)));
  return folds;
}

/** Training samples: clean and telephone-channel copies of each clip (channel augmentation). */
export function samplesOf(rows: readonly FeatureRow[], trained: readonly string[] = CATEGORIES): EmotionSample[] {
  const out: EmotionSample[] = [];
  for (const r of rows) {
    const y = trained.includes(r.category) ? CATEGORIES.indexOf(r.category) : -1;
    out.push({ x: r.clean, y, av: r.av }, { x: r.phone, y, av: r.av });
  }
  return out;
}

/** Mean of the members' probabilities and arousal/valence (what the exported graph computes). */
export function ensemblePredict(members: readonly EmotionParams[], x: Float32Array): Prediction {
  const probs = new Float32Array(members[0]!.classes);
  const av: [number, number] = [0, 0];
  for (const m of members) {
    const p = predictEmotion(m, x);
    for (let c = 0; c < probs.length; c++) probs[c] = probs[c]! + p.probs[c]! / members.length;
    av[0] += p.av[0] / members.length;
    av[1] += p.av[1] / members.length;
  }
  return { probs, av };
}

export interface CvResult {
  readonly clean: EmotionMetrics;
  readonly phone: EmotionMetrics;
  readonly perFold: { actors: readonly number[]; clean: EmotionMetrics; phone: EmotionMetrics }[];
}

export function crossValidate(
  rows: readonly FeatureRow[],
  opt: EmotionTrainOptions,
  folds: readonly (readonly number[])[] = speakerFolds(rows),
  log: (s: string) => void = () => {},
  trained: readonly string[] = CATEGORIES,
  seeds: readonly number[] = [opt.seed],
  augmented: readonly FeatureRow[] = [],
): CvResult {
  const allClean: Prediction[] = [];
  const allPhone: Prediction[] = [];
  const allTruth: Truth[] = [];
  const perFold: CvResult['perFold'] = [];
  for (const held of folds) {
    const train = [...rows, ...augmented].filter((r) => !held.includes(r.actor));
    const test = rows.filter((r) => held.includes(r.actor));
    const members = seeds.map((seed) => trainEmotion(samplesOf(train, trained), CATEGORIES.length, { ...opt, seed }));
    const clean = test.map((r) => ensemblePredict(members, r.clean));
    const phone = test.map((r) => ensemblePredict(members, r.phone));
    const truth = test.map((r) => ({ category: r.category, av: r.av }));
    const fold = { actors: held, clean: emotionMetrics(clean, truth), phone: emotionMetrics(phone, truth) };
    log(
      `fold actors ${held.join(',')}: clean 4-class UA ${(100 * fold.clean.ua4).toFixed(1)}% angry F1 ${fold.clean.angryF1.toFixed(3)} | phone ${(100 * fold.phone.ua4).toFixed(1)}% ${fold.phone.angryF1.toFixed(3)}`,
    );
    perFold.push(fold);
    allClean.push(...clean);
    allPhone.push(...phone);
    allTruth.push(...truth);
  }
  return { clean: emotionMetrics(allClean, allTruth), phone: emotionMetrics(allPhone, allTruth), perFold };
}
