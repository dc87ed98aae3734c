import { join } from 'node:path';
import { EmotionFeaturizer, toFeatureRate } from '../../../appliance/emotion/features.js';
import { sharedDatasetsDir } from '../intent/data.js';
import { loadRavdess, telephoneChannel } from './data.js';
let t = Date.now();
const clips = loadRavdess(join(sharedDatasetsDir(), 'emotion/ravdess-16k')).slice(0, 100);
console.log('load', Date.now() - t); t = Date.now();
const fz = new EmotionFeaturizer();
let secs = 0;
for (const c of clips) { const f = fz.extract(toFeatureRate(c.pcm, c.sampleRateHz)); secs += c.pcm.length / 16000; if (c === clips[0]) console.log(fz.names.map((n, i) => `${n}=${f[i]!.toFixed(3)}`).join(' ')); }
console.log('feat clean', Date.now() - t, 'ms for', secs.toFixed(1), 's'); t = Date.now();
for (const c of clips) { const p = telephoneChannel(c.pcm, c.sampleRateHz); fz.extract(toFeatureRate(p, c.sampleRateHz)); }
console.log('feat phone', Date.now() - t);
