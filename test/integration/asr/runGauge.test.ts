/**
 * The inference run gauge a recognition worker shares with its pool: sessions loaded after
 * shareRunGauge() count their runs in it, from the call to the settling, errors included.
 */
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterEach, describe, expect, it } from 'vitest';
import { inferenceRunning, newRunGauge, shareRunGauge } from '../../../appliance/inference/runGauge.js';
import { loadSession } from '../../../appliance/inference/sessions.js';
import { HAVE_MODELS, MODEL_DIR } from './helpers.js';

const DECODER = join(MODEL_DIR, 'decoder.onnx');

function feeds(session: ort.InferenceSession): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const meta of session.inputMetadata) {
    if (!meta.isTensor) throw new Error(`${meta.name} is not a tensor`);
    const dims = meta.shape.map((d) => (typeof d === 'number' ? d : 1));
    const n = dims.reduce((a, b) => a * b, 1);
    out[meta.name] =
      meta.type === 'int64' ? new ort.Tensor('int64', new BigInt64Array(n), dims) : new ort.Tensor('float32', new Float32Array(n), dims);
  }
  return out;
}

describe.skipIf(!HAVE_MODELS)('inference run gauge', () => {
  afterEach(() => shareRunGauge(undefined));

  it('counts a run from its call until it settles, and a failed run too', async () => {
    const gauge = newRunGauge();
    shareRunGauge(gauge);
    const { session } = await loadSession(DECODER);
    expect(inferenceRunning(gauge)).toBe(false);
    const run = session.run(feeds(session));
    expect(inferenceRunning(gauge)).toBe(true);
    await run;
    expect(inferenceRunning(gauge)).toBe(false);
    await expect(session.run({})).rejects.toThrow();
    expect(inferenceRunning(gauge)).toBe(false);
    await session.release();
  });

  it('sessions loaded without a shared gauge are not counted', async () => {
    const gauge = newRunGauge();
    const { session } = await loadSession(DECODER);
    shareRunGauge(gauge);
    const run = session.run(feeds(session));
    expect(inferenceRunning(gauge)).toBe(false);
    await run;
    await session.release();
  });
});
