/**
 * A Mandarin telephone call through the whole appliance: sipp calls and streams an AISHELL clip
 * (甚至出现交易几乎停滞的情况) as 8 kHz G.711 μ-law; the site's language is `auto`, so both models
 * hear the first seconds and the Mandarin one is kept. The stored call carries its language and a
 * transcript in Chinese characters with the pinyin beside it.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authedFetch } from '../../helpers/auth.js';
import { SHARED_DIR } from '../../helpers/paths.js';
import { freePort, haveTool, prepareClip, runSipp, SCENARIOS, type Workdir } from '../sip/harness.js';

interface StoredCall {
  id: string;
  state: string;
  language: string | null;
  utterances: { speaker: string; text: string; language: string; pinyin: string | null; words: { word: string }[] }[];
}

describe('a Mandarin SIP call', () => {
  let app: Appliance;
  let work: Workdir;
  beforeAll(async () => {
    if (!haveTool('sipp') || !haveTool('sox')) throw new Error('sipp (sip-tester) and sox are required: run make setup');
    work = prepareClip(path.join(SHARED_DIR, 'datasets', 'speech-zh', 'BAC009S0764W0121.wav'));
    ({ app } = await startTestAppliance({ asr: { language: 'auto' } }));
  });
  afterAll(async () => {
    await app?.close();
    work?.cleanup();
  });

  it('is recognised as Mandarin and stored with a Chinese transcript', async () => {
    const r = await runSipp(
      [
        `127.0.0.1:${app.sip!.port}`,
        '-sf',
        path.join(SCENARIOS, 'uac-pcmu-speech.xml'),
        '-m',
        '1',
        '-d',
        String(Math.ceil(work.ulaw.length / 8) + 1500),
        '-i',
        '127.0.0.1',
        '-p',
        String(await freePort()),
        '-mi',
        '127.0.0.1',
        '-mp',
        String(await freePort(true)),
        '-timeout',
        '40s',
        '-timeout_error',
      ],
      work.dir,
      45_000,
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (let i = 0; i < 100 && app.calls.activeCount > 0; i++) await new Promise((res) => setTimeout(res, 50));
    expect(app.calls.activeCount).toBe(0);

    const list = (await (await authedFetch(app)('/api/v1/calls?limit=1&language=zh')).json()) as { calls: { id: string }[] };
    expect(list.calls).toHaveLength(1);
    const call = (await (await authedFetch(app)(`/api/v1/calls/${list.calls[0]!.id}`)).json()) as StoredCall;
    expect(call.state).toBe('ended');
    expect(call.language).toBe('zh');
    const text = call.utterances.map((u) => u.text).join('');
    for (const w of ['出现', '交易', '情况']) expect(text, text).toContain(w);
    expect(call.utterances.every((u) => u.language === 'zh')).toBe(true);
    expect(call.utterances.map((u) => u.pinyin ?? '').join(' ')).toContain('jiāo yì');
    const english = (await (await authedFetch(app)('/api/v1/calls?limit=5&language=en')).json()) as { calls: unknown[] };
    expect(english.calls).toHaveLength(0);
  });
});
