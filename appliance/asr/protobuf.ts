/**
 * A minimal protobuf wire-format reader: enough to pull ModelProto.metadata_props out of an ONNX
 * file and the pieces out of a SentencePiece model without a protobuf dependency at run time.
 * Length-delimited fields are returned as views (no copy), so skipping an ONNX graph is free.
 */

export interface PbField {
  readonly field: number;
  readonly wireType: number;
  /** Varint value (wire type 0) as a number (exact below 2^53). */
  readonly varint: number;
  /** Bytes of a length-delimited (2) or fixed32/64 (5/1) field. */
  readonly bytes: Uint8Array;
}

/** Iterate the top-level fields of one message. Throws RangeError on malformed input. */
export function* pbFields(buf: Uint8Array): Generator<PbField> {
  let pos = 0;
  const empty = new Uint8Array(0);
  while (pos < buf.length) {
    const [key, p1] = readVarint(buf, pos);
    pos = p1;
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (wireType === 0) {
      const [v, p2] = readVarint(buf, pos);
      pos = p2;
      yield { field, wireType, varint: v, bytes: empty };
    } else if (wireType === 2) {
      const [len, p2] = readVarint(buf, pos);
      if (p2 + len > buf.length) throw new RangeError('protobuf: length-delimited field runs past the end');
      yield { field, wireType, varint: 0, bytes: buf.subarray(p2, p2 + len) };
      pos = p2 + len;
    } else if (wireType === 5 || wireType === 1) {
      const n = wireType === 5 ? 4 : 8;
      if (pos + n > buf.length) throw new RangeError('protobuf: fixed field runs past the end');
      yield { field, wireType, varint: 0, bytes: buf.subarray(pos, pos + n) };
      pos += n;
    } else {
      throw new RangeError(`protobuf: unsupported wire type ${wireType}`);
    }
  }
}

function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new RangeError('protobuf: truncated varint');
    const b = buf[pos++]!;
    result += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return [result, pos];
    mul *= 128;
  }
  throw new RangeError('protobuf: varint too long');
}

const utf8 = new TextDecoder('utf-8');

export function pbString(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

export function pbFloat(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getFloat32(0, true);
}

/** ONNX ModelProto.metadata_props (field 14, StringStringEntryProto {key = 1, value = 2}). */
export function onnxMetadata(model: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of pbFields(model)) {
    if (f.field !== 14 || f.wireType !== 2) continue;
    let key = '';
    let value = '';
    for (const e of pbFields(f.bytes)) {
      if (e.field === 1) key = pbString(e.bytes);
      else if (e.field === 2) value = pbString(e.bytes);
    }
    out.set(key, value);
  }
  return out;
}
