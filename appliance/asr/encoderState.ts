/**
 * One stream's encoder: its input window tensor (allocated once) and its state tensors. Each
 * call feeds the previous call's `new_*` outputs straight back as inputs: no copies. With a
 * batching scheduler (encoderBatch.ts) the call may run stacked with other streams' chunks; the
 * stream's outputs are the same either way.
 */
import * as ort from 'onnxruntime-node';
import type { AfterEncoder, BatchMember, EncoderBatcher } from './encoderBatch.js';
import type { TransducerModel } from './transducer.js';

export class EncoderState implements BatchMember {
  private readonly model: TransducerModel;
  private readonly batcher: EncoderBatcher | undefined;
  /** The feature window fed as `x`: chunkFrames × featureDim. Fill it before `run()`. */
  readonly x: Float32Array;
  private readonly feeds: Record<string, ort.Tensor>;
  /** Encoder calls made since the last reset. */
  chunks = 0;

  constructor(model: TransducerModel, batcher?: EncoderBatcher) {
    this.model = model;
    this.batcher = batcher;
    const g = model.geometry;
    this.x = new Float32Array(g.chunkFrames * g.featureDim);
    this.feeds = { x: new ort.Tensor('float32', this.x, [1, g.chunkFrames, g.featureDim]), ...model.initialStates() };
  }

  /** Zero the states (a new utterance or a new stream). */
  reset(): void {
    Object.assign(this.feeds, this.model.initialStates());
    this.chunks = 0;
  }

  /** Run one chunk; returns encoder_out (encoderFramesPerChunk × encoderDim). */
  run(): Promise<Float32Array> {
    return this.batcher ? this.batcher.submit(this) : this.runAlone();
  }

  /**
   * Run one chunk, then `after` on its encoder_out (the search). With a batcher, the next batch
   * waits for every search of this one (EncoderBatcher.submit).
   */
  async runThen<T>(after: AfterEncoder<T>): Promise<T> {
    return this.batcher ? this.batcher.submit(this, after) : after(await this.runAlone());
  }

  async runAlone(): Promise<Float32Array> {
    const out = await this.model.encoder.session.run(this.feeds);
    for (const s of this.model.states) this.feeds[s.name] = out[s.outputName]!;
    this.chunks++;
    return out.encoder_out!.data as Float32Array;
  }

  stateFeeds(): Readonly<Record<string, ort.Tensor>> {
    return this.feeds;
  }

  accept(states: Record<string, ort.Tensor>): void {
    Object.assign(this.feeds, states);
    this.chunks++;
  }

  /** Bytes held by this stream's state tensors. */
  get stateBytes(): number {
    let n = this.x.byteLength;
    for (const s of this.model.states) n += s.size * (s.type === 'int64' ? 8 : 4);
    return n;
  }
}
