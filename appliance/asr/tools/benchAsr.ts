/**
 * `make bench-asr`: in one process, our engine and sherpa-onnx-node (same model, same clips, one
 * thread each) → CPU seconds per audio second and the ratio ours / sherpa; then the number of
 * simultaneous real-time streams (20 ms frames pushed on a clock) this machine sustains with every
 * stream's chunk latency p95 under 100 ms; and the peak RSS per stream at that load.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import type { WavAudio } from '../../audio/wav.js';
import { resolveModelPaths } from '../modelFiles.js';
import { findAsrModelFiles } from '../modelFiles.js';
import { Recognizer } from '../recognizer.js';
import type { RecognizerStream } from '../stream.js';
import { readWavFile, transcribeAudio } from '../transcribeFile.js';
import { loadEvalSet } from './evalSet.js';

interface SherpaStream {
  acceptWaveform(o: { samples: Float32Array; sampleRate: number }): void;
  inputFinished(): void;
}
interface SherpaRecognizer {
  createStream(): SherpaStream;
  isReady(s: SherpaStream): boolean;
  decode(s: SherpaStream): void;
  getResult(s: SherpaStream): { text: string };
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TRIAL_SECONDS = Number(process.env.BENCH_TRIAL_SECONDS ?? 6);
const LATENCY_BUDGET_MS = 100;

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function sherpaDecode(rec: SherpaRecognizer, audio: Float32Array): string {
  const s = rec.createStream();
  for (let i = 0; i < audio.length; i += 1600) {
    s.acceptWaveform({ samples: audio.subarray(i, i + 1600), sampleRate: 16000 });
    while (rec.isReady(s)) rec.decode(s);
  }
  s.acceptWaveform({ samples: new Float32Array(10560), sampleRate: 16000 });
  s.inputFinished();
  while (rec.isReady(s)) rec.decode(s);
  return rec.getResult(s).text;
}

async function main(): Promise<void> {
  const { clips } = loadEvalSet();
  const audios: WavAudio[] = clips.map((c) => readWavFile(c.path));
  const audioSeconds = audios.reduce((a, w) => a + w.samples.length / w.sampleRateHz, 0);
  const paths = resolveModelPaths({ modelDir: process.env.ASR_MODEL_DIR, vadModel: process.env.VAD_MODEL });
  const files = findAsrModelFiles(paths.modelDir);
  const require = createRequire(import.meta.url);
  const sherpa = require('sherpa-onnx-node') as { OnlineRecognizer: new (c: unknown) => SherpaRecognizer };
  const sherpaRec = new sherpa.OnlineRecognizer({
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
  const ours = await Recognizer.create({ modelDir: paths.modelDir, vadModelPath: paths.vadModelPath, threads: 1 });
  const floats = audios.map((a) => Float32Array.from(a.samples, (s) => s / 32768));

  // ---- cost: CPU seconds per audio second
  sherpaDecode(sherpaRec, floats[0]!);
  await transcribeAudio(ours, audios[0]!, 'warmup', { vad: false, endpoint: false });
  await transcribeAudio(ours, audios[0]!, 'warmup', {});
  let sherpaCpu = 0;
  let oursCpu = 0;
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
      if (hyp.text !== ref.trim()) mismatches++;
    }
  }
  const total = audioSeconds * ROUNDS;
  const sherpaRtf = sherpaCpu / 1000 / total;
  const oursRtf = oursCpu / 1000 / total;
  const oursVadRtf = oursVadCpu / 1000 / total;
  const out = (s: string): boolean => process.stdout.write(s + '\n');
  out(`clips: ${clips.length} (${audioSeconds.toFixed(2)} s of audio) x ${ROUNDS} rounds, 1 thread each, greedy, same model`);
  out(`sherpa-onnx-node:            ${sherpaRtf.toFixed(4)} CPU s per audio s`);
  out(`ours (every sample decoded): ${oursRtf.toFixed(4)} CPU s per audio s   ratio ours/sherpa ${(oursRtf / sherpaRtf).toFixed(3)}`);
  out(`ours (Silero VAD + endpoints): ${oursVadRtf.toFixed(4)} CPU s per audio s ratio ours/sherpa ${(oursVadRtf / sherpaRtf).toFixed(3)}`);
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
  out(`call-like audio (each clip + 4 s of -60 dBFS noise, ${callSeconds.toFixed(1)} s): sherpa ${sherpaCallRtf.toFixed(4)}, ours (VAD) ${oursCallRtf.toFixed(4)} CPU s per audio s, ratio ${(oursCallRtf / sherpaCallRtf).toFixed(3)}`);

  // ---- concurrency: real-time streams with 20 ms frames on a clock
  const pool = concat(audios.map((a) => a.samples));
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const baseRss = process.memoryUsage().rss;
  let best = 0;
  let bestResult: TrialResult | undefined;
  let lo = 0;
  let hi = 0;
  for (const n of [4, 8, 16, 24, 32, 48, 64, 96, 128]) {
    const r = await trial(ours, pool, n);
    out(`  ${String(n).padStart(3)} streams: worst per-stream chunk p95 ${r.worstP95Ms.toFixed(1)} ms, max lag ${r.maxLagMs.toFixed(0)} ms, dropped ${r.droppedMs.toFixed(0)} ms`);
    if (r.ok) {
      best = n;
      bestResult = r;
      lo = n;
    } else {
      hi = n;
      break;
    }
  }
  // refine between the last pass and the first failure
  while (hi - lo > Math.max(2, Math.round(lo / 8))) {
    const mid = Math.round((lo + hi) / 2);
    const r = await trial(ours, pool, mid);
    out(`  ${String(mid).padStart(3)} streams: worst per-stream chunk p95 ${r.worstP95Ms.toFixed(1)} ms, max lag ${r.maxLagMs.toFixed(0)} ms, dropped ${r.droppedMs.toFixed(0)} ms`);
    if (r.ok) {
      lo = mid;
      best = mid;
      bestResult = r;
    } else hi = mid;
  }
  out(`concurrency: ${best} simultaneous real-time streams with every stream's chunk latency p95 < ${LATENCY_BUDGET_MS} ms (20 ms frames, VAD on, 1 inference thread)`);
  if (bestResult !== undefined) {
    const perStream = (bestResult.peakRss - baseRss) / best;
    out(
      `peak RSS per stream: ${(perStream / 1048576).toFixed(2)} MiB (process peak ${(bestResult.peakRss / 1048576).toFixed(0)} MiB at ${best} streams, ${(baseRss / 1048576).toFixed(0)} MiB with models loaded and no stream; engine-held buffers+state ${(bestResult.memoryBytes / 1048576).toFixed(2)} MiB per stream)`,
    );
  }
  await ours.close();
}

interface TrialResult {
  readonly ok: boolean;
  readonly worstP95Ms: number;
  readonly maxLagMs: number;
  readonly droppedMs: number;
  readonly peakRss: number;
  readonly memoryBytes: number;
}

async function trial(rec: Recognizer, pool: Int16Array, n: number): Promise<TrialResult> {
  const frame = 320; // 20 ms at 16 kHz
  const streams: RecognizerStream[] = [];
  const offsets: number[] = [];
  for (let i = 0; i < n; i++) {
    streams.push(rec.createStream({ sampleRateHz: 16000 }));
    offsets.push(Math.floor((i * pool.length) / n / frame) * frame); // different audio per stream
  }
  const totalFrames = Math.round((TRIAL_SECONDS * 1000) / 20);
  // stagger: stream i starts i/n of a 320 ms chunk later, as independent calls would
  const startDelayFrames = streams.map((_, i) => Math.floor((i * 16) / n));
  const t0 = performance.now();
  let sent = 0;
  let peakRss = 0;
  let maxLag = 0;
  while (sent < totalFrames + 16) {
    const due = Math.floor((performance.now() - t0) / 20);
    while (sent <= due && sent < totalFrames + 16) {
      for (let i = 0; i < n; i++) {
        const k = sent - startDelayFrames[i]!;
        if (k < 0 || k >= totalFrames) continue;
        const off = (offsets[i]! + k * frame) % (pool.length - frame);
        streams[i]!.push(pool.subarray(off, off + frame));
      }
      sent++;
    }
    if (sent % 25 === 0) {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      for (const s of streams) maxLag = Math.max(maxLag, s.stats().lagMs);
    }
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + (sent + 1) * 20 - performance.now())));
  }
  await Promise.all(streams.map((s) => s.whenIdle()));
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  let worst = 0;
  let dropped = 0;
  let memoryBytes = 0;
  for (const s of streams) {
    const st = s.stats();
    worst = Math.max(worst, st.chunkLatencyP95Ms);
    dropped += st.droppedMs;
    memoryBytes = st.memoryBytes;
    s.close();
  }
  return { ok: worst < LATENCY_BUDGET_MS && dropped === 0, worstP95Ms: worst, maxLagMs: maxLag, droppedMs: dropped, peakRss, memoryBytes };
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
