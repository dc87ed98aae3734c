/**
 * Train the emotion model on RAVDESS actors 01-20 (clean + simulated telephone copies), report
 * leave-4-actors-out cross-validation, export the ONNX ensemble + sidecar, write metrics.json.
 *
 *   node dist/models/pipelines/emotion/train.js [--out models/emotion] [--shared ../shared]
 *   node dist/models/pipelines/emotion/train.js --eval-only   (CV metrics only; `make eval-emotion`)
 *   node dist/models/pipelines/emotion/train.js --data DIR --out DIR   (a site's own labelled calls, see MODEL_CARD.md)
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EMOTION_SIDECAR_FORMAT, EmotionAnalyser, type EmotionSidecar } from '../../../appliance/emotion/analyser.js';
import { EMOTION_FEATURE_SCHEME, FEATURE_SAMPLE_RATE_HZ, emotionFeatureNames } from '../../../appliance/emotion/features.js';
import { crossValidate, samplesOf, type CvResult } from './cv.js';
import { loadRavdess } from './data.js';
import { augmentedTable, featureTable, type FeatureRow } from './dataset.js';
import { emotionMetrics, formatMetrics, type EmotionMetrics } from './metrics.js';
import { CATEGORIES, DEFAULT_EMOTION_OPTIONS, trainEmotion, type EmotionParams } from './model.js';
import { performance } from 'node:perf_hooks';
import { updateCardMetrics } from '../common/card.js';
import { FOUR_CLASS as FOUR } from './metrics.js';
import { exportEmotionOnnx, EMOTION_INPUT, EMOTION_OUTPUT_AV, EMOTION_OUTPUT_PROBS } from './export.js';

/** Ensemble members differ only in their seed. */
export const ENSEMBLE_SEEDS = [20240501, 20240502, 20240503, 20240504, 20240505] as const;
/** Actor whose clips serve as the reproducibility slice for the shipped model (a training actor). */
export const SLICE_ACTOR = 1;

function trainEnsemble(rows: readonly FeatureRow[]): EmotionParams[] {
  return ENSEMBLE_SEEDS.map((seed) => trainEmotion(samplesOf(rows), CATEGORIES.length, { ...DEFAULT_EMOTION_OPTIONS, seed }));
}

/** Speed-perturbation factors for training augmentation (empty = none). */
export const SPEED_FACTORS: readonly number[] = [0.9, 1.1];

/** CV with the shipped recipe: each fold trains the same ensemble. */
function ensembleCv(rows: readonly FeatureRow[], augmented: readonly FeatureRow[], log: (s: string) => void): CvResult {
  return crossValidate(rows, DEFAULT_EMOTION_OPTIONS, undefined, log, undefined, ENSEMBLE_SEEDS, augmented);
}

function summaryLines(cv: CvResult): string[] {
  return [
    ...formatMetrics('emotion clean 16 kHz', cv.clean).split('\n'),
    ...formatMetrics('emotion telephone 8 kHz G.711', cv.phone).split('\n'),
  ];
}

function headline(cv: CvResult): string {
  const p = (m: EmotionMetrics): string => `4-class UA ${(100 * m.ua4).toFixed(1)}%, angry F1 ${m.angryF1.toFixed(3)}`;
  return `emotion (speaker-independent 5-fold CV): clean ${p(cv.clean)} | telephone ${p(cv.phone)}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: 'models/emotion' },
      shared: { type: 'string', default: process.env.EDGEVOX_SHARED ?? '../shared' },
      data: { type: 'string' },
      cache: { type: 'string' },
      'eval-only': { type: 'boolean', default: false },
    },
  });
  const log = (s: string): void => {
    process.stdout.write(`${s}\n`);
  };
  const t0 = Date.now();
  const clips = loadRavdess(values.data ?? join(values.shared, 'datasets/emotion/ravdess-16k'));
  // --cache DIR reuses feature tables computed by an earlier run with the same feature scheme and files.
  const cacheFile = (name: string): string | undefined => {
    if (values.cache === undefined) return undefined;
    mkdirSync(values.cache, { recursive: true });
    return join(values.cache, name);
  };
  const rows = featureTable(clips, cacheFile('features.json'));
  const augmented = augmentedTable(clips, SPEED_FACTORS, cacheFile('features-speed.json'));
  log(
    `features: ${rows.length} clips x (clean, telephone) + ${augmented.length} speed-perturbed copies, ${emotionFeatureNames().length} features, ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );

  const cv = ensembleCv(rows, augmented, log);
  if (values['eval-only']) {
    const metricsPath = join(values.out, 'metrics.json');
    if (existsSync(metricsPath)) {
      const card = JSON.parse(readFileSync(metricsPath, 'utf8')) as { cv: { clean: EmotionMetrics; phone: EmotionMetrics } };
      const same = Math.abs(card.cv.clean.ua4 - cv.clean.ua4) < 1e-9 && Math.abs(card.cv.phone.angryF1 - cv.phone.angryF1) < 1e-9;
      log(`reproduces ${metricsPath}: ${same ? 'yes' : 'NO'}`);
    }
    for (const line of summaryLines(cv)) log(line);
    log(headline(cv));
    return;
  }

  const members = trainEnsemble([...rows, ...augmented]);
  mkdirSync(values.out, { recursive: true });
  const modelFile = 'emotion.onnx';
  const modelPath = join(values.out, modelFile);
  const bytes = exportEmotionOnnx(modelPath, members, {
    categories: JSON.stringify(CATEGORIES),
    feature_scheme: EMOTION_FEATURE_SCHEME,
    licence: 'Trained on RAVDESS (CC BY-NC-SA 4.0): evaluation and research use only',
  });
  const sidecar: EmotionSidecar & Record<string, unknown> = {
    format: EMOTION_SIDECAR_FORMAT,
    model: modelFile,
    modelSha256: createHash('sha256').update(readFileSync(modelPath)).digest('hex'),
    featureScheme: EMOTION_FEATURE_SCHEME,
    featureNames: emotionFeatureNames(),
    categories: [...CATEGORIES],
    inputs: { features: EMOTION_INPUT },
    outputs: { probabilities: EMOTION_OUTPUT_PROBS, arousalValence: EMOTION_OUTPUT_AV },
    featureSampleRateHz: FEATURE_SAMPLE_RATE_HZ,
    arousalValence: 'tanh outputs in [-1, 1], trained on circumplex proxy targets derived from the acted category and intensity',
    licence: 'RAVDESS CC BY-NC-SA 4.0: these weights are for evaluation only',
    training: { options: DEFAULT_EMOTION_OPTIONS, ensembleSeeds: ENSEMBLE_SEEDS },
  };
  const sidecarPath = join(values.out, 'emotion.json');
  writeFileSync(sidecarPath, `${JSON.stringify(sidecar, null, 2)}\n`);

  // Reproducibility slice: the shipped model through the runtime on one training actor's clips.
  const analyser = await EmotionAnalyser.load(sidecarPath);
  const slice = clips.filter((c) => c.actor === SLICE_ACTOR);
  const sliceRows = rows.filter((r) => r.actor === SLICE_ACTOR);
  const slicePreds = [];
  let analyseMs = 0;
  let audioS = 0;
  for (const c of slice) {
    const start = performance.now();
    const r = await analyser.analyse(c.pcm, c.sampleRateHz);
    analyseMs += performance.now() - start;
    audioS += c.pcm.length / c.sampleRateHz;
    slicePreds.push({ probs: Float32Array.from(CATEGORIES.map((k) => r.scores[k]!)), av: [r.arousal, r.valence] as const });
  }
  await analyser.close();
  const sliceMetrics = emotionMetrics(
    slicePreds,
    sliceRows.map((r) => ({ category: r.category, av: r.av })),
  );

  writeFileSync(
    join(values.out, 'metrics.json'),
    `${JSON.stringify(
      {
        model: modelFile,
        modelBytes: bytes,
        modelSha256: sidecar.modelSha256,
        cv: { folds: cv.perFold.map((f) => ({ actors: f.actors, clean: f.clean, phone: f.phone })), clean: cv.clean, phone: cv.phone },
        reproducibilitySlice: {
          actor: SLICE_ACTOR,
          note: 'training actor: checks the runtime pipeline, not generalisation',
          clean: sliceMetrics,
        },
      },
      null,
      2,
    )}\n`,
  );
  log(`wrote ${modelPath} (${bytes} bytes), ${sidecarPath} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
  const f3 = (x: number): string => x.toFixed(3);
  const row = (name: string, m: EmotionMetrics): string =>
    `| ${name} | **${pct(m.ua4)}** | **${f3(m.angryF1)}** | ${FOUR.map((c) => f3(m.f1by4[c]!)).join(' / ')} | ${pct(m.ua7)} | ${f3(m.angryF1All)} | ${f3(m.arousalCcc)} / ${f3(m.valenceCcc)} |`;
  updateCardMetrics(
    join(values.out, 'MODEL_CARD.md'),
    [
      '| audio | 4-class UA | angry-vs-rest F1 (4-class clips) | F1 neutral / happy / sad / angry | 7-class UA | angry-vs-rest F1 (all 1,200 clips) | arousal / valence CCC (proxy targets) |',
      '|---|---|---|---|---|---|---|',
      row('clean 16 kHz', cv.clean),
      row('telephone: 8 kHz G.711 μ-law', cv.phone),
      '',
      '4-class: the 720 clips labelled neutral, calm, happy, sad or angry; the prediction is the most probable of the 4 categories. UA = unweighted accuracy (mean per-class recall).',
      '7-class: all 1,200 clips, argmax over all 7 outputs (angry-vs-rest here also counts fearful, disgust and surprised clips as "rest").',
      '',
      '| held-out actors | clean 4-class UA | clean angry F1 | telephone 4-class UA | telephone angry F1 |',
      '|---|---|---|---|---|',
      ...cv.perFold.map(
        (f) =>
          `| ${f.actors.map((a) => String(a).padStart(2, '0')).join(', ')} | ${pct(f.clean.ua4)} | ${f3(f.clean.angryF1)} | ${pct(f.phone.ua4)} | ${f3(f.phone.angryF1)} |`,
      ),
      '',
      `Model size: ${(bytes / 1e3).toFixed(1)} kB (${bytes} bytes). Analysis cost at training time (features + ONNX, 1 thread, 2-core machine shared with other jobs): ${(analyseMs / slice.length).toFixed(1)} ms per utterance, ${(analyseMs / audioS).toFixed(1)} ms per second of 16 kHz audio (actor ${String(SLICE_ACTOR).padStart(2, '0')}'s ${slice.length} clips).`,
      `Reproducibility slice (shipped model through the runtime on actor ${String(SLICE_ACTOR).padStart(2, '0')}, a training actor, so not a generalisation figure): 4-class UA ${pct(sliceMetrics.ua4)}; checked by test/unit/emotion.`,
    ].join('\n'),
  );
  for (const line of summaryLines(cv)) log(line);
  log(headline(cv));
}

await main();
