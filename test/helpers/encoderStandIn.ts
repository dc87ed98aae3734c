/**
 * A stand-in for a batchable encoder (one state, batch axis first) for tests of the batching
 * scheduler's policy: `onRun(n)` is called with each run's batch size (to advance a test clock, or
 * log the run); the outputs are zeros of the right shapes. The real batchable encoder's batches are
 * tested in test/integration/asr/encoder-batch.test.ts.
 */
import * as ort from 'onnxruntime-node';
import type { BatchMember } from '../../appliance/asr/encoderBatch.js';
import type { TransducerModel } from '../../appliance/asr/transducer.js';

export const STAND_IN_FRAMES = 2;
export const STAND_IN_DIM = 3;

export function standInEncoder(onRun: (n: number) => void = () => undefined): TransducerModel {
  const state = { name: 's', outputName: 'new_s', type: 'float32' as const, dims: [1, 2], size: 2, batchAxis: 0 };
  return {
    geometry: { encoderBatchable: true, chunkFrames: 4, featureDim: 1, encoderFramesPerChunk: STAND_IN_FRAMES, encoderDim: STAND_IN_DIM },
    states: [state],
    encoder: {
      session: {
        run: async (feeds: Record<string, ort.Tensor>) => {
          const n = feeds.x!.dims[0]!;
          onRun(n);
          await Promise.resolve();
          return {
            encoder_out: new ort.Tensor('float32', new Float32Array(n * STAND_IN_FRAMES * STAND_IN_DIM), [
              n,
              STAND_IN_FRAMES,
              STAND_IN_DIM,
            ]),
            new_s: new ort.Tensor('float32', new Float32Array(n * 2), [n, 2]),
          };
        },
      },
    },
  } as unknown as TransducerModel;
}

/** A stream's side of the scheduler; running alone calls `onRunAlone` first. */
export function standInMember(onRunAlone: () => void = () => undefined): BatchMember {
  return {
    x: new Float32Array(4),
    stateFeeds: () => ({ s: new ort.Tensor('float32', new Float32Array(2), [1, 2]) }),
    accept: () => undefined,
    runAlone: async () => {
      onRunAlone();
      await Promise.resolve();
      return new Float32Array(STAND_IN_FRAMES * STAND_IN_DIM);
    },
  };
}
