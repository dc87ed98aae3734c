/**
 * The pipeline's bias fold (models/pipelines/asr/biasFold.ts): a scalar shift after a biased layer
 * (directly, or through a Transpose and a sum) and a scalar offset before a linear layer (MatMul
 * with a DequantizeLinear or float weight then Add, or an unpadded Conv) move into the biases, a
 * scalar scale before a linear layer (also a padded Conv) moves into its weights (the one scale of
 * a DequantizeLinear weight), and the graph computes the same values without those Sub and Mul
 * nodes; an offset before a padded Conv, a graph output and a tensor read twice keep theirs.
 */
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { foldShiftsIntoBiases } from '../../../models/pipelines/asr/biasFold.js';
import { encode, Graph } from '../../../models/pipelines/asr/graph.js';
import { DT, encodeModel, floatTensor, int8Tensor, node, valueInfo } from '../../../models/pipelines/common/onnx.js';

function values(n: number, seed: number, scale = 1): Float32Array {
  let x = seed;
  return Float32Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return (x / 2147483648 - 0.5) * scale;
  });
}

function model(): Uint8Array {
  return encodeModel({
    graphName: 'bias-fold',
    nodes: [
      // A: int8 weight behind DequantizeLinear -> Add(bias) -> Sub(a) -> Sigmoid -> Sub(c) -> MatMul -> Add(bias first)
      node('DequantizeLinear', ['w1q', 'w1s', 'w1z'], ['w1']),
      node('MatMul', ['x', 'w1'], ['mm1']),
      node('Add', ['mm1', 'b1'], ['t1']),
      node('Sub', ['t1', 'a1'], ['s1']),
      node('Sigmoid', ['s1'], ['h1']),
      node('Sub', ['h1', 'off1'], ['y1']),
      node('MatMul', ['y1', 'w2'], ['mm2']),
      node('Add', ['b2', 'mm2'], ['z1']),
      // B: shift through Transpose and a sum into a Conv bias; offset into an unpadded Conv without bias
      node('Conv', ['x4', 'wc1'], ['c1'], { kernel_shape: [1, 1] }),
      node('Conv', ['x4', 'wc2', 'bc2'], ['c2'], { kernel_shape: [1, 1] }),
      node('Mul', ['c1', 'm'], ['scaled']),
      node('Add', ['scaled', 'c2'], ['sum']),
      node('Transpose', ['sum'], ['tr'], { perm: [0, 1, 3, 2] }),
      node('Sub', ['tr', 'a2'], ['s2']),
      node('Tanh', ['s2'], ['h2']),
      node('Sub', ['h2', 'c2s'], ['y2']),
      node('Conv', ['y2', 'wc3'], ['z2'], { kernel_shape: [3, 3] }),
      // C: kept: an offset before a padded Conv, a shift of a tensor that is also a graph output
      node('Sigmoid', ['x4'], ['h3']),
      node('Sub', ['h3', 'c3'], ['y3']),
      node('Conv', ['y3', 'wc4'], ['z3'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
      node('MatMul', ['x', 'w5'], ['mm5']),
      node('Add', ['mm5', 'b5'], ['t5']),
      node('Sub', ['t5', 'a5'], ['s5']),
      node('Relu', ['s5'], ['z5']),
      // D: scale then offset before a MatMul with an int8 weight; scale before a padded Conv; a scale read twice (kept)
      node('Sigmoid', ['x'], ['h6']),
      node('Sub', ['h6', 'c6'], ['o6']),
      node('Mul', ['o6', 'f6'], ['y6']),
      node('DequantizeLinear', ['w6q', 'w6s', 'w6z'], ['w6']),
      node('MatMul', ['y6', 'w6'], ['mm6']),
      node('Add', ['mm6', 'b6'], ['z6']),
      node('Tanh', ['x4'], ['h7']),
      node('Mul', ['f7', 'h7'], ['y7']),
      node('Conv', ['y7', 'wc7', 'bc7'], ['z7'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
      node('Mul', ['h6', 'f6'], ['y8']),
      node('MatMul', ['y8', 'w5'], ['z8']),
      node('Add', ['y8', 'y8'], ['z9']),
    ],
    initializers: [
      int8Tensor('w1q', [8, 16], Int8Array.from(values(128, 1, 250))),
      floatTensor('w1s', [], [0.01]),
      int8Tensor('w1z', [], Int8Array.from([3])),
      floatTensor('b1', [16], values(16, 2)),
      floatTensor('a1', [], [4]),
      floatTensor('off1', [], [0.3]),
      floatTensor('w2', [16, 6], values(96, 3)),
      floatTensor('b2', [6], values(6, 4)),
      floatTensor('wc1', [4, 3, 1, 1], values(12, 5)),
      floatTensor('wc2', [4, 3, 1, 1], values(12, 6)),
      floatTensor('bc2', [4], values(4, 7)),
      floatTensor('m', [4, 1, 1], values(4, 8)),
      floatTensor('a2', [], [1.5]),
      floatTensor('c2s', [], [0.2]),
      floatTensor('wc3', [2, 4, 3, 3], values(72, 9)),
      floatTensor('c3', [], [0.5]),
      floatTensor('wc4', [2, 3, 3, 3], values(54, 10)),
      floatTensor('w5', [8, 4], values(32, 11)),
      floatTensor('b5', [4], values(4, 12)),
      floatTensor('a5', [], [0.25]),
      floatTensor('c6', [], [0.4]),
      floatTensor('f6', [], [0.92]),
      int8Tensor('w6q', [8, 5], Int8Array.from(values(40, 13, 250))),
      floatTensor('w6s', [], [0.02]),
      int8Tensor('w6z', [], Int8Array.from([-2])),
      floatTensor('b6', [5], values(5, 14)),
      floatTensor('f7', [], [0.75]),
      floatTensor('wc7', [2, 3, 3, 3], values(54, 15)),
      floatTensor('bc7', [2], values(2, 16)),
    ],
    inputs: [valueInfo('x', DT.FLOAT, ['N', 8]), valueInfo('x4', DT.FLOAT, ['N', 3, 5, 6])],
    outputs: [
      valueInfo('z1', DT.FLOAT, ['N', 6]),
      valueInfo('z2', DT.FLOAT, ['N', 2, 4, 3]),
      valueInfo('z3', DT.FLOAT, ['N', 2, 5, 6]),
      valueInfo('t5', DT.FLOAT, ['N', 4]),
      valueInfo('z5', DT.FLOAT, ['N', 4]),
      valueInfo('z6', DT.FLOAT, ['N', 5]),
      valueInfo('z7', DT.FLOAT, ['N', 2, 5, 6]),
      valueInfo('z8', DT.FLOAT, ['N', 4]),
      valueInfo('z9', DT.FLOAT, ['N', 8]),
    ],
    metadata: {},
    docString: '',
  });
}

async function run(bytes: Uint8Array, n: number): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, graphOptimizationLevel: 'disabled' });
  try {
    const out = await session.run({
      x: new ort.Tensor('float32', values(n * 8, 20, 8), [n, 8]),
      x4: new ort.Tensor('float32', values(n * 90, 21, 8), [n, 3, 5, 6]),
    });
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
  } finally {
    await session.release();
  }
}

describe('constant shifts folded into biases', () => {
  it('moves shifts and offsets into the neighbouring biases, scales into the weights, and computes the same values', async () => {
    const source = model();
    const graph = new Graph(onnxProto.onnx.ModelProto.decode(source));
    const subsBefore = graph.nodes.filter((n) => n.opType === 'Sub').length;
    expect(foldShiftsIntoBiases(graph)).toEqual({ shiftsIn: 2, scalesOut: 2, offsetsOut: 3 });
    const subs = graph.nodes.filter((n) => n.opType === 'Sub');
    expect(subs).toHaveLength(subsBefore - 5);
    expect(subs.map((n) => n.output![0]).sort()).toEqual(['s5', 'y3']);
    // the per-channel Mul of B is no scalar scale, and y8 is read twice
    expect(
      graph.nodes
        .filter((n) => n.opType === 'Mul')
        .map((n) => n.output![0])
        .sort(),
    ).toEqual(['scaled', 'y8']);
    const [want, got] = [await run(source, 3), await run(encode(graph.model), 3)];
    for (const name of ['z1', 'z2', 'z3', 't5', 'z5', 'z6', 'z7', 'z8', 'z9']) {
      const w = want[name]!;
      const g = got[name]!;
      expect(g.length).toBe(w.length);
      for (let i = 0; i < w.length; i++) expect(Math.abs(g[i]! - w[i]!)).toBeLessThanOrEqual(2e-5 * Math.max(1, Math.abs(w[i]!)));
    }
  });
});
