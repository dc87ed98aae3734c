/**
 * The pipeline's Swoosh rewrite (models/pipelines/asr/swoosh.ts): the stable 12-node form
 * logaddexp(0, x - a) - k·x - c, and the 9-node form guarded by Where(... == inf), become an 8-node
 * form with the same values, over the whole range of x (large positive and negative values
 * included); a shape that differs is left alone.
 */
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { encode, Graph } from '../../../models/pipelines/asr/graph.js';
import { rewriteSwoosh } from '../../../models/pipelines/asr/swoosh.js';
import { DT, encodeModel, floatTensor, node, valueInfo } from '../../../models/pipelines/common/onnx.js';

/** SwooshL (a 4, k 0.08, c 0.035) as zipformer's ONNX export writes it; `oddShift` breaks the pattern. */
function swooshModel(oddShift = false): Uint8Array {
  return encodeModel({
    graphName: 'swoosh',
    nodes: [
      node('Mul', ['x', 'k'], ['mul']),
      node('Sub', [oddShift ? 'w' : 'x', 'a'], ['s']),
      node('Sub', ['zero', 's'], ['negS']),
      node('Max', ['zero', 's'], ['max']),
      node('Abs', ['negS'], ['abs']),
      node('Neg', ['abs'], ['neg']),
      node('Exp', ['neg'], ['exp']),
      node('Add', ['one', 'exp'], ['add']),
      node('Log', ['add'], ['log']),
      node('Add', ['max', 'log'], ['add1']),
      node('Sub', ['add1', 'mul'], ['sub2']),
      node('Sub', ['sub2', 'c'], ['y']),
    ],
    initializers: [
      floatTensor('k', [], [0.08]),
      floatTensor('a', [], [4]),
      floatTensor('c', [], [0.035]),
      floatTensor('zero', [], [0]),
      floatTensor('one', [], [1]),
      floatTensor('w', [1, 8], [0, 1, 2, 3, 4, 5, 6, 7]),
    ],
    inputs: [valueInfo('x', DT.FLOAT, ['N', 8])],
    outputs: [valueInfo('y', DT.FLOAT, ['N', 8])],
    metadata: {},
    docString: '',
  });
}

/** SwooshR (a 1, k 0.08, c 0.313) in the guarded form of zipformer's layers: log(1 + exp(s)), s where that is inf. */
function guardedModel(): Uint8Array {
  return encodeModel({
    graphName: 'swoosh-guarded',
    nodes: [
      node('Sub', ['x', 'a'], ['s']),
      node('Exp', ['s'], ['exp']),
      node('Add', ['exp', 'one'], ['add']),
      node('Log', ['add'], ['log']),
      node('Equal', ['log', 'inf'], ['isInf']),
      node('Where', ['isInf', 's', 'log'], ['softplus']),
      node('Mul', ['x', 'k'], ['mul']),
      node('Sub', ['softplus', 'mul'], ['sub2']),
      node('Sub', ['sub2', 'c'], ['y']),
    ],
    initializers: [
      floatTensor('k', [], [0.08]),
      floatTensor('a', [], [1]),
      floatTensor('c', [], [0.313261687]),
      floatTensor('one', [], [1]),
      floatTensor('inf', [], [Infinity]),
    ],
    inputs: [valueInfo('x', DT.FLOAT, ['N', 8])],
    outputs: [valueInfo('y', DT.FLOAT, ['N', 8])],
    metadata: {},
    docString: '',
  });
}

async function run(bytes: Uint8Array, x: Float32Array): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
  try {
    return (await session.run({ x: new ort.Tensor('float32', x, [x.length / 8, 8]) })).y!.data as Float32Array;
  } finally {
    await session.release();
  }
}

describe('Swoosh activations in fewer passes', () => {
  it('rewrites the stable form into 8 nodes that compute the same values', async () => {
    const source = swooshModel();
    const graph = new Graph(onnxProto.onnx.ModelProto.decode(source));
    expect(rewriteSwoosh(graph)).toEqual({ activations: 1, stable: 1, guarded: 0 });
    expect(graph.nodes).toHaveLength(8);
    expect(graph.nodes.map((n) => n.opType)).toContain('Sigmoid');
    const x = Float32Array.from({ length: 8 * 400 }, (_, i) => (i - 1600) / 16); // -100 .. 100
    const [want, got] = [await run(source, x), await run(encode(graph.model), x)];
    for (let i = 0; i < x.length; i++) {
      expect(Number.isFinite(got[i]!)).toBe(true);
      expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want[i]!)));
    }
  });

  it('rewrites the guarded form of the layers into the same 8 nodes, without its overflow branch', async () => {
    const source = guardedModel();
    const graph = new Graph(onnxProto.onnx.ModelProto.decode(source));
    expect(rewriteSwoosh(graph)).toEqual({ activations: 1, stable: 0, guarded: 1 });
    expect(graph.nodes.map((n) => n.opType).sort()).toEqual(['Abs', 'LeakyRelu', 'Log', 'Mul', 'Sigmoid', 'Sub', 'Sub', 'Sub']);
    const x = Float32Array.from({ length: 8 * 400 }, (_, i) => (i - 1600) / 16); // -100 .. 100, exp overflows above 89
    const [want, got] = [await run(source, x), await run(encode(graph.model), x)];
    for (let i = 0; i < x.length; i++) {
      expect(Number.isFinite(got[i]!)).toBe(true);
      expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want[i]!)));
    }
  });

  it('leaves a graph alone when the shift is not taken from the same x', () => {
    const graph = new Graph(onnxProto.onnx.ModelProto.decode(swooshModel(true)));
    expect(rewriteSwoosh(graph)).toEqual({ activations: 0, stable: 0, guarded: 0 });
    expect(graph.nodes).toHaveLength(12);
  });
});
