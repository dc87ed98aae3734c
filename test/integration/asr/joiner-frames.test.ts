/**
 * Greedy search joining several frames per joiner call (greedyFrames.ts): with the joiner our
 * pipeline makes (rows independent, metadata rows_independent=1) every eval clip gets, token for
 * token, frame for frame and score for score, what the frame-by-frame loop gives; the calls really
 * hold several frames (far fewer joiner calls than frames); the model's own int8 joiner, whose
 * rows share one quantisation scale, is never run that way.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EncoderState } from '../../../appliance/asr/encoderState.js';
import { OnlineFbank } from '../../../appliance/asr/fbank.js';
import { GreedySearch } from '../../../appliance/asr/greedy.js';
import type { Hypothesis } from '../../../appliance/asr/hypothesis.js';
import { batchModelFiles, findAsrModelFiles } from '../../../appliance/asr/modelFiles.js';
import { TransducerModel } from '../../../appliance/asr/transducer.js';
import { readWavFile } from '../../../appliance/asr/transcribeFile.js';
import { loadEvalSet } from '../../../tools/asr/evalSet.js';
import { REPO_ROOT } from '../../helpers/paths.js';
import { MODEL_DIR, SHARED } from './helpers.js';

const BATCH_MODEL_DIR = join(REPO_ROOT, 'models', 'asr-batch');
const SESSION = { providers: ['cpu'] as const, intraOpThreads: 1, interOpThreads: 1 };

/** Each searcher's hypothesis after decoding `samples` chunk by chunk (one encoder run per chunk). */
async function decodeClip(model: TransducerModel, samples: Int16Array, searches: GreedySearch[]): Promise<Hypothesis[]> {
  const g = model.geometry;
  const fbank = new OnlineFbank({ maxFrames: 1024, maxBlockSamples: 1600 });
  const encoder = new EncoderState(model);
  for (const s of searches) await s.reset();
  // the recognizer's tail padding, so the last words reach the encoder
  const padded = new Float32Array(samples.length + 10_560);
  padded.set(Float32Array.from(samples, (v) => v / 32768));
  let start = 0;
  let frame = 0;
  for (let off = 0; off < padded.length; off += 1600) {
    fbank.acceptWaveform(padded.subarray(off, off + 1600));
    while (fbank.numFramesReady - start >= g.chunkFrames) {
      fbank.readFrames(start, g.chunkFrames, encoder.x);
      const out = await encoder.run();
      for (const s of searches) await s.decodeChunk(out, g.encoderFramesPerChunk, frame);
      frame += g.encoderFramesPerChunk;
      start += g.chunkShift;
      fbank.discardBefore(start);
    }
  }
  return searches.map((s) => s.best());
}

describe('greedy search, several frames per joiner call', () => {
  let batchable: TransducerModel;
  let exact: TransducerModel;
  beforeAll(async () => {
    batchable = await TransducerModel.load(findAsrModelFiles(MODEL_DIR, batchModelFiles(BATCH_MODEL_DIR)), SESSION);
    exact = await TransducerModel.load(findAsrModelFiles(MODEL_DIR), SESSION);
  });
  afterAll(async () => {
    await batchable?.close();
    await exact?.close();
  });

  it('reads from the joiner whether its rows are independent', () => {
    expect(batchable.geometry.joinerRowsIndependent).toBe(true);
    expect(exact.geometry.joinerRowsIndependent).toBe(false);
    expect(() => new GreedySearch(exact, undefined, 4)).toThrow(/rows are independent/);
  });

  it('decides every frame of every eval clip as the frame-by-frame loop does, in far fewer joiner calls', async () => {
    const { clips } = loadEvalSet(SHARED);
    expect(clips.length).toBe(12);
    const g = batchable.geometry;
    const perFrame = new GreedySearch(batchable, undefined, 1);
    const ahead = new GreedySearch(batchable);
    const joinerRun = vi.spyOn(batchable.joiner.session, 'run');
    let tokens = 0;
    let aheadCalls = 0;
    let perFrameCalls = 0;
    for (const clip of clips) {
      const samples = readWavFile(clip.path).samples;
      // the two searchers, one clip each, so the spy's calls split between them
      joinerRun.mockClear();
      const [one] = await decodeClip(batchable, samples, [perFrame]);
      perFrameCalls += joinerRun.mock.calls.length;
      joinerRun.mockClear();
      const [many] = await decodeClip(batchable, samples, [ahead]);
      aheadCalls += joinerRun.mock.calls.length;
      expect(many).toEqual(one);
      expect(one!.tokens.length).toBeGreaterThan(0);
      tokens += one!.tokens.length;
    }
    joinerRun.mockRestore();
    expect(tokens).toBeGreaterThan(200);
    const framesDecided = perFrameCalls; // the frame-by-frame loop makes one call per frame
    expect(framesDecided % g.encoderFramesPerChunk).toBe(0);
    // one call per run of frames up to an emitted token: at most tokens + one per chunk
    expect(aheadCalls).toBeLessThanOrEqual(tokens + framesDecided / g.encoderFramesPerChunk);
    expect(aheadCalls * 3).toBeLessThan(perFrameCalls);
    process.stdout.write(`joiner calls: ${perFrameCalls} frame by frame, ${aheadCalls} joining ahead (${tokens} tokens)\n`);
  }, 120_000);
});
