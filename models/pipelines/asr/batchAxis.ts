/**
 * A fixed-batch-1 graph made batchable: the batch axis of every tensor is followed from the graph
 * inputs through each node (using the concrete shapes of a batch-1 run, probeShapes.ts), and every
 * place where the export froze the batch as a constant is rewritten to read it from the input:
 *
 *   Reshape / Expand with a constant target shape  -> the batch entry becomes the runtime batch size
 *   Concat with a constant (batch-1) operand       -> that operand is Expanded to the batch
 *   GatherElements with constant indices           -> the indices are Expanded to the batch
 *
 * A tensor's batch position is an axis and, when a Reshape folded the batch into a larger axis (as
 * the relative-position code does with [-1, 95]), the factor of that axis that comes before it.
 * An operator this file does not know, or a batch axis that an operation would mix with another
 * axis, stops the rewrite with an error naming the node: a graph is rewritten completely or not at
 * all. Equality with batch-1 runs is then checked numerically by the pipeline (checkBatch.ts).
 */
import { attrInt, attrInts, dimsOf, Graph, int64Tensor, tensorValues, type Node } from './graph.js';

/**
 * Where the batch sits in a tensor: `axis`; when that axis is longer than 1 at batch 1, a Reshape
 * folded the batch into it and `outer` rows of that axis come before it (row-major).
 */
export interface BatchPos {
  readonly axis: number;
  readonly outer: number;
}

export interface BatchRewriteReport {
  readonly reshapes: number;
  readonly expands: number;
  readonly concats: number;
  readonly gathers: number;
  readonly batchedTensors: number;
}

const ELEMENTWISE = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Pow',
  'Max',
  'Min',
  'Where',
  'Equal',
  'Less',
  'LessOrEqual',
  'Greater',
  'GreaterOrEqual',
  'And',
  'Or',
  'Abs',
  'Neg',
  'Exp',
  'Log',
  'Tanh',
  'Sigmoid',
  'Sqrt',
  'Reciprocal',
  'Relu',
  'Cast',
  'Identity',
  'Not',
  'Clip',
  'Erf',
  'Floor',
  'Ceil',
]);

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

export class BatchRewriter {
  private readonly pos = new Map<string, BatchPos>();
  private readonly added: Node[] = [];
  private readonly replace = new Map<Node, Node[]>();
  private readonly counts = { reshapes: 0, expands: 0, concats: 0, gathers: 0 };
  private batchTensor = '';
  private readonly scalars = new Map<number, string>();

  constructor(
    private readonly graph: Graph,
    private readonly shapes: Map<string, number[]>,
  ) {}

  /** Rewrite in place. `inputAxes`: the batch axis of every graph input. */
  run(inputAxes: Map<string, number>, batchSource: string): BatchRewriteReport {
    for (const [name, axis] of inputAxes) this.pos.set(name, { axis, outer: 1 });
    this.batchTensor = this.emit('Shape', [batchSource], 'batch_shape');
    this.batchTensor = this.emit('Slice', [this.batchTensor, this.int64([0]), this.int64([1])], 'batch_size');
    for (const n of this.graph.nodes) this.visit(n);
    this.graph.nodes = [...this.added, ...this.graph.nodes.flatMap((n) => this.replace.get(n) ?? [n])];
    this.graph.sortTopologically();
    this.graph.prune();
    this.updateSignature(inputAxes);
    return { ...this.counts, batchedTensors: this.pos.size };
  }

  /** The batch position of a tensor after the rewrite (graph outputs are checked by the caller). */
  positionOf(name: string): BatchPos | undefined {
    return this.pos.get(name);
  }

  /** Whether the batch shares its axis with other rows (a Reshape folded it in). */
  private folded(name: string, p: BatchPos): boolean {
    return this.shape(name)[p.axis] !== 1;
  }

  private shape(name: string): number[] {
    const s = this.shapes.get(name) ?? (this.graph.constant(name) ? dimsOf(this.graph.constant(name)!) : undefined);
    if (!s) throw new Error(`no probed shape for ${name}`);
    return s;
  }

  private visit(n: Node): void {
    const ins = (n.input ?? []).map((i) => (i ? this.pos.get(i) : undefined));
    if (!ins.some(Boolean)) return; // nothing batched flows in: a constant computation
    const out = n.output![0]!;
    const fail = (why: string): never => {
      throw new Error(`${n.opType} ${n.name}: ${why}`);
    };
    const set = (p: BatchPos, name = out): void => {
      this.pos.set(name, p);
    };
    const inRank = (i: number) => this.shape(n.input![i]!).length;
    switch (n.opType) {
      case 'Reshape':
        return this.reshape(n, ins[0] ?? fail('the shape input carries the batch'));
      case 'Expand':
        return this.expand(n, ins[0] ?? fail('the shape input carries the batch'));
      case 'Concat': {
        const axis = norm(attrInt(n, 'axis') ?? 0, this.shape(out).length);
        const p = this.agree(n, ins, this.shape(out).length);
        if (p.axis === axis) fail('concatenates along the batch axis');
        if (this.folded(out, p)) fail('concatenates a tensor whose batch is folded into another axis');
        const inputs = n.input!.map((name, i) => (ins[i] ? name : this.expandConstant(name, p.axis)));
        if (inputs.some((x, i) => x !== n.input![i])) {
          this.counts.concats++;
          this.replace.set(n, [{ ...n, input: inputs }]);
        }
        return set(p);
      }
      case 'GatherElements': {
        const p = ins[0] ?? fail('only the indices are batched');
        if (ins[1]) return set(this.agree(n, ins, this.shape(out).length));
        const axis = norm(attrInt(n, 'axis') ?? 0, this.shape(out).length);
        if (axis === p.axis) fail('gathers along the batch axis');
        this.counts.gathers++;
        this.replace.set(n, [
          { ...n, input: [n.input![0]!, this.expandConstant(n.input![1]!, p.axis, this.folded(n.input![0]!, p) ? p.outer : 0)] },
        ]);
        return set(p);
      }
      case 'Transpose': {
        const p = ins[0]!;
        const perm = attrInts(n, 'perm') ?? [...Array(inRank(0)).keys()].reverse();
        return set({ axis: perm.indexOf(p.axis), outer: p.outer });
      }
      case 'Unsqueeze': {
        const p = ins[0]!;
        const rank = this.shape(out).length;
        const axes = this.constInts(n.input![1]!, n).map((a) => norm(a, rank));
        let src = 0;
        for (let k = 0; k < rank; k++) {
          if (axes.includes(k)) continue;
          if (src === p.axis) return set({ axis: k, outer: p.outer });
          src++;
        }
        return fail('lost the batch axis');
      }
      case 'Squeeze': {
        const p = ins[0]!;
        const rank = inRank(0);
        const axes = n.input![1]
          ? this.constInts(n.input![1], n).map((a) => norm(a, rank))
          : this.shape(n.input![0]!).flatMap((d, i) => (d === 1 ? [i] : []));
        if (axes.includes(p.axis)) fail('squeezes the batch axis');
        return set({ axis: p.axis - axes.filter((a) => a < p.axis).length, outer: p.outer });
      }
      case 'Slice': {
        const p = ins[0]!;
        if (ins.slice(1).some(Boolean)) fail('slice bounds depend on the batch');
        const rank = inRank(0);
        const axes = n.input![3] ? this.constInts(n.input![3], n).map((a) => norm(a, rank)) : [...Array(rank).keys()];
        const k = axes.indexOf(p.axis);
        if (k >= 0) {
          const start = this.constInts(n.input![1]!, n)[k]!;
          const end = this.constInts(n.input![2]!, n)[k]!;
          if (start !== 0 || end < 1 || this.folded(n.input![0]!, p)) fail('slices the batch axis');
          if (end < 2 ** 31 - 1) fail('slices the batch axis to a fixed size');
        }
        return set(p);
      }
      case 'MatMul': {
        const r = this.shape(out).length;
        const [a, b] = ins;
        const ra = inRank(0);
        const rb = inRank(1);
        const pa = a && (a.axis === ra - 1 ? fail('the batch is in the contracted axis of A') : { axis: a.axis + r - ra, outer: a.outer });
        const pb = b && (b.axis === rb - 2 ? fail('the batch is in the contracted axis of B') : { axis: b.axis + r - rb, outer: b.outer });
        if (pa && pb && (pa.axis !== pb.axis || pa.outer !== pb.outer)) fail('A and B carry the batch on different axes');
        return set((pa ?? pb)!);
      }
      case 'Conv': {
        if (ins[1] || ins[2]) fail('the weights are batched');
        if (ins[0]!.axis !== 0 || ins[0]!.outer !== 1) fail('the batch is not the first axis');
        return set({ axis: 0, outer: 1 });
      }
      case 'Softmax': {
        const p = ins[0]!;
        if (norm(attrInt(n, 'axis') ?? -1, inRank(0)) === p.axis) fail('normalises over the batch axis');
        return set(p);
      }
      case 'ReduceMean':
      case 'ReduceSum':
      case 'ReduceMax': {
        const p = ins[0]!;
        const rank = inRank(0);
        const axes = (attrInts(n, 'axes') ?? (n.input![1] ? this.constInts(n.input![1], n) : [...Array(rank).keys()])).map((a) =>
          norm(a, rank),
        );
        if (axes.includes(p.axis)) fail('reduces over the batch axis');
        const keep = (attrInt(n, 'keepdims') ?? 1) === 1;
        return set({ axis: keep ? p.axis : p.axis - axes.filter((x) => x < p.axis).length, outer: p.outer });
      }
      default:
        if (ELEMENTWISE.has(n.opType!)) return set(this.agree(n, ins, this.shape(out).length));
        return fail('operator not supported by the batch rewrite');
    }
  }

  /** Batched inputs of a broadcasting op must agree; unbatched ones must broadcast over the batch axis. */
  private agree(n: Node, ins: (BatchPos | undefined)[], rank: number): BatchPos {
    let p: BatchPos | undefined;
    n.input!.forEach((name, i) => {
      const q = ins[i];
      if (!q) return;
      const aligned = { axis: q.axis + rank - this.shape(name).length, outer: q.outer };
      if (p && (p.axis !== aligned.axis || p.outer !== aligned.outer))
        throw new Error(`${n.opType} ${n.name}: inputs carry the batch on different axes`);
      p = aligned;
    });
    n.input!.forEach((name, i) => {
      if (ins[i] || !name) return;
      const s = this.shape(name);
      const k = p!.axis - (rank - s.length);
      if (k >= 0 && s[k] !== 1 && n.opType !== 'Concat')
        throw new Error(`${n.opType} ${n.name}: constant ${name} has ${s[k]} rows on the batch axis`);
    });
    return p!;
  }

  private reshape(n: Node, p: BatchPos): void {
    const inShape = this.shape(n.input![0]!);
    const outShape = this.shape(n.output![0]!);
    const pre = prod(inShape.slice(0, p.axis)) * p.outer;
    const target = this.constInts(n.input![1]!, n);
    // Prefer the same axis when a separate batch axis of size 1 fits there (adjacent 1s are ambiguous).
    let found: BatchPos | undefined;
    if (!this.folded(n.input![0]!, p) && outShape[p.axis] === 1 && prod(outShape.slice(0, p.axis)) === pre)
      found = { axis: p.axis, outer: 1 };
    for (let k = 0; !found && k < outShape.length; k++) {
      const before = prod(outShape.slice(0, k));
      if (before === pre && outShape[k] === 1) found = { axis: k, outer: 1 };
      else if (before <= pre && pre < before * outShape[k]! && pre % before === 0) found = { axis: k, outer: pre / before };
    }
    if (!found) throw new Error(`Reshape ${n.name}: cannot place the batch in ${JSON.stringify(outShape)}`);
    this.pos.set(n.output![0]!, found);
    if (target[found.axis] === -1) return; // -1 absorbs the batch
    this.counts.reshapes++;
    this.replace.set(n, [{ ...n, input: [n.input![0]!, this.scaledShape(target, found.axis)] }]);
  }

  private expand(n: Node, p: BatchPos): void {
    const rank = this.shape(n.output![0]!).length;
    const axis = p.axis + rank - this.shape(n.input![0]!).length;
    if (this.folded(n.input![0]!, p)) throw new Error(`Expand ${n.name}: the batch is folded into another axis`);
    const target = this.constInts(n.input![1]!, n);
    const k = axis - (rank - target.length);
    this.pos.set(n.output![0]!, { axis, outer: 1 });
    if (k < 0 || target[k] !== 1) throw new Error(`Expand ${n.name}: target ${JSON.stringify(target)} does not keep the batch axis at 1`);
    this.counts.expands++;
    this.replace.set(n, [{ ...n, input: [n.input![0]!, this.scaledShape(target, k)] }]);
  }

  /** A constant operand repeated over the batch (`outer` > 0: folded into its axis after `outer` rows). */
  private expandConstant(name: string, axis: number, outer = 0): string {
    const s = this.shape(name);
    if (outer === 0) {
      if (s[axis] !== 1) throw new Error(`constant ${name} has ${s[axis]} rows on the batch axis`);
      return this.emit('Expand', [name, this.scaledShape(s, axis)], `${name}_batched`);
    }
    const inner = s[axis]! / outer;
    const split = [...s.slice(0, axis), outer, 1, inner, ...s.slice(axis + 1)];
    const shaped = this.emit('Reshape', [name, this.int64(split)], `${name}_split`);
    const expanded = this.emit('Expand', [shaped, this.scaledShape(split, axis + 1)], `${name}_batched`);
    return this.emit('Reshape', [expanded, this.int64([...s.slice(0, axis), -1, ...s.slice(axis + 1)])], `${name}_merged`);
  }

  /** `dims` with entry k multiplied by the runtime batch size, as an int64 tensor computed in the graph. */
  private scaledShape(dims: number[], k: number): string {
    const parts: string[] = [];
    if (k > 0) parts.push(this.int64(dims.slice(0, k)));
    parts.push(dims[k] === 1 ? this.batchTensor : this.emit('Mul', [this.batchTensor, this.int64([dims[k]!])], 'batch_scaled'));
    if (k + 1 < dims.length) parts.push(this.int64(dims.slice(k + 1)));
    return parts.length === 1 ? parts[0]! : this.emit('Concat', parts, 'batch_shape', { axis: 0 });
  }

  private constInts(name: string, n: Node): number[] {
    const t = this.graph.constant(name);
    if (!t) throw new Error(`${n.opType} ${n.name}: ${name} is not a constant`);
    return tensorValues(t);
  }

  private int64(values: number[]): string {
    const key = values.join(',');
    const cached = this.scalars.get(key as never);
    if (cached) return cached;
    const name = this.graph.fresh('batch_const');
    this.graph.addInitializer(int64Tensor(name, [values.length], values));
    this.scalars.set(key as never, name);
    return name;
  }

  private emit(opType: string, inputs: string[], stem: string, attrs: { axis?: number } = {}): string {
    const out = this.graph.fresh(stem);
    this.added.push({
      opType,
      name: out,
      input: inputs,
      output: [out],
      attribute: attrs.axis === undefined ? [] : [{ name: 'axis', type: 2, i: attrs.axis }],
    });
    return out;
  }

  /** Graph inputs and outputs get a symbolic batch dimension 'N'; stale intermediate shapes go. */
  private updateSignature(inputAxes: Map<string, number>): void {
    const g = this.graph.model.graph!;
    for (const vi of g.input!) {
      const axis = inputAxes.get(vi.name!);
      if (axis !== undefined) vi.type!.tensorType!.shape!.dim![axis] = { dimParam: 'N' };
    }
    for (const vi of g.output!) {
      const p = this.pos.get(vi.name!);
      if (!p || this.folded(vi.name!, p)) throw new Error(`output ${vi.name} does not carry the batch on an axis of its own`);
      vi.type!.tensorType!.shape!.dim![p.axis] = { dimParam: 'N' };
    }
    g.valueInfo = [];
  }
}

function norm(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}
