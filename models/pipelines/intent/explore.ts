/** Hyper-parameter exploration on a stratified 90/10 split of BANKING77 train (never the test set). */
import { IntentFeaturizer } from '../../../appliance/intent/featurizer.js';
import { loadBanking77, sharedDatasetsDir } from './data.js';
import { computeIdf, featurizeAll, predict, train, weightVec } from './model.js';
import { stratifiedSplit } from './split.js';
import { join } from 'node:path';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')) as [string, string][]);
const num = (k: string, d: number): number => (args[k] === undefined ? d : Number(args[k]));
const data = loadBanking77(join(sharedDatasetsDir(), 'intent/banking77'));
const labelIndex = new Map(data.categories.map((c, i) => [c, i]));
const { trainIdx, valIdx } = stratifiedSplit(
  data.train.map((e) => e.label),
  0.1,
  7,
);
const featurizer = new IntentFeaturizer({
  scheme: 'edgevox-intent-hash-v1',
  hashDim: num('dim', 65536),
  wordNgrams: [1, num('wmax', 2)],
  charNgrams: [num('cmin', 2), num('cmax', 5)],
});
const t0 = Date.now();
const all = featurizeAll(
  featurizer,
  data.train.map((e) => e.text),
);
const trainVecs = trainIdx.map((i) => all[i]!);
const idf = computeIdf(trainVecs, featurizer.config.hashDim);
const xs = trainVecs.map((v) => weightVec(v, idf));
const ys = trainIdx.map((i) => labelIndex.get(data.train[i]!.label)!);
const vx = valIdx.map((i) => weightVec(all[i]!, idf));
const vy = valIdx.map((i) => labelIndex.get(data.train[i]!.label)!);
console.log(`featurized in ${Date.now() - t0} ms`);
const p = train(
  xs,
  ys,
  featurizer.config.hashDim,
  data.categories.length,
  idf,
  {
    epochs: num('epochs', 10),
    batchSize: num('batch', 32),
    learningRate: num('lr', 0.01),
    weightDecay: num('wd', 0),
    hidden: num('hidden', 0),
    dropout: num('dropout', 0),
    labelSmoothing: num('ls', 0),
    seed: 1,
  },
  (l) => {
    console.log(l);
  },
);
let ok = 0;
for (let i = 0; i < vx.length; i++) {
  const pr = predict(p, vx[i]!);
  let arg = 0;
  for (let c = 1; c < pr.length; c++) if (pr[c]! > pr[arg]!) arg = c;
  if (arg === vy[i]) ok++;
}
console.log(`val acc ${(ok / vx.length).toFixed(4)} (${vx.length}) in ${Date.now() - t0} ms ${JSON.stringify(args)}`);
