import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findAsrModelFiles } from '../../../appliance/asr/modelFiles.js';

export const SHARED = process.env.EDGEVOX_SHARED ?? '../shared';
export const MODEL_DIR = join(SHARED, 'models/asr/zipformer-gigaspeech-3.3m');
export const VAD_MODEL = join(SHARED, 'models/vad/silero-vad-v5/silero_vad.onnx');
export const SPEECH_EN = join(SHARED, 'datasets/speech-en');
export const HAVE_MODELS = existsSync(MODEL_DIR) && existsSync(VAD_MODEL);

export interface SherpaRecognizer {
  createStream(): { acceptWaveform(o: { samples: Float32Array; sampleRate: number }): void; inputFinished(): void };
  isReady(s: unknown): boolean;
  decode(s: unknown): void;
  getResult(s: unknown): { text: string };
}

/** sherpa-onnx-node on the same model, greedy, 1 thread: the reference runtime. */
export async function sherpaRecognizer(): Promise<SherpaRecognizer> {
  const { createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  const sherpa = require('sherpa-onnx-node') as { OnlineRecognizer: new (c: unknown) => SherpaRecognizer };
  const f = findAsrModelFiles(MODEL_DIR);
  return new sherpa.OnlineRecognizer({
    featConfig: { sampleRate: 16000, featureDim: 80 },
    modelConfig: {
      transducer: { encoder: f.encoder, decoder: f.decoder, joiner: f.joiner },
      tokens: f.tokens,
      numThreads: 1,
      provider: 'cpu',
      debug: 0,
      modelType: 'zipformer2',
    },
    decodingMethod: 'greedy_search',
  });
}

/** The model card's reference procedure: 100 ms pieces, 0.66 s of zeros, input finished. */
export function sherpaTranscribe(rec: SherpaRecognizer, samples: Int16Array): string {
  const s = rec.createStream();
  const f = Float32Array.from(samples, (v) => v / 32768);
  for (let i = 0; i < f.length; i += 1600) {
    s.acceptWaveform({ samples: f.subarray(i, i + 1600), sampleRate: 16000 });
    while (rec.isReady(s)) rec.decode(s);
  }
  s.acceptWaveform({ samples: new Float32Array(10560), sampleRate: 16000 });
  s.inputFinished();
  while (rec.isReady(s)) rec.decode(s);
  return rec.getResult(s).text.trim();
}
