/**
 * Dynamic int8 quantisation removed from a graph: every
 *   DynamicQuantizeLinear(A) -> MatMulInteger(Aq, Wq, Azp, Wzp) -> Cast -> Mul(scale(A) * scale(W))
 * becomes MatMul(A, W) with W = (Wq - Wzp) * scale(W). DynamicQuantizeLinear computes ONE scale
 * over its whole input, so in a batch each stream's result would depend on the other streams; with
 * the activation left in float each row is computed on its own.
 *
 * Two numeric forms of W:
 *   'float'      W dequantised here and stored as float32 (4x the weight bytes);
 *   'int8-weight' Wq kept as int8 in the file behind a DequantizeLinear node (the file stays
 *                small); onnxruntime's optimizer runs DequantizeLinear + MatMul as MatMulNBits,
 *                which quantises activations per block within each row (still one row at a time).
 * On the eval clips both forms give the transcripts of the source model, at the same speed here.
 */
import { DTYPE, dimsOf, floatTensor, Graph, tensorValues, type Node } from './graph.js';

export type WeightForm = 'float' | 'int8-weight';

export interface DequantizeReport {
  readonly matmuls: number;
  readonly quantizersRemoved: number;
}

export function removeDynamicQuantization(graph: Graph, form: WeightForm): DequantizeReport {
  const consumers = graph.consumers();
  const producers = graph.producers();
  const replaced = new Map<Node, Node[]>();
  let matmuls = 0;
  for (const mmi of graph.nodes) {
    if (mmi.opType !== 'MatMulInteger') continue;
    const [aq, wq, , wzp] = mmi.input as string[];
    const dql = producers.get(aq!);
    if (!dql || dql.opType !== 'DynamicQuantizeLinear') throw new Error(`${mmi.name}: A does not come from DynamicQuantizeLinear`);
    const cast = only(consumers.get(mmi.output![0]!), `${mmi.name} output`);
    if (cast.opType !== 'Cast') throw new Error(`${mmi.name}: expected Cast after MatMulInteger, found ${cast.opType}`);
    const mulOut = only(consumers.get(cast.output![0]!), `${cast.name} output`);
    if (mulOut.opType !== 'Mul') throw new Error(`${cast.name}: expected Mul after Cast, found ${mulOut.opType}`);
    const scaleName = mulOut.input!.find((i) => i !== cast.output![0]);
    const scaleMul = producers.get(scaleName!);
    if (!scaleMul || scaleMul.opType !== 'Mul') throw new Error(`${mulOut.name}: the scale is not a product of scales`);
    const wScaleName = scaleMul.input!.find((i) => i !== dql.output![1]);
    const wq8 = graph.constant(wq!);
    const wScale = graph.constant(wScaleName!);
    const wZero = wzp ? graph.constant(wzp) : undefined;
    if (!wq8 || !wScale) throw new Error(`${mmi.name}: weight or its scale is not a constant`);
    const a = dql.input![0]!;
    const wName = graph.fresh(`${wq}_float`);
    if (form === 'float') {
      graph.addInitializer(floatTensor(wName, dimsOf(wq8), dequantized(wq8, wScale, wZero)));
    } else {
      const dq: Node = {
        opType: 'DequantizeLinear',
        name: `${mmi.name}_dq`,
        input: [wq!, wScaleName!, ...(wzp ? [wzp] : [])],
        output: [wName],
      };
      replaced.set(mmi, [dq]);
    }
    const mm: Node = { opType: 'MatMul', name: `${mmi.name}_float`, input: [a, wName], output: [mulOut.output![0]!] };
    replaced.set(mmi, [...(replaced.get(mmi) ?? []), mm]);
    // The Mul that produced the output goes; the Cast, the scale product and the quantiser are left unread and pruned.
    replaced.set(mulOut, []);
    matmuls++;
  }
  const before = graph.nodes.filter((n) => n.opType === 'DynamicQuantizeLinear').length;
  graph.nodes = graph.nodes.flatMap((n) => replaced.get(n) ?? [n]);
  graph.sortTopologically();
  graph.prune();
  const after = graph.nodes.filter((n) => n.opType === 'DynamicQuantizeLinear').length;
  if (after !== 0) throw new Error(`${after} DynamicQuantizeLinear nodes are still in the graph`);
  return { matmuls, quantizersRemoved: before };
}

function only(list: Node[] | undefined, what: string): Node {
  if (!list || list.length !== 1) throw new Error(`${what}: expected one consumer, found ${list?.length ?? 0}`);
  return list[0]!;
}

/** (Wq - zero) * scale, with a per-tensor or per-output-column (last axis) scale and zero point. */
function dequantized(
  wq: Parameters<typeof tensorValues>[0],
  scale: Parameters<typeof tensorValues>[0],
  zero: Parameters<typeof tensorValues>[0] | undefined,
): Float32Array {
  if (wq.dataType !== DTYPE.INT8 && wq.dataType !== DTYPE.UINT8) throw new Error(`weight ${wq.name} is not int8/uint8`);
  const q = tensorValues(wq);
  const s = tensorValues(scale);
  const z = zero ? tensorValues(zero) : [0];
  const dims = dimsOf(wq);
  const cols = dims[dims.length - 1] ?? 1;
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) {
    const c = i % cols;
    const si = s.length === 1 ? s[0]! : s[c]!;
    const zi = z.length === 1 ? z[0]! : z[c]!;
    out[i] = Math.fround((q[i]! - zi) * si);
  }
  return out;
}
