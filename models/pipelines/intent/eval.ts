/**
 * `make eval-intent`: evaluate the shipped intent model (models/intent) through the runtime:
 * BANKING77 test accuracy, out-of-scope detection on CLINC150 oos_test, per-utterance latency.
 * The last lines are the metrics; it also says whether they reproduce models/intent/metrics.json.
 *
 *   node dist/models/pipelines/intent/eval.js [--model models/intent/intent.json] [--shared ../shared]
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { IntentClassifier } from '../../../appliance/intent/classifier.js';
import { loadBanking77, loadClincOos } from './data.js';
import { evaluateIntent, formatIntentMetrics, measureLatency, type IntentMetrics } from './evaluate.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/intent/intent.json' },
    shared: { type: 'string', default: process.env.EDGEVOX_SHARED ?? '../shared' },
  },
});
const datasets = join(values.shared, 'datasets');
const data = loadBanking77(join(datasets, 'intent/banking77'));
const clinc = loadClincOos(join(datasets, 'intent/clinc150'));
const clf = await IntentClassifier.load(values.model);
const metrics = await evaluateIntent(clf, data.test, clinc.oosTest);
const latency = await measureLatency(
  clf,
  data.test.map((e) => e.text),
);
await clf.close();
const bytes = readFileSync(join(dirname(values.model), clf.sidecar.model)).byteLength;
const cardPath = join(dirname(values.model), 'metrics.json');
if (existsSync(cardPath)) {
  const card = JSON.parse(readFileSync(cardPath, 'utf8')) as IntentMetrics;
  const same =
    card.accuracy === metrics.accuracy && card.oosDetected === metrics.oosDetected && card.inScopeRejected === metrics.inScopeRejected;
  process.stdout.write(`reproduces ${cardPath}: ${same ? 'yes' : 'NO'}\n`);
}
process.stdout.write(`intent: model ${clf.sidecar.model} ${(bytes / 1e6).toFixed(2)} MB, ${clf.labels.length} intents\n`);
process.stdout.write(
  `intent: latency per utterance (featurize + ONNX, 1 intra-op thread, ${latency.utterances} utterances) mean ${latency.meanMs.toFixed(3)} ms, p50 ${latency.p50Ms.toFixed(3)} ms, p95 ${latency.p95Ms.toFixed(3)} ms, p99 ${latency.p99Ms.toFixed(3)} ms; CPU ${latency.cpuMsPerUtterance.toFixed(3)} ms per utterance\n`,
);
for (const line of formatIntentMetrics(metrics, clf.oosThreshold)) process.stdout.write(`${line}\n`);
