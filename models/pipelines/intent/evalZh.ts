/**
 * `make eval-intent-zh`: evaluate the shipped Chinese intent model (models/intent-zh) through the
 * runtime on the CrossWOZ test split: accuracy (as typed and without punctuation), macro-F1,
 * recall per intent, per-utterance latency; says whether it reproduces models/intent-zh/metrics.json.
 *
 *   node dist/models/pipelines/intent/evalZh.js [--model models/intent-zh/intent.json] [--data ../shared/datasets/intent/crosswoz]
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { IntentClassifier } from '../../../appliance/intent/classifier.js';
import { loadCrosswozSplit } from './crosswoz.js';
import { measureLatency } from './evaluate.js';
import { evaluateIntentZh, formatIntentZhMetrics, type IntentZhMetrics } from './evaluateZh.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/intent-zh/intent.json' },
    data: { type: 'string', default: join(process.env.EDGEVOX_SHARED ?? '../shared', 'datasets/intent/crosswoz') },
  },
});
const test = loadCrosswozSplit(values.data, 'test');
const clf = await IntentClassifier.load(values.model);
const metrics = await evaluateIntentZh(clf, test);
const latency = await measureLatency(
  clf,
  test.map((e) => e.text),
);
await clf.close();
const bytes = readFileSync(join(dirname(values.model), clf.sidecar.model)).byteLength;
const cardPath = join(dirname(values.model), 'metrics.json');
if (existsSync(cardPath)) {
  const card = JSON.parse(readFileSync(cardPath, 'utf8')) as IntentZhMetrics;
  const same =
    card.accuracy === metrics.accuracy &&
    card.accuracyUnpunctuated === metrics.accuracyUnpunctuated &&
    card.inScopeRejected === metrics.inScopeRejected;
  process.stdout.write(`reproduces ${cardPath}: ${same ? 'yes' : 'NO'}\n`);
}
process.stdout.write(`intent-zh: model ${clf.sidecar.model} ${(bytes / 1e6).toFixed(2)} MB, ${clf.labels.length} intents\n`);
process.stdout.write(
  `intent-zh: latency per utterance (featurize + ONNX, 1 intra-op thread, ${latency.utterances} utterances) mean ${latency.meanMs.toFixed(3)} ms, p50 ${latency.p50Ms.toFixed(3)} ms, p95 ${latency.p95Ms.toFixed(3)} ms; CPU ${latency.cpuMsPerUtterance.toFixed(3)} ms per utterance\n`,
);
for (const line of formatIntentZhMetrics(metrics, clf.oosThreshold)) process.stdout.write(`${line}\n`);
