/**
 * Call languages in a running appliance: SIP calls take their language from the queue of the number
 * dialled, the number (sip.dids), the trunk they come from (by address), else asr.language; each
 * leg's transcriber is given it; the calls API and the console search filter by language (an
 * unknown one is a 400 with the registry's code) and show it, with the pinyin of Mandarin
 * utterances, to every signed-in role that could read calls before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import type { TranscriberFactory, TranscriberOptions } from '../../../appliance/calls/transcriber.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authedFetch, quietApplianceOverrides } from '../../helpers/auth.js';
import { TestUac } from '../sip/uac.js';

const ZH = { text: '我想查询一下我的账单', pinyin: 'wǒ xiǎng chá xún yí xià wǒ de zhàng dān' };
const seen: TranscriberOptions[] = [];
/** Says one thing per leg when the leg closes, in the language the leg was given. */
const scripted: TranscriberFactory = (opts, cb) => {
  seen.push(opts);
  return {
    write: () => {},
    lagMs: () => 0,
    stats: () => ({ droppedFrames: 0, decodedMs: 0, skippedMs: 0, chunkLatencyP95Ms: 0 }),
    close: async () => {
      const base = { words: [], startMs: 0, endMs: 1200, confidence: 0.9, latencyMs: 40 };
      if (opts.language === 'zh') cb.final({ ...base, ...ZH, language: 'zh' });
      else cb.final({ ...base, text: 'I WANT TO CHECK MY BILL' });
    },
  };
};

let app: Appliance;
beforeAll(async () => {
  ({ app } = await startTestAppliance(
    quietApplianceOverrides({
      asr: { language: 'en' },
      sip: {
        trunks: [{ name: 'cn-carrier', host: '127.0.0.2', keepaliveSec: 0, language: 'auto' }],
        dids: [
          { number: '+862150000001', language: 'zh' },
          { number: '+862150000002', language: 'en', queue: 'mandarin' },
        ],
      },
    }),
    { transcribers: scripted },
  ));
  const group = (id: string, language?: string) => ({
    id,
    name: id,
    intents: [],
    overflow: { maxWaitMs: 60_000, action: 'none' },
    ...(language === undefined ? {} : { language }),
  });
  const put = await authedFetch(app)('/api/v1/routing/config', {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ groups: [group('general'), group('mandarin', 'zh')], agents: [] }),
  });
  expect(put.status, await put.clone().text()).toBe(200);
});
afterAll(async () => {
  await app?.close();
});

const tick = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A SIP call to `dialled` from `source`, hung up at once; the id of the call record it made. */
async function sipCall(dialled: string, source = '127.0.0.1'): Promise<string> {
  const before = new Set(app.calls.active().map((c) => c.id));
  const uac = await new TestUac(app.sip!.port, 'udp', {}, source).open();
  uac.toUser = dialled;
  await uac.call(40_000 + 2 * Math.floor(Math.random() * 1000));
  const call = app.calls.active().find((c) => !before.has(c.id));
  expect(call).toBeDefined();
  const id = call!.id;
  uac.sendRaw(uac.request('BYE'));
  await uac.waitResponse('BYE', 200);
  uac.close();
  for (let i = 0; i < 100 && app.calls.get(id) !== undefined; i++) await tick();
  return id;
}

describe('the language of SIP calls', () => {
  it('follows queue > dialled number > trunk > site default, and reaches each leg', async () => {
    const queue = await sipCall('+862150000002');
    const did = await sipCall('+86-21-5000-0001', '127.0.0.2');
    const trunk = await sipCall('+4930999000', '127.0.0.2');
    const site = await sipCall('+4930999000');
    const stored = (id: string) => app.store.calls.get(id);
    expect(stored(queue)).toMatchObject({ language: 'zh', languageChoice: 'zh', languageFrom: 'queue' });
    expect(stored(did)).toMatchObject({ language: 'zh', languageChoice: 'zh', languageFrom: 'did' });
    expect(stored(trunk)).toMatchObject({ language: null, languageChoice: 'auto', languageFrom: 'trunk' });
    expect(stored(site)).toMatchObject({ language: 'en', languageChoice: 'en', languageFrom: 'site' });
    const legLanguage = (id: string) => seen.filter((o) => o.callId === id).map((o) => o.language);
    expect([queue, did, trunk, site].map(legLanguage)).toEqual([['zh'], ['zh'], ['auto'], ['en']]);
  });
});

describe('languages in the calls API and the console', () => {
  let zhCall = '';
  let enCall = '';
  beforeAll(async () => {
    const zh = app.calls.startCall({ source: 'sip', language: { choice: 'zh', from: 'did' } });
    zh.addLeg({ label: 'caller', codec: 'PCMU', sampleRateHz: 8000 });
    await zh.end('bye');
    const en = app.calls.startCall({ source: 'webrtc' });
    en.addLeg({ label: 'caller', codec: 'opus', sampleRateHz: 16000 });
    await en.end('bye');
    zhCall = zh.id;
    enCall = en.id;
  });

  it('filters the call list by language, and refuses an unknown language with the registry error', async () => {
    const list = async (q: string) =>
      ((await (await authedFetch(app, 'viewer')(`/api/v1/calls?limit=100&${q}`)).json()) as { calls: { id: string; language: string }[] })
        .calls;
    const zh = await list('language=zh');
    expect(zh.map((c) => c.id)).toContain(zhCall);
    expect(zh.map((c) => c.id)).not.toContain(enCall);
    expect(new Set(zh.map((c) => c.language))).toEqual(new Set(['zh']));
    const en = await list('language=en');
    expect(en.map((c) => c.id)).toContain(enCall);
    expect(en.map((c) => c.id)).not.toContain(zhCall);
    for (const bad of ['fr', 'auto', 'ZH', '']) {
      const res = await authedFetch(app, 'viewer')(`/api/v1/calls?language=${bad}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('EVX_ERR_BAD_REQUEST');
    }
  });

  it('gives the language of the call and of each utterance, with the pinyin of a Mandarin one', async () => {
    const body = (await (await authedFetch(app, 'viewer')(`/api/v1/calls/${zhCall}`)).json()) as {
      language: string;
      languageChoice: string;
      languageFrom: string;
      utterances: { text: string; language: string; pinyin: string | null }[];
    };
    expect(body).toMatchObject({ language: 'zh', languageChoice: 'zh', languageFrom: 'did' });
    expect(body.utterances).toMatchObject([{ text: ZH.text, language: 'zh', pinyin: ZH.pinyin }]);
    const en = (await (await authedFetch(app, 'viewer')(`/api/v1/calls/${enCall}`)).json()) as { utterances: unknown[] };
    expect(en.utterances).toMatchObject([{ language: 'en', pinyin: null }]);
  });

  it('filters the console call search by language (with or without words), and refuses an unknown one', async () => {
    const search = async (q: string) =>
      (
        (await (await authedFetch(app, 'viewer')(`/api/v1/console/calls?limit=200&${q}`)).json()) as {
          calls: { id: string; language: string }[];
        }
      ).calls;
    const zh = await search('language=zh');
    expect(zh.map((c) => c.id)).toContain(zhCall);
    expect(zh.every((c) => c.language === 'zh')).toBe(true);
    expect((await search(`language=zh&q=${encodeURIComponent('账单')}`)).map((c) => c.id)).toContain(zhCall);
    expect((await search(`language=en&q=${encodeURIComponent('账单')}`)).map((c) => c.id)).not.toContain(zhCall);
    expect((await search('')).map((c) => c.id)).toEqual(expect.arrayContaining([zhCall, enCall]));
    const res = await authedFetch(app, 'viewer')('/api/v1/console/calls?language=klingon');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('EVX_ERR_BAD_REQUEST');
  });

  it('shows the language of live calls', async () => {
    const live = app.calls.startCall({ source: 'sip', language: { choice: 'auto', from: 'trunk' } });
    const board = (await (await authedFetch(app, 'viewer')('/api/v1/console/live')).json()) as {
      calls: { id: string; language: string | null; languageChoice: string }[];
    };
    expect(board.calls.find((c) => c.id === live.id)).toMatchObject({ language: null, languageChoice: 'auto' });
    live.languageDecided({ language: 'zh', confidence: 0.9, decidedAtMs: 2000 });
    const after = (await (await authedFetch(app, 'viewer')('/api/v1/console/live')).json()) as typeof board;
    expect(after.calls.find((c) => c.id === live.id)).toMatchObject({ language: 'zh', languageChoice: 'auto' });
    await live.end('bye');
  });
});
