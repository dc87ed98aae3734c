/**
 * The batchable streaming encoder, made from the installed zipformer2 model:
 *
 *   node dist/models/pipelines/asr/export.js --source ../shared/models/asr/zipformer-gigaspeech-3.3m --out models/asr-batch
 *
 * 1. per-call int8 quantisation of activations removed (dequantize.ts; weights stay int8 in the
 *    file behind DequantizeLinear, which onnxruntime runs as MatMulNBits, quantising each row's
 *    activations on their own, so each stream's rows are computed independently of the others);
 * 2. the batch made dynamic (batchAxis.ts, with the shapes of one batch-1 run from probeShapes.ts
 *    and the family's state layout from zipformer2.ts);
 * 2b. depthwise 1-D convolutions written as 2-D ones (depthwise.ts), which onnxruntime runs with its
 *    vectorised depthwise kernel; the Swoosh activations in 6 element-wise passes instead of 12
 *    (front end) or 9 (layers): swoosh.ts rewrites them, biasFold.ts moves their constant shift and
 *    offset into the biases of the layers around them;
 * 3. checked: batched runs of 2..16 random streams against the same model run per stream;
 * 4. the joiner likewise (its batch axis is already dynamic; only its per-call activation
 *    quantisation goes), so greedy search can take one joiner row per stream in one call.
 *
 * Writes encoder.batch.onnx and metrics.json (source sha256, rewrite counts, the check); the same
 * source gives the same bytes. The runtime's transcript and WER checks are `make eval-asr-batch`.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BatchRewriter } from './batchAxis.js';
import { foldShiftsIntoBiases } from './biasFold.js';
import { checkBatchEquality } from './checkBatch.js';
import { depthwiseConvAs2d } from './depthwise.js';
import { removeDynamicQuantization } from './dequantize.js';
import { encode, Graph, loadModel } from './graph.js';
import { probeShapes } from './probeShapes.js';
import { rewriteSwoosh } from './swoosh.js';
import { encoderInputBatchAxis } from './zipformer2.js';
import { JOINER_ROWS_INDEPENDENT_KEY } from '../../../appliance/asr/transducer.js';

export const BATCH_ENCODER_FILE = 'encoder.batch.onnx';
export const BATCH_JOINER_FILE = 'joiner.batch.onnx';
/** Largest per-element difference accepted between a batched row and the same stream alone. */
export const BATCH_TOLERANCE = 1e-5;

/** Set metadata keys (kept in the order first set) and name the producer. */
function setMetadata(graph: Graph, entries: Record<string, string>): void {
  const meta = graph.model.metadataProps ?? [];
  for (const [key, value] of Object.entries(entries)) {
    const found = meta.find((m) => m.key === key);
    if (found) found.value = value;
    else meta.push({ key, value });
  }
  graph.model.metadataProps = meta;
  graph.model.producerName = 'edgevox-pipelines';
}

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`--${name} is required`);
  return v;
}

export async function exportBatchEncoder(sourceDir: string, outDir: string): Promise<Record<string, unknown>> {
  const sourcePath = join(sourceDir, 'encoder.int8.onnx');
  const sourceBytes = readFileSync(sourcePath);
  const graph = new Graph(loadModel(sourcePath));
  const dequantized = removeDynamicQuantization(graph, 'int8-weight');
  const shapes = await probeShapes(graph);
  const axes = new Map(graph.model.graph!.input!.map((i) => [i.name!, encoderInputBatchAxis(i.name!)]));
  const rewrite = new BatchRewriter(graph, shapes).run(axes, 'x');
  const depthwise = depthwiseConvAs2d(graph);
  const swoosh = rewriteSwoosh(graph);
  const biasFolds = foldShiftsIntoBiases(graph);
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  setMetadata(graph, {
    batch_dynamic: '1',
    derived_from_sha256: sha(sourceBytes),
    derived_by:
      'edgevox models/pipelines/asr/export.ts: dynamic int8 quantisation removed (weight-only int8), batch axis made dynamic, depthwise 1-D convolutions as 2-D, Swoosh in fewer passes, constant shifts folded into biases',
  });
  const checks = [];
  for (const b of [2, 5, 16]) {
    const c = await checkBatchEquality(graph, b, b);
    if (!(c.maxAbsDiff <= BATCH_TOLERANCE))
      throw new Error(`batch ${b}: output ${c.worstOutput} differs from the stream alone by ${c.maxAbsDiff}`);
    checks.push(c);
  }
  const bytes = encode(graph.model);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, BATCH_ENCODER_FILE), bytes);
  const joinerSource = readFileSync(join(sourceDir, 'joiner.int8.onnx'));
  const joiner = new Graph(loadModel(join(sourceDir, 'joiner.int8.onnx')));
  const joinerDequantized = removeDynamicQuantization(joiner, 'int8-weight');
  const joinerChecks = [];
  for (const b of [2, 16]) {
    const c = await checkBatchEquality(joiner, b, b);
    if (!(c.maxAbsDiff <= BATCH_TOLERANCE))
      throw new Error(`joiner batch ${b}: ${c.worstOutput} differs from the row alone by ${c.maxAbsDiff}`);
    joinerChecks.push(c);
  }
  // checked above: a row's logits do not depend on the other rows of the call, so the runtime may
  // join several frames of a stream in one call (greedy.ts) and get the frame-by-frame decisions
  setMetadata(joiner, {
    [JOINER_ROWS_INDEPENDENT_KEY]: '1',
    derived_from_sha256: sha(joinerSource),
    derived_by: 'edgevox models/pipelines/asr/export.ts: dynamic int8 quantisation removed (weight-only int8), rows independent',
  });
  const joinerBytes = encode(joiner.model);
  writeFileSync(join(outDir, BATCH_JOINER_FILE), joinerBytes);
  const metrics = {
    source: { file: 'encoder.int8.onnx', sha256: sha(sourceBytes), bytes: sourceBytes.length },
    output: { file: BATCH_ENCODER_FILE, sha256: sha(bytes), bytes: bytes.length, nodes: graph.nodes.length },
    dequantized,
    batchRewrite: rewrite,
    depthwiseAs2d: depthwise,
    swoosh,
    biasFolds,
    batchEquality: { tolerance: BATCH_TOLERANCE, checks },
    joiner: {
      source: { file: 'joiner.int8.onnx', sha256: sha(joinerSource), bytes: joinerSource.length },
      output: { file: BATCH_JOINER_FILE, sha256: sha(joinerBytes), bytes: joinerBytes.length },
      dequantized: joinerDequantized,
      batchEquality: { tolerance: BATCH_TOLERANCE, checks: joinerChecks },
    },
  };
  writeFileSync(join(outDir, 'metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
  return metrics;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const metrics = await exportBatchEncoder(arg('source', '../shared/models/asr/zipformer-gigaspeech-3.3m'), arg('out', 'models/asr-batch'));
  console.log(JSON.stringify(metrics, null, 2));
}
