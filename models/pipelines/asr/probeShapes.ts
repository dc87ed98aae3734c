/**
 * The concrete shape of every tensor in a graph at batch 1: the graph is run once by onnxruntime
 * with every node output made a graph output, on zero inputs of the declared shapes. The batch
 * rewrite uses these shapes to see where the batch axis goes through each Reshape.
 */
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { encode, type Graph } from './graph.js';

const { onnx } = onnxProto;
const ELEM: Record<number, ort.Tensor.Type> = { 1: 'float32', 7: 'int64', 6: 'int32', 9: 'bool' };

export async function probeShapes(graph: Graph): Promise<Map<string, number[]>> {
  const model = onnx.ModelProto.decode(encode(graph.model));
  const g = model.graph!;
  const declared = new Set(g.output!.map((o) => o.name!));
  for (const n of g.node!) {
    for (const o of n.output ?? []) if (o && !declared.has(o)) g.output!.push({ name: o });
  }
  const session = await ort.InferenceSession.create(Buffer.from(encode(model)), {
    graphOptimizationLevel: 'disabled',
    intraOpNumThreads: 1,
  });
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of g.input!) {
      const t = input.type!.tensorType!;
      const dims = t.shape!.dim!.map((d) => Number(d.dimValue ?? 1) || 1);
      const type = ELEM[t.elemType!];
      if (!type) throw new Error(`input ${input.name}: element type ${t.elemType} is not handled`);
      const size = dims.reduce((a, b) => a * b, 1);
      const data =
        type === 'float32'
          ? new Float32Array(size)
          : type === 'int64'
            ? new BigInt64Array(size)
            : type === 'int32'
              ? new Int32Array(size)
              : new Uint8Array(size);
      feeds[input.name!] = new ort.Tensor(type, data as never, dims);
    }
    const out = await session.run(feeds);
    const shapes = new Map<string, number[]>();
    for (const [name, t] of Object.entries(out)) shapes.set(name, [...t.dims]);
    for (const input of g.input!) shapes.set(input.name!, [...feeds[input.name!]!.dims]);
    return shapes;
  } finally {
    await session.release();
  }
}
