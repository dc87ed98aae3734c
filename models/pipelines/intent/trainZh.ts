/**
 * Train the Chinese intent model on CrossWOZ user turns (labels from their dialogue acts, see
 * crosswoz.ts), export ONNX + sidecar with the same graph as the English model, evaluate through
 * the runtime on the CrossWOZ test split, and write metrics.json and the card's metrics table.
 *
 *   node dist/models/pipelines/intent/trainZh.js [--out models/intent-zh] [--data ../shared/datasets/intent/crosswoz] [--train val]
 *
 * Split: the model is trained on the CrossWOZ `val` split (500 dialogues; `--train train,val` adds
 * the 5,012-dialogue train split where a site has it) and evaluated on the `test` split (500 other
 * dialogues), so no dialogue is in both. There is no Chinese out-of-scope set, so the sidecar's
 * out-of-scope threshold is 0 (never flagged) and the routing floor (minIntentConfidence) decides.
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
import { computeIdf, featurizeAll, train, weightVec, type TrainOptions } from './model.js';

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

  const featurizer = new IntentFeaturizer(FEATURIZER_ZH);
  const vecs = featurizeAll(
    featurizer,
    trainSet.map((e) => e.text),
  );
  const idf = computeIdf(vecs, FEATURIZER_ZH.hashDim);
  const params = train(
    vecs.map((v) => weightVec(v, idf)),
    trainSet.map((e) => labelIndex.get(e.label)!),
    FEATURIZER_ZH.hashDim,
    labels.length,
    idf,
    TRAIN_OPTIONS_ZH,
    log,
  );

  mkdirSync(values.out, { recursive: true });
  const modelFile = 'intent.onnx';
  const modelPath = join(values.out, modelFile);
  const bytes = exportIntentOnnx(modelPath, params, {
    labels: JSON.stringify(labels),
    featurizer: JSON.stringify(FEATURIZER_ZH),
    oos_threshold: '0',
    training_data: `CrossWOZ ${trainSplits.join('+')} user turns, labels from dialogue acts (Apache-2.0, thu-coai/CrossWOZ)`,
  });
  const sidecar: IntentSidecar & Record<string, unknown> = {
    format: INTENT_SIDECAR_FORMAT,
    model: modelFile,
    modelSha256: createHash('sha256').update(readFileSync(modelPath)).digest('hex'),
    featurizer: FEATURIZER_ZH,
    labels,
    oosThreshold: 0,
    inputs: { ids: INTENT_INPUT_IDS, counts: INTENT_INPUT_COUNTS },
    outputs: { probabilities: INTENT_OUTPUT_PROBS },
    training: { data: `CrossWOZ ${trainSplits.join('+')}`, examples: trainSet.length, options: TRAIN_OPTIONS_ZH },
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
    `${JSON.stringify({ model: modelFile, modelBytes: bytes, modelSha256: sidecar.modelSha256, trainExamples: trainSet.length, ...metrics, latencyAtTraining: latency }, null, 2)}\n`,
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
      `| training examples (CrossWOZ ${trainSplits.join('+')} user turns) | ${trainSet.length.toLocaleString('en')} |`,
      `| model size | ${(bytes / 1e6).toFixed(2)} MB (${bytes} bytes; int8 weights) |`,
      `| latency per utterance at training time (featurize + ONNX, 1 thread, 2-core box shared with other jobs) | mean ${latency.meanMs.toFixed(3)} ms, p95 ${latency.p95Ms.toFixed(3)} ms |`,
      '',
      'Latency is re-measured by `make eval-intent-zh`; it depends on the load of the machine.',
    ].join('\n'),
  );
  for (const line of formatIntentZhMetrics(metrics)) log(line);
}

await main();
