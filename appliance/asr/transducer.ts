/**
 * The three sessions of a streaming zipformer2 transducer (encoder, stateless decoder, joiner),
 * loaded once and shared by every stream. Everything the engine needs to know about the model is
 * read from the model itself: the encoder's state tensors (names, dtypes, shapes) from its inputs,
 * the chunk geometry (T, decode_chunk_len) and model_type from its ONNX metadata, the decoder's
 * context size from the decoder metadata, dimensions from the output shapes.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { evxError } from '../errors.js';
import { loadSession, releaseSession, type LoadedSession, type SessionOptions } from '../inference/sessions.js';
import type { AsrModelFiles } from './modelFiles.js';
import { onnxMetadata } from './protobuf.js';
import { TokenTable } from './tokens.js';

/**
 * Joiner metadata key (value "1") set by models/pipelines/asr on a joiner whose rows are computed
 * independently of each other (no per-call activation quantisation): several frames of a stream
 * may then be joined in one call with the results of one call per frame.
 */
export const JOINER_ROWS_INDEPENDENT_KEY = 'rows_independent';

export interface EncoderStateSpec {
  readonly name: string;
  readonly outputName: string;
  readonly type: 'float32' | 'int64';
  /** Shape for one stream (the batch axis, if any, is 1). */
  readonly dims: readonly number[];
  readonly size: number;
  /** The axis that stacks streams, when the encoder takes a dynamic batch; else undefined. */
  readonly batchAxis: number | undefined;
}

export interface TransducerGeometry {
  /** Fbank frames per encoder call (metadata T). */
  readonly chunkFrames: number;
  /** Fbank frames the window advances per call (metadata decode_chunk_len). */
  readonly chunkShift: number;
  /** Encoder frames produced per call. */
  readonly encoderFramesPerChunk: number;
  /** Fbank frames per encoder frame (chunkShift / encoderFramesPerChunk). */
  readonly subsampling: number;
  readonly featureDim: number;
  readonly encoderDim: number;
  readonly decoderDim: number;
  readonly contextSize: number;
  readonly vocabSize: number;
  /** True when the encoder accepts more than one stream per call (dynamic batch axis). */
  readonly encoderBatchable: boolean;
  /** True when the joiner's rows do not depend on each other (metadata JOINER_ROWS_INDEPENDENT_KEY). */
  readonly joinerRowsIndependent: boolean;
}

export class TransducerModel {
  readonly files: AsrModelFiles;
  readonly encoder: LoadedSession;
  readonly decoder: LoadedSession;
  readonly joiner: LoadedSession;
  readonly tokens: TokenTable;
  readonly geometry: TransducerGeometry;
  readonly states: readonly EncoderStateSpec[];
  readonly metadata: ReadonlyMap<string, string>;
  private closed = false;

  private constructor(
    files: AsrModelFiles,
    sessions: [LoadedSession, LoadedSession, LoadedSession],
    tokens: TokenTable,
    meta: Map<string, string>,
    decoderMeta: Map<string, string>,
    joinerMeta: Map<string, string>,
  ) {
    this.files = files;
    [this.encoder, this.decoder, this.joiner] = sessions;
    this.tokens = tokens;
    this.metadata = meta;
    const enc = this.encoder.session;
    const x = tensorMeta(enc, 'input', 'x', files.encoder);
    const encOut = tensorMeta(enc, 'output', 'encoder_out', files.encoder);
    if (meta.get('model_type') !== undefined && meta.get('model_type') !== 'zipformer2') {
      throw contract(files.encoder, `model_type is ${meta.get('model_type')}, expected zipformer2`);
    }
    const T = intMeta(meta, 'T', files.encoder);
    const shift = intMeta(meta, 'decode_chunk_len', files.encoder);
    const featureDim = numericDim(x.shape[2], 'x dim 2', files.encoder);
    if (typeof x.shape[1] === 'number' && x.shape[1] !== T) {
      throw contract(files.encoder, `input x has ${x.shape[1]} frames but metadata T is ${T}`);
    }
    const encFrames = numericDim(encOut.shape[1], 'encoder_out dim 1', files.encoder);
    const encoderDim = numericDim(encOut.shape[2], 'encoder_out dim 2', files.encoder);
    const specs: EncoderStateSpec[] = [];
    for (const m of enc.inputMetadata) {
      if (m.name === 'x') continue;
      if (!m.isTensor || (m.type !== 'float32' && m.type !== 'int64'))
        throw contract(files.encoder, `state ${m.name} is not float32/int64`);
      // A symbolic dimension is the batch axis of a batchable encoder (exactly one allowed).
      const symbolic = m.shape.flatMap((d, i) => (typeof d === 'number' ? [] : [i]));
      if (symbolic.length > 1) throw contract(files.encoder, `state ${m.name} has ${symbolic.length} symbolic dims; only the batch may be`);
      const batchAxis = symbolic[0];
      const dims = m.shape.map((d, i) => (i === batchAxis ? 1 : numericDim(d, `${m.name} dim ${i}`, files.encoder)));
      const outputName = `new_${m.name}`;
      if (!enc.outputNames.includes(outputName)) throw contract(files.encoder, `state ${m.name} has no output ${outputName}`);
      specs.push({ name: m.name, outputName, type: m.type, dims, size: dims.reduce((a, b) => a * b, 1), batchAxis });
    }
    this.states = specs;
    const batchDim = x.shape[0];
    const decOut = tensorMeta(this.decoder.session, 'output', 'decoder_out', files.decoder);
    const logit = tensorMeta(this.joiner.session, 'output', 'logit', files.joiner);
    const contextSize = Number(decoderMeta.get('context_size') ?? '2');
    this.geometry = {
      chunkFrames: T,
      chunkShift: shift,
      encoderFramesPerChunk: encFrames,
      subsampling: shift / encFrames,
      featureDim,
      encoderDim,
      decoderDim: numericDim(decOut.shape[1], 'decoder_out dim 1', files.decoder),
      contextSize,
      vocabSize: numericDim(logit.shape[1], 'logit dim 1', files.joiner),
      encoderBatchable: typeof batchDim !== 'number' && specs.every((st) => st.batchAxis !== undefined),
      joinerRowsIndependent: joinerMeta.get(JOINER_ROWS_INDEPENDENT_KEY) === '1',
    };
    // A tokens file may be longer than the joiner's output: the extra symbols (e.g. `#0`…`#29`
    // lexicon disambiguators of a keyword-spotting bundle) exist only in graphs, never in decoding.
    if (this.geometry.vocabSize > tokens.size) {
      throw contract(files.joiner, `joiner has ${this.geometry.vocabSize} outputs but tokens.txt has only ${tokens.size} symbols`);
    }
    if (!Number.isInteger(this.geometry.subsampling)) {
      throw contract(files.encoder, `decode_chunk_len ${shift} is not a multiple of ${encFrames} output frames`);
    }
  }

  /** Load the three models of `files` with the given session options. */
  static async load(files: AsrModelFiles, options: SessionOptions): Promise<TransducerModel> {
    const tokens = TokenTable.fromFile(files.tokens);
    const meta = readMetadata(files.encoder);
    const decoderMeta = readMetadata(files.decoder);
    const joinerMeta = readMetadata(files.joiner);
    const loaded: LoadedSession[] = [];
    try {
      for (const path of [files.encoder, files.decoder, files.joiner]) loaded.push(await loadSession(path, options));
      return new TransducerModel(files, loaded as [LoadedSession, LoadedSession, LoadedSession], tokens, meta, decoderMeta, joinerMeta);
    } catch (err) {
      for (const s of loaded) await releaseSession(s).catch(() => undefined);
      throw err;
    }
  }

  /** The execution provider the encoder runs on. */
  get provider(): string {
    return this.encoder.provider;
  }

  /** Fresh zero states for one stream, as tensors ready to feed. */
  initialStates(): Record<string, ort.Tensor> {
    const out: Record<string, ort.Tensor> = {};
    for (const s of this.states) {
      out[s.name] =
        s.type === 'int64'
          ? new ort.Tensor('int64', new BigInt64Array(s.size), s.dims)
          : new ort.Tensor('float32', new Float32Array(s.size), s.dims);
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of [this.encoder, this.decoder, this.joiner]) await releaseSession(s).catch(() => undefined);
  }
}

function readMetadata(path: string): Map<string, string> {
  try {
    return onnxMetadata(readFileSync(path));
  } catch (err) {
    throw evxError('EVX_ERR_MODEL_LOAD', `cannot read ONNX metadata of ${path}`, { cause: err, details: { path } });
  }
}

type TensorMeta = { name: string; shape: readonly (number | string)[] };

function tensorMeta(session: ort.InferenceSession, dir: 'input' | 'output', name: string, path: string): TensorMeta {
  const list = dir === 'input' ? session.inputMetadata : session.outputMetadata;
  const m = list.find((v) => v.name === name);
  if (m === undefined || !m.isTensor) throw contract(path, `missing ${dir} tensor '${name}'`);
  return { name: m.name, shape: m.shape };
}

function numericDim(d: number | string | undefined, what: string, path: string): number {
  if (typeof d !== 'number' || d <= 0) throw contract(path, `${what} must be a fixed positive size, got ${String(d)}`);
  return d;
}

function intMeta(meta: Map<string, string>, key: string, path: string): number {
  const v = Number(meta.get(key));
  if (!Number.isInteger(v) || v <= 0) throw contract(path, `metadata '${key}' missing or not a positive integer`);
  return v;
}

function contract(path: string, why: string) {
  return evxError('EVX_ERR_MODEL_CONTRACT', `${path}: ${why}`, { details: { path } });
}
