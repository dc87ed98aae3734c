/**
 * The batchable encoder pipeline: re-running it on the installed model gives byte for byte the
 * committed models/asr-batch/encoder.batch.onnx (reproducible, and the committed file is what the
 * pipeline makes), and the batch rewrite refuses a graph it cannot follow instead of guessing.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BatchRewriter } from '../../../models/pipelines/asr/batchAxis.js';
import { BATCH_ENCODER_FILE, BATCH_JOINER_FILE, exportBatchEncoder } from '../../../models/pipelines/asr/export.js';
import { Graph } from '../../../models/pipelines/asr/graph.js';
import { encodeModel, floatTensor, int64Tensor, node, valueInfo, DT } from '../../../models/pipelines/common/onnx.js';
import onnxProto from 'onnx-proto';
import { REPO_ROOT, SHARED_MODELS_DIR, scratchDir } from '../../helpers/paths.js';

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('batchable encoder pipeline', () => {
  it('remakes the committed encoder and joiner byte for byte, with every batched row equal to the stream alone', async () => {
    const out = scratchDir('asr-batch');
    const metrics = (await exportBatchEncoder(join(SHARED_MODELS_DIR, 'asr', 'zipformer-gigaspeech-3.3m'), out)) as {
      batchEquality: { checks: { batch: number; maxAbsDiff: number }[] };
      batchRewrite: { reshapes: number };
    };
    for (const file of [BATCH_ENCODER_FILE, BATCH_JOINER_FILE])
      expect(sha(join(out, file))).toBe(sha(join(REPO_ROOT, 'models', 'asr-batch', file)));
    expect(readFileSync(join(out, 'metrics.json'), 'utf8')).toBe(
      readFileSync(join(REPO_ROOT, 'models', 'asr-batch', 'metrics.json'), 'utf8'),
    );
    expect(metrics.batchEquality.checks.map((c) => c.batch)).toEqual([2, 5, 16]);
    for (const c of metrics.batchEquality.checks) expect(c.maxAbsDiff).toBeLessThanOrEqual(1e-5);
    expect(metrics.batchRewrite.reshapes).toBeGreaterThan(0);
  }, 60_000);

  it('stops with the node name when an operator would move the batch where it cannot follow', () => {
    // x [1, 4] -> TopK over axis 0 (not an operator the rewrite knows)
    const bytes = encodeModel({
      graphName: 't',
      nodes: [node('TopK', ['x', 'k'], ['y', 'idx'], { axis: 0 })],
      initializers: [int64Tensor('k', [1], [1]), floatTensor('unused', [1], [0])],
      inputs: [valueInfo('x', DT.FLOAT, [1, 4])],
      outputs: [valueInfo('y', DT.FLOAT, [1, 4])],
      metadata: {},
      docString: '',
    });
    const graph = new Graph(onnxProto.onnx.ModelProto.decode(bytes));
    const shapes = new Map([
      ['x', [1, 4]],
      ['y', [1, 4]],
      ['idx', [1, 4]],
    ]);
    expect(() => new BatchRewriter(graph, shapes).run(new Map([['x', 0]]), 'x')).toThrow(/TopK .*not supported by the batch rewrite/);
  });
});
