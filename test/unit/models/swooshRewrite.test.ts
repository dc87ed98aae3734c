/**
 * The pipeline's Swoosh rewrite (models/pipelines/asr/swoosh.ts): the stable 12-node form
 * logaddexp(0, x - a) - k·x - c, and the 9-node form guarded by Where(... == inf), become a form
 * without Log (softplus's tail log(1 + e^-|s|) as a polynomial in Sigmoid(-|s| - ln 2)) whose values
 * agree within the polynomial's stated bound, over the whole range of x (large positive and negative
 * values included); a shape that differs is left alone.
 */
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { encode, Graph } from '../../../models/pipelines/asr/graph.js';
import { rewriteSwoosh, SOFTPLUS_TAIL } from '../../../models/pipelines/asr/swoosh.js';
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
function guardedModel(k = 0.08): Uint8Array {
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
      floatTensor('k', [], [k]),
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

/** Largest difference allowed: the polynomial's bound (5.6e-6) plus float32 rounding of values up to ~0.7. */
const TOLERANCE = 1e-5;
const REWRITTEN = ['Abs', 'Add', 'Add', 'Add', 'HardSigmoid', 'LeakyRelu', 'Mul', 'Mul', 'Mul', 'Mul', 'Sigmoid', 'Sub', 'Sub', 'Sub'];

describe('Swoosh activations without Log', () => {
  it("the polynomial for softplus's tail: P(z) within 5.6e-6 of 2·atanh(z) on [0, 1/3], so log(1 + e^-a) within it for every a >= 0", () => {
    const p = (z: number) => z * (SOFTPLUS_TAIL[0] + z * (SOFTPLUS_TAIL[1] + z * (SOFTPLUS_TAIL[2] + z * SOFTPLUS_TAIL[3])));
    let worst = 0;
    for (let i = 0; i <= 100_000; i++) {
      const z = i / 300_000;
      worst = Math.max(worst, Math.abs(p(z) - 2 * Math.atanh(z)));
    }
    expect(worst).toBeLessThan(5.6e-6);
    for (let a = 0; a <= 40; a += 0.01) {
      const z = 1 / (1 + Math.exp(a + Math.LN2));
      expect(Math.abs(p(z) - Math.log1p(Math.exp(-a)))).toBeLessThan(5.6e-6);
    }
  });

  it('rewrites the stable form without Log, with the same values within the bound', async () => {
    const source = swooshModel();
    const graph = new Graph(onnxProto.onnx.ModelProto.decode(source));
    expect(rewriteSwoosh(graph)).toEqual({ activations: 1, stable: 1, guarded: 0 });
    expect(graph.nodes.map((n) => n.opType).sort()).toEqual(REWRITTEN);
    const x = Float32Array.from({ length: 8 * 400 }, (_, i) => (i - 1600) / 16); // -100 .. 100
    const [want, got] = [await run(source, x), await run(encode(graph.model), x)];
    for (let i = 0; i < x.length; i++) {
      expect(Number.isFinite(got[i]!)).toBe(true);
      expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(TOLERANCE * Math.max(1, Math.abs(want[i]!)));
    }
  });

  it('rewrites the guarded form of the layers into the same nodes, without its overflow branch', async () => {
    const source = guardedModel();
    const graph = new Graph(onnxProto.onnx.ModelProto.decode(source));
    expect(rewriteSwoosh(graph)).toEqual({ activations: 1, stable: 0, guarded: 1 });
    expect(graph.nodes.map((n) => n.opType).sort()).toEqual(REWRITTEN);
    const x = Float32Array.from({ length: 8 * 400 }, (_, i) => (i - 1600) / 16); // -100 .. 100, exp overflows above 89
    const [want, got] = [await run(source, x), await run(encode(graph.model), x)];
    for (let i = 0; i < x.length; i++) {
      expect(Number.isFinite(got[i]!)).toBe(true);
      expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(TOLERANCE * Math.max(1, Math.abs(want[i]!)));
    }
  });

  it("with a k for which the polynomial's innermost step leaves [0, 1] (no HardSigmoid), a Mul and an Add, same values", async () => {
    const source = guardedModel(0.5);
    const graph = new Graph(onnxProto.onnx.ModelProto.decode(source));
    expect(rewriteSwoosh(graph)).toEqual({ activations: 1, stable: 0, guarded: 1 });
    const ops = graph.nodes.map((n) => n.opType);
    expect(ops).not.toContain('HardSigmoid');
    expect(ops).not.toContain('Log');
    const x = Float32Array.from({ length: 8 * 400 }, (_, i) => (i - 1600) / 16);
    const [want, got] = [await run(source, x), await run(encode(graph.model), x)];
    for (let i = 0; i < x.length; i++)
      expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(TOLERANCE * Math.max(1, Math.abs(want[i]!)));
  });

  it('leaves a graph alone when the shift is not taken from the same x', () => {
    const graph = new Graph(onnxProto.onnx.ModelProto.decode(swooshModel(true)));
    expect(rewriteSwoosh(graph)).toEqual({ activations: 0, stable: 0, guarded: 0 });
    expect(graph.nodes).toHaveLength(12);
  });
});
