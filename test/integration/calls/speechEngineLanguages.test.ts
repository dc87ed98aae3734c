/**
 * The speech engine's languages: with nothing configured for Mandarin it starts English only; the
 * first leg that asks for Mandarin is transcribed as English while the Mandarin recognizer starts
 * (it is never left without a transcript), and later legs get Mandarin.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { readWavFile } from '../../../appliance/asr/transcribeFile.js';
import type { TranscriberCallbacks, TranscriptFinal } from '../../../appliance/calls/transcriber.js';
import { mulawRoundTrip8k } from '../../../tools/asr/telephone.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { SHARED_DIR } from '../../helpers/paths.js';

const clip = mulawRoundTrip8k(readWavFile(join(SHARED_DIR, 'datasets/speech-zh/BAC009S0764W0121.wav')));

async function transcribeLeg(app: Appliance, legId: string): Promise<TranscriptFinal[]> {
  const finals: TranscriptFinal[] = [];
  const callbacks: TranscriberCallbacks = {
    partial: () => undefined,
    final: (t) => finals.push(t),
    keyword: () => undefined,
    failed: () => undefined,
  };
  const leg = app.speech!.factory({ callId: legId, legId, speaker: 'caller', sampleRateHz: 8000, hotwords: [], language: 'zh' }, callbacks);
  for (let off = 0; off < clip.samples.length; off += 160) {
    leg.write(clip.samples.subarray(off, off + 160), 8000);
    if (off % 16000 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  await leg.close();
  return finals;
}

describe('speech engine languages', () => {
  let app: Appliance;
  beforeAll(async () => {
    ({ app } = await startTestAppliance());
  });
  afterAll(async () => {
    await app?.close();
  });

  it('starts Mandarin on the first leg that asks for it; that leg is transcribed as English meanwhile', async () => {
    expect(app.speech!.mandarin).toBeUndefined();
    const first = await transcribeLeg(app, 'leg-1');
    expect(first.length).toBeGreaterThan(0);
    expect(first.every((f) => (f.language ?? 'en') === 'en')).toBe(true);
    await app.speech!.ensureMandarin();
    expect(app.speech!.mandarin).toBeDefined();
    const second = await transcribeLeg(app, 'leg-2');
    expect(second.every((f) => f.language === 'zh')).toBe(true);
    expect(second.map((f) => f.text).join('')).toContain('交易');
  });
});
