/**
 * sherpa-onnx-node (devDependency) on one of our ASR model folders: the reference runtime the
 * benches compare against (greedy search, one thread, CPU), and its decoding procedure from the
 * model card (100 ms pieces, 0.66 s of zeros, input finished).
 */
import { createRequire } from 'node:module';
import { findAsrModelFiles } from '../../appliance/asr/modelFiles.js';

export interface SherpaStream {
  acceptWaveform(o: { samples: Float32Array; sampleRate: number }): void;
  inputFinished(): void;
}

export interface SherpaRecognizer {
  createStream(): SherpaStream;
  isReady(s: SherpaStream): boolean;
  decode(s: SherpaStream): void;
  getResult(s: SherpaStream): { text: string };
}

export function createSherpaRecognizer(modelDir: string): SherpaRecognizer {
  const files = findAsrModelFiles(modelDir);
  const require = createRequire(import.meta.url);
  const sherpa = require('sherpa-onnx-node') as { OnlineRecognizer: new (c: unknown) => SherpaRecognizer };
  return new sherpa.OnlineRecognizer({
    featConfig: { sampleRate: 16000, featureDim: 80 },
    modelConfig: {
      transducer: { encoder: files.encoder, decoder: files.decoder, joiner: files.joiner },
      tokens: files.tokens,
      numThreads: 1,
      provider: 'cpu',
      debug: 0,
      modelType: 'zipformer2',
    },
    decodingMethod: 'greedy_search',
  });
}

/** Decode a whole clip (float samples in [-1, 1)) the way the model card does; returns the text. */
export function sherpaDecode(rec: SherpaRecognizer, audio: Float32Array, sampleRate = 16000): string {
  const s = rec.createStream();
  const piece = Math.round(sampleRate / 10);
  for (let i = 0; i < audio.length; i += piece) {
    s.acceptWaveform({ samples: audio.subarray(i, i + piece), sampleRate });
    while (rec.isReady(s)) rec.decode(s);
  }
  s.acceptWaveform({ samples: new Float32Array(Math.round(sampleRate * 0.66)), sampleRate });
  s.inputFinished();
  while (rec.isReady(s)) rec.decode(s);
  return rec.getResult(s).text;
}
