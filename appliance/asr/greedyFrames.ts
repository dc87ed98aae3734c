/**
 * The frame loop of greedy search, for one stream or many: joiner calls, per-frame decisions
 * (GreedyMember.takeFrame) and decoder calls for the streams that emitted.
 *
 * With `framesPerCall` 1 every joiner call holds one frame per stream, as sherpa-onnx does. A joiner
 * whose rows are computed independently of each other (`geometry.joinerRowsIndependent`, the
 * joiner models/pipelines/asr makes) can take more: each call holds a stream's next frames up to
 * `framesPerCall`, all joined with its current decoder output. Frames are decided in order; a
 * stream's first frame that emits a token ends its span (the rows after it were joined with the
 * old decoder output and are joined again in the next call, after the decoder has run). Most frames
 * are blank, so a chunk of 16 frames takes about one call per emitted token plus one instead of 16,
 * and every decision is the one the frame-by-frame loop makes, from the same logits.
 */
import type { DecoderJoiner } from './decoderJoiner.js';

/** What the frame loop needs of a stream's greedy search (GreedySearch implements it). */
export interface GreedyMember {
  decoderOut: Float32Array | undefined;
  takeFrame(logits: Float32Array, row: number, frame: number): boolean;
  context(): readonly number[];
}

/** One stream's frames to decide. */
export interface FrameWork {
  readonly search: GreedyMember;
  readonly encoderOut: Float32Array;
  readonly numFrames: number;
  /** Utterance-relative index of the first frame. */
  readonly firstFrame: number;
  /** Set when a token was emitted. */
  changed: boolean;
}

/** Joiner calls made, and the rows they held. */
export interface JoinerCounts {
  joinerCalls: number;
  joinerRows: number;
}

/** Decide every frame of `work` with `dj` (its maxRows >= streams × framesPerCall). */
export async function decideFrames(
  dj: DecoderJoiner,
  work: readonly FrameWork[],
  framesPerCall: number,
  counts?: JoinerCounts,
): Promise<void> {
  const perCall = Math.max(1, Math.floor(framesPerCall));
  if (work.length * perCall > dj.maxRows)
    throw new RangeError(`${work.length} streams × ${perCall} frames exceed ${dj.maxRows} joiner rows`);
  const decDim = dj.model.geometry.decoderDim;
  const next = new Array<number>(work.length).fill(0);
  const span = new Array<number>(work.length).fill(0);
  const emitted: number[] = [];
  for (;;) {
    let rows = 0;
    for (let i = 0; i < work.length; i++) {
      const w = work[i]!;
      const n = Math.min(perCall, w.numFrames - next[i]!);
      span[i] = Math.max(0, n);
      for (let k = 0; k < n; k++) {
        dj.setEncoderRow(rows + k, w.encoderOut, next[i]! + k);
        dj.setDecoderRow(rows + k, w.search.decoderOut!);
      }
      rows += span[i]!;
    }
    if (rows === 0) return;
    const logits = await dj.join(rows);
    if (counts) {
      counts.joinerCalls++;
      counts.joinerRows += rows;
    }
    emitted.length = 0;
    let row = 0;
    for (let i = 0; i < work.length; i++) {
      const w = work[i]!;
      let decided = 0;
      while (decided < span[i]!) {
        const hit = w.search.takeFrame(logits, row + decided, w.firstFrame + next[i]! + decided);
        decided++;
        if (hit) {
          emitted.push(i);
          break;
        }
      }
      next[i]! += decided;
      row += span[i]!;
    }
    if (emitted.length === 0) continue;
    emitted.forEach((i, r) => {
      work[i]!.changed = true;
      dj.setContext(r, work[i]!.search.context());
    });
    const out = await dj.decode(emitted.length);
    emitted.forEach((i, r) => {
      work[i]!.search.decoderOut = out.slice(r * decDim, (r + 1) * decDim);
    });
  }
}
