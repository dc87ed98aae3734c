/**
 * Train the Chinese intent model on CrossWOZ user turns (labels from their dialogue acts, see
 * crosswoz.ts), export ONNX + sidecar with the same graph as the English model, evaluate through
 * the runtime on the CrossWOZ test split, and write metrics.json and the card's metrics table.
 *
 *   node dist/models/pipelines/intent/trainZh.js [--out models/intent-zh] [--data ../shared/datasets/intent/crosswoz] [--train val]
 *
 * Split: the model is trained on the CrossWOZ `val` split (500 dialogues; `--train train,val` adds
 * the 5,012-dialogue train split where a site has it) and evaluated on the `test` split (500 other
 * dialogues), so no dialogue is in both.
 *
 * Out-of-scope threshold: there is no Chinese out-of-scope set to balance against, so the threshold
 * is set from in-scope text alone: a model trained the same way on a stratified 90 % of the training
 * turns scores the other 10 %, and the threshold is the top-1 probability that accepts
 * IN_SCOPE_ACCEPT of them. How much out-of-domain speech it rejects is not measured here.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { IntentClassifier, INTENT_SIDECAR_FORMAT, type IntentSidecar } from '../../../appliance/intent/classifier.js';
import { IntentFeaturizer, type IntentFeaturizerConfig } from '../../../appliance/intent/featurizer.js';
import { updateCardMetrics } from '../common/card.js';
import { CROSSWOZ_LABELS, loadCrosswozSplit } from './crosswoz.js';
import { evaluateIntentZh, formatIntentZhMetrics } from './evaluateZh.js';
import { measureLatency } from './evaluate.js';
import { exportIntentOnnx, INTENT_INPUT_COUNTS, INTENT_INPUT_IDS, INTENT_OUTPUT_PROBS } from './export.js';
import { computeIdf, dequantized, featurizeAll, predict, train, weightVec, type TrainOptions } from './model.js';
import { acceptingThreshold } from './calibrate.js';
import { stratifiedSplit } from './split.js';

export const FEATURIZER_ZH: IntentFeaturizerConfig = {
  scheme: 'edgevox-intent-hash-zh-v1',
  hashDim: 65536,
  wordNgrams: [0, 0],
  charNgrams: [1, 3],
};

export const TRAIN_OPTIONS_ZH: TrainOptions = {
  epochs: 10,
  batchSize: 32,
  learningRate: 0.01,
  weightDecay: 0,
  hidden: 0,
  dropout: 0,
  labelSmoothing: 0.1,
  seed: 1,
};

/** Share of held-out in-scope turns the out-of-scope threshold accepts. */
export const IN_SCOPE_ACCEPT = 0.95;
const SPLIT_SEED = 7;

function fitModel(texts: readonly string[], ys: readonly number[], classes: number, log: (s: string) => void) {
  const featurizer = new IntentFeaturizer(FEATURIZER_ZH);
  const vecs = featurizeAll(featurizer, texts);
  const idf = computeIdf(vecs, FEATURIZER_ZH.hashDim);
  return train(
    vecs.map((v) => weightVec(v, idf)),
    [...ys],
    FEATURIZER_ZH.hashDim,
    classes,
    idf,
    TRAIN_OPTIONS_ZH,
    log,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: 'models/intent-zh' },
      data: { type: 'string', default: join(process.env.EDGEVOX_SHARED ?? '../shared', 'datasets/intent/crosswoz') },
      train: { type: 'string', default: 'val' },
    },
  });
  const log = (s: string): void => {
    process.stdout.write(`${s}\n`);
  };
  const t0 = Date.now();
  const trainSplits = values.train.split(',').map((s) => s.trim());
  if (trainSplits.includes('test')) throw new Error('the test split is for evaluation only');
  const trainSet = trainSplits.flatMap((s) => loadCrosswozSplit(values.data, s));
  const testSet = loadCrosswozSplit(values.data, 'test');
  const labels = [...CROSSWOZ_LABELS];
  const labelIndex = new Map(labels.map((c, i) => [c, i]));
  log(`CrossWOZ ${trainSplits.join('+')}: ${trainSet.length} labelled user turns for training; test: ${testSet.length}`);
  const texts = trainSet.map((e) => e.text);
  const ys = trainSet.map((e) => labelIndex.get(e.label)!);

  log(`calibration model: 90 % of the training turns (split seed ${SPLIT_SEED})`);
  const { trainIdx, valIdx } = stratifiedSplit(
    trainSet.map((e) => e.label),
    0.1,
    SPLIT_SEED,
  );
  const calib = dequantized(
    fitModel(
      trainIdx.map((i) => texts[i]!),
      trainIdx.map((i) => ys[i]!),
      labels.length,
      log,
    ),
  );
  const featurizer = new IntentFeaturizer(FEATURIZER_ZH);
  let heldOutCorrect = 0;
  const heldOutTop = valIdx.map((i) => {
    const [v] = featurizeAll(featurizer, [texts[i]!]);
    if (v!.ids.length === 0) return 0;
    const p = predict(calib, weightVec(v!, calib.idf));
    const best = Math.max(...p);
    if (p.indexOf(best) === ys[i]) heldOutCorrect++;
    return best;
  });
  const threshold = Number(acceptingThreshold(heldOutTop, IN_SCOPE_ACCEPT).toFixed(6));
  log(
    `calibration: held-out accuracy ${((100 * heldOutCorrect) / valIdx.length).toFixed(2)}% (${valIdx.length}); threshold ${threshold} accepts ${(100 * IN_SCOPE_ACCEPT).toFixed(0)}% of them`,
  );

  log('final model: all training turns');
  const params = fitModel(texts, ys, labels.length, log);

  mkdirSync(values.out, { recursive: true });
  const modelFile = 'intent.onnx';
  const modelPath = join(values.out, modelFile);
  const bytes = exportIntentOnnx(modelPath, params, {
    labels: JSON.stringify(labels),
    featurizer: JSON.stringify(FEATURIZER_ZH),
    oos_threshold: String(threshold),
    training_data: `CrossWOZ ${trainSplits.join('+')} user turns, labels from dialogue acts (Apache-2.0, thu-coai/CrossWOZ)`,
  });
  const sidecar: IntentSidecar & Record<string, unknown> = {
    format: INTENT_SIDECAR_FORMAT,
    model: modelFile,
    modelSha256: createHash('sha256').update(readFileSync(modelPath)).digest('hex'),
    featurizer: FEATURIZER_ZH,
    labels,
    oosThreshold: threshold,
    inputs: { ids: INTENT_INPUT_IDS, counts: INTENT_INPUT_COUNTS },
    outputs: { probabilities: INTENT_OUTPUT_PROBS },
    training: {
      data: `CrossWOZ ${trainSplits.join('+')}`,
      examples: trainSet.length,
      options: TRAIN_OPTIONS_ZH,
      splitSeed: SPLIT_SEED,
      calibration: { inScopeAccepted: IN_SCOPE_ACCEPT, heldOut: valIdx.length, heldOutAccuracy: heldOutCorrect / valIdx.length },
    },
  };
  const sidecarPath = join(values.out, 'intent.json');
  writeFileSync(sidecarPath, `${JSON.stringify(sidecar, null, 2)}\n`);
  log(`wrote ${modelPath} (${bytes} bytes) and ${sidecarPath} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const clf = await IntentClassifier.load(sidecarPath);
  const metrics = await evaluateIntentZh(clf, testSet);
  const latency = await measureLatency(
    clf,
    testSet.map((e) => e.text),
  );
  await clf.close();
  writeFileSync(
    join(values.out, 'metrics.json'),
    `${JSON.stringify({ model: modelFile, modelBytes: bytes, modelSha256: sidecar.modelSha256, oosThreshold: threshold, trainExamples: trainSet.length, ...metrics, latencyAtTraining: latency }, null, 2)}\n`,
  );
  const pct = (x: number): string => `${(100 * x).toFixed(2)} %`;
  updateCardMetrics(
    join(values.out, 'MODEL_CARD.md'),
    [
      '| metric | value |',
      '|---|---|',
      `| CrossWOZ test accuracy (${metrics.testUtterances.toLocaleString('en')} user turns, top-1) | **${pct(metrics.accuracy)}** |`,
      `| CrossWOZ test macro-F1 (${labels.length} intents) | ${metrics.macroF1.toFixed(4)} |`,
      `| CrossWOZ test accuracy, punctuation removed (as an ASR final) | ${pct(metrics.accuracyUnpunctuated)} |`,
      `| out-of-scope threshold (top-1 probability; accepts ${pct(IN_SCOPE_ACCEPT)} of held-out training turns) | ${threshold} |`,
      `| CrossWOZ test falsely flagged out of scope / accepted and correct | ${pct(metrics.inScopeRejected)} / ${pct(metrics.acceptedCorrect)} |`,
      `| calibration (90/10 split of the training turns): held-out accuracy | ${pct(heldOutCorrect / valIdx.length)} |`,
      `| training examples (CrossWOZ ${trainSplits.join('+')} user turns) | ${trainSet.length.toLocaleString('en')} |`,
      `| model size | ${(bytes / 1e6).toFixed(2)} MB (${bytes} bytes; int8 weights) |`,
      `| latency per utterance at training time (featurize + ONNX, 1 thread, 2-core box shared with other jobs) | mean ${latency.meanMs.toFixed(3)} ms, p95 ${latency.p95Ms.toFixed(3)} ms |`,
      '',
      'Latency is re-measured by `make eval-intent-zh`; it depends on the load of the machine.',
    ].join('\n'),
  );
  for (const line of formatIntentZhMetrics(metrics, threshold)) log(line);
}

await main();
