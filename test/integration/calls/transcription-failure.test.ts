/**
 * A leg whose recognition fails mid-call degrades to "no transcript" with a supervisor alert; the
 * call itself and every other call carry on. The failure is injected at the transcriber seam (the
 * real recognition stream reports inference errors through the same `failed` callback).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { createSpeechEngine, type SpeechEngine } from '../../../appliance/calls/asrTranscriber.js';
import type { TranscriberFactory } from '../../../appliance/calls/transcriber.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { ModelStore } from '../../../appliance/modelstore/modelStore.js';
import { MANIFEST_PATH } from '../../../appliance/buildInfo.js';
import { captureLogger, startTestAppliance, testConfig } from '../../helpers/appliance.js';
import { REPO_ROOT, SHARED_MODELS_DIR, scratchDir } from '../../helpers/paths.js';
import { feedPaced, speechClip, wordErrors } from '../../helpers/speech.js';

let app: Appliance;
let engine: SpeechEngine;
const failingCalls = new Set<string>();

beforeAll(async () => {
  const models = new ModelStore({
    manifestPath: MANIFEST_PATH,
    modelsDir: SHARED_MODELS_DIR,
    repoRoot: REPO_ROOT,
    storeDir: scratchDir('models'),
  });
  models.installAll();
  engine = await createSpeechEngine(models, testConfig(), captureLogger().logger);
  const factory: TranscriberFactory = (options, callbacks) => {
    const real = engine.factory(options, callbacks);
    if (!failingCalls.has(options.callId)) return real;
    let frames = 0;
    return {
      ...real,
      write: (samples, rate) => (++frames === 50 ? callbacks.failed('EVX_ERR_INFERENCE_FAILED', false) : real.write(samples, rate)),
    };
  };
  ({ app } = await startTestAppliance({}, { transcribers: factory }));
});
afterAll(async () => {
  await app?.close();
  await engine?.close();
});

describe('recognition failing on one call', () => {
  it('alerts for that call and keeps transcribing the others', async () => {
    const { audio, reference } = speechClip('0.wav');
    const events: ApplianceEvent[] = [];
    app.bus.subscribe((e) => events.push(e));
    const broken = app.calls.startCall({ source: 'sip' });
    failingCalls.add(broken.id);
    const healthy = app.calls.startCall({ source: 'sip' });
    const legs = [broken, healthy].map((c) => c.addLeg({ label: 'caller', codec: 'L16', sampleRateHz: audio.sampleRateHz }));
    await feedPaced(audio.samples, audio.sampleRateHz, (f) => legs.forEach((l) => l.write(f, audio.sampleRateHz)), 20, 6);
    await Promise.all([broken.end('bye'), healthy.end('bye')]);

    const alerts = events.filter((e) => e.type === 'alert');
    expect(alerts).toEqual([expect.objectContaining({ callId: broken.id, kind: 'transcription-failed', severity: 'warning' })]);
    const finalsOf = (id: string) =>
      events.filter((e) => e.type === 'asr.final' && e.callId === id).map((e) => (e.type === 'asr.final' ? e.text : ''));
    expect(wordErrors(reference, finalsOf(healthy.id).join(' '))).toBeLessThanOrEqual(3);
    expect(app.store.calls.get(broken.id)).toMatchObject({
      state: 'ended',
      endReason: 'bye',
      meta: { transcription: { failed: 'EVX_ERR_INFERENCE_FAILED' } },
    });
    expect(app.calls.counters.asrFailures).toBe(1);
  });
});
