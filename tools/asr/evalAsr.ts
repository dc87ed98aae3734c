/**
 * `make eval-asr`: word error rate of the engine on speech-en and pocketsphinx-testdata, at
 * 16 kHz (greedy, every sample decoded: the configuration that equals sherpa-onnx), through the
 * product path (VAD + endpointing), and through an 8 kHz G.711 μ-law round trip (the telephone path).
 */
import { resolveModelPaths } from '../../appliance/asr/modelFiles.js';
import { Recognizer } from '../../appliance/asr/recognizer.js';
import { readWavFile, transcribeAudio, type TranscribeOptions } from '../../appliance/asr/transcribeFile.js';
import { loadEvalSet } from './evalSet.js';
import { mulawRoundTrip8k } from './telephone.js';
import { addCounts, normalizeForWer, werCounts, werLine, type WerCounts } from './wer.js';
import type { WavAudio } from '../../appliance/audio/wav.js';

async function main(): Promise<number> {
  const { clips, missing } = loadEvalSet();
  for (const m of missing) process.stderr.write(`eval-asr: missing ${m} (apt-get install pocketsphinx-testdata / check EDGEVOX_SHARED)\n`);
  if (clips.length === 0) return 1;
  const paths = resolveModelPaths({ modelDir: process.env.ASR_MODEL_DIR, vadModel: process.env.VAD_MODEL });
  const recognizer = await Recognizer.create({ modelDir: paths.modelDir, vadModelPath: paths.vadModelPath, threads: 1 });
  const runs: { title: string; options: TranscribeOptions; transform: (a: WavAudio) => WavAudio }[] = [
    {
      title: '16 kHz PCM, greedy, every sample decoded (sherpa-onnx configuration)',
      options: { vad: false, endpoint: false },
      transform: (a) => a,
    },
    { title: '16 kHz PCM, greedy, Silero VAD + endpointing (product path)', options: {}, transform: (a) => a },
    {
      title: '8 kHz G.711 μ-law round trip, greedy, every sample decoded (telephone path)',
      options: { vad: false, endpoint: false },
      transform: mulawRoundTrip8k,
    },
    {
      title: '8 kHz G.711 μ-law round trip, greedy, Silero VAD at 8 kHz + endpointing (telephone product path)',
      options: {},
      transform: mulawRoundTrip8k,
    },
    {
      title: '8 kHz G.711 μ-law round trip, greedy, Silero VAD at 16 kHz on the upsampled audio + endpointing',
      options: { vadRateHz: 16000 },
      transform: mulawRoundTrip8k,
    },
  ];
  try {
    for (const run of runs) {
      process.stdout.write(`\n== ${run.title}\n`);
      let total: WerCounts = { words: 0, subs: 0, dels: 0, ins: 0 };
      for (const clip of clips) {
        const audio = run.transform(readWavFile(clip.path));
        const t = await transcribeAudio(recognizer, audio, clip.id, run.options);
        const c = werCounts(normalizeForWer(clip.reference), normalizeForWer(t.text));
        total = addCounts(total, c);
        const errs = c.subs + c.dels + c.ins;
        process.stdout.write(
          `${clip.id}: ${errs} errors / ${c.words} words (${c.subs} S, ${c.dels} D, ${c.ins} I)${errs > 0 ? ` hyp: ${t.text}` : ''}\n`,
        );
      }
      process.stdout.write(`${werLine(total, clips.length)}\n`);
    }
  } finally {
    await recognizer.close();
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`eval-asr: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
