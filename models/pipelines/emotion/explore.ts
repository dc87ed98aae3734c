/** Hyper-parameter exploration with leave-actors-out CV (features cached under .cache/). */
import { join } from 'node:path';
import { emotionFeatureNames } from '../../../appliance/emotion/features.js';
import { sharedDatasetsDir } from '../intent/data.js';
import { crossValidate } from './cv.js';
import { loadRavdess } from './data.js';
import { augmentedTable, featureTable } from './dataset.js';
import { formatMetrics } from './metrics.js';
import { DEFAULT_EMOTION_OPTIONS } from './model.js';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')) as [string, string][]);
const t0 = Date.now();
const clips = loadRavdess(join(sharedDatasetsDir(), 'emotion/ravdess-16k'));
const rows = featureTable(clips, '.cache/emotion-features.json');
console.log(`features ${Date.now() - t0} ms`);
const { drop, cats, ens, aug, ...numeric } = args;
const names = emotionFeatureNames();
const keep = names
  .map((n, i) => [n, i] as const)
  .filter(([n]) => !(drop ?? '').split(',').some((p) => p.length > 0 && n.startsWith(p)))
  .map(([, i]) => i);
const pick = (x: Float32Array): Float32Array => Float32Array.from(keep.map((i) => x[i]!));
const used = rows.map((r) => ({ ...r, clean: pick(r.clean), phone: pick(r.phone) }));
const augRows =
  aug === undefined
    ? []
    : augmentedTable(clips, aug.split(',').map(Number), '.cache/emotion-aug.json').map((r) => ({
        ...r,
        clean: pick(r.clean),
        phone: pick(r.phone),
      }));
console.log(`augmented rows: ${augRows.length}`);
console.log(`features used: ${keep.length}/${names.length}`);
const opt = { ...DEFAULT_EMOTION_OPTIONS, ...Object.fromEntries(Object.entries(numeric).map(([k, v]) => [k, Number(v)])) };
const r = crossValidate(
  used,
  opt,
  undefined,
  console.log,
  cats === undefined ? undefined : cats.split(','),
  ens === undefined ? undefined : Array.from({ length: Number(ens) }, (_, i) => 1000 + i),
  augRows,
);
console.log(formatMetrics('clean', r.clean));
console.log(formatMetrics('phone', r.phone));
console.log(`cv ${Date.now() - t0} ms ${JSON.stringify(args)}`);
