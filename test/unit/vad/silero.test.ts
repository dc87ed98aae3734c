import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWavFile } from '../../../appliance/asr/transcribeFile.js';
import { SileroVad, VAD_WINDOW_SAMPLES } from '../../../appliance/vad/silero.js';

const SHARED = process.env.EDGEVOX_SHARED ?? '../shared';
const MODEL = join(SHARED, 'models/vad/silero-vad-v5/silero_vad.onnx');

describe.skipIf(!existsSync(MODEL))('SileroVad', () => {
  let vad: SileroVad;
  beforeAll(async () => {
    vad = await SileroVad.load(MODEL, { providers: ['cpu'], intraOpThreads: 1, interOpThreads: 1 });
  });
  afterAll(async () => vad.close());

  const windows = (): Float32Array[] => {
    const a = readWavFile(join(SHARED, 'datasets/speech-en/1.wav'));
    const out: Float32Array[] = [];
    for (let off = 0; off + VAD_WINDOW_SAMPLES <= a.samples.length; off += VAD_WINDOW_SAMPLES) {
      out.push(Float32Array.from(a.samples.subarray(off, off + VAD_WINDOW_SAMPLES), (v) => v / 32768));
    }
    return out;
  };

  it('scores speech high and digital silence low (model card: ~92% of 1.wav windows > 0.5 with context)', async () => {
    const st = vad.createState();
    let speech = 0;
    const w = windows();
    for (const win of w) if ((await st.process(win)) > 0.5) speech++;
    expect(speech / w.length).toBeGreaterThan(0.85);
    st.reset();
    let max = 0;
    for (let i = 0; i < 30; i++) max = Math.max(max, await st.process(new Float32Array(VAD_WINDOW_SAMPLES)));
    expect(max).toBeLessThan(0.1);
  });

  it('judges a telephone leg at 8 kHz much as at 16 kHz, in its own batches', async () => {
    const w = windows();
    const wide = vad.createState(16000);
    const narrow = vad.createState(8000);
    let agree = 0;
    let speech8 = 0;
    for (const win of w) {
      const [p16, p8] = await Promise.all([wide.process(win), narrow.process(win)]);
      if (p16 > 0.5 === p8 > 0.5) agree++;
      if (p8 > 0.5) speech8++;
    }
    expect(speech8 / w.length).toBeGreaterThan(0.8);
    expect(agree / w.length).toBeGreaterThan(0.9);
    narrow.reset();
    let max = 0;
    for (let i = 0; i < 30; i++) max = Math.max(max, await narrow.process(new Float32Array(VAD_WINDOW_SAMPLES)));
    expect(max).toBeLessThan(0.1);
  });

  it('holds a batch open for batchWaitMs so windows arriving apart share one call', async () => {
    const waiting = await SileroVad.load(MODEL, { providers: ['cpu'], intraOpThreads: 1, interOpThreads: 1 }, { batchWaitMs: 20 });
    try {
      const w = windows().slice(0, 3);
      const states = [waiting.createState(8000), waiting.createState(8000), waiting.createState(8000)];
      const results = states.map(async (s, i) => {
        await new Promise((r) => setTimeout(r, i * 3));
        return s.process(w[i]!);
      });
      await Promise.all(results);
      expect(waiting.calls).toBe(1);
      expect(waiting.windows).toBe(3);
    } finally {
      await waiting.close();
    }
  });

  it('batches windows of concurrent streams into one call with the same results as one stream alone', async () => {
    const w = windows().slice(0, 40);
    const alone = vad.createState();
    const ref: number[] = [];
    for (const win of w) ref.push(await alone.process(win));
    const states = [vad.createState(), vad.createState(), vad.createState()];
    const calls0 = vad.calls;
    const got: number[][] = [[], [], []];
    for (const win of w) {
      const ps = await Promise.all(states.map((s) => s.process(win)));
      ps.forEach((p, i) => got[i]!.push(p));
    }
    expect(vad.calls - calls0).toBe(w.length); // three streams, one call per window
    for (const g of got) for (let i = 0; i < ref.length; i++) expect(g[i]).toBeCloseTo(ref[i]!, 4);
  });
});
