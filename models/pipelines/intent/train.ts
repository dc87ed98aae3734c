/**
 * Train the intent model on BANKING77 train, calibrate the out-of-scope threshold, export ONNX +
 * sidecar, evaluate through the runtime, and write metrics.json.
 *
 *   node dist/models/pipelines/intent/train.js [--out models/intent] [--shared ../shared]
 *
 * Threshold calibration: a model trained on a stratified 90 % of BANKING77 train scores the other
 * 10 % (in scope) and CLINC150 oos_train + oos_val (200 out-of-scope utterances); the threshold on
 * the top-1 probability maximises the balanced accuracy of the accept/reject decision on that set.
 * The shipped model is then retrained on all of BANKING77 train with the same recipe.
 * Neither BANKING77 test nor CLINC150 oos_test is used before the final evaluation.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { IntentClassifier, INTENT_SIDECAR_FORMAT, type IntentSidecar } from '../../../appliance/intent/classifier.js';
import { IntentFeaturizer, type IntentFeaturizerConfig } from '../../../appliance/intent/featurizer.js';
import { loadBanking77, loadClincOos } from './data.js';
import { evaluateIntent, formatIntentMetrics, measureLatency } from './evaluate.js';
import { exportIntentOnnx, INTENT_INPUT_COUNTS, INTENT_INPUT_IDS, INTENT_OUTPUT_PROBS } from './export.js';
import { computeIdf, dequantized, featurizeAll, predict, train, weightVec, type TrainOptions } from './model.js';
import { updateCardMetrics } from '../common/card.js';
import { calibrateThreshold } from './calibrate.js';
import { stratifiedSplit } from './split.js';

export const FEATURIZER: IntentFeaturizerConfig = {
  scheme: 'edgevox-intent-hash-v1',
  hashDim: 65536,
  wordNgrams: [1, 3],
  charNgrams: [2, 5],
};

export const TRAIN_OPTIONS: TrainOptions = {
  epochs: 10,
  batchSize: 32,
  learningRate: 0.01,
  weightDecay: 0,
  hidden: 0,
  dropout: 0,
  labelSmoothing: 0.1,
  seed: 1,
};

const SPLIT_SEED = 7;

function fitModel(texts: string[], labels: number[], classes: number, log: (s: string) => void) {
  const featurizer = new IntentFeaturizer(FEATURIZER);
  const vecs = featurizeAll(featurizer, texts);
  const idf = computeIdf(vecs, FEATURIZER.hashDim);
  return train(
    vecs.map((v) => weightVec(v, idf)),
    labels,
    FEATURIZER.hashDim,
    classes,
    idf,
    TRAIN_OPTIONS,
    log,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: 'models/intent' },
      shared: { type: 'string', default: process.env.EDGEVOX_SHARED ?? '../shared' },
    },
  });
  const outDir = values.out;
  const datasets = join(values.shared, 'datasets');
  const log = (s: string): void => {
    process.stdout.write(`${s}\n`);
  };
  const t0 = Date.now();
  const data = loadBanking77(join(datasets, 'intent/banking77'));
  const clinc = loadClincOos(join(datasets, 'intent/clinc150'));
  const labelIndex = new Map(data.categories.map((c, i) => [c, i]));
  const texts = data.train.map((e) => e.text);
  const ys = data.train.map((e) => labelIndex.get(e.label)!);
  const classes = data.categories.length;

  log(`calibration model: 90 % of BANKING77 train (split seed ${SPLIT_SEED})`);
  const { trainIdx, valIdx } = stratifiedSplit(
    data.train.map((e) => e.label),
    0.1,
    SPLIT_SEED,
  );
  const calib = dequantized(
    fitModel(
      trainIdx.map((i) => texts[i]!),
      trainIdx.map((i) => ys[i]!),
      classes,
      log,
    ),
  );
  const featurizer = new IntentFeaturizer(FEATURIZER);
  const topProb = (text: string): number => {
    const [v] = featurizeAll(featurizer, [text]);
    if (v!.ids.length === 0) return 0;
    return Math.max(...predict(calib, weightVec(v!, calib.idf)));
  };
  const valProbs = valIdx.map((i) => topProb(texts[i]!));
  const valCorrect = valIdx.filter((i) => {
    const [v] = featurizeAll(featurizer, [texts[i]!]);
    const p = predict(calib, weightVec(v!, calib.idf));
    return p.indexOf(Math.max(...p)) === ys[i];
  }).length;
  const oosProbs = [...clinc.oosTrain, ...clinc.oosVal].map(topProb);
  const cal = calibrateThreshold(valProbs, oosProbs);
  log(
    `calibration: held-out accuracy ${((100 * valCorrect) / valIdx.length).toFixed(2)}% (${valIdx.length}); threshold ${cal.threshold.toFixed(4)} accepts ${(100 * cal.inAccepted).toFixed(1)}% in-scope, rejects ${(100 * cal.oosRejected).toFixed(1)}% of CLINC150 oos_train+oos_val (${oosProbs.length})`,
  );

  log('final model: all of BANKING77 train');
  const params = fitModel(texts, ys, classes, log);
  mkdirSync(outDir, { recursive: true });
  const modelFile = 'intent.onnx';
  const modelPath = join(outDir, modelFile);
  const bytes = exportIntentOnnx(modelPath, params, {
    labels: JSON.stringify(data.categories),
    featurizer: JSON.stringify(FEATURIZER),
    oos_threshold: String(cal.threshold),
    training_data: 'BANKING77 train (CC BY 4.0); OOS threshold: CLINC150 oos_train+oos_val (CC BY 3.0)',
  });
  const sidecar: IntentSidecar & Record<string, unknown> = {
    format: INTENT_SIDECAR_FORMAT,
    model: modelFile,
    modelSha256: createHash('sha256').update(readFileSync(modelPath)).digest('hex'),
    featurizer: FEATURIZER,
    labels: data.categories,
    oosThreshold: Number(cal.threshold.toFixed(6)),
    inputs: { ids: INTENT_INPUT_IDS, counts: INTENT_INPUT_COUNTS },
    outputs: { probabilities: INTENT_OUTPUT_PROBS },
    training: { options: TRAIN_OPTIONS, splitSeed: SPLIT_SEED, calibration: cal, calibrationHeldOutAccuracy: valCorrect / valIdx.length },
  };
  const sidecarPath = join(outDir, 'intent.json');
  writeFileSync(sidecarPath, `${JSON.stringify(sidecar, null, 2)}\n`);
  log(`wrote ${modelPath} (${bytes} bytes) and ${sidecarPath} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const clf = await IntentClassifier.load(sidecarPath);
  const metrics = await evaluateIntent(clf, data.test, clinc.oosTest);
  const latency = await measureLatency(
    clf,
    data.test.map((e) => e.text),
  );
  await clf.close();
  writeFileSync(
    join(outDir, 'metrics.json'),
    `${JSON.stringify({ model: modelFile, modelBytes: bytes, modelSha256: sidecar.modelSha256, oosThreshold: sidecar.oosThreshold, ...metrics, latencyAtTraining: latency }, null, 2)}\n`,
  );
  const pct = (x: number): string => `${(100 * x).toFixed(2)} %`;
  updateCardMetrics(
    join(outDir, 'MODEL_CARD.md'),
    [
      '| metric | value |',
      '|---|---|',
      `| BANKING77 test accuracy (3,080 utterances, top-1, threshold ignored) | **${pct(metrics.accuracy)}** |`,
      `| BANKING77 test macro-F1 | ${metrics.macroF1.toFixed(4)} |`,
      `| out-of-scope threshold (top-1 probability) | ${sidecar.oosThreshold} |`,
      `| CLINC150 oos_test flagged out of scope (1,000 utterances) | ${pct(metrics.oosDetected)} |`,
      `| BANKING77 test falsely flagged out of scope | ${pct(metrics.inScopeRejected)} |`,
      `| BANKING77 test accepted and correct | ${pct(metrics.acceptedCorrect)} |`,
      `| calibration (90/10 split of train): held-out accuracy | ${pct(valCorrect / valIdx.length)} |`,
      `| calibration: in-scope accepted / CLINC150 oos_train+oos_val rejected | ${pct(cal.inAccepted)} / ${pct(cal.oosRejected)} |`,
      `| model size | ${(bytes / 1e6).toFixed(2)} MB (${bytes} bytes; int8 weights) |`,
      `| latency per utterance at training time (featurize + ONNX, 1 thread, 2-core box shared with other jobs) | mean ${latency.meanMs.toFixed(3)} ms, p95 ${latency.p95Ms.toFixed(3)} ms |`,
      '',
      'Latency is re-measured by `make eval-intent`; it depends on the load of the machine.',
    ].join('\n'),
  );
  for (const line of formatIntentMetrics(metrics, sidecar.oosThreshold)) log(line);
  log(
    `intent: latency per utterance (featurize + ONNX, 1 thread) mean ${latency.meanMs.toFixed(3)} ms, p95 ${latency.p95Ms.toFixed(3)} ms`,
  );
}

await main();
