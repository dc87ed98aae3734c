/** The stream API on the real model: chunking and state carry, endpointing, VAD, keywords, biasing, rates, limits, close. */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EncoderState } from '../../../appliance/asr/encoderState.js';
import type { FinalEvent, KeywordEvent, PartialEvent } from '../../../appliance/asr/events.js';
import { OnlineFbank } from '../../../appliance/asr/fbank.js';
import { GreedySearch } from '../../../appliance/asr/greedy.js';
import { Recognizer } from '../../../appliance/asr/recognizer.js';
import { loadEvalSet } from '../../../tools/asr/evalSet.js';
import { mulawRoundTrip8k } from '../../../tools/asr/telephone.js';
import { normalizeForWer, werCounts, addCounts, type WerCounts } from '../../../tools/asr/wer.js';
import { readWavFile, transcribeAudio } from '../../../appliance/asr/transcribeFile.js';
import { StreamingResampler } from '../../../appliance/audio/resample.js';
import { encodeWav, parseWav } from '../../../appliance/audio/wav.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { main } from '../../../cli/main.js';
import { HAVE_MODELS, MODEL_DIR, SHARED, SPEECH_EN, VAD_MODEL } from './helpers.js';

const CLIP0 = join(SPEECH_EN, '0.wav');
const CLIP1 = join(SPEECH_EN, '1.wav');
const GREEDY_0 = 'AFTER EARLY NIGHTFALL THE YELLOW LAMPS WOULD LIGHT UP HERE AND THERE THE SQUALID QUARTER OF THE BRAFFLES';

function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function feed(rec: Recognizer, samples: Int16Array, rate: number, frameSamples: number, opts = {}) {
  const s = rec.createStream({ sampleRateHz: rate, ...opts });
  const finals: FinalEvent[] = [];
  const partials: PartialEvent[] = [];
  const keywords: KeywordEvent[] = [];
  s.on('final', (e) => finals.push(e));
  s.on('partial', (e) => partials.push(e));
  s.on('keyword', (e) => keywords.push(e));
  let unawaited = 0;
  for (let off = 0; off < samples.length; off += frameSamples) {
    s.push(samples.subarray(off, off + frameSamples));
    unawaited += frameSamples;
    if (unawaited >= rate) {
      await s.whenIdle(); // keep well inside the bounded input buffer
      unawaited = 0;
    }
  }
  await s.flush();
  const stats = s.stats();
  s.close();
  return { finals, partials, keywords, stats };
}

describe.skipIf(!HAVE_MODELS)('recognition stream', () => {
  let rec: Recognizer;
  beforeAll(async () => {
    rec = await Recognizer.create({ modelDir: MODEL_DIR, vadModelPath: VAD_MODEL, threads: 1 });
  });
  afterAll(async () => rec.close());

  it('gives the same transcript for 20 ms frames and 1 s pieces, with partials that grow', async () => {
    const a = readWavFile(CLIP0);
    const small = await feed(rec, a.samples, 16000, 320, { vad: false, endpoint: false });
    const big = await feed(rec, a.samples, 16000, 16000, { vad: false, endpoint: false });
    expect(small.finals.map((f) => f.text)).toEqual([GREEDY_0]);
    expect(big.finals.map((f) => f.text)).toEqual([GREEDY_0]);
    expect(small.partials.length).toBeGreaterThan(5);
    for (let i = 1; i < small.partials.length; i++) expect(small.partials[i]!.audioMs).toBeGreaterThan(small.partials[i - 1]!.audioMs);
    // 106,000 samples -> (106000 + 80) / 160 = 662 frames; chunks start every 32 frames below that
    expect(small.stats.encoderChunks).toBe(Math.ceil(662 / 32));
    const f = small.finals[0]!;
    expect(f.words.map((w) => w.word).join(' ')).toBe(GREEDY_0);
    for (let i = 1; i < f.words.length; i++) expect(f.words[i]!.startMs).toBeGreaterThanOrEqual(f.words[i - 1]!.endMs);
    expect(f.words[0]!.startMs).toBe(640); // sherpa-onnx timestamp of the first token (0.64 s)
    expect(f.confidence).toBeGreaterThan(0.3);
    expect(f.confidence).toBeLessThanOrEqual(1);
    expect(f.processingMs).toBeGreaterThan(0);
  });

  it('carries the 38 encoder states across chunks (resetting them between chunks breaks the transcript)', async () => {
    const a = readWavFile(CLIP0);
    const run = async (carry: boolean): Promise<string> => {
      const fb = new OnlineFbank();
      const enc = new EncoderState(rec.model);
      const search = new GreedySearch(rec.model);
      await search.reset();
      const g = rec.model.geometry;
      const x = Float32Array.from(a.samples, (v) => v / 32768);
      let start = 0;
      for (let off = 0; off < x.length + 10560; off += 1600) {
        fb.acceptWaveform(off < x.length ? x.subarray(off, off + 1600) : new Float32Array(1600));
        while (fb.numFramesReady - start >= g.chunkFrames) {
          fb.readFrames(start, g.chunkFrames, enc.x);
          if (!carry) enc.reset();
          await search.decodeChunk(await enc.run(), g.encoderFramesPerChunk, start / g.subsampling);
          start += g.chunkShift;
          fb.discardBefore(start);
        }
      }
      return rec.model.tokens.text(search.best().tokens);
    };
    expect(rec.model.states).toHaveLength(38);
    expect(rec.model.geometry).toMatchObject({ chunkFrames: 45, chunkShift: 32, encoderFramesPerChunk: 8, contextSize: 2 });
    expect(await run(true)).toBe(GREEDY_0);
    expect(await run(false)).not.toBe(GREEDY_0);
  });

  it('ends utterances at 1.2 s of silence after speech, and the VAD keeps the silence away from the encoder', async () => {
    const a = readWavFile(CLIP0).samples;
    const b = readWavFile(join('/usr/share/pocketsphinx/test/data/cards/003.wav')).samples;
    const audio = concat(a, new Int16Array(16000 * 3), b);
    for (const vad of [false, true]) {
      const r = await feed(rec, audio, 16000, 320, { vad });
      expect(r.finals.map((f) => f.text)).toEqual([GREEDY_0, 'SEVEN OF CLUBS']);
      expect(r.finals[0]!.reason).toBe('endpoint');
      expect(r.finals[1]!.reason).toBe('flush');
      const secondStart = r.finals[1]!.words[0]!.startMs;
      expect(secondStart).toBeGreaterThan(a.length / 16 + 3000);
      expect(secondStart).toBeLessThan(a.length / 16 + 3000 + 1000);
      if (vad) expect(r.stats.audioSkippedMs).toBeGreaterThan(1500);
      else expect(r.stats.audioSkippedMs).toBe(0);
    }
  });

  it('ends an utterance at the 20 s maximum', async () => {
    const a = readWavFile(CLIP1).samples;
    const r = await feed(rec, concat(a, a), 16000, 1600, { vad: false });
    expect(r.finals[0]!.reason).toBe('max-length');
    expect(r.finals.length).toBeGreaterThanOrEqual(2);
  });

  it('raises keyword events with times and scores, and none for absent phrases', async () => {
    const a = readWavFile(CLIP1);
    const r = await feed(rec, a.samples, 16000, 320, {
      keywords: ['lovely child', 'cancel my account', { phrase: 'blessed soul in heaven', threshold: 0.3 }],
    });
    const names = r.keywords.map((k) => k.keyword);
    expect(names).toEqual(['lovely child', 'blessed soul in heaven']);
    const lovely = r.keywords[0]!;
    expect(lovely.startMs).toBeGreaterThan(5000);
    expect(lovely.endMs).toBeLessThan(6600);
    expect(lovely.score).toBeGreaterThan(0.25);
    expect(r.stats.keywords).toBe(2);
  });

  it('contextual biasing fixes BROTHELS without raising WER on the rest of the eval set', async () => {
    const { clips } = loadEvalSet(SHARED);
    let greedy: WerCounts = { words: 0, subs: 0, dels: 0, ins: 0 };
    let biased: WerCounts = { ...greedy };
    for (const clip of clips) {
      const audio = readWavFile(clip.path);
      const g = await transcribeAudio(rec, audio, clip.id, { vad: false, endpoint: false });
      const b = await transcribeAudio(rec, audio, clip.id, { vad: false, endpoint: false, hotwords: ['BROTHELS'] });
      if (clip.id === 'speech-en/0.wav') {
        expect(g.text).toContain('BRAFFLES');
        expect(b.text).toBe(GREEDY_0.replace('BRAFFLES', 'BROTHELS'));
      }
      const ref = normalizeForWer(clip.reference);
      greedy = addCounts(greedy, werCounts(ref, normalizeForWer(g.text)));
      biased = addCounts(biased, werCounts(ref, normalizeForWer(b.text)));
    }
    const errs = (c: WerCounts): number => c.subs + c.dels + c.ins;
    expect(errs(biased)).toBe(errs(greedy) - 1);
  });

  it('plain beam search without biasing does not produce the phrase (the fix comes from the bias)', async () => {
    const t = await transcribeAudio(rec, readWavFile(CLIP0), '0', { vad: false, endpoint: false, decoding: 'beam' });
    expect(t.text).not.toContain('BROTHELS');
  });

  it('accepts 8 kHz mu-law and 48 kHz input', async () => {
    const a = readWavFile(CLIP0);
    const ref = normalizeForWer(GREEDY_0);
    const narrow = mulawRoundTrip8k(a);
    const wav8 = parseWav(encodeWav(narrow.samples, 8000, 'pcm16'));
    const t8 = await transcribeAudio(rec, wav8, '8k', { vad: false, endpoint: false });
    const c8 = werCounts(ref, normalizeForWer(t8.text));
    expect(c8.subs + c8.dels + c8.ins).toBeLessThanOrEqual(2);
    const up = new StreamingResampler(16000, 48000);
    const f = Float32Array.from(a.samples, (v) => v / 32768);
    const out = new Float32Array(up.maxOutput(f.length) + up.maxOutput(0));
    let n = up.process(f, out);
    n += up.flush(out.subarray(n));
    const s48 = Int16Array.from(out.subarray(0, n), (v) => Math.round(v * 32767));
    const t48 = await transcribeAudio(rec, { sampleRateHz: 48000, encoding: 'pcm16', samples: s48, durationMs: n / 48 }, '48k', {
      vad: false,
      endpoint: false,
    });
    const c48 = werCounts(ref, normalizeForWer(t48.text));
    expect(c48.subs + c48.dels + c48.ins).toBeLessThanOrEqual(1);
  });

  it('bounds the input buffer: audio pushed faster than it is decoded is dropped and counted', async () => {
    const a = readWavFile(CLIP1);
    const s = rec.createStream({ sampleRateHz: 16000, maxBufferedMs: 1000, vad: false });
    s.push(a.samples); // 16.7 s at once
    const st = s.stats();
    expect(st.lagMs).toBeLessThanOrEqual(1000);
    expect(st.droppedMs).toBeGreaterThan(15000);
    expect(st.droppedFrames).toBe(Math.floor(st.droppedMs / 20));
    s.close();
  });

  it('a throwing listener does not break decoding; close() is idempotent and stops the stream', async () => {
    const s = rec.createStream({ sampleRateHz: 16000, vad: false, endpoint: false });
    s.on('partial', () => {
      throw new Error('listener bug');
    });
    const a = readWavFile(CLIP0);
    s.push(a.samples.subarray(0, 16000 * 3));
    const final = await s.flush();
    expect(final?.text.startsWith('AFTER EARLY')).toBe(true);
    expect(s.stats().listenerErrors).toBeGreaterThan(0);
    s.close();
    s.close();
    expect(() => s.push(new Int16Array(160))).toThrow(/closed/);
    try {
      s.push(new Int16Array(160));
    } catch (err) {
      expect(isEdgeVoxError(err, 'EVX_ERR_STREAM_CLOSED')).toBe(true);
    }
  });
});

describe.skipIf(!HAVE_MODELS)('recognizer lifecycle and providers', () => {
  it('falls back from cuda to cpu when the CUDA provider libraries are missing, and reports the active provider', async () => {
    const rec = await Recognizer.create({ modelDir: MODEL_DIR, providers: ['cuda', 'cpu'], threads: 1 });
    try {
      expect(['cuda', 'cpu']).toContain(rec.info().provider);
      if (rec.info().provider === 'cpu') expect(rec.model.encoder.fallbacks.map((f) => f.provider)).toEqual(['cuda']);
    } finally {
      await rec.close();
    }
  });

  it('fails with a clear error when no configured provider loads', async () => {
    const rec = await Recognizer.create({ modelDir: MODEL_DIR, providers: ['cuda'], threads: 1 }).catch((e: unknown) => e);
    if (rec instanceof Recognizer) {
      await rec.close(); // a machine with CUDA libraries: nothing to check
      return;
    }
    expect(isEdgeVoxError(rec, 'EVX_ERR_PROVIDER_UNAVAILABLE')).toBe(true);
  });

  it('closing the recognizer closes its streams', async () => {
    const rec = await Recognizer.create({ modelDir: MODEL_DIR, threads: 1 });
    const s = rec.createStream({ sampleRateHz: 8000 });
    expect(rec.info().activeStreams).toBe(1);
    await rec.close();
    expect(s.isClosed).toBe(true);
    expect(() => rec.createStream({ sampleRateHz: 8000 })).toThrow(/closed/);
    await rec.close();
  });

  it('rejects a model directory without the transducer files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evx-asr-'));
    const err = await Recognizer.create({ modelDir: dir }).catch((e: unknown) => e);
    expect(isEdgeVoxError(err, 'EVX_ERR_ASR_MODEL_DIR')).toBe(true);
  });
});

describe.skipIf(!HAVE_MODELS)('edgevox transcribe', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) }, out, err };
  };
  const flags = ['--model-dir', MODEL_DIR, '--vad-model', VAD_MODEL];

  it('prints one JSON object per file', async () => {
    const { io: cio, out } = io();
    const code = await main(['transcribe', '--json', ...flags, CLIP0], cio);
    expect(code).toBe(0);
    const obj = JSON.parse(out.join('')) as Record<string, unknown>;
    expect(Object.keys(obj)).toEqual(['file', 'language', 'text', 'words', 'durationMs', 'cpuMs']);
    expect(obj.text).toBe(GREEDY_0);
    expect(obj.durationMs).toBe(6625);
  });

  it('gives a clear error for a truncated or wrongly formatted WAV', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evx-wav-'));
    const good = encodeWav(new Int16Array(1600), 16000, 'pcm16');
    writeFileSync(join(dir, 'trunc.wav'), good.subarray(0, 20));
    writeFileSync(join(dir, 'notwav.wav'), new TextEncoder().encode('this is not audio at all, sorry'));
    for (const [file, code] of [
      ['trunc.wav', 'EVX_ERR_AUDIO_TRUNCATED'],
      ['notwav.wav', 'EVX_ERR_AUDIO_FORMAT'],
    ] as const) {
      const { io: cio, err } = io();
      expect(await main(['transcribe', ...flags, join(dir, file)], cio)).toBe(1);
      expect(err.join('')).toContain(code);
      expect(err.join('')).toContain(file);
    }
  });
});
