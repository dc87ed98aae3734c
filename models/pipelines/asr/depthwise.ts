/**
 * Depthwise 1-D convolutions written as 2-D ones. A Conv over [N, C, L] with one filter per
 * channel (group = C, weight [C, 1, K]) becomes
 *
 *   Unsqueeze(axis 2) -> Conv over [N, C, 1, L] (weight [C, 1, 1, K], kernel 1×K) -> Squeeze(axis 2)
 *
 * The same products and sums: only the kernel that runs them changes. onnxruntime's CPU provider
 * runs a grouped 1-D Conv as one small matrix product per channel; the 2-D form is taken by its NCHWc
 * layout transformer (optimisation level "all"), which runs it with MLAS's vectorised depthwise
 * kernel, blocks of channels at a time, and the cost per stream falls as streams are stacked. The
 * sums run in another order, so values may differ from the 1-D form in the last bits; the pipeline's
 * batch check and the transcript and WER checks cover the result. Nothing here knows a model.
 */
import { attrInt, attrInts, dimsOf, Graph, int64Tensor, type Node } from './graph.js';

export interface DepthwiseReport {
  readonly convolutions: number;
}

export function depthwiseConvAs2d(graph: Graph): DepthwiseReport {
  const axis = graph.fresh('depthwise_axis');
  let convolutions = 0;
  const out: Node[] = [];
  for (const node of graph.nodes) {
    const weight = node.opType === 'Conv' ? graph.constant(node.input![1]!) : undefined;
    const dims = weight ? dimsOf(weight) : [];
    const group = attrInt(node, 'group') ?? 1;
    if (!weight || dims.length !== 3 || dims[1] !== 1 || group !== dims[0] || group < 2) {
      out.push(node);
      continue;
    }
    const weight2d = graph.fresh(`${weight.name}_2d`);
    graph.addInitializer({ ...weight, name: weight2d, dims: [dims[0], 1, 1, dims[2]!] });
    const input2d = graph.fresh(`${node.name}_in`);
    const output2d = graph.fresh(`${node.name}_out`);
    const pads = attrInts(node, 'pads') ?? [0, 0];
    out.push(
      { opType: 'Unsqueeze', name: `${node.name}_to2d`, input: [node.input![0]!, axis], output: [input2d] },
      {
        opType: 'Conv',
        name: `${node.name}_2d`,
        input: [input2d, weight2d, ...node.input!.slice(2)],
        output: [output2d],
        attribute: [
          { name: 'group', type: 2, i: group },
          { name: 'kernel_shape', type: 7, ints: [1, dims[2]!] },
          { name: 'pads', type: 7, ints: [0, pads[0] ?? 0, 0, pads[1] ?? 0] },
          { name: 'strides', type: 7, ints: [1, attrInts(node, 'strides')?.[0] ?? 1] },
          { name: 'dilations', type: 7, ints: [1, attrInts(node, 'dilations')?.[0] ?? 1] },
        ],
      },
      { opType: 'Squeeze', name: `${node.name}_to1d`, input: [output2d, axis], output: [node.output![0]!] },
    );
    convolutions++;
  }
  if (convolutions > 0) graph.addInitializer(int64Tensor(axis, [1], [2]));
  graph.nodes = out;
  graph.prune();
  return { convolutions };
}
