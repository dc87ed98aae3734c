/**
 * Per-stream scratch for decoder and joiner calls: input tensors are allocated once for every
 * batch size up to `maxRows` and reused, so the per-frame path creates no typed arrays of its own
 * (onnxruntime-node still allocates its output tensors).
 */
import * as ort from 'onnxruntime-node';
import type { TransducerModel } from './transducer.js';

export class DecoderJoiner {
  readonly model: TransducerModel;
  readonly maxRows: number;
  readonly contextSize: number;
  readonly vocabSize: number;
  private readonly encDim: number;
  private readonly decDim: number;
  /** encoder rows for the joiner, backing store for every batch size. */
  readonly encRows: Float32Array;
  readonly decRows: Float32Array;
  readonly yRows: BigInt64Array;
  private readonly encTensors: ort.Tensor[] = [];
  private readonly decTensors: ort.Tensor[] = [];
  private readonly yTensors: ort.Tensor[] = [];
  private readonly joinFeeds: Record<string, ort.Tensor> = {};
  private readonly decFeeds: Record<string, ort.Tensor> = {};

  constructor(model: TransducerModel, maxRows: number) {
    this.model = model;
    this.maxRows = maxRows;
    const g = model.geometry;
    this.contextSize = g.contextSize;
    this.vocabSize = g.vocabSize;
    this.encDim = g.encoderDim;
    this.decDim = g.decoderDim;
    this.encRows = new Float32Array(maxRows * g.encoderDim);
    this.decRows = new Float32Array(maxRows * g.decoderDim);
    this.yRows = new BigInt64Array(maxRows * g.contextSize);
    for (let n = 1; n <= maxRows; n++) {
      this.encTensors.push(new ort.Tensor('float32', this.encRows.subarray(0, n * g.encoderDim), [n, g.encoderDim]));
      this.decTensors.push(new ort.Tensor('float32', this.decRows.subarray(0, n * g.decoderDim), [n, g.decoderDim]));
      this.yTensors.push(new ort.Tensor('int64', this.yRows.subarray(0, n * g.contextSize), [n, g.contextSize]));
    }
  }

  /** Run the decoder on the first `rows` contexts in yRows; returns decoder_out [rows, decDim]. */
  async decode(rows: number): Promise<Float32Array> {
    this.decFeeds.y = this.yTensors[rows - 1]!;
    const out = await this.model.decoder.session.run(this.decFeeds);
    return out.decoder_out!.data as Float32Array;
  }

  /** Run the joiner on the first `rows` rows of encRows/decRows; returns logits [rows, vocab]. */
  async join(rows: number): Promise<Float32Array> {
    this.joinFeeds.encoder_out = this.encTensors[rows - 1]!;
    this.joinFeeds.decoder_out = this.decTensors[rows - 1]!;
    const out = await this.model.joiner.session.run(this.joinFeeds);
    return out.logit!.data as Float32Array;
  }

  /** Copy encoder frame `frame` of `encoderOut` into joiner row `row`. */
  setEncoderRow(row: number, encoderOut: Float32Array, frame: number): void {
    this.encRows.set(encoderOut.subarray(frame * this.encDim, (frame + 1) * this.encDim), row * this.encDim);
  }

  setDecoderRow(row: number, decoderOut: Float32Array, srcRow = 0): void {
    this.decRows.set(decoderOut.subarray(srcRow * this.decDim, (srcRow + 1) * this.decDim), row * this.decDim);
  }

  /** Put the last `contextSize` tokens of `ys` into decoder row `row` (-1 pads on the left). */
  setContext(row: number, ys: readonly number[]): void {
    const c = this.contextSize;
    for (let i = 0; i < c; i++) {
      const t = ys[ys.length - c + i];
      this.yRows[row * c + i] = BigInt(t ?? -1);
    }
  }
}

/** log-softmax of row `row` of `logits`, evaluated at `token`. */
export function logSoftmaxAt(logits: Float32Array, row: number, vocab: number, token: number): number {
  const base = row * vocab;
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) if (logits[base + i]! > max) max = logits[base + i]!;
  let sum = 0;
  for (let i = 0; i < vocab; i++) sum += Math.exp(logits[base + i]! - max);
  return logits[base + token]! - max - Math.log(sum);
}
