/**
 * The pipeline's depthwise rewrite (models/pipelines/asr/depthwise.ts): a depthwise 1-D Conv
 * (padded, strided, with bias) becomes Unsqueeze -> 2-D Conv -> Squeeze computing the same values,
 * at any batch size; a 1-D Conv that is not depthwise is left as it is.
 */
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { depthwiseConvAs2d } from '../../../models/pipelines/asr/depthwise.js';
import { encode, Graph } from '../../../models/pipelines/asr/graph.js';
import { DT, encodeModel, floatTensor, node, valueInfo } from '../../../models/pipelines/common/onnx.js';

const C = 32;
const L = 20;
const K = 7;

function values(n: number, seed: number): Float32Array {
  let x = seed;
  return Float32Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648 - 0.5;
  });
}

/** x [N, C, L] -> depthwise Conv (kernel K, pads 3/2, stride 2) -> pointwise Conv (not depthwise) -> y. */
function model(): Uint8Array {
  return encodeModel({
    graphName: 'dw',
    nodes: [
      node('Conv', ['x', 'w_dw', 'b_dw'], ['h'], { group: C, kernel_shape: [K], pads: [3, 2], strides: [2] }),
      node('Conv', ['h', 'w_pw'], ['y'], { kernel_shape: [1] }),
    ],
    initializers: [
      floatTensor('w_dw', [C, 1, K], values(C * K, 1)),
      floatTensor('b_dw', [C], values(C, 2)),
      floatTensor('w_pw', [C, C, 1], values(C * C, 3)),
    ],
    inputs: [valueInfo('x', DT.FLOAT, ['N', C, L])],
    outputs: [valueInfo('y', DT.FLOAT, ['N', C, 'L2'])],
    metadata: {},
    docString: '',
  });
}

async function run(bytes: Uint8Array, batch: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
  try {
    const out = await session.run({ x: new ort.Tensor('float32', values(batch * C * L, 4 + batch), [batch, C, L]) });
    return out.y!.data as Float32Array;
  } finally {
    await session.release();
  }
}

describe('depthwise 1-D convolutions as 2-D', () => {
  it('rewrites only the depthwise convolution, and the graph computes the same values', async () => {
    const source = model();
    const graph = new Graph(onnxProto.onnx.ModelProto.decode(source));
    expect(depthwiseConvAs2d(graph)).toEqual({ convolutions: 1 });
    expect(graph.nodes.map((n) => n.opType)).toEqual(['Unsqueeze', 'Conv', 'Squeeze', 'Conv']);
    const rewritten = encode(graph.model);
    for (const batch of [1, 3]) {
      const [a, b] = [await run(source, batch), await run(rewritten, batch)];
      expect(b.length).toBe(a.length);
      expect(a.length).toBe(batch * C * 10);
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      expect(worst).toBeLessThan(1e-5);
    }
  });
});
