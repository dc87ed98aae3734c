/**
 * `make eval-asr`: word error rate of the engine on speech-en and pocketsphinx-testdata, at
 * 16 kHz (greedy, every sample decoded: the configuration that equals sherpa-onnx), through the
 * product path (VAD + endpointing), and through an 8 kHz G.711 μ-law round trip (the telephone path);
 * then the batchable encoder against the model's own on the same runs and on a wider set
 * (wideSet.ts).
 */
import { resolveModelPaths } from '../../appliance/asr/modelFiles.js';
import { Recognizer } from '../../appliance/asr/recognizer.js';
import { readWavFile, transcribeAudio, type TranscribeOptions } from '../../appliance/asr/transcribeFile.js';
import { loadEvalSet } from './evalSet.js';
import { loadWideSet } from './wideSet.js';
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
    await batchedEncoderWer(paths.modelDir, paths.vadModelPath, clips, runs, recognizer);
  } finally {
    await recognizer.close();
  }
  return 0;
}

/** Largest WER increase (percentage points) accepted for the batchable encoder against the model's own int8 encoder. */
const BATCHED_WER_BOUND_POINTS = 1.0;

/**
 * The batchable encoder (models/asr-batch, activations in float instead of per-call int8) against
 * the model's own encoder on the same runs: WER of both, and how many transcripts differ.
 */
async function batchedEncoderWer(
  modelDir: string,
  vadModelPath: string,
  clips: ReturnType<typeof loadEvalSet>['clips'],
  runs: { title: string; options: TranscribeOptions; transform: (a: WavAudio) => WavAudio }[],
  exact: Recognizer,
): Promise<void> {
  const batchModelDir = process.env.ASR_BATCH_MODEL_DIR ?? 'models/asr-batch';
  const batched = await Recognizer.create({ modelDir, vadModelPath, batchModelDir, threads: 1 });
  try {
    process.stdout.write(`
== batchable encoder and joiner (${batchModelDir}) vs the model's own int8 encoder and joiner
`);
    let worst = -Infinity;
    for (const run of runs) {
      let a: WerCounts = { words: 0, subs: 0, dels: 0, ins: 0 };
      let b: WerCounts = { ...a };
      let differing = 0;
      for (const clip of clips) {
        const audio = run.transform(readWavFile(clip.path));
        const ref = normalizeForWer(clip.reference);
        const ta = await transcribeAudio(exact, audio, clip.id, run.options);
        const tb = await transcribeAudio(batched, audio, clip.id, run.options);
        a = addCounts(a, werCounts(ref, normalizeForWer(ta.text)));
        b = addCounts(b, werCounts(ref, normalizeForWer(tb.text)));
        if (ta.text !== tb.text) differing++;
      }
      const wer = (c: WerCounts) => (100 * (c.subs + c.dels + c.ins)) / c.words;
      worst = Math.max(worst, wer(b) - wer(a));
      process.stdout.write(
        `${run.title}: exact ${wer(a).toFixed(2)}% vs batchable ${wer(b).toFixed(2)}% WER (${(wer(b) - wer(a)).toFixed(2)} points); transcripts differing ${differing} of ${clips.length}\n`,
      );
    }
    worst = Math.max(worst, await wideSetComparison(exact, batched));
    process.stdout.write(
      `batchable encoder WER within ${BATCHED_WER_BOUND_POINTS} point of the exact encoder on every run and set: ${worst <= BATCHED_WER_BOUND_POINTS ? 'yes' : 'NO'} (largest increase ${worst.toFixed(2)} points)\n`,
    );
  } finally {
    await batched.close();
  }
}

/** EVAL_ASR_WIDE_EVERY: one RAVDESS clip in N (default 3) and one FSDD clip in 10×N/3 (default 10). */
const WIDE_EVERY = Number(process.env.EVAL_ASR_WIDE_EVERY ?? 3);

/**
 * The same comparison on a wider labelled set (wideSet.ts: RAVDESS statements at 16 kHz, FSDD
 * digits at 8 kHz), every sample decoded: per subset, both WERs and how many transcripts differ.
 * Returns the largest WER increase of the batchable encoder (points).
 */
async function wideSetComparison(exact: Recognizer, batched: Recognizer): Promise<number> {
  const { clips, missing } = loadWideSet({ ravdess: WIDE_EVERY, fsdd: Math.round((WIDE_EVERY * 10) / 3) });
  for (const m of missing) process.stdout.write(`wider set: missing ${m}, skipped\n`);
  const wer = (c: WerCounts) => (100 * (c.subs + c.dels + c.ins)) / Math.max(1, c.words);
  let worst = -Infinity;
  for (const subset of ['ravdess', 'fsdd'] as const) {
    const list = clips.filter((c) => c.subset === subset);
    if (list.length === 0) continue;
    let a: WerCounts = { words: 0, subs: 0, dels: 0, ins: 0 };
    let b: WerCounts = { ...a };
    let differing = 0;
    for (const clip of list) {
      const audio = readWavFile(clip.path);
      const ref = normalizeForWer(clip.reference);
      const options: TranscribeOptions = { vad: false, endpoint: false };
      const ta = await transcribeAudio(exact, audio, clip.id, options);
      const tb = await transcribeAudio(batched, audio, clip.id, options);
      a = addCounts(a, werCounts(ref, normalizeForWer(ta.text)));
      b = addCounts(b, werCounts(ref, normalizeForWer(tb.text)));
      if (ta.text !== tb.text) differing++;
    }
    worst = Math.max(worst, wer(b) - wer(a));
    const label = subset === 'ravdess' ? 'RAVDESS statements, 16 kHz, eight emotions' : 'FSDD spoken digits, 8 kHz';
    process.stdout.write(
      `${label} (${list.length} clips, every sample decoded): exact ${wer(a).toFixed(2)}% vs batchable ${wer(b).toFixed(2)}% WER (${(wer(b) - wer(a)).toFixed(2)} points); transcripts differing ${differing} of ${list.length}\n`,
    );
  }
  return worst;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`eval-asr: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
