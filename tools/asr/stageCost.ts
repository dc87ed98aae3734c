/**
 * Where one stream's decoding time goes: the eval clips run through the appliance's own feature
 * extractor and streaming encoder (the same classes and the same model files the recognizer uses,
 * one thread), timed stage by stage. What the full decode costs beyond these two is the search and
 * the stream's bookkeeping. `make bench-asr` prints it next to sherpa-onnx's single-stream cost.
 */
import { OnlineFbank } from '../../appliance/asr/fbank.js';
import { EncoderState } from '../../appliance/asr/encoderState.js';
import { findAsrModelFiles } from '../../appliance/asr/modelFiles.js';
import { TransducerModel } from '../../appliance/asr/transducer.js';
import { DEFAULT_SESSION_OPTIONS } from '../../appliance/inference/sessions.js';

export interface StageCost {
  /** CPU seconds per audio second. */
  readonly featuresRtf: number;
  readonly encoderRtf: number;
  /** Encoder calls made and their mean CPU time (ms). */
  readonly encoderCalls: number;
  readonly encoderMsPerCall: number;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Features and encoder of every clip (16 kHz floats in [-1, 1]), `rounds` times after a warm-up. */
export async function stageCost(modelDir: string, clips: readonly Float32Array[], rounds: number): Promise<StageCost> {
  const model = await TransducerModel.load(findAsrModelFiles(modelDir), DEFAULT_SESSION_OPTIONS);
  try {
    const g = model.geometry;
    const fbank = new OnlineFbank({ maxFrames: 256, maxBlockSamples: 1600 });
    const encoder = new EncoderState(model);
    let featuresMs = 0;
    let encoderMs = 0;
    let calls = 0;
    let seconds = 0;
    for (let r = 0; r <= rounds; r++) {
      const timed = r > 0; // round 0 warms up
      for (const clip of clips) {
        fbank.reset();
        encoder.reset();
        let chunkStart = 0;
        for (let off = 0; off < clip.length; off += 1600) {
          let t = cpuMs();
          fbank.acceptWaveform(clip.subarray(off, Math.min(clip.length, off + 1600)));
          if (timed) featuresMs += cpuMs() - t;
          while (fbank.numFramesReady - chunkStart >= g.chunkFrames) {
            t = cpuMs();
            fbank.readFrames(chunkStart, g.chunkFrames, encoder.x);
            await encoder.run();
            if (timed) {
              encoderMs += cpuMs() - t;
              calls++;
            }
            chunkStart += g.chunkShift;
            fbank.discardBefore(chunkStart);
          }
        }
        if (timed) seconds += clip.length / 16000;
      }
    }
    return {
      featuresRtf: featuresMs / 1000 / seconds,
      encoderRtf: encoderMs / 1000 / seconds,
      encoderCalls: calls,
      encoderMsPerCall: encoderMs / calls,
    };
  } finally {
    await model.close();
  }
}
