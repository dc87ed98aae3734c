/**
 * `make bench-asr`: in one process, our engine and sherpa-onnx-node (same model, same clips, one
 * thread each, each clip decoded by sherpa, then by ours with the model's encoder, then with the
 * batchable one, so a drift in the machine's speed hits all alike) → CPU seconds per audio second
 * and the ratios ours / sherpa; then the number of
 * simultaneous real-time streams (20 ms frames pushed on a clock) this machine sustains with every
 * stream's chunk latency p95 under 100 ms; and the peak RSS per stream at that load.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { WavAudio } from '../../appliance/audio/wav.js';
import { resolveModelPaths } from '../../appliance/asr/modelFiles.js';
import { cpus, loadavg } from 'node:os';
import type { SpeechStream } from '../../appliance/asr/api.js';
import { RecognizerPool } from '../../appliance/asr/pool/pool.js';
import { Recognizer } from '../../appliance/asr/recognizer.js';
import { DEFAULT_ENCODER_BATCH } from '../../appliance/asr/encoderBatch.js';
import { readWavFile, transcribeAudio } from '../../appliance/asr/transcribeFile.js';
import { loadEvalSet } from './evalSet.js';
import { createSherpaRecognizer, sherpaDecode, type SherpaRecognizer } from './sherpaReference.js';
import { stageCost } from './stageCost.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/**
 * BENCH_POOLS: recognizer settings to compare in one run, `workers:encoder` (workers 0 = in-process,
 * 'auto' = one worker per core; encoder 'exact' = the model's own batch-1 int8 encoder, 'batched' =
 * the batchable encoder from models/asr-batch with the batching scheduler).
 */
const POOL_SETTINGS = (process.env.BENCH_POOLS ?? '0:exact,auto:exact,auto:batched')
  .split(',')
  .filter((w) => w !== '')
  .map((w) => {
    const [workers = 'auto', encoder = 'exact'] = w.split(':');
    if (encoder !== 'exact' && encoder !== 'batched') throw new Error(`BENCH_POOLS: encoder must be exact or batched, got ${encoder}`);
    return { workers: workers === 'auto' ? ('auto' as const) : Number(workers), encoder };
  });
/** BENCH_BATCH_SIZES: streams decoded together for the batched cost figures. */
const BATCH_SIZES = (process.env.BENCH_BATCH_SIZES ?? '8,16,32,64')
  .split(',')
  .map(Number)
  .filter((n) => n > 1);
/** The batchable encoder/joiner and the scheduler settings of the batched runs (ASR_BATCH_MODEL_DIR overrides the folder). */
const BATCH_MODEL_DIR = process.env.ASR_BATCH_MODEL_DIR ?? 'models/asr-batch';
const LIVE_BATCH = {
  maxBatch: Number(process.env.BENCH_MAX_BATCH ?? DEFAULT_ENCODER_BATCH.maxBatch),
  windowMs: Number(process.env.BENCH_BATCH_WINDOW_MS ?? DEFAULT_ENCODER_BATCH.windowMs),
  /** BENCH_BATCH_BUDGET_MS: longest one batched run should take (the config's asr.batchBudgetMs). */
  budgetMs: Number(process.env.BENCH_BATCH_BUDGET_MS ?? DEFAULT_ENCODER_BATCH.budgetMs),
};
/** BENCH_SPEECH: speech fractions of the concurrency trials (1 = continuous speech; 0.5 = call-like). */
const SPEECH_FRACTIONS = (process.env.BENCH_SPEECH ?? '1,0.5').split(',').map(Number);
/** BENCH_BATCH_MS: how long the pool batches audio on the main thread (0 = per event-loop turn). */
const BATCH_MS = Number(process.env.BENCH_BATCH_MS ?? 5);
/** BENCH_SKIP_COST=1: only the concurrency figures. */
const SKIP_COST = process.env.BENCH_SKIP_COST === '1';
/** BENCH_ALL_STEPS=1: run every step (for cost figures at fixed N) instead of stopping at the first failure. */
const ALL_STEPS = process.env.BENCH_ALL_STEPS === '1';
const STEPS = (process.env.BENCH_STEPS ?? '8,16,32,48,64,96,128,160,200').split(',').map(Number);
/**
 * BENCH_TRIAL_SECONDS: length of one concurrency trial. A stream's chunk p95 is a p95 only over 20
 * chunks or more (320 ms each): over the 18 chunks of a 6 s trial it was the stream's largest
 * latency, so one 100 ms hiccup of the machine failed a level. 20 s gives 62 chunks a stream.
 */
const TRIAL_SECONDS = Number(process.env.BENCH_TRIAL_SECONDS ?? 20);
/** BENCH_ALIGNED=1: every stream starts in the same 20 ms (chunks complete together: the worst case). */
const ALIGNED = process.env.BENCH_ALIGNED === '1';
const LATENCY_BUDGET_MS = 100;

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function main(): Promise<void> {
  const { clips } = loadEvalSet();
  const audios: WavAudio[] = clips.map((c) => readWavFile(c.path));
  const audioSeconds = audios.reduce((a, w) => a + w.samples.length / w.sampleRateHz, 0);
  const paths = resolveModelPaths({ modelDir: process.env.ASR_MODEL_DIR, vadModel: process.env.VAD_MODEL });
  const sherpaRec = createSherpaRecognizer(paths.modelDir);
  const ours = await Recognizer.create({ modelDir: paths.modelDir, vadModelPath: paths.vadModelPath, threads: 1 });
  const floats = audios.map((a) => Float32Array.from(a.samples, (s) => s / 32768));

  const out = (s: string): boolean => process.stdout.write(s + '\n');
  out(
    `machine: ${cpus().length} CPUs, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (other work on the machine shifts absolute figures: compare within one run)`,
  );
  if (!SKIP_COST) {
    const batchable = await Recognizer.create({ modelDir: paths.modelDir, batchModelDir: BATCH_MODEL_DIR, threads: 1 });
    const { sherpaRtf, oursRtf } = await costFigures(sherpaRec, ours, batchable, clips, audios, floats, audioSeconds, out);
    await batchable.close();
    const stages = await stageCost(paths.modelDir, floats, ROUNDS);
    out(
      `ours by stage (the recognizer's fbank and encoder on the same clips, 1 thread): features ${stages.featuresRtf.toFixed(4)}, encoder ${stages.encoderRtf.toFixed(4)} CPU s per audio s` +
        ` (${stages.encoderCalls} calls, ${stages.encoderMsPerCall.toFixed(2)} ms each), search and stream bookkeeping ${(oursRtf - stages.featuresRtf - stages.encoderRtf).toFixed(4)} (the rest of every-sample decoding);` +
        ` encoder alone / sherpa-onnx's whole decode ${(stages.encoderRtf / sherpaRtf).toFixed(3)}`,
    );
    await batchedCostFigures(paths.modelDir, concat(audios.map((a) => a.samples)), sherpaRtf, out);
  }

  // ---- concurrency: real-time streams with 20 ms frames on a clock, in-process and on the worker pool
  await ours.close();
  const pool = concat(audios.map((a) => a.samples));
  for (const spec of POOL_SETTINGS) {
    const batched = spec.encoder === 'batched';
    const rec = await RecognizerPool.create({
      modelDir: paths.modelDir,
      vadModelPath: paths.vadModelPath,
      threads: 1,
      workers: spec.workers,
      batchIntervalMs: BATCH_MS,
      ...(batched ? { batchModelDir: BATCH_MODEL_DIR, batch: LIVE_BATCH } : {}),
    });
    const encoderLabel = batched
      ? `batched encoder (up to ${LIVE_BATCH.maxBatch} streams per call, window ${LIVE_BATCH.windowMs} ms, budget ${LIVE_BATCH.budgetMs} ms a call)`
      : 'exact batch-1 encoder';
    const label =
      rec.workerCount === 0
        ? `in-process (workers 0), ${encoderLabel}`
        : `pool of ${rec.workerCount} worker threads (audio batch ${BATCH_MS === 0 ? 'per event-loop turn' : BATCH_MS + ' ms'}), ${encoderLabel}`;
    for (const speechFraction of SPEECH_FRACTIONS) {
      const audioLabel = speechFraction >= 1 ? 'continuous speech' : `call-like audio, ${Math.round(speechFraction * 100)}% speech`;
      out(
        `${label}, ${audioLabel}: load average ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')} at start`,
      );
      const search = await searchConcurrency(rec, pool, speechFraction, out);
      out(
        `concurrency [${label}, ${audioLabel}]: ${search.best} simultaneous real-time streams with every stream's chunk latency p95 < ${LATENCY_BUDGET_MS} ms (20 ms frames, VAD on, 1 inference thread per recognizer)` +
          `; load average ${loadavg()
            .map((l) => l.toFixed(1))
            .join(' ')} at end`,
      );
      if (search.result !== undefined) {
        const r = search.result;
        // the trial's own baseline: an earlier trial's heap, freed meanwhile, would make it negative
        const perStream = (r.peakRss - r.baseRss) / search.best;
        out(
          `  at ${search.best}: main-thread event-loop utilisation ${(r.mainElu * 100).toFixed(1)}%, process CPU ${r.cpuCores.toFixed(2)} cores, ${r.messagesPerS.toFixed(0)} audio messages/s (${r.framesPerMessage.toFixed(1)} frames each)` +
            `; peak RSS per stream ${(perStream / 1048576).toFixed(2)} MiB (process ${(r.peakRss / 1048576).toFixed(0)} MiB), engine-held buffers+state ${(r.memoryBytes / 1048576).toFixed(2)} MiB per stream` +
            (r.batchLine ? `; ${r.batchLine}` : ''),
        );
      }
    }
    await rec.close();
  }
}

async function costFigures(
  sherpaRec: SherpaRecognizer,
  ours: Recognizer,
  batchable: Recognizer,
  clips: readonly { id: string }[],
  audios: WavAudio[],
  floats: Float32Array[],
  audioSeconds: number,
  out: (s: string) => void,
): Promise<{ sherpaRtf: number; oursRtf: number }> {
  // ---- cost: CPU seconds per audio second
  sherpaDecode(sherpaRec, floats[0]!);
  await transcribeAudio(ours, audios[0]!, 'warmup', { vad: false, endpoint: false });
  await transcribeAudio(ours, audios[0]!, 'warmup', {});
  await transcribeAudio(batchable, audios[0]!, 'warmup', { vad: false, endpoint: false });
  let sherpaCpu = 0;
  let oursCpu = 0;
  let batchableCpu = 0;
  let oursVadCpu = 0;
  let mismatches = 0;
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < audios.length; i++) {
      let t = cpuMs();
      const ref = sherpaDecode(sherpaRec, floats[i]!);
      sherpaCpu += cpuMs() - t;
      t = cpuMs();
      const hyp = await transcribeAudio(ours, audios[i]!, clips[i]!.id, { vad: false, endpoint: false });
      oursCpu += cpuMs() - t;
      t = cpuMs();
      await transcribeAudio(ours, audios[i]!, clips[i]!.id, {});
      oursVadCpu += cpuMs() - t;
      // the batchable encoder one stream at a time, on the same clip right after sherpa's decode
      t = cpuMs();
      await transcribeAudio(batchable, audios[i]!, clips[i]!.id, { vad: false, endpoint: false });
      batchableCpu += cpuMs() - t;
      if (hyp.text !== ref.trim()) mismatches++;
    }
  }
  const total = audioSeconds * ROUNDS;
  const sherpaRtf = sherpaCpu / 1000 / total;
  const oursRtf = oursCpu / 1000 / total;
  const oursVadRtf = oursVadCpu / 1000 / total;
  const batchableRtf = batchableCpu / 1000 / total;
  out(`clips: ${clips.length} (${audioSeconds.toFixed(2)} s of audio) x ${ROUNDS} rounds, 1 thread each, greedy, same model`);
  out(`sherpa-onnx-node:            ${sherpaRtf.toFixed(4)} CPU s per audio s`);
  out(`ours (every sample decoded): ${oursRtf.toFixed(4)} CPU s per audio s   ratio ours/sherpa ${(oursRtf / sherpaRtf).toFixed(3)}`);
  out(`ours (Silero VAD + endpoints): ${oursVadRtf.toFixed(4)} CPU s per audio s ratio ours/sherpa ${(oursVadRtf / sherpaRtf).toFixed(3)}`);
  out(
    `ours, batchable encoder one stream at a time (every sample decoded): ${batchableRtf.toFixed(4)} CPU s per audio s   ratio ours/sherpa ${(batchableRtf / sherpaRtf).toFixed(3)}`,
  );
  out(`transcript mismatches vs sherpa (every sample decoded): ${mismatches}`);

  // ---- call-like audio: a call leg is silent while the other party speaks. Each clip followed by
  // 4 s of low-level noise (-60 dBFS, deterministic); sherpa decodes it all, ours skips it via the VAD.
  const gapSamples = 4 * 16000;
  let seed = 12345;
  const noise = Int16Array.from({ length: gapSamples }, () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return Math.round(((seed / 0x7fffffff) * 2 - 1) * 33);
  });
  const callAudios = audios.map((a) => {
    const s = new Int16Array(a.samples.length + gapSamples);
    s.set(a.samples);
    s.set(noise, a.samples.length);
    return { ...a, samples: s, durationMs: (s.length * 1000) / 16000 };
  });
  const callSeconds = callAudios.reduce((acc, a) => acc + a.samples.length / 16000, 0);
  let sherpaCall = 0;
  let oursCall = 0;
  for (let r = 0; r < ROUNDS; r++) {
    for (const a of callAudios) {
      const f = Float32Array.from(a.samples, (v) => v / 32768);
      let t = cpuMs();
      sherpaDecode(sherpaRec, f);
      sherpaCall += cpuMs() - t;
      t = cpuMs();
      await transcribeAudio(ours, a, 'call', {});
      oursCall += cpuMs() - t;
    }
  }
  const sherpaCallRtf = sherpaCall / 1000 / (callSeconds * ROUNDS);
  const oursCallRtf = oursCall / 1000 / (callSeconds * ROUNDS);
  out(
    `call-like audio (each clip + 4 s of -60 dBFS noise, ${callSeconds.toFixed(1)} s): sherpa ${sherpaCallRtf.toFixed(4)}, ours (VAD) ${oursCallRtf.toFixed(4)} CPU s per audio s, ratio ${(oursCallRtf / sherpaCallRtf).toFixed(3)}`,
  );
  return { sherpaRtf, oursRtf };
}

/**
 * Cost per stream when B streams are decoded together through the batchable encoder (every sample
 * decoded, greedy, one thread): B different 20 s stretches of the eval audio pushed whole, then
 * flushed together, so every encoder call can take up to B streams. Also the same encoder alone
 * (batch 1): what the model change costs without batching. Transcripts of the batched run are
 * compared with the same encoder run one stream at a time.
 */
async function batchedCostFigures(modelDir: string, audio: Int16Array, sherpaRtf: number, out: (s: string) => void): Promise<void> {
  const seconds = 20;
  const len = seconds * 16000;
  const piece = (i: number, n: number) => {
    const off = Math.floor(((audio.length - len) * i) / Math.max(1, n - 1));
    return audio.subarray(off, off + len);
  };
  const decodeAll = async (rec: Recognizer, n: number): Promise<string[]> => {
    const streams = Array.from({ length: n }, () =>
      rec.createStream({ sampleRateHz: 16000, vad: false, endpoint: false, maxBufferedMs: (seconds + 2) * 1000 }),
    );
    const texts = streams.map(() => [] as string[]);
    streams.forEach((s, i) => s.on('final', (e) => texts[i]!.push(e.text)));
    streams.forEach((s, i) => s.push(piece(i, n)));
    await Promise.all(streams.map((s) => s.flush()));
    for (const s of streams) s.close();
    return texts.map((t) => t.join(' '));
  };
  const alone = await Recognizer.create({ modelDir, batchModelDir: BATCH_MODEL_DIR, threads: 1 });
  try {
    await decodeAll(alone, 1);
    let t = cpuMs();
    const n1 = 8;
    for (let i = 0; i < n1; i++) await decodeAll(alone, 1);
    const aloneRtf = (cpuMs() - t) / 1000 / (n1 * seconds);
    out(
      `batchable encoder, one stream at a time (batch 1), on the 20 s stretches below: ${aloneRtf.toFixed(4)} CPU s per audio s, ratio to sherpa ${(aloneRtf / sherpaRtf).toFixed(3)}`,
    );
    for (const n of BATCH_SIZES) {
      const rec = await Recognizer.create({
        modelDir,
        batchModelDir: BATCH_MODEL_DIR,
        threads: 1,
        batch: { maxBatch: n, windowMs: 50, budgetMs: Infinity },
      });
      try {
        await decodeAll(rec, Math.min(n, 4));
        const before = rec.batchStats()!;
        t = cpuMs();
        const texts = await decodeAll(rec, n);
        const cpu = cpuMs() - t;
        const after = rec.batchStats()!;
        const rtf = cpu / 1000 / (n * seconds);
        const calls = after.calls - before.calls;
        const chunks = after.chunks - before.chunks;
        // the same streams one at a time through the same encoder: transcripts must be identical
        const solo: string[] = [];
        for (let i = 0; i < n; i++) {
          const s = alone.createStream({ sampleRateHz: 16000, vad: false, endpoint: false, maxBufferedMs: (seconds + 2) * 1000 });
          const parts: string[] = [];
          s.on('final', (e) => parts.push(e.text));
          s.push(piece(i, n));
          await s.flush();
          s.close();
          solo.push(parts.join(' '));
        }
        const differing = texts.filter((x, i) => x !== solo[i]).length;
        out(
          `batched decoding, ${String(n).padStart(2)} streams together: ${rtf.toFixed(4)} CPU s per stream audio s, ratio to sherpa's single stream ${(rtf / sherpaRtf).toFixed(3)}` +
            ` (${calls} encoder calls for ${chunks} chunks, mean batch ${(chunks / calls).toFixed(1)}, encoder ${((after.runMsSum - before.runMsSum) / chunks).toFixed(2)} ms per stream chunk); transcripts differing from the same encoder one stream at a time: ${differing} of ${n}`,
        );
      } finally {
        await rec.close();
      }
    }
  } finally {
    await alone.close();
  }
}

interface TrialResult {
  readonly ok: boolean;
  readonly worstP95Ms: number;
  /** The median of the streams' chunk p95s (what a typical call sees). */
  readonly medianP95Ms: number;
  /** Chunks each stream decoded (fewest of all streams): a p95 over fewer than 20 is the stream's maximum. */
  readonly chunksPerStream: number;
  readonly maxLagMs: number;
  readonly droppedMs: number;
  /** RSS after a GC before the trial's streams were created, and the highest RSS sampled during it. */
  readonly baseRss: number;
  readonly peakRss: number;
  readonly memoryBytes: number;
  /** Share of wall time the main thread's event loop was busy (what SIP/RTP would compete with). */
  readonly mainElu: number;
  readonly cpuCores: number;
  /** CPU of the main thread alone (from /proc; the rest of the process CPU is the worker threads). */
  readonly mainCpuCores: number;
  /** CPU ms per second of one stream's audio: whole process, and main thread alone. */
  readonly cpuPerStreamS: number;
  readonly mainCpuPerStreamS: number;
  readonly messagesPerS: number;
  readonly framesPerMessage: number;
  /** Encoder batching during the trial (batched pools only). */
  readonly batchLine: string | undefined;
}

async function searchConcurrency(
  rec: RecognizerPool,
  pool: Int16Array,
  speechFraction: number,
  out: (s: string) => void,
): Promise<{ best: number; result: TrialResult | undefined }> {
  let best = 0;
  let bestResult: TrialResult | undefined;
  let lo = 0;
  let hi = 0;
  const line = (n: number, r: TrialResult): void =>
    out(
      `  ${String(n).padStart(3)} streams: worst per-stream chunk p95 ${r.worstP95Ms.toFixed(1)} ms (median stream ${r.medianP95Ms.toFixed(1)} ms, ${r.chunksPerStream}+ chunks each), max lag ${r.maxLagMs.toFixed(0)} ms, dropped ${r.droppedMs.toFixed(0)} ms, main loop busy ${(r.mainElu * 100).toFixed(0)}%, CPU ${r.cpuCores.toFixed(2)} cores (main thread ${r.mainCpuCores.toFixed(2)}), CPU per stream audio-second: main thread ${r.mainCpuPerStreamS.toFixed(2)} ms + workers ${(r.cpuPerStreamS - r.mainCpuPerStreamS).toFixed(2)} ms, ${r.framesPerMessage.toFixed(1)} frames/message, load ${loadavg()[0]!.toFixed(1)}${r.batchLine ? `, ${r.batchLine}` : ''}`,
    );
  for (const n of STEPS) {
    const r = await trial(rec, pool, n, speechFraction);
    line(n, r);
    if (r.ok) {
      best = n;
      bestResult = r;
      lo = n;
    } else {
      hi = n;
      if (!ALL_STEPS) break;
    }
  }
  if (ALL_STEPS) return { best, result: bestResult };
  // refine between the last pass and the first failure
  while (hi > 0 && hi - lo > Math.max(2, Math.round(lo / 8))) {
    const mid = Math.round((lo + hi) / 2);
    const r = await trial(rec, pool, mid, speechFraction);
    line(mid, r);
    if (r.ok) {
      lo = mid;
      best = mid;
      bestResult = r;
    } else hi = mid;
  }
  return { best, result: bestResult };
}

/**
 * n streams, each fed 20 ms frames on a clock, starting at spread-out moments within one 320 ms
 * chunk hop (as independent calls do; BENCH_ALIGNED=1 starts them together). With speechFraction < 1,
 * each stream alternates speech and the -60 dBFS noise of a silent line in 10 s periods (the other
 * party talking), phase-shifted per stream.
 */
async function trial(rec: RecognizerPool, pool: Int16Array, n: number, speechFraction: number): Promise<TrialResult> {
  const frame = 320; // 20 ms at 16 kHz
  const periodFrames = 500; // 10 s
  const speechFrames = Math.round(periodFrames * speechFraction);
  const silence = new Int16Array(frame);
  let seed = 99;
  for (let i = 0; i < frame; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    silence[i] = Math.round(((seed / 0x7fffffff) * 2 - 1) * 33);
  }
  (globalThis as { gc?: () => void }).gc?.();
  const baseRss = process.memoryUsage().rss;
  const streams: SpeechStream[] = [];
  const offsets: number[] = [];
  const phaseMs: number[] = [];
  for (let i = 0; i < n; i++) {
    streams.push(rec.createStream({ sampleRateHz: 16000 }));
    offsets.push(Math.floor((i * pool.length) / n / frame) * frame); // different audio per stream
    // Independent calls start at unrelated times, so their 320 ms encoder chunks complete at
    // different moments: spread the starts over one chunk hop (BENCH_ALIGNED=1: all start together,
    // the worst case where every stream's chunk is ready in the same instant).
    phaseMs.push(ALIGNED ? (i * 20) / n : (i * 320) / n);
  }
  const totalFrames = Math.round((TRIAL_SECONDS * 1000) / 20);
  const next = new Array<number>(n).fill(0);
  const stats0 = rec.stats();
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuMs();
  const t0 = performance.now();
  let peakRss = baseRss;
  let maxLag = 0;
  let lastSample = t0;
  let done = 0;
  while (done < n) {
    const now = performance.now() - t0;
    done = 0;
    for (let i = 0; i < n; i++) {
      const s = streams[i]!;
      while (next[i]! < totalFrames && phaseMs[i]! + next[i]! * 20 <= now) {
        const k = next[i]!++;
        const inSpeech = speechFraction >= 1 || (k + Math.floor((i * periodFrames) / n)) % periodFrames < speechFrames;
        if (inSpeech) {
          const off = (offsets[i]! + k * frame) % (pool.length - frame);
          s.push(pool.subarray(off, off + frame));
        } else s.push(silence);
      }
      if (next[i]! >= totalFrames) done++;
    }
    if (performance.now() - lastSample >= 500) {
      lastSample = performance.now();
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      for (const s of streams) maxLag = Math.max(maxLag, s.stats().lagMs);
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(streams.map((s) => s.whenIdle()));
  const wallMs = performance.now() - t0;
  const elu = performance.eventLoopUtilization(elu0);
  const cpu = process.cpuUsage(cpu0);
  const mainCpuMs = mainThreadCpuMs() - main0;
  const stats1 = rec.stats();
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  let worst = 0;
  let dropped = 0;
  let memoryBytes = 0;
  let chunksPerStream = Infinity;
  const p95s: number[] = [];
  for (const s of streams) {
    const st = s.stats();
    worst = Math.max(worst, st.chunkLatencyP95Ms);
    p95s.push(st.chunkLatencyP95Ms);
    chunksPerStream = Math.min(chunksPerStream, st.encoderChunks);
    dropped += st.droppedMs;
    memoryBytes = st.memoryBytes;
    s.close();
  }
  const batches = stats1.batchesSent - stats0.batchesSent;
  const frames = stats1.framesSent - stats0.framesSent;
  return {
    batchLine: batchLine(stats0, stats1),
    ok: worst < LATENCY_BUDGET_MS && dropped === 0,
    worstP95Ms: worst,
    medianP95Ms: p95s.sort((a, b) => a - b)[Math.floor(p95s.length / 2)] ?? 0,
    chunksPerStream: Number.isFinite(chunksPerStream) ? chunksPerStream : 0,
    maxLagMs: maxLag,
    droppedMs: dropped,
    baseRss,
    peakRss,
    memoryBytes,
    mainElu: elu.utilization,
    cpuCores: (cpu.user + cpu.system) / 1000 / wallMs,
    mainCpuCores: mainCpuMs / wallMs,
    cpuPerStreamS: (cpu.user + cpu.system) / 1000 / (n * TRIAL_SECONDS),
    mainCpuPerStreamS: mainCpuMs / (n * TRIAL_SECONDS),
    messagesPerS: (batches * 1000) / wallMs,
    framesPerMessage: batches > 0 ? frames / batches : 0,
  };
}

/** Encoder calls and mean batch size over all workers between two pool stats (undefined without batching). */
function batchLine(a: ReturnType<RecognizerPool['stats']>, b: ReturnType<RecognizerPool['stats']>): string | undefined {
  let calls = 0;
  let chunks = 0;
  let max = 0;
  let waited = 0;
  let skipped = 0;
  let batching = false;
  b.workers.forEach((w, i) => {
    if (!w.encoderBatch) return;
    batching = true;
    const before = a.workers[i]?.encoderBatch;
    calls += w.encoderBatch.calls - (before?.calls ?? 0);
    chunks += w.encoderBatch.chunks - (before?.chunks ?? 0);
    waited += w.encoderBatch.windowsWaited - (before?.windowsWaited ?? 0);
    skipped += w.encoderBatch.windowsSkipped - (before?.windowsSkipped ?? 0);
    max = Math.max(max, w.encoderBatch.maxBatchRun);
  });
  if (!batching) return undefined;
  return `encoder calls ${calls} for ${chunks} chunks (mean batch ${calls > 0 ? (chunks / calls).toFixed(1) : '0'}, largest so far ${max}; window waited ${waited}, not waited ${skipped} as no other chunk was due)`;
}

/** CPU time of the main thread (Linux /proc; clock ticks of 10 ms), NaN elsewhere. */
function mainThreadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

function concat(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-asr: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
