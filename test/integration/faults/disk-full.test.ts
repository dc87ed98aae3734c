/**
 * Disk full on the data dir: calls keep being processed (live transcripts still flow), the failed
 * writes are counted, and storage recovers by itself when space returns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { feedPaced, speechClip, wordErrors } from '../../helpers/speech.js';
import { canMountTmpfs, mountTmpfs, type Tmpfs } from '../../helpers/tmpfs.js';

const mountable = canMountTmpfs();

describe.runIf(mountable)('disk full on the data dir', () => {
  let fs: Tmpfs;
  let app: Appliance;
  beforeAll(async () => {
    fs = mountTmpfs(48);
    ({ app } = await startTestAppliance({ dataDir: fs.dir }));
    // Retry deferred writes quickly in the test.
  });
  afterAll(async () => {
    await app?.close();
    fs?.unmount();
  });

  async function call(): Promise<{ id: string; finals: string[] }> {
    const { audio } = speechClip('0.wav');
    const finals: string[] = [];
    const off = app.bus.subscribe((e: ApplianceEvent) => {
      if (e.type === 'asr.final') finals.push(e.text);
    });
    const session = app.calls.startCall({ source: 'sip', callerNumber: '+15550100' });
    session.answer();
    const leg = session.addLeg({ label: 'caller', codec: 'L16', sampleRateHz: audio.sampleRateHz });
    await feedPaced(audio.samples, audio.sampleRateHz, (f) => leg.write(f, audio.sampleRateHz), 20, 6);
    await session.end('bye');
    off();
    return { id: session.id, finals };
  }

  it('keeps transcribing while writes fail, counts them, and stores everything once space returns', async () => {
    const { reference } = speechClip('0.wav');
    fs.fill();
    const during = await call();
    // The media path and the live transcript carried on...
    expect(wordErrors(reference, during.finals.join(' '))).toBeLessThanOrEqual(3);
    // ...while the store refused the writes, and that was counted.
    expect(app.calls.counters.storeErrors).toBeGreaterThan(0);
    const metrics = await (await fetch(`${app.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^edgevox_store_write_errors_total\{operation="[a-zA-Z.]+",sqlite_code="SQLITE_FULL"\} [1-9]/m);
    expect((await fetch(`${app.httpUrl}/healthz`)).status).toBe(200);

    expect(app.calls.deferredWrites().pending).toBeGreaterThan(0);

    fs.free();
    // Nothing was lost: the deferred writes of the call made while the disk was full land.
    for (let i = 0; i < 100 && app.calls.deferredWrites().pending > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(app.calls.deferredWrites()).toMatchObject({ pending: 0, dropped: 0 });
    expect(app.store.calls.get(during.id)).toMatchObject({ state: 'ended', endReason: 'bye' });
    expect(
      app.store.utterances
        .listByCall(during.id)
        .map((u) => u.text)
        .join(' '),
    ).toBe(during.finals.join(' '));
    const after = await call();
    const stored = app.store.calls.get(after.id);
    expect(stored?.state).toBe('ended');
    expect(app.store.utterances.listByCall(after.id).length).toBeGreaterThan(0);
    expect(app.store.integrityCheck()).toBe('ok');
  });
});

describe.skipIf(mountable)('disk full (tmpfs unavailable)', () => {
  it.skip('needs root to mount a small tmpfs for the data dir', () => {});
});
