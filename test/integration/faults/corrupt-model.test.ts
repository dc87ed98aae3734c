/**
 * A corrupt or truncated model file in the models directory: the appliance refuses it with a clear
 * error, the previously verified version stays active and the appliance stays ready; on a box that
 * never had a good copy it is not ready and says why.
 */
import { cpSync, truncateSync, statSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { SHARED_MODELS_DIR, scratchDir } from '../../helpers/paths.js';

const running: Appliance[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((a) => a.close()));
});

function modelsCopy(): string {
  const dir = scratchDir('models-src');
  cpSync(SHARED_MODELS_DIR, dir, { recursive: true });
  return dir;
}

describe('corrupt model files', () => {
  it('keeps the previous verified model active when a new copy is truncated', async () => {
    const modelsDir = modelsCopy();
    const dataDir = scratchDir('corrupt');
    const first = await startTestAppliance({ modelsDir, dataDir });
    const before = first.app.models.status().find((s) => s.name === 'asr')!.activeVersion;
    await first.app.close();

    const encoder = join(modelsDir, 'asr', 'zipformer-gigaspeech-3.3m', 'encoder.int8.onnx');
    truncateSync(encoder, Math.floor(statSync(encoder).size / 2));
    const second = await startTestAppliance({ modelsDir, dataDir });
    running.push(second.app);
    const asr = second.app.models.status().find((s) => s.name === 'asr')!;
    expect(asr.activeVersion).toBe(before);
    expect(asr.error?.code).toBe('EVX_ERR_MODEL_HASH_MISMATCH');
    expect(asr.error?.message).toContain('encoder.int8.onnx');
    expect(second.log.lines.some((l) => l['msg'] === 'model not installed' && l['model'] === 'asr')).toBe(true);
    // Still ready and still recognising, on the previous copy.
    expect((await fetch(`${second.app.httpUrl}/readyz`)).status).toBe(200);
  });

  it('is not ready, with the reason, when no verified copy of a required model exists', async () => {
    const modelsDir = modelsCopy();
    appendFileSync(join(modelsDir, 'vad', 'silero-vad-v5', 'silero_vad.onnx'), Buffer.from([1, 2, 3]));
    const { app } = await startTestAppliance({ modelsDir });
    running.push(app);
    const res = await fetch(`${app.httpUrl}/readyz`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { checks: { name: string; ok: boolean; reason?: string }[] };
    expect(body.checks.find((c) => c.name === 'models')).toMatchObject({ ok: false, reason: expect.stringContaining('vad') });
    // Calls are still admitted (answered without transcripts) rather than the box going dark.
    expect(app.calls.admit().ok).toBe(true);
  });
});
