/**
 * The whole telephone path: sipp (a real SIP peer) calls the appliance and streams speech-en/0.wav as
 * PCMU; the appliance answers, decodes the RTP, recognises it and stores the call. Afterwards the
 * transcript in /api/v1/calls/:id is within a few words of the reference, BYE ended the call and every
 * SIP/RTP/ASR resource is released.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authedFetch } from '../../helpers/auth.js';
import { SHARED_DIR } from '../../helpers/paths.js';
import { speechClip, wordErrors } from '../../helpers/speech.js';
import { freePort, haveTool, prepareClip, runSipp, SCENARIOS, udpPortFree, type Workdir } from '../sip/harness.js';
import { plantedIn } from '../../helpers/planted.js';

describe('a SIP call through the whole appliance', () => {
  let app: Appliance;
  let work: Workdir;
  beforeAll(async () => {
    if (!haveTool('sipp') || !haveTool('sox')) throw new Error('sipp (sip-tester) and sox are required: run make setup');
    work = prepareClip(path.join(SHARED_DIR, 'datasets', 'speech-en', '0.wav'));
    ({ app } = await startTestAppliance());
  });
  afterAll(async () => {
    await app?.close();
    work?.cleanup();
  });

  it('answers, transcribes the caller leg, stores it and releases everything on BYE', async () => {
    const { reference } = speechClip('0.wav');
    const sipPort = app.sip!.port;
    const localPort = await freePort();
    const mediaPort = await freePort(true);
    const durationMs = Math.ceil(work.ulaw.length / 8) + 1500;
    const r = await runSipp(
      [
        `127.0.0.1:${sipPort}`,
        '-sf',
        path.join(SCENARIOS, 'uac-pcmu-speech.xml'),
        '-m',
        '1',
        '-d',
        String(durationMs),
        '-i',
        '127.0.0.1',
        '-p',
        String(localPort),
        '-mi',
        '127.0.0.1',
        '-mp',
        String(mediaPort),
        '-timeout',
        '40s',
        '-timeout_error',
      ],
      work.dir,
      45_000,
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // The call ends when BYE arrives; the last final is flushed as the leg closes.
    for (let i = 0; i < 100 && app.calls.activeCount > 0; i++) await new Promise((res) => setTimeout(res, 50));
    expect(app.calls.activeCount).toBe(0);

    const list = (await (await authedFetch(app)(`/api/v1/calls?limit=1`)).json()) as { calls: { id: string }[] };
    const id = list.calls[0]!.id;
    const call = (await (await authedFetch(app)(`/api/v1/calls/${id}`)).json()) as {
      source: string;
      state: string;
      endReason: string;
      callerHash: string | null;
      legs: { label: string; codec: string; quality: Record<string, number> }[];
      utterances: { speaker: string; text: string; words: { word: string; startMs: number; endMs: number }[] }[];
    };
    expect(call).toMatchObject({ source: 'sip', state: 'ended', endReason: 'bye' });
    expect(call.callerHash).toMatch(/^[0-9a-f]{32}$/);
    expect(plantedIn(JSON.stringify(call), ['15550100'])).toEqual([]);
    expect(call.legs).toHaveLength(1);
    expect(call.legs[0]).toMatchObject({ label: 'caller', codec: 'PCMU' });
    expect(call.legs[0]!.quality['packetsReceived']).toBeGreaterThan(300);
    const text = call.utterances.map((u) => u.text).join(' ');
    // Narrowband (8 kHz μ-law) costs a little accuracy: "within a few words" of the reference.
    expect(wordErrors(reference, text), text).toBeLessThanOrEqual(4);
    expect(call.utterances.every((u) => u.speaker === 'caller')).toBe(true);

    // Every RTP port of the range is free again: sockets were closed.
    const { rtpPortMin, rtpPortMax } = app.config.sip;
    for (let p = rtpPortMin; p <= Math.min(rtpPortMax, rtpPortMin + 7); p += 2) expect(await udpPortFree(p)).toBe(true);
    expect(app.calls.maxLagMs()).toBe(0);
  });
});
