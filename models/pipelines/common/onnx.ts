/**
 * Minimal ONNX graph writer over onnx-proto (protobufjs): initialisers, nodes, value infos and
 * model metadata. Enough for the small linear / MLP graphs the training pipelines export.
 */
import { writeFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export const DT = { FLOAT: 1, INT8: 3, INT64: 7 } as const;
export type ElemType = (typeof DT)[keyof typeof DT];

type Attr = number | number[] | string | { floats: number[] } | { ints: number[] };

export function floatTensor(name: string, dims: number[], data: Float32Array | number[]): onnxProto.onnx.ITensorProto {
  const arr = data instanceof Float32Array ? data : Float32Array.from(data);
  checkDims(name, dims, arr.length);
  return { name, dims, dataType: DT.FLOAT, rawData: littleEndian(arr) };
}

export function int8Tensor(name: string, dims: number[], data: Int8Array): onnxProto.onnx.ITensorProto {
  checkDims(name, dims, data.length);
  return { name, dims, dataType: DT.INT8, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export function int64Tensor(name: string, dims: number[], data: number[]): onnxProto.onnx.ITensorProto {
  const arr = BigInt64Array.from(data.map((x) => BigInt(x)));
  checkDims(name, dims, arr.length);
  return { name, dims, dataType: DT.INT64, rawData: littleEndian(arr) };
}

export function node(opType: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}): onnxProto.onnx.INodeProto {
  const attribute: onnxProto.onnx.IAttributeProto[] = Object.entries(attrs).map(([name, v]) => {
    if (typeof v === 'number') {
      return Number.isInteger(v) ? { name, type: 2, i: v } : { name, type: 1, f: v };
    }
    if (typeof v === 'string') return { name, type: 3, s: new TextEncoder().encode(v) };
    if (Array.isArray(v)) return { name, type: 7, ints: v };
    if ('floats' in v) return { name, type: 6, floats: v.floats };
    return { name, type: 7, ints: v.ints };
  });
  return { opType, input: inputs, output: outputs, name: `${opType}_${outputs[0] ?? ''}`, attribute };
}

/** A graph input/output; string dims are symbolic (dynamic). */
export function valueInfo(name: string, elemType: ElemType, dims: (number | string)[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export interface ModelSpec {
  readonly graphName: string;
  readonly nodes: onnxProto.onnx.INodeProto[];
  readonly initializers: onnxProto.onnx.ITensorProto[];
  readonly inputs: onnxProto.onnx.IValueInfoProto[];
  readonly outputs: onnxProto.onnx.IValueInfoProto[];
  /** Stored as model metadata_props (string -> string); read by the runtime. */
  readonly metadata: Record<string, string>;
  readonly docString: string;
  readonly opset?: number;
}

/** Serialise a model to ONNX bytes (IR version 8, default domain opset 13 unless given). */
export function encodeModel(spec: ModelSpec): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    producerName: 'edgevox-pipelines',
    producerVersion: '1',
    docString: spec.docString,
    graph: {
      name: spec.graphName,
      node: spec.nodes,
      initializer: spec.initializers,
      input: spec.inputs,
      output: spec.outputs,
    },
    metadataProps: Object.entries(spec.metadata).map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(model).finish();
}

export function writeModel(path: string, spec: ModelSpec): number {
  const bytes = encodeModel(spec);
  writeFileSync(path, bytes);
  return bytes.byteLength;
}

function checkDims(name: string, dims: number[], length: number): void {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (expected !== length) throw new Error(`tensor ${name}: dims ${dims.join('x')} need ${expected} values, got ${length}`);
}

function littleEndian(arr: Float32Array | BigInt64Array): Uint8Array {
  // Node runs on little-endian hosts only (x64/arm64); copy so the bytes are not a view of a pooled buffer.
  return new Uint8Array(arr.buffer.slice(arr.byteOffset, arr.byteOffset + arr.byteLength));
}
