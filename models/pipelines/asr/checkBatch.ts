/**
 * The batch contract checked numerically: for a batch of B streams with different inputs and
 * states, every output row of one batched run must equal the same model run on that stream alone.
 * Returns the largest absolute difference over all outputs and rows.
 */
import * as ort from 'onnxruntime-node';
import type { Graph } from './graph.js';
import { encode } from './graph.js';

export interface BatchCheck {
  readonly batch: number;
  readonly maxAbsDiff: number;
  readonly worstOutput: string;
}

export async function checkBatchEquality(graph: Graph, batch: number, seed = 1): Promise<BatchCheck> {
  const session = await ort.InferenceSession.create(Buffer.from(encode(graph.model)), { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const g = graph.model.graph!;
    const axisOf = (dims: { dimParam?: string | null }[]) => dims.findIndex((d) => d.dimParam === 'N');
    let s = seed;
    const rnd = () => {
      s = (s * 1103515245 + 12345) % 2147483648;
      return s / 2147483648 - 0.5;
    };
    const rows: Record<string, ort.Tensor>[] = [];
    for (let b = 0; b < batch; b++) {
      const feeds: Record<string, ort.Tensor> = {};
      for (const input of g.input!) {
        const dims = input.type!.tensorType!.shape!.dim!.map((d) => (d.dimParam === 'N' ? 1 : Number(d.dimValue)));
        const n = dims.reduce((a, c) => a * c, 1);
        if (input.type!.tensorType!.elemType === 1) {
          const scale = input.name === 'x' ? 4 : 0.5;
          feeds[input.name!] = new ort.Tensor(
            'float32',
            Float32Array.from({ length: n }, () => rnd() * scale),
            dims,
          );
        } else {
          feeds[input.name!] = new ort.Tensor('int64', new BigInt64Array(n).fill(BigInt(16 * b)), dims);
        }
      }
      rows.push(feeds);
    }
    const single: ort.InferenceSession.ReturnType[] = [];
    for (const feeds of rows) single.push(await session.run(feeds));
    const stacked: Record<string, ort.Tensor> = {};
    for (const input of g.input!) {
      stacked[input.name!] = stack(
        rows.map((r) => r[input.name!]!),
        axisOf(input.type!.tensorType!.shape!.dim!),
      );
    }
    const batched = await session.run(stacked);
    let worst = 0;
    let worstOutput = '';
    for (const output of g.output!) {
      const axis = axisOf(output.type!.tensorType!.shape!.dim!);
      const t = batched[output.name!]!;
      const pre = t.dims.slice(0, axis).reduce((a, c) => a * c, 1);
      const post = t.dims.slice(axis + 1).reduce((a, c) => a * c, 1);
      for (let b = 0; b < batch; b++) {
        const alone = single[b]![output.name!]!.data as ArrayLike<number | bigint>;
        const data = t.data as ArrayLike<number | bigint>;
        for (let p = 0; p < pre; p++) {
          for (let q = 0; q < post; q++) {
            const d = Math.abs(Number(data[(p * batch + b) * post + q]) - Number(alone[p * post + q]));
            if (!(d <= worst)) {
              worst = Number.isNaN(d) ? Infinity : d;
              worstOutput = output.name!;
            }
          }
        }
      }
    }
    return { batch, maxAbsDiff: worst, worstOutput };
  } finally {
    await session.release();
  }
}

/** Stack batch-1 tensors along `axis` (row-major: each stream's slice sits between the leading rows). */
export function stack(tensors: ort.Tensor[], axis: number): ort.Tensor {
  const dims = [...tensors[0]!.dims];
  const pre = dims.slice(0, axis).reduce((a, c) => a * c, 1);
  const post = dims.slice(axis).reduce((a, c) => a * c, 1);
  const first = tensors[0]!.data as Float32Array;
  const out = new (first.constructor as Float32ArrayConstructor)(pre * post * tensors.length);
  tensors.forEach((t, b) => {
    const data = t.data as Float32Array;
    for (let p = 0; p < pre; p++) out.set(data.subarray(p * post, (p + 1) * post), (p * tensors.length + b) * post);
  });
  dims[axis] = dims[axis]! * tensors.length;
  return new ort.Tensor(tensors[0]!.type as 'float32', out as Float32Array, dims);
}
