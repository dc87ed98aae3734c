/**
 * Mandarin through the recognizer: the pinyin model's finals and partials come out in Chinese
 * characters (pinyin kept beside them), word times from the syllables; the same through an 8 kHz
 * G.711 round trip; and language `auto` keeps the model of the language spoken, closes the other,
 * and hands on the winner's events.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FinalEvent, PartialEvent } from '../../../appliance/asr/events.js';
import { AutoLanguageStream } from '../../../appliance/asr/autoLanguage.js';
import { RecognizerPool } from '../../../appliance/asr/pool/pool.js';
import { Recognizer } from '../../../appliance/asr/recognizer.js';
import { readWavFile, transcribeAudio } from '../../../appliance/asr/transcribeFile.js';
import type { WavAudio } from '../../../appliance/audio/wav.js';
import { mulawRoundTrip8k } from '../../../tools/asr/telephone.js';
import { main } from '../../../cli/main.js';
import { MODEL_DIR, SHARED, VAD_MODEL } from './helpers.js';

const ZH_MODEL_DIR = join(SHARED, 'models/asr/kws-zipformer-wenetspeech-zh-3.3m');
const AISHELL = join(SHARED, 'datasets/speech-zh/BAC009S0764W0121.wav'); // 甚至出现交易几乎停滞的情况
const NET = join(SHARED, 'datasets/speech-zh/TEST_NET_Y0000000000_-KTKHdZ2fb8_S00000.wav'); // 我有的时候说不清楚你们知道吗
const EN = join(SHARED, 'datasets/speech-en/0.wav');

let zh: Recognizer;
let en: Recognizer;
beforeAll(async () => {
  zh = await Recognizer.create({ modelDir: ZH_MODEL_DIR, vadModelPath: VAD_MODEL, threads: 1 });
  en = await Recognizer.create({ modelDir: MODEL_DIR, vadModelPath: VAD_MODEL, threads: 1 });
});
afterAll(async () => {
  await zh?.close();
  await en?.close();
});

describe('Mandarin recognition', () => {
  it('reads the language from the units of the model', () => {
    expect(zh.info().language).toBe('zh');
    expect(en.info().language).toBe('en');
  });

  it('transcribes in characters, keeps the pinyin, times each word', async () => {
    const partials: PartialEvent[] = [];
    const audio = readWavFile(AISHELL);
    const stream = zh.createStream({ sampleRateHz: audio.sampleRateHz, endpoint: false });
    stream.on('partial', (e) => partials.push(e));
    const finals: FinalEvent[] = [];
    stream.on('final', (e) => finals.push(e));
    stream.push(audio.samples);
    await stream.flush();
    stream.close();
    expect(finals).toHaveLength(1);
    const f = finals[0]!;
    expect(f.language).toBe('zh');
    for (const w of ['出现', '交易', '几乎', '情况']) expect(f.text).toContain(w);
    expect(f.text).not.toMatch(/[a-zāáǎà]/);
    expect(f.pinyin).toMatch(/^chū|zhì chū xiàn jiāo yì jī hū/);
    // one syllable per character, words cover the text in order with increasing times
    expect(f.pinyin!.split(' ')).toHaveLength([...f.text].length);
    expect(f.words.map((w) => w.word).join('')).toBe(f.text);
    for (let i = 1; i < f.words.length; i++) expect(f.words[i]!.startMs).toBeGreaterThanOrEqual(f.words[i - 1]!.endMs);
    const jiaoyi = f.words.find((w) => w.word === '交易')!;
    expect(jiaoyi.startMs).toBeGreaterThan(500);
    expect(jiaoyi.endMs).toBeLessThan(3000);
    // partials are characters too
    expect(partials.length).toBeGreaterThan(3);
    expect(partials.at(-1)!.text).toMatch(/[\u4e00-\u9fff]/u);
  });

  it('through an 8 kHz G.711 round trip', async () => {
    const t = await transcribeAudio(zh, mulawRoundTrip8k(readWavFile(NET)), 'net');
    expect(t.text).toContain('说不清楚');
    expect(t.text).toContain('知道');
  });

  it('without the language model each syllable becomes a character on its own', async () => {
    const plain = await Recognizer.create({ modelDir: ZH_MODEL_DIR, vadModelPath: VAD_MODEL, threads: 1, hanziLm: false });
    try {
      const a = await transcribeAudio(plain, readWavFile(AISHELL), 'a');
      const b = await transcribeAudio(zh, readWavFile(AISHELL), 'a');
      expect(a.pinyin).toBe(b.pinyin);
      expect([...a.text]).toHaveLength([...b.text].length);
      expect(a.text).not.toBe(b.text);
    } finally {
      await plain.close();
    }
  });
});

describe('edgevox transcribe --model-dir <Mandarin model>', () => {
  it('loads the model (tokens.txt longer than the joiner output) and prints characters and pinyin', async () => {
    const out: string[] = [];
    const io = { out: (t: string) => void out.push(t), err: () => undefined };
    const code = await main(['transcribe', '--json', '--model-dir', ZH_MODEL_DIR, '--vad-model', VAD_MODEL, AISHELL], io);
    expect(code).toBe(0);
    const obj = JSON.parse(out.join('')) as { language: string; text: string; pinyin: string; words: { word: string }[] };
    expect(obj.language).toBe('zh');
    expect(obj.text).toContain('交易');
    expect(obj.pinyin).toContain('jiāo yì');
    expect(obj.words.some((w) => w.word === '情况')).toBe(true);
  });
});

async function autoDecide(audio: WavAudio): Promise<{ language: string | undefined; finals: FinalEvent[]; closed: boolean[] }> {
  const streams = { en: en.createStream({ sampleRateHz: audio.sampleRateHz }), zh: zh.createStream({ sampleRateHz: audio.sampleRateHz }) };
  const auto = new AutoLanguageStream(streams);
  let language: string | undefined;
  const finals: FinalEvent[] = [];
  auto.on('language', (e) => (language = e.language));
  auto.on('final', (e) => finals.push(e));
  const piece = audio.sampleRateHz / 10;
  for (let off = 0; off < audio.samples.length; off += piece) {
    auto.push(audio.samples.subarray(off, off + piece));
    if ((off / piece) % 10 === 9) await auto.whenIdle();
  }
  await auto.flush();
  const closed = [streams.en.isClosed, streams.zh.isClosed];
  auto.close();
  return { language, finals, closed };
}

describe('language auto', () => {
  it('keeps the Mandarin model for Mandarin speech and closes the English one', async () => {
    const r = await autoDecide(mulawRoundTrip8k(readWavFile(AISHELL)));
    expect(r.language).toBe('zh');
    expect(r.closed).toEqual([true, false]);
    expect(r.finals.length).toBeGreaterThan(0);
    expect(r.finals.every((f) => f.language === 'zh')).toBe(true);
    expect(r.finals.map((f) => f.text).join('')).toContain('交易');
  });

  it('keeps the English model for English speech', async () => {
    const r = await autoDecide(mulawRoundTrip8k(readWavFile(EN)));
    expect(r.language).toBe('en');
    expect(r.closed).toEqual([false, true]);
    expect(r.finals.every((f) => f.language === 'en')).toBe(true);
    expect(r.finals.map((f) => f.text).join(' ')).toMatch(/[A-Z]{3,}/);
  });

  it('a candidate that fails before the decision leaves it to the other; the leg sees no error', async () => {
    const pool = await RecognizerPool.create({ modelDir: ZH_MODEL_DIR, vadModelPath: VAD_MODEL, threads: 1, workers: 1 });
    try {
      const audio = mulawRoundTrip8k(readWavFile(EN));
      const zhStream = pool.createStream({ sampleRateHz: audio.sampleRateHz });
      const auto = new AutoLanguageStream({ en: en.createStream({ sampleRateHz: audio.sampleRateHz }), zh: zhStream });
      const errors: string[] = [];
      let language: string | undefined;
      const finals: FinalEvent[] = [];
      auto.on('error', (e) => errors.push(e.error.code));
      auto.on('language', (e) => (language = e.language));
      auto.on('final', (e) => finals.push(e));
      const gotError = new Promise<void>((resolve) => zhStream.once('error', () => resolve()));
      auto.push(audio.samples.subarray(0, 1600));
      await auto.whenIdle();
      expect(pool.crashWorker(0)).toBe(true);
      await gotError;
      expect(language).toBe('en');
      auto.push(audio.samples.subarray(1600));
      await auto.flush();
      auto.close();
      expect(errors).toEqual([]);
      expect(finals.length).toBeGreaterThan(0);
      expect(finals.every((f) => f.language === 'en')).toBe(true);
    } finally {
      await pool.close();
    }
  });
});
