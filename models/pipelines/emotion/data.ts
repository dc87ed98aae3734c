/** RAVDESS (16 kHz, actors 01-20) loader and the simulated telephone channel used for augmentation and evaluation. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resample } from '../../../appliance/audio/resample.js';
import { parseWav } from '../../../appliance/audio/wav.js';
import { decodeMulaw, encodeMulaw } from '../../../appliance/codecs/g711.js';
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

/**
 * Load a labelled utterance folder: `labels.csv` with at least the columns `file` (relative path of
 * a mono WAV: PCM16, μ-law or A-law, 8-48 kHz), `actor` (or `speaker`: any id, used to keep
 * speakers apart in cross-validation), `emotion` (one of RAVDESS_EMOTIONS) and optionally
 * `intensity` (`normal` / `strong`). RAVDESS ships in this layout; a site's own calls can too.
 */
export function loadRavdess(dir: string): Clip[] {
  const rows = parseCsv(readFileSync(join(dir, 'labels.csv'), 'utf8'));
  const [header, ...body] = rows;
  const col = (name: string): number => header?.indexOf(name) ?? -1;
  const fileCol = col('file');
  const speakerCol = col('actor') >= 0 ? col('actor') : col('speaker');
  const emotionCol = col('emotion');
  const intensityCol = col('intensity');
  if (fileCol < 0 || speakerCol < 0 || emotionCol < 0)
    throw new Error(`${dir}/labels.csv needs the columns file, actor (or speaker), emotion`);
  const speakers = new Map<string, number>();
  return body.map((r, line) => {
    const emotion = r[emotionCol] as RavdessEmotion;
    if (!RAVDESS_EMOTIONS.includes(emotion)) throw new Error(`labels.csv line ${line + 2}: unknown emotion ${String(r[emotionCol])}`);
    const file = r[fileCol]!;
    const wav = parseWav(readFileSync(join(dir, file)), file);
    const pcm = new Float32Array(wav.samples.length);
    for (let i = 0; i < pcm.length; i++) pcm[i] = wav.samples[i]! / 32768;
    const rawSpeaker = r[speakerCol]!;
    const numeric = Number(rawSpeaker);
    if (!speakers.has(rawSpeaker)) speakers.set(rawSpeaker, Number.isInteger(numeric) ? numeric : 100000 + speakers.size);
    return {
      file,
      actor: speakers.get(rawSpeaker)!,
      emotion,
      strong: intensityCol >= 0 && r[intensityCol] === 'strong',
      sampleRateHz: wav.sampleRateHz,
      pcm,
    };
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
