/**
 * Greedy search of many streams with shared joiner and decoder calls. The streams whose chunks ran
 * in one encoder batch reach their search in the same event-loop turn; their requests are taken
 * together (at the end of that turn) and decided by the frame loop of greedyFrames.ts: joiner calls
 * with rows of every stream (one frame each, or, with a joiner whose rows are independent, each
 * stream's frames up to its next emitted token), then one decoder call for the streams that emitted
 * a token. Each stream's decisions are GreedySearch.takeFrame, as when it runs alone; with a joiner
 * and decoder whose rows are computed independently (models/asr-batch) the transcripts are the same.
 *
 * Batches run one after another (they share the input buffers); a request never waits for more
 * than the end of the turn it arrived in plus the batches ahead of it.
 */
import { DecoderJoiner } from './decoderJoiner.js';
import { decideFrames, type FrameWork, type GreedyMember, type JoinerCounts } from './greedyFrames.js';
import type { TransducerModel } from './transducer.js';

interface Request extends FrameWork {
  readonly resolve: (changed: boolean) => void;
  readonly reject: (err: unknown) => void;
}

export class GreedyBatch implements JoinerCounts {
  private readonly dj: DecoderJoiner;
  private readonly maxStreams: number;
  /** Frames of one stream per joiner call (1 unless the joiner's rows are independent). */
  private readonly framesPerStream: number;
  private pending: Request[] = [];
  private scheduled = false;
  private tail: Promise<void> = Promise.resolve();
  /** Joiner calls made, and the frames of all streams they covered. */
  joinerCalls = 0;
  joinerRows = 0;

  constructor(model: TransducerModel, maxStreams: number) {
    const g = model.geometry;
    this.maxStreams = maxStreams;
    this.framesPerStream = g.joinerRowsIndependent ? g.encoderFramesPerChunk : 1;
    this.dj = new DecoderJoiner(model, maxStreams * this.framesPerStream);
  }

  decode(search: GreedyMember, encoderOut: Float32Array, numFrames: number, firstFrame: number): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.pending.push({ search, encoderOut, numFrames, firstFrame, changed: false, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        const taken = this.pending;
        this.pending = [];
        for (let i = 0; i < taken.length; i += this.maxStreams) {
          const group = taken.slice(i, i + this.maxStreams);
          this.tail = this.tail.then(() =>
            decideFrames(this.dj, group, this.framesPerStream, this).then(
              () => group.forEach((r) => r.resolve(r.changed)),
              (err: unknown) => group.forEach((r) => r.reject(err)),
            ),
          );
        }
      });
    });
  }
}
