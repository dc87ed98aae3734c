/**
 * Constant shifts moved into the biases of the neighbouring linear layers, where they cost nothing:
 *
 *   shift in:   t = Add(MatMul(..), bias) or Conv(.., bias);  s = Sub(t, a)       (t read only there)
 *           ->  s = Add(MatMul(..), bias - a) or Conv(.., bias - a)
 *               also through data movement (Transpose, Reshape, ...) and sums between the layer and s
 *   scale out:  y = Mul(v, f);  z = MatMul(y, W) or Conv(y, W, ..)                  (y read only there)
 *           ->  z = MatMul(v, f·W) or Conv(v, f·W, ..)  (f·W: a float weight scaled, or the one
 *               scale of a DequantizeLinear weight)
 *   offset out: y = Sub(v, c);  z = Add(MatMul(y, W), bias)                         (y read only there)
 *           ->  z = Add(MatMul(v, W), bias - c·Σₖ W[k, n])
 *               and likewise a Conv(y, W, bias) without padding: bias - c·Σ W[o, ·, ·, ·]
 *
 * Each removed Sub or Mul was a full pass over its tensor; swoosh.ts leaves all three around every
 * activation (scales are folded before offsets, so an offset meets the layer's scaled weights).
 * A padded Conv is left alone (at its borders the padding zeros are not shifted), and so is any
 * other consumer, a weight that is not a constant (or a DequantizeLinear of one with a single
 * scale and zero point), and a tensor read by more than the one node. The sums are taken in
 * float64 and stored as float32, so results move by float32 rounding; through a MatMul that
 * onnxruntime runs as MatMulNBits, whose activations are quantised per block of each row, the
 * shifted activation is quantised a little differently. The export's batch check and the
 * transcript and WER checks are on the result.
 */
import { attrInts, DTYPE, dimsOf, floatTensor, Graph, tensorValues, type Node } from './graph.js';

/** Operators that only move or relabel values, so a scalar added before them is added after. */
const MOVES = new Set(['Transpose', 'Reshape', 'Squeeze', 'Unsqueeze', 'Identity']);

export interface BiasFoldReport {
  /** Shifts `Sub(t, a)` taken into the bias of the layer producing t. */
  readonly shiftsIn: number;
  /** Scales `Mul(y, f)` taken into the weights of the linear layer reading y. */
  readonly scalesOut: number;
  /** Offsets `Sub(y, c)` taken into the bias of the linear layer reading y. */
  readonly offsetsOut: number;
}

export function foldShiftsIntoBiases(graph: Graph): BiasFoldReport {
  const floats = (name: string | undefined | null) => {
    const t = name ? graph.initializers.get(name) : undefined;
    return t && t.dataType === DTYPE.FLOAT ? { values: tensorValues(t), dims: dimsOf(t) } : undefined;
  };
  /** Replace input `i` of `n` with a new initialiser holding `bias[j] + delta[j]`. */
  const rebias = (n: Node, i: number, bias: number[], dims: number[], delta: (j: number) => number) => {
    const name = graph.fresh(`${n.name}_bias`);
    graph.addInitializer(
      floatTensor(
        name,
        dims,
        Float32Array.from(bias, (b, j) => b + delta(j)),
      ),
    );
    n.input![i] = name;
  };
  const dropped = new Set<Node>();

  let consumers = graph.consumers();
  let producers = graph.producers();
  const graphOutputs = new Set((graph.model.graph!.output ?? []).map((o) => o.name!));
  /** `name` is read by `n` alone (and is not a graph output, whose value must not move). */
  const readOnlyBy = (name: string, n: Node) => {
    const users = consumers.get(name) ?? [];
    return users.length === 1 && users[0] === n && !graphOutputs.has(name);
  };
  /**
   * The layer whose bias can take a constant added to `t`: t's producer when it has a bias, else
   * through data movement (a scalar commutes with it) or either operand of a sum; each tensor on
   * the way read by the one node.
   */
  const shiftTarget = (t: string, reader: Node): Node | undefined => {
    const p = producers.get(t);
    if (!p || !readOnlyBy(t, reader)) return undefined;
    if (MOVES.has(p.opType!)) return shiftTarget(p.input![0]!, p);
    if (p.opType === 'Conv' || (p.opType === 'Add' && p.input!.some((i) => graph.initializers.has(i)))) return p;
    if (p.opType === 'Add') return shiftTarget(p.input![1]!, p) ?? shiftTarget(p.input![0]!, p);
    return undefined;
  };
  let shiftsIn = 0;
  for (const sub of graph.nodes) {
    const a = sub.opType === 'Sub' ? graph.scalar(sub.input![1]) : undefined;
    const t = sub.input?.[0];
    const layer = a !== undefined && t && !graphOutputs.has(sub.output![0]!) ? shiftTarget(t, sub) : undefined;
    const index = layer ? biasInput(graph, layer) : undefined;
    const bias = index === undefined ? undefined : floats(layer!.input![index]);
    if (!bias) continue;
    rebias(layer!, index!, bias.values, bias.dims, () => -a!);
    for (const reader of consumers.get(sub.output![0]!) ?? []) {
      reader.input = reader.input!.map((i) => (i === sub.output![0] ? t! : i));
    }
    dropped.add(sub);
    shiftsIn++;
  }
  graph.nodes = graph.nodes.filter((n) => !dropped.has(n));

  consumers = graph.consumers();
  producers = graph.producers();
  /** A new float initialiser: `t`'s values times f. */
  const scaled = (stem: string, values: number[], dims: number[], f: number) => {
    const name = graph.fresh(stem);
    graph.addInitializer(
      floatTensor(
        name,
        dims,
        Float32Array.from(values, (v) => v * f),
      ),
    );
    return name;
  };
  let scalesOut = 0;
  for (const mul of graph.nodes) {
    if (mul.opType !== 'Mul') continue;
    const [p, q] = mul.input as string[];
    const f = graph.scalar(q) ?? graph.scalar(p);
    const v = graph.scalar(q) !== undefined ? p : q;
    const y = mul.output![0]!;
    const layer = consumers.get(y)?.[0];
    if (f === undefined || !v || !layer || !readOnlyBy(y, layer) || layer.input![0] !== y) continue;
    const wName = layer.input![1]!;
    if (layer.opType === 'Conv' || layer.opType === 'MatMul') {
      const w = floats(wName);
      const dq = producers.get(wName);
      if (w && readOnlyBy(wName, layer)) {
        layer.input![1] = scaled(`${layer.name}_weight`, w.values, w.dims, f);
      } else if (layer.opType === 'MatMul' && dq?.opType === 'DequantizeLinear' && readOnlyBy(wName, layer)) {
        const scale = floats(dq.input![1]);
        if (!scale || scale.values.length !== 1) continue;
        dq.input![1] = scaled(`${dq.name}_scale`, scale.values, scale.dims, f);
      } else continue;
    } else continue;
    layer.input![0] = v;
    dropped.add(mul);
    scalesOut++;
  }
  graph.nodes = graph.nodes.filter((n) => !dropped.has(n));

  consumers = graph.consumers();
  producers = graph.producers();
  let offsetsOut = 0;
  for (const sub of graph.nodes) {
    const c = sub.opType === 'Sub' ? graph.scalar(sub.input![1]) : undefined;
    const y = sub.output?.[0];
    const layer = y ? consumers.get(y)?.[0] : undefined;
    if (c === undefined || !layer || !readOnlyBy(y!, layer) || layer.input![0] !== y) continue;
    let sums: Float64Array | undefined;
    let biasNode: Node | undefined;
    let biasIndex: number | undefined;
    if (layer.opType === 'MatMul') {
      const w = constantMatrix(graph, producers, layer.input![1]!);
      const out = consumers.get(layer.output![0]!)?.[0];
      const add = out?.opType === 'Add' && readOnlyBy(layer.output![0]!, out) ? out : undefined;
      if (!w || !add) continue;
      const [p, q] = add.input as string[];
      biasIndex = p === layer.output![0] ? 1 : q === layer.output![0] ? 0 : undefined;
      if (biasIndex === undefined) continue;
      sums = new Float64Array(w.cols);
      for (let k = 0; k < w.rows; k++) for (let j = 0; j < w.cols; j++) sums[j]! += w.values[k * w.cols + j]!;
      biasNode = add;
    } else if (layer.opType === 'Conv' && unpadded(layer)) {
      const w = floats(layer.input![1]);
      if (!w) continue;
      const outChannels = w.dims[0]!;
      const per = w.values.length / outChannels;
      sums = new Float64Array(outChannels);
      for (let o = 0; o < outChannels; o++) for (let j = 0; j < per; j++) sums[o]! += w.values[o * per + j]!;
      biasNode = layer;
      biasIndex = biasInput(graph, layer);
      if (biasIndex === undefined) continue;
    } else continue;
    const bias = floats(biasNode.input![biasIndex]);
    if (!bias || bias.values.length !== sums.length) continue;
    const s = sums;
    rebias(biasNode, biasIndex, bias.values, bias.dims, (j) => -c * s[j]!);
    layer.input![0] = sub.input![0]!;
    dropped.add(sub);
    offsetsOut++;
  }
  graph.nodes = graph.nodes.filter((n) => !dropped.has(n));
  graph.prune();
  return { shiftsIn, scalesOut, offsetsOut };
}

/**
 * Which input of a layer is its constant bias: Add(x, bias) either way round, or a Conv's third
 * input (a Conv without one gets a zero bias, which changes nothing until a shift is added to it).
 */
function biasInput(graph: Graph, layer: Node): number | undefined {
  if (layer.opType === 'Add') {
    const [p, q] = layer.input as string[];
    if (graph.initializers.has(q!)) return 1;
    if (graph.initializers.has(p!)) return 0;
    return undefined;
  }
  if (layer.opType !== 'Conv') return undefined;
  if (!layer.input![2]) {
    const w = graph.initializers.get(layer.input![1]!);
    if (!w) return undefined;
    const outChannels = dimsOf(w)[0]!;
    const zero = graph.fresh(`${layer.name}_bias`);
    graph.addInitializer(floatTensor(zero, [outChannels], new Float32Array(outChannels)));
    layer.input![2] = zero;
  }
  return 2;
}

/** A Conv whose every output reads only real inputs: no padding, explicit or automatic. */
function unpadded(conv: Node): boolean {
  const autoPad = conv.attribute?.find((a) => a.name === 'auto_pad')?.s;
  const mode = autoPad ? new TextDecoder().decode(autoPad) : 'NOTSET';
  return (mode === 'NOTSET' || mode === 'VALID') && (attrInts(conv, 'pads') ?? []).every((p) => p === 0);
}

/** A [rows, cols] weight: a float constant, or DequantizeLinear of an int8/uint8 one with one scale and zero point. */
function constantMatrix(
  graph: Graph,
  producers: Map<string, Node>,
  name: string,
): { values: number[]; rows: number; cols: number } | undefined {
  const direct = graph.initializers.get(name);
  let values: number[] | undefined;
  let dims: number[] | undefined;
  if (direct && direct.dataType === DTYPE.FLOAT) {
    values = tensorValues(direct);
    dims = dimsOf(direct);
  } else {
    const dq = producers.get(name);
    const q = dq?.opType === 'DequantizeLinear' ? graph.constant(dq.input![0]!) : undefined;
    const scale = dq ? graph.constant(dq.input![1]!) : undefined;
    const zeroT = dq?.input![2] ? graph.constant(dq.input[2]) : undefined;
    if (!q || !scale || (dq!.input![2] && !zeroT)) return undefined;
    const [s] = tensorValues(scale);
    const zeros = zeroT ? tensorValues(zeroT) : [0];
    if (tensorValues(scale).length !== 1 || zeros.length !== 1) return undefined;
    values = tensorValues(q).map((v) => (v - zeros[0]!) * s!);
    dims = dimsOf(q);
  }
  if (dims.length !== 2) return undefined;
  return { values, rows: dims[0]!, cols: dims[1]! };
}
