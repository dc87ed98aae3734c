/** RAVDESS (16 kHz, actors 01-20) loader and the simulated telephone channel used for augmentation and evaluation. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWav } from '../../../appliance/audio/wav.js';
import { decodeMulaw, encodeMulaw } from '../../../appliance/codecs/g711.js';
import { resample } from '../../../appliance/emotion/resample.js';
import { parseCsv } from '../intent/data.js';

export const RAVDESS_EMOTIONS = ['neutral', 'calm', 'happy', 'sad', 'angry', 'fearful', 'disgust', 'surprised'] as const;
export type RavdessEmotion = (typeof RAVDESS_EMOTIONS)[number];

export interface Clip {
  readonly file: string;
  readonly actor: number;
  readonly emotion: RavdessEmotion;
  readonly strong: boolean;
  readonly sampleRateHz: number;
  readonly pcm: Float32Array;
}

export function loadRavdess(dir: string): Clip[] {
  const rows = parseCsv(readFileSync(join(dir, 'labels.csv'), 'utf8'));
  const [header, ...body] = rows;
  if (header?.join(',') !== 'file,actor,emotion,intensity,statement,gender') throw new Error(`unexpected labels.csv header`);
  return body.map((r) => {
    const emotion = r[2] as RavdessEmotion;
    if (!RAVDESS_EMOTIONS.includes(emotion)) throw new Error(`unknown emotion ${r[2]}`);
    const wav = parseWav(readFileSync(join(dir, r[0]!)), r[0]!);
    const pcm = new Float32Array(wav.samples.length);
    for (let i = 0; i < pcm.length; i++) pcm[i] = wav.samples[i]! / 32768;
    return { file: r[0]!, actor: Number(r[1]), emotion, strong: r[3] === 'strong', sampleRateHz: wav.sampleRateHz, pcm };
  });
}

/** The telephone channel: downsample to 8 kHz, G.711 μ-law round trip, back to the original rate. */
export function telephoneChannel(pcm: Float32Array, sampleRateHz: number): Float32Array {
  const narrow = resample(pcm, sampleRateHz, 8000);
  const s16 = new Int16Array(narrow.length);
  for (let i = 0; i < narrow.length; i++) s16[i] = Math.max(-32768, Math.min(32767, Math.round(narrow[i]! * 32768)));
  const coded = new Uint8Array(s16.length);
  encodeMulaw(s16, coded);
  decodeMulaw(coded, s16);
  const back = new Float32Array(s16.length);
  for (let i = 0; i < s16.length; i++) back[i] = s16[i]! / 32768;
  return resample(back, 8000, sampleRateHz);
}
