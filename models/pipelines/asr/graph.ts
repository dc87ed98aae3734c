/**
 * An ONNX graph held for rewriting: nodes in order, initialisers by name, who produces and who
 * consumes each tensor, constant values (initialisers and Constant nodes), and dead-node removal.
 * The encoder rewrites (dequantize.ts, batchAxis.ts) work on this; nothing here knows a model.
 */
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';

export { floatTensor, int64Tensor } from '../common/onnx.js';

const { onnx } = onnxProto;
export type Node = onnxProto.onnx.INodeProto;
export type Tensor = onnxProto.onnx.ITensorProto;
export type Model = onnxProto.onnx.ModelProto;

export const DTYPE = { FLOAT: 1, UINT8: 2, INT8: 3, INT64: 7, BOOL: 9 } as const;

export function loadModel(path: string): Model {
  return onnx.ModelProto.decode(readFileSync(path));
}

export function encode(model: Model): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

export class Graph {
  readonly initializers = new Map<string, Tensor>();
  private readonly constantNodes = new Map<string, Tensor>();
  private serial = 0;

  constructor(readonly model: Model) {
    for (const t of model.graph!.initializer ?? []) this.initializers.set(t.name!, t);
    for (const n of this.nodes) {
      if (n.opType === 'Constant' && n.attribute?.[0]?.t) this.constantNodes.set(n.output![0]!, n.attribute[0].t);
    }
  }

  get nodes(): Node[] {
    return this.model.graph!.node!;
  }

  set nodes(list: Node[]) {
    this.model.graph!.node = list;
  }

  /** A fresh tensor name with a readable stem. */
  fresh(stem: string): string {
    return `${stem}__evx${this.serial++}`;
  }

  consumers(): Map<string, Node[]> {
    const out = new Map<string, Node[]>();
    for (const n of this.nodes) {
      for (const i of n.input ?? []) {
        if (!i) continue;
        const list = out.get(i) ?? [];
        list.push(n);
        out.set(i, list);
      }
    }
    return out;
  }

  producers(): Map<string, Node> {
    const out = new Map<string, Node>();
    for (const n of this.nodes) for (const o of n.output ?? []) out.set(o, n);
    return out;
  }

  /** The constant tensor behind a name (initialiser or Constant node), or undefined. */
  constant(name: string): Tensor | undefined {
    return this.initializers.get(name) ?? this.constantNodes.get(name);
  }

  /** The value of a one-element float constant behind a name, or undefined. */
  scalar(name: string | undefined | null): number | undefined {
    const t = name ? this.constant(name) : undefined;
    if (!t || t.dataType !== DTYPE.FLOAT) return undefined;
    const v = tensorValues(t);
    return v.length === 1 ? v[0] : undefined;
  }

  addInitializer(t: Tensor): void {
    this.model.graph!.initializer!.push(t);
    this.initializers.set(t.name!, t);
  }

  /** Drop nodes whose outputs nobody reads (graph outputs count as read), then unused initialisers. */
  prune(): void {
    const outputs = new Set((this.model.graph!.output ?? []).map((o) => o.name!));
    let changed = true;
    while (changed) {
      changed = false;
      const used = new Set<string>(outputs);
      for (const n of this.nodes) for (const i of n.input ?? []) used.add(i);
      const kept = this.nodes.filter((n) => (n.output ?? []).some((o) => used.has(o)));
      if (kept.length !== this.nodes.length) {
        this.nodes = kept;
        changed = true;
      }
    }
    const used = new Set<string>();
    for (const n of this.nodes) for (const i of n.input ?? []) used.add(i);
    this.model.graph!.initializer = this.model.graph!.initializer!.filter((t) => used.has(t.name!));
    for (const name of [...this.initializers.keys()]) if (!used.has(name)) this.initializers.delete(name);
  }

  /** Order nodes so every node follows the producers of its inputs (the rewrites append nodes). */
  sortTopologically(): void {
    const produced = new Map<string, Node>();
    for (const n of this.nodes) for (const o of n.output ?? []) produced.set(o, n);
    const done = new Set<Node>();
    const order: Node[] = [];
    const visit = (n: Node, depth: number) => {
      if (done.has(n)) return;
      if (depth > 100_000) throw new Error('graph has a cycle');
      done.add(n);
      for (const i of n.input ?? []) {
        const p = produced.get(i);
        if (p) visit(p, depth + 1);
      }
      order.push(n);
    };
    for (const n of this.nodes) visit(n, 0);
    this.nodes = order;
  }
}

/** Values of an int64/float/int8/uint8 tensor as plain numbers. */
export function tensorValues(t: Tensor): number[] {
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  switch (t.dataType) {
    case DTYPE.INT64:
      if (raw) return Array.from(new BigInt64Array(copy(raw).buffer), Number);
      return (t.int64Data ?? []).map((v) => Number(v));
    case DTYPE.FLOAT:
      if (raw) return Array.from(new Float32Array(copy(raw).buffer));
      return Array.from(t.floatData ?? []);
    case DTYPE.INT8:
      if (raw) return Array.from(new Int8Array(copy(raw).buffer));
      return Array.from(t.int32Data ?? []);
    case DTYPE.UINT8:
    case DTYPE.BOOL:
      if (raw) return Array.from(copy(raw));
      return Array.from(t.int32Data ?? []);
    default:
      throw new Error(`tensor ${t.name}: data type ${t.dataType} is not handled`);
  }
}

export function dimsOf(t: Tensor): number[] {
  return (t.dims ?? []).map((d) => Number(d));
}

function copy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

export function attrInts(n: Node, name: string): number[] | undefined {
  const a = n.attribute?.find((x) => x.name === name);
  return a ? (a.ints ?? []).map((v) => Number(v)) : undefined;
}

export function attrInt(n: Node, name: string): number | undefined {
  const a = n.attribute?.find((x) => x.name === name);
  return a ? Number(a.i) : undefined;
}
