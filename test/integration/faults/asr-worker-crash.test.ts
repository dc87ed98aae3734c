/**
 * An inference worker dying mid-call (onnxruntime crash, OOM kill) or hanging (answering nothing for
 * asr.workerHangTimeoutMs): the calls it served get a "transcription-gap" alert and carry on (the
 * pool replaces the worker and re-creates their streams); calls on the other worker are unaffected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { feedPaced, speechClip, wordErrors } from '../../helpers/speech.js';

let app: Appliance;
beforeAll(async () => {
  ({ app } = await startTestAppliance({ asr: { workers: 2, workerHangTimeoutMs: 1000 } }));
});
afterAll(async () => {
  await app?.close();
});

const FAULTS = [
  { fault: 'crashing', code: 'EVX_ERR_ASR_WORKER_EXITED', inject: (pool: Pool) => pool.crashWorker(0) },
  { fault: 'hanging', code: 'EVX_ERR_ASR_WORKER_HUNG', inject: (pool: Pool) => pool.hangWorker(0, 60_000) },
] as const;
type Pool = NonNullable<Appliance['speech']>['recognizer'];

describe.each(FAULTS)('a recognition worker $fault mid-call', ({ code, inject }) => {
  it('alerts for the calls it served and keeps every call going', async () => {
    const { audio, reference } = speechClip('1.wav');
    const events: ApplianceEvent[] = [];
    app.bus.subscribe((e) => events.push(e));
    // Two calls: the pool places them on different workers (least loaded).
    const calls = [app.calls.startCall({ source: 'sip' }), app.calls.startCall({ source: 'sip' })];
    const legs = calls.map((c) => c.addLeg({ label: 'caller', codec: 'L16', sampleRateHz: audio.sampleRateHz }));
    const pool = app.speech!.recognizer;
    // the worker the case before replaced is back, so the two calls land on different workers
    while (pool.stats().workers.some((w) => w.state !== 'ready')) await new Promise((r) => setTimeout(r, 20));
    let killed = false;
    let frames = 0;
    await feedPaced(
      audio.samples,
      audio.sampleRateHz,
      (f) => {
        legs.forEach((l) => l.write(f, audio.sampleRateHz));
        if (++frames === 250 && !killed) {
          killed = true;
          inject(pool);
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
      meta: { transcription: { gap: code } },
    });
    expect(pool.workerThreads().every((w) => w !== undefined)).toBe(true);
  });
});
