import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createSherpaRecognizer, sherpaDecode, type SherpaRecognizer } from '../../../tools/asr/sherpaReference.js';

export type { SherpaRecognizer };

export const SHARED = process.env.EDGEVOX_SHARED ?? '../shared';
export const MODEL_DIR = join(SHARED, 'models/asr/zipformer-gigaspeech-3.3m');
export const VAD_MODEL = join(SHARED, 'models/vad/silero-vad-v5/silero_vad.onnx');
export const SPEECH_EN = join(SHARED, 'datasets/speech-en');
export const HAVE_MODELS = existsSync(MODEL_DIR) && existsSync(VAD_MODEL);

/** sherpa-onnx-node on the same model, greedy, 1 thread: the reference runtime. */
export function sherpaRecognizer(): SherpaRecognizer {
  return createSherpaRecognizer(MODEL_DIR);
}

/** The model card's reference procedure: 100 ms pieces, 0.66 s of zeros, input finished. */
export function sherpaTranscribe(rec: SherpaRecognizer, samples: Int16Array): string {
  return sherpaDecode(
    rec,
    Float32Array.from(samples, (v) => v / 32768),
  ).trim();
}
