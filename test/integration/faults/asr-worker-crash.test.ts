/**
 * An inference worker dying mid-call (onnxruntime crash, OOM kill): the calls it served get a
 * "transcription-gap" alert and carry on (the pool restarts the worker and re-creates their
 * streams); calls on the other worker are unaffected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { feedPaced, speechClip, wordErrors } from '../../helpers/speech.js';

let app: Appliance;
beforeAll(async () => {
  ({ app } = await startTestAppliance({ asr: { workers: 2 } }));
});
afterAll(async () => {
  await app?.close();
});

describe('a recognition worker crashing mid-call', () => {
  it('alerts for the calls it served and keeps every call going', async () => {
    const { audio, reference } = speechClip('1.wav');
    const events: ApplianceEvent[] = [];
    app.bus.subscribe((e) => events.push(e));
    // Two calls: the pool places them on different workers (least loaded).
    const calls = [app.calls.startCall({ source: 'sip' }), app.calls.startCall({ source: 'sip' })];
    const legs = calls.map((c) => c.addLeg({ label: 'caller', codec: 'L16', sampleRateHz: audio.sampleRateHz }));
    const pool = app.speech!.recognizer;
    let killed = false;
    let frames = 0;
    await feedPaced(
      audio.samples,
      audio.sampleRateHz,
      (f) => {
        legs.forEach((l) => l.write(f, audio.sampleRateHz));
        if (++frames === 250 && !killed) {
          killed = true;
          pool.crashWorker(0);
        }
      },
      20,
      4,
    );
    await Promise.all(calls.map((c) => c.end('bye')));

    const alerts = events.filter((e) => e.type === 'alert');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'transcription-gap', severity: 'warning' });
    const victim = alerts[0]!.callId!;
    const survivor = calls.map((c) => c.id).find((id) => id !== victim)!;
    const text = (id: string) =>
      events
        .filter((e) => e.type === 'asr.final' && e.callId === id)
        .map((e) => (e.type === 'asr.final' ? e.text : ''))
        .join(' ');
    // The other call is untouched; the victim lost a stretch but was still transcribed after it.
    expect(wordErrors(reference, text(survivor))).toBeLessThanOrEqual(4);
    const victimWords = text(victim).split(/\s+/).filter(Boolean).length;
    expect(victimWords).toBeGreaterThan(5);
    expect(app.store.calls.get(victim)).toMatchObject({
      state: 'ended',
      endReason: 'bye',
      meta: { transcription: { gap: 'EVX_ERR_ASR_WORKER_EXITED' } },
    });
    expect(pool.workerThreads().every((w) => w !== undefined)).toBe(true);
  });
});
