/**
 * Where an encoder call spends its time, by operator type, at several batch sizes: the streaming
 * encoder of the installed model (batch 1 only) and the batchable one made by models/pipelines/asr,
 * run on real feature windows with onnxruntime's own profiler (CPU provider, one thread). It shows which operators the cost per stream falls with as batches
 * grow (matrix products) and which it does not (element-wise work, whose cost is per element).
 *
 *   make bench-asr-ops            (BENCH_OPS_BATCHES=1,16,64 BENCH_OPS_RUNS=40)
 *
 * Each line is followed by the same time by the first module in the node names (the front end's
 * Conv2d stack, the activations, the feed-forward modules ...), the layers of one kind added up.
 *
 * The profiler adds a fixed cost to every node run (about 3 µs on the dev VM, ~1,500 nodes a call),
 * so each line also gives the same calls' CPU time unprofiled; read the shares at the larger
 * batches, where that fixed cost is spread over many streams.
 *
 * Paired mode, for a candidate rewrite of the batchable encoder (a file with the same inputs and
 * outputs): `BENCH_OPS_PAIR=/tmp/candidate.onnx make bench-asr-ops` times the two alternately,
 * BENCH_OPS_PAIR_ROUNDS times at each batch size, and prints the candidate's time over the
 * current one's (median and range of the rounds: the dev VM's speed moves between minutes, a ratio
 * taken one round at a time does not) and the largest difference of their encoder_out on the same
 * windows.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { OnlineFbank } from '../../appliance/asr/fbank.js';
import { batchModelFiles, findAsrModelFiles, resolveModelPaths } from '../../appliance/asr/modelFiles.js';
import { TransducerModel } from '../../appliance/asr/transducer.js';
import { readWavFile } from '../../appliance/asr/transcribeFile.js';
import { loadEvalSet } from './evalSet.js';

const BATCHES = (process.env.BENCH_OPS_BATCHES ?? '1,16,64').split(',').map(Number);
const RUNS = Number(process.env.BENCH_OPS_RUNS ?? 40);
const BATCH_MODEL_DIR = process.env.ASR_BATCH_MODEL_DIR ?? 'models/asr-batch';
const PAIR = process.env.BENCH_OPS_PAIR;
const PAIR_ROUNDS = Number(process.env.BENCH_OPS_PAIR_ROUNDS ?? 7);
/** Operator types that do a fixed amount of work per element (no reduction over a weight matrix). */
const ELEMENTWISE = new Set([
  'Add', 'Sub', 'Mul', 'Div', 'Exp', 'Log', 'Where', 'Equal', 'Abs', 'Neg', 'Max', 'Min', 'Pow', 'Sigmoid',
  'Tanh', 'Sqrt', 'Cast', 'Expand', 'Clip', 'Softplus', 'Not', 'And', 'Less', 'LessOrEqual', 'Greater',
]); // prettier-ignore
const SESSION: ort.InferenceSession.SessionOptions = {
  executionProviders: ['cpu'],
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
};
const MATRIX = new Set([
  'MatMul',
  'MatMulInteger',
  'DynamicQuantizeMatMul',
  'MatMulIntegerToFloat',
  'MatMulNBits',
  'Gemm',
  'FusedMatMul',
  'Conv',
  'FusedConv',
]);

interface OpShare {
  readonly op: string;
  readonly usPerCall: number;
  readonly nodes: number;
}

interface Profile {
  /** By operator type, most time first. */
  readonly ops: OpShare[];
  /** By the first module in the node's name (namePart), most time first. */
  readonly parts: { readonly part: string; readonly usPerCall: number }[];
}

async function main(): Promise<void> {
  const paths = resolveModelPaths({ modelDir: process.env.ASR_MODEL_DIR });
  const exact = await TransducerModel.load(findAsrModelFiles(paths.modelDir), { providers: ['cpu'], intraOpThreads: 1, interOpThreads: 1 });
  const windows = featureWindows(exact, 256);
  const batchable = await TransducerModel.load(findAsrModelFiles(paths.modelDir, batchModelFiles(BATCH_MODEL_DIR)), {
    providers: ['cpu'],
    intraOpThreads: 1,
    interOpThreads: 1,
  });
  if (PAIR !== undefined) {
    await pairLines(batchable, PAIR, windows);
    await exact.close();
    await batchable.close();
    return;
  }
  const runs: { label: string; model: TransducerModel; batch: number }[] = [
    { label: 'exact encoder (source int8)', model: exact, batch: 1 },
  ];
  for (const b of BATCHES) runs.push({ label: 'batchable encoder', model: batchable, batch: b });
  process.stdout.write(`encoder operator time by type, onnxruntime profiler, ${RUNS} calls per line, CPU, 1 thread\n`);
  for (const r of runs) {
    const { ops, parts } = await profile(r.model, r.batch, windows);
    const plainMs = await unprofiledMs(r.model.files.encoder, r.model, r.batch, windows);
    const total = ops.reduce((a, o) => a + o.usPerCall, 0);
    const nodes = ops.reduce((a, o) => a + o.nodes, 0);
    const sum = (set: Set<string>) => ops.filter((o) => set.has(o.op)).reduce((a, o) => a + o.usPerCall, 0);
    const elementwise = sum(ELEMENTWISE);
    const matrix = sum(MATRIX);
    const top = ops
      .slice(0, 8)
      .map((o) => `${o.op} ${((100 * o.usPerCall) / total).toFixed(0)}%`)
      .join(', ');
    process.stdout.write(
      `${r.label}, batch ${String(r.batch).padStart(2)}: ${(plainMs / r.batch).toFixed(2)} ms per stream chunk unprofiled (CPU time), ${(total / 1000 / r.batch).toFixed(2)} profiled (${nodes.toFixed(0)} node runs a call);` +
        ` matrix products and convolutions ${((100 * matrix) / total).toFixed(0)}% (${(matrix / 1000 / r.batch).toFixed(2)} ms per stream chunk),` +
        ` element-wise ${((100 * elementwise) / total).toFixed(0)}% (${(elementwise / 1000 / r.batch).toFixed(2)} ms per stream chunk),` +
        ` other ${((100 * (total - matrix - elementwise)) / total).toFixed(0)}%; top: ${top}\n`,
    );
    const byPart = parts
      .slice(0, 10)
      .map((p) => `${p.part} ${((100 * p.usPerCall) / total).toFixed(1)}%`)
      .join(', ');
    process.stdout.write(`  by the first module in the node names (nodes named alike in every layer add up): ${byPart}\n`);
  }
  await exact.close();
  await batchable.close();
}

/** Feature windows (chunkFrames × featureDim each) cut from the eval clips by the appliance's fbank. */
function featureWindows(model: TransducerModel, count: number): Float32Array[] {
  const g = model.geometry;
  const out: Float32Array[] = [];
  const fbank = new OnlineFbank({ maxFrames: 256, maxBlockSamples: 1600 });
  for (const clip of loadEvalSet().clips) {
    const samples = readWavFile(clip.path).samples;
    fbank.reset();
    let start = 0;
    for (let off = 0; off < samples.length && out.length < count; off += 1600) {
      fbank.acceptWaveform(Float32Array.from(samples.subarray(off, off + 1600), (v) => v / 32768));
      while (fbank.numFramesReady - start >= g.chunkFrames && out.length < count) {
        const w = new Float32Array(g.chunkFrames * g.featureDim);
        fbank.readFrames(start, g.chunkFrames, w);
        out.push(w);
        start += g.chunkShift;
        fbank.discardBefore(start);
      }
    }
  }
  return out;
}

/** Inputs of `batch` streams: each row a different feature window, states zero (timing does not depend on their values). */
function batchFeeds(
  model: TransducerModel,
  batch: number,
): { feeds: Record<string, ort.Tensor>; fill: (call: number, windows: Float32Array[]) => void } {
  const g = model.geometry;
  const feeds: Record<string, ort.Tensor> = {};
  for (const s of model.states) {
    const dims = [...s.dims];
    if (batch > 1) dims[s.batchAxis!] = batch;
    const n = s.size * batch;
    feeds[s.name] =
      s.type === 'int64' ? new ort.Tensor('int64', new BigInt64Array(n), dims) : new ort.Tensor('float32', new Float32Array(n), dims);
  }
  const xSize = g.chunkFrames * g.featureDim;
  const x = new Float32Array(batch * xSize);
  feeds.x = new ort.Tensor('float32', x, [batch, g.chunkFrames, g.featureDim]);
  const fill = (call: number, windows: Float32Array[]) => {
    for (let b = 0; b < batch; b++) x.set(windows[(call * batch + b) % windows.length]!, b * xSize);
  };
  return { feeds, fill };
}

/** The candidate encoder `other` against `model`'s, alternately at every batch size (paired mode). */
async function pairLines(model: TransducerModel, other: string, windows: Float32Array[]): Promise<void> {
  process.stdout.write(
    `${other} against ${model.files.encoder}: CPU time per call, unprofiled, ${RUNS} calls a round, ${PAIR_ROUNDS} rounds alternating, 1 thread\n`,
  );
  for (const b of BATCHES) {
    const ratios: number[] = [];
    const base: number[] = [];
    for (let r = 0; r < PAIR_ROUNDS; r++) {
      const ms = await unprofiledMs(model.files.encoder, model, b, windows);
      ratios.push((await unprofiledMs(other, model, b, windows)) / ms);
      base.push(ms / b);
    }
    const median = (v: number[]) => [...v].sort((x, y) => x - y)[v.length >> 1]!;
    process.stdout.write(
      `batch ${String(b).padStart(2)}: candidate / current ${median(ratios).toFixed(3)} (rounds ${Math.min(...ratios).toFixed(3)}..${Math.max(...ratios).toFixed(3)}),` +
        ` current ${median(base).toFixed(2)} ms per stream chunk; largest |difference| of encoder_out ${(await largestDifference(model, other, b, windows)).toExponential(2)}\n`,
    );
  }
}

/** Largest difference between the two encoders' encoder_out on the same `batch` windows (zero states). */
async function largestDifference(model: TransducerModel, other: string, batch: number, windows: Float32Array[]): Promise<number> {
  const outs: Float32Array[] = [];
  for (const path of [model.files.encoder, other]) {
    const session = await ort.InferenceSession.create(path, SESSION);
    try {
      const { feeds, fill } = batchFeeds(model, batch);
      fill(0, windows);
      outs.push((await session.run(feeds)).encoder_out!.data as Float32Array);
    } finally {
      await session.release();
    }
  }
  let most = 0;
  for (let i = 0; i < outs[0]!.length; i++) most = Math.max(most, Math.abs(outs[0]![i]! - outs[1]![i]!));
  return most;
}

/** Mean CPU time of one unprofiled call (ms) of the encoder file `path` (inputs as `model`'s), after a warm-up call. */
async function unprofiledMs(path: string, model: TransducerModel, batch: number, windows: Float32Array[]): Promise<number> {
  const session = await ort.InferenceSession.create(path, SESSION);
  try {
    const { feeds, fill } = batchFeeds(model, batch);
    fill(0, windows);
    await session.run(feeds);
    const before = process.cpuUsage();
    for (let i = 0; i < RUNS; i++) {
      fill(i, windows);
      await session.run(feeds);
    }
    const used = process.cpuUsage(before);
    return (used.user + used.system) / 1000 / RUNS;
  } finally {
    await session.release();
  }
}

/** Profiled calls of `model`'s encoder at `batch` streams (inputs as batchFeeds): time by operator type and by node name. */
async function profile(model: TransducerModel, batch: number, windows: Float32Array[]): Promise<Profile> {
  const dir = mkdtempSync(join(tmpdir(), 'evx-encoder-ops-'));
  try {
    const session = await ort.InferenceSession.create(model.files.encoder, {
      ...SESSION,
      enableProfiling: true,
      profileFilePrefix: join(dir, 'profile'),
    });
    const { feeds, fill } = batchFeeds(model, batch);
    for (let i = 0; i < RUNS; i++) {
      fill(i, windows);
      await session.run(feeds);
    }
    const profileFile = session.endProfiling() as unknown as string | undefined;
    await session.release();
    const name = profileFile ?? readdirSync(dir).find((f) => f.endsWith('.json'));
    const events = JSON.parse(readFileSync(name!.startsWith('/') ? name! : join(dir, name!), 'utf8')) as {
      cat: string;
      name: string;
      dur: number;
      args?: { op_name?: string };
    }[];
    const byOp = new Map<string, { us: number; nodes: number }>();
    const byPart = new Map<string, number>();
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
      const op = e.args?.op_name ?? '?';
      const entry = byOp.get(op) ?? { us: 0, nodes: 0 };
      entry.us += e.dur;
      entry.nodes++;
      byOp.set(op, entry);
      const part = namePart(e.name.slice(0, -'_kernel_time'.length), op);
      byPart.set(part, (byPart.get(part) ?? 0) + e.dur);
    }
    return {
      ops: [...byOp].map(([op, v]) => ({ op, usPerCall: v.us / RUNS, nodes: v.nodes / RUNS })).sort((a, b) => b.usPerCall - a.usPerCall),
      parts: [...byPart].map(([part, us]) => ({ part, usPerCall: us / RUNS })).sort((a, b) => b.usPerCall - a.usPerCall),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The first module in a node's name: `/conv/conv.9/Conv_output_0` -> `conv`, `/activation/Sub_3` ->
 * `activation`; a node the optimiser named (no path) goes under its operator type.
 */
function namePart(node: string, op: string): string {
  const path = node
    .split('/')
    .filter((p) => p.length > 0)
    .slice(0, -1);
  return path.length === 0 ? `(${op})` : path[0]!;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
