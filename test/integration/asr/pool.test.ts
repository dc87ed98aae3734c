/**
 * RecognizerPool on worker threads with the real model: transcripts equal the in-process
 * recognizer's, a killed worker is replaced while the other worker's streams go on, and the close
 * cascade ends every worker thread.
 */
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpeechStream } from '../../../appliance/asr/api.js';
import type { ErrorEvent, FinalEvent } from '../../../appliance/asr/events.js';
import { RecognizerPool } from '../../../appliance/asr/pool/pool.js';
import { Recognizer } from '../../../appliance/asr/recognizer.js';
import { readWavFile, transcribeAudio, type TranscribeOptions } from '../../../appliance/asr/transcribeFile.js';
import type { WavAudio } from '../../../appliance/audio/wav.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { HAVE_MODELS, MODEL_DIR, SHARED, SPEECH_EN, VAD_MODEL } from './helpers.js';

const ZH_MODEL_DIR = `${SHARED}/models/asr/kws-zipformer-wenetspeech-zh-3.3m`;

const CLIPS = ['0.wav', '1.wav'];

/** Push a whole clip in 20 ms frames, waiting for the worker now and then (bounded buffers never drop). */
async function feedClip(stream: SpeechStream, audio: WavAudio): Promise<void> {
  const frame = Math.round(audio.sampleRateHz / 50);
  for (let off = 0, n = 0; off < audio.samples.length; off += frame, n++) {
    stream.push(audio.samples.subarray(off, off + frame));
    if (n % 50 === 49) await stream.whenIdle();
  }
}

function exited(w: Worker): Promise<number> {
  return new Promise((resolve) => w.once('exit', resolve));
}

describe.skipIf(!HAVE_MODELS)('RecognizerPool (worker threads)', () => {
  let inProcess: Recognizer;
  let pool: RecognizerPool;
  const audios = new Map<string, WavAudio>();
  beforeAll(async () => {
    for (const c of CLIPS) audios.set(c, readWavFile(`${SPEECH_EN}/${c}`));
    inProcess = await Recognizer.create({ modelDir: MODEL_DIR, vadModelPath: VAD_MODEL, threads: 1 });
    pool = await RecognizerPool.create({ modelDir: MODEL_DIR, vadModelPath: VAD_MODEL, threads: 1, workers: 2 });
  });
  afterAll(async () => {
    await pool?.close();
    await inProcess?.close();
  });

  const variants: [string, TranscribeOptions][] = [
    ['every sample decoded', { vad: false, endpoint: false }],
    ['VAD and endpoints', {}],
    ['keywords and hotwords (beam search)', { keywords: ['yellow lamps'], hotwords: ['squalid quarter'] }],
  ];
  for (const clip of CLIPS) {
    for (const [name, opts] of variants) {
      it(`${clip}, ${name}: same transcript, words and keywords as in-process`, async () => {
        const audio = audios.get(clip)!;
        const ref = await transcribeAudio(inProcess, audio, clip, opts);
        const got = await transcribeAudio(pool, audio, clip, opts);
        expect(ref.text.length).toBeGreaterThan(0);
        expect(got.text).toBe(ref.text);
        expect(got.words).toEqual(ref.words);
        expect(got.finals.map((f) => [f.reason, f.startMs, f.endMs, f.confidence])).toEqual(
          ref.finals.map((f) => [f.reason, f.startMs, f.endMs, f.confidence]),
        );
        expect(got.keywords.map((k) => [k.keyword, k.startMs, k.endMs])).toEqual(ref.keywords.map((k) => [k.keyword, k.startMs, k.endMs]));
      });
    }
  }

  it('streams of 8 kHz audio through the pool: stats mirrored, partials delivered, final latency measured', async () => {
    const audio = audios.get('0.wav')!;
    const narrow = { ...audio, sampleRateHz: 8000, samples: audio.samples.filter((_, i) => i % 2 === 0) };
    const s = pool.createStream({ sampleRateHz: 8000, endpoint: false });
    const partials: string[] = [];
    s.on('partial', (e) => partials.push(e.text));
    await feedClip(s, narrow);
    await s.whenIdle();
    const mid = s.stats();
    expect(mid.audioPushedMs).toBeCloseTo((narrow.samples.length / 8000) * 1000, 0);
    expect(mid.encoderChunks).toBeGreaterThan(0);
    expect(mid.droppedMs).toBe(0);
    const final = await s.flush();
    expect(final?.text.length).toBeGreaterThan(0);
    expect(final!.latencyMs).toBeGreaterThanOrEqual(0);
    expect(partials.length).toBeGreaterThan(0);
    const st = s.stats();
    expect(st.finals).toBe(1);
    expect(st.lagMs).toBeLessThan(50); // only resampler rounding may remain
    expect(st.chunkLatencyP95Ms).toBeGreaterThan(0);
    s.close();
    s.close(); // idempotent
    expect(s.isClosed).toBe(true);
    expect(() => s.push(new Int16Array(160))).toThrowError(/closed/);
  });

  it('validates on the main thread, synchronously, like the in-process recognizer', () => {
    expect(() => pool.createStream({ sampleRateHz: 1000 })).toThrowError(expect.objectContaining({ code: 'EVX_ERR_AUDIO_FORMAT' }));
    expect(() => pool.createStream({ sampleRateHz: 16000, hotwords: ['   '] })).toThrowError(
      expect.objectContaining({ code: 'EVX_ERR_ASR_PHRASE' }),
    );
    expect(pool.info().provider).toBe('cpu');
    expect(pool.workerCount).toBe(2);
  });

  it('places streams on the least-loaded worker', () => {
    const before = pool.stats().workers.map((w) => w.streams);
    const a = pool.createStream({ sampleRateHz: 16000 });
    const b = pool.createStream({ sampleRateHz: 16000 });
    expect(pool.stats().workers.map((w) => w.streams)).toEqual(before.map((n) => n + 1));
    a.close();
    b.close();
    expect(pool.stats().workers.map((w) => w.streams)).toEqual(before);
  });
});

describe.skipIf(!HAVE_MODELS)('RecognizerPool supervision', () => {
  it('a killed worker: its streams get EVX_ERR_ASR_WORKER_EXITED and continue on the restarted worker; the other worker is unaffected', async () => {
    const audio = readWavFile(`${SPEECH_EN}/0.wav`);
    const ref = await (async () => {
      const r = await Recognizer.create({ modelDir: MODEL_DIR, vadModelPath: VAD_MODEL, threads: 1 });
      try {
        return (await transcribeAudio(r, audio, '0.wav', { endpoint: false })).text;
      } finally {
        await r.close();
      }
    })();
    const failures: number[] = [];
    const pool = await RecognizerPool.create({
      modelDir: MODEL_DIR,
      vadModelPath: VAD_MODEL,
      workers: 2,
      onWorkerFailure: (f) => failures.push(f.worker),
    });
    try {
      // 4 streams: 0 and 2 on worker 0, 1 and 3 on worker 1
      const streams = Array.from({ length: 4 }, () => pool.createStream({ sampleRateHz: 16000, endpoint: false }));
      expect(pool.stats().workers.map((w) => w.streams)).toEqual([2, 2]);
      const errors = streams.map(() => [] as ErrorEvent[]);
      const finals = streams.map(() => [] as FinalEvent[]);
      streams.forEach((s, i) => {
        s.on('error', (e) => errors[i]!.push(e));
        s.on('final', (e) => finals[i]!.push(e));
      });
      // half of the clip into every stream, then worker 0 dies
      const half = audio.samples.subarray(0, Math.floor(audio.samples.length / 2));
      await Promise.all(streams.map((s) => feedClip(s, { ...audio, samples: half })));
      const victim = pool.workerThreads()[0]!;
      const survivor = pool.workerThreads()[1]!;
      const gone = exited(victim);
      // 1 s more for worker 0's streams, in the same turn as the kill: it is still on this thread
      // (batching window) when the worker dies, so it must be counted as lost
      for (const i of [0, 2]) streams[i]!.push(audio.samples.subarray(half.length, half.length + 16000));
      // The worker exits abnormally between inference calls (terminating a thread from outside while
      // onnxruntime runs would abort the whole test process, which is not what is tested here).
      expect(pool.crashWorker(0)).toBe(true);
      await gone;
      await new Promise((r) => setTimeout(r, 20));
      for (const i of [0, 2]) {
        expect(errors[i]!.map((e) => e.error.code)).toEqual(['EVX_ERR_ASR_WORKER_EXITED']);
        expect(isEdgeVoxError(errors[i]![0]!.error)).toBe(true);
      }
      expect(errors[1]).toEqual([]);
      expect(errors[3]).toEqual([]);
      expect(failures).toEqual([0]);
      // worker 1's streams finish the clip as if nothing happened
      const rest = audio.samples.subarray(half.length);
      for (const i of [1, 3]) {
        await feedClip(streams[i]!, { ...audio, samples: rest });
        const f = await streams[i]!.flush();
        expect(f?.text).toBe(ref);
      }
      expect(pool.workerThreads()[1]).toBe(survivor);
      // worker 0 comes back; its streams work again with fresh state
      while (pool.stats().workers[0]!.state !== 'ready') await new Promise((r) => setTimeout(r, 20));
      expect(pool.stats().workers[0]!.restarts).toBe(1);
      expect(pool.workerThreads()[0]).not.toBe(victim);
      for (const i of [0, 2]) {
        const s = streams[i]!;
        expect(s.stats().droppedMs).toBeGreaterThanOrEqual(1000); // the audio the dead worker never decoded is counted as lost
        expect(s.stats().lagMs).toBe(0);
        await feedClip(s, audio);
        const f = await s.flush();
        expect(f?.text).toBe(ref);
        expect(s.stats().finals).toBe(1);
      }
    } finally {
      await pool.close();
    }
  });

  it('closing while a restarted worker still loads its models ends it cleanly (no terminate inside onnxruntime)', async () => {
    // the Mandarin model: its start (ONNX sessions and the pinyin language data) takes long enough to be caught
    const pool = await RecognizerPool.create({ modelDir: ZH_MODEL_DIR, vadModelPath: VAD_MODEL, workers: 1 });
    const victim = pool.workerThreads()[0]!;
    const gone = exited(victim);
    expect(pool.crashWorker(0)).toBe(true);
    await gone;
    // the replacement thread is spawned after the restart delay and starts loading its models
    while (pool.stats().workers[0]!.state !== 'starting' || pool.workerThreads()[0] === undefined) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const loading = pool.workerThreads()[0]!;
    expect(loading).not.toBe(victim);
    const code = exited(loading);
    // well into the load: the ONNX sessions are being created (native code) when close() comes
    await new Promise((r) => setTimeout(r, 400));
    await pool.close();
    // it ended itself after loading (exit 0); terminating it mid-load aborted the whole process before
    expect(await code).toBe(0);
  });

  it('a worker that hangs: after hangTimeoutMs it is ended and replaced, its streams get EVX_ERR_ASR_WORKER_HUNG and a waiting flush is answered then; the other worker is unaffected', async () => {
    const audio = readWavFile(`${SPEECH_EN}/1.wav`);
    const failures: string[] = [];
    const pool = await RecognizerPool.create({
      modelDir: MODEL_DIR,
      vadModelPath: VAD_MODEL,
      workers: 2,
      hangTimeoutMs: 500,
      flushTimeoutMs: 30_000,
      onWorkerFailure: (f) => failures.push(`${f.worker} ${f.error.code} ${f.exitCode}`),
    });
    try {
      // streams 0 and 2 on worker 0, 1 on worker 1
      const streams = Array.from({ length: 3 }, () => pool.createStream({ sampleRateHz: 16000, endpoint: false }));
      const errors = streams.map(() => [] as string[]);
      streams.forEach((s, i) => s.on('error', (e) => errors[i]!.push(e.error.code)));
      for (const s of streams) s.push(audio.samples.subarray(0, 16000));
      await Promise.all(streams.map((s) => s.whenIdle()));
      const victim = pool.workerThreads()[0]!;
      const survivor = pool.workerThreads()[1]!;
      const gone = exited(victim);
      // a spin far longer than the test: only the watchdog ends it
      expect(pool.hangWorker(0, 120_000)).toBe(true);
      const started = performance.now();
      const flushed = streams[0]!.flush().then(
        () => 'resolved',
        (e: unknown) => e,
      );
      expect(await flushed).toMatchObject({ code: 'EVX_ERR_ASR_WORKER_HUNG', details: { worker: 0 } });
      const answeredAfterMs = performance.now() - started;
      expect(answeredAfterMs).toBeGreaterThanOrEqual(450);
      expect(answeredAfterMs).toBeLessThan(10_000); // the hang answered it, not the 30 s flush timeout
      await gone; // the spinning thread was terminated
      expect(errors[2]).toEqual(['EVX_ERR_ASR_WORKER_HUNG']);
      expect(errors[1]).toEqual([]);
      expect(failures).toEqual(['0 EVX_ERR_ASR_WORKER_HUNG null']);
      expect(pool.stats().workers.map((w) => w.hangs)).toEqual([1, 0]);
      // the replacement takes the streams back with fresh state and decodes
      while (pool.stats().workers[0]!.state !== 'ready') await new Promise((r) => setTimeout(r, 20));
      expect(pool.workerThreads()[0]).not.toBe(victim);
      expect(pool.stats().workers[0]!.restarts).toBe(1);
      streams[2]!.push(audio.samples.subarray(0, 16000 * 3));
      await expect(streams[2]!.flush()).resolves.not.toBeUndefined();
      expect(pool.workerThreads()[1]).toBe(survivor);
      streams[1]!.push(audio.samples.subarray(16000, 16000 * 3));
      await expect(streams[1]!.flush()).resolves.not.toBeUndefined();
      expect(errors[1]).toEqual([]);
    } finally {
      await pool.close();
    }
  });

  it('a worker hung inside an inference run is not ended from outside (that aborts the process): it is replaced and ends itself when the run returns', async () => {
    const failures: string[] = [];
    const pool = await RecognizerPool.create({
      modelDir: MODEL_DIR,
      vadModelPath: VAD_MODEL,
      workers: 1,
      hangTimeoutMs: 300,
      onWorkerFailure: (f) => failures.push(f.error.code),
    });
    try {
      const victim = pool.workerThreads()[0]!;
      const code = exited(victim);
      const stream = pool.createStream({ sampleRateHz: 16000 });
      const errors: ErrorEvent[] = [];
      stream.on('error', (e) => errors.push(e));
      expect(pool.hangWorker(0, 2000, { inInference: true })).toBe(true);
      while (errors.length === 0) await new Promise((r) => setTimeout(r, 20));
      expect(errors[0]!.error).toMatchObject({ code: 'EVX_ERR_ASR_WORKER_HUNG', details: { inInference: true } });
      expect(failures).toEqual(['EVX_ERR_ASR_WORKER_HUNG']);
      // a replacement serves the stream while the old thread is still busy
      while (pool.stats().workers[0]!.state !== 'ready') await new Promise((r) => setTimeout(r, 20));
      expect(pool.workerThreads()[0]).not.toBe(victim);
      stream.push(readWavFile(`${SPEECH_EN}/1.wav`).samples.subarray(0, 16000 * 2));
      await expect(stream.flush()).resolves.not.toBeUndefined();
      // the old thread, told to shut down, ended itself (exit 0) once out of its "run"; terminated, it would exit 1
      expect(await code).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('a worker that has not loaded its models within loadTimeoutMs at start-up fails create() (EVX_ERR_ASR_WORKER_HUNG, loading) instead of holding it for ever', async () => {
    const started = performance.now();
    // the stall outlasts the test: only the load timeout answers create()
    const created = RecognizerPool.create({
      modelDir: MODEL_DIR,
      vadModelPath: VAD_MODEL,
      workers: 1,
      loadTimeoutMs: 800,
      loadStalls: [20_000],
    }).then(
      (p) => p,
      (e: unknown) => e,
    );
    const result = await created;
    const tookMs = performance.now() - started;
    expect(result).toMatchObject({ code: 'EVX_ERR_ASR_WORKER_HUNG', details: { worker: 0, loading: true } });
    expect(tookMs).toBeGreaterThanOrEqual(750);
    expect(tookMs).toBeLessThan(15_000);
  });

  it('a restarted worker that does not load its models within loadTimeoutMs is replaced; no more than two such threads are left running, and the streams go on on the next worker', async () => {
    const failures: string[] = [];
    const pool = await RecognizerPool.create({
      modelDir: MODEL_DIR,
      vadModelPath: VAD_MODEL,
      workers: 1,
      // long enough for a real load on a machine busy with other tests, far shorter than the stalls
      loadTimeoutMs: 4000,
      // the first start loads; the first two restarts stall (as on stuck storage), the third loads
      loadStalls: [0, 12_000, 12_000],
      onWorkerFailure: (f) => failures.push(`${f.error.code}${(f.error.details as { loading?: boolean }).loading ? ' loading' : ''}`),
    });
    try {
      const stream = pool.createStream({ sampleRateHz: 16000, endpoint: false });
      const errors: string[] = [];
      stream.on('error', (e) => errors.push(e.error.code));
      expect(pool.crashWorker(0)).toBe(true);
      // both stalled restarts are given up; the slot then waits for one of them to end before it starts another
      while (pool.stats().workers[0]!.threadsLeftToEnd < 2) await new Promise((r) => setTimeout(r, 20));
      expect(failures).toEqual(['EVX_ERR_ASR_WORKER_EXITED', 'EVX_ERR_ASR_WORKER_HUNG loading', 'EVX_ERR_ASR_WORKER_HUNG loading']);
      await new Promise((r) => setTimeout(r, 700)); // past the backoff (200 ms) and a load timeout
      expect(pool.stats().workers[0]).toMatchObject({ state: 'starting', restarts: 2, hangs: 2, threadsLeftToEnd: 2 });
      expect(pool.workerThreads()[0]).toBeUndefined();
      // the first stalled thread ends itself after its stall and load; then the third restart loads
      while (pool.stats().workers[0]!.state !== 'ready') await new Promise((r) => setTimeout(r, 20));
      expect(pool.stats().workers[0]!.restarts).toBe(3);
      stream.push(readWavFile(`${SPEECH_EN}/1.wav`).samples.subarray(0, 16000 * 2));
      await expect(stream.flush()).resolves.not.toBeUndefined();
      expect(errors).toEqual(['EVX_ERR_ASR_WORKER_EXITED', 'EVX_ERR_ASR_WORKER_HUNG', 'EVX_ERR_ASR_WORKER_HUNG']);
      while (pool.stats().workers[0]!.threadsLeftToEnd > 0) await new Promise((r) => setTimeout(r, 20));
    } finally {
      await pool.close();
    }
  });

  it('a main thread blocked for longer than hangTimeoutMs does not take its workers for hung', async () => {
    const pool = await RecognizerPool.create({ modelDir: MODEL_DIR, vadModelPath: VAD_MODEL, workers: 1, hangTimeoutMs: 300 });
    try {
      const thread = pool.workerThreads()[0]!;
      // blocked inside a timer callback: the watchdog's own timer falls due meanwhile and runs right
      // after it, in the same timers phase, before the worker's queued stats are read
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          const until = performance.now() + 1200;
          while (performance.now() < until);
          resolve();
        }, 0),
      );
      await new Promise((r) => setTimeout(r, 600));
      expect(pool.stats().workers[0]!.hangs).toBe(0);
      expect(pool.workerThreads()[0]).toBe(thread);
    } finally {
      await pool.close();
    }
  });

  it('a worker that never answers a flush: the flush gives up after flushTimeoutMs (EVX_ERR_ASR_FLUSH_TIMEOUT), the worker serves the next one', async () => {
    const pool = await RecognizerPool.create({ modelDir: MODEL_DIR, vadModelPath: VAD_MODEL, workers: 1, flushTimeoutMs: 300 });
    try {
      const thread = pool.workerThreads()[0]!;
      const audio = readWavFile(`${SPEECH_EN}/1.wav`);
      const hung = pool.createStream({ sampleRateHz: 16000 });
      hung.push(audio.samples.subarray(0, 16000));
      // the worker stays alive but never sees this flush: a hang, not a death (which rejects at once)
      const post = thread.postMessage.bind(thread);
      thread.postMessage = (msg: { t?: string }, ...rest: never[]) => (msg.t === 'flush' ? undefined : post(msg, ...rest));
      const started = performance.now();
      const outcome = await Promise.race([
        hung.flush().then(
          () => 'resolved',
          (e: unknown) => e,
        ),
        new Promise((resolve) => setTimeout(() => resolve('still waiting after 5 s'), 5000)),
      ]);
      expect(outcome).toMatchObject({ code: 'EVX_ERR_ASR_FLUSH_TIMEOUT' });
      expect(performance.now() - started).toBeGreaterThanOrEqual(250);
      expect(pool.stats().workers[0]!.requestTimeouts).toBe(1);
      thread.postMessage = post;
      hung.close();
      const next = pool.createStream({ sampleRateHz: 16000 });
      next.push(audio.samples.subarray(0, 16000 * 2));
      await expect(next.flush()).resolves.not.toBeUndefined();
      expect(pool.stats().workers[0]!.requestTimeouts).toBe(1);
      next.close();
    } finally {
      await pool.close();
    }
  });

  it('close cascade: pool.close() closes every stream, rejects pending work and ends every worker thread', async () => {
    const pool = await RecognizerPool.create({ modelDir: MODEL_DIR, vadModelPath: VAD_MODEL, workers: 2 });
    const threads = pool.workerThreads().map((w) => w!);
    const exits = threads.map(exited);
    const audio = readWavFile(`${SPEECH_EN}/1.wav`);
    const streams = Array.from({ length: 3 }, () => pool.createStream({ sampleRateHz: 16000 }));
    for (const s of streams) s.push(audio.samples.subarray(0, 16000 * 3));
    const pendingFlush = streams[0]!.flush().then(
      () => 'resolved',
      (e: unknown) => e,
    );
    const closing = pool.close();
    expect(pool.close()).toBe(closing); // idempotent
    await closing;
    expect(await pendingFlush).toMatchObject({ code: 'EVX_ERR_STREAM_CLOSED' });
    for (const s of streams) {
      expect(s.isClosed).toBe(true);
      expect(() => s.push(new Int16Array(320))).toThrowError(/closed/);
    }
    expect(await Promise.all(exits)).toHaveLength(2);
    for (const t of threads) expect(t.threadId).toBe(-1); // a Worker's threadId is -1 once its thread has stopped
    expect(() => pool.createStream({ sampleRateHz: 16000 })).toThrowError(/closed/);
    expect(pool.info().activeStreams).toBe(0);
  });

  it('a worker that cannot load its models fails create() with the loader error (other workers are stopped)', async () => {
    await expect(
      RecognizerPool.create({ modelDir: MODEL_DIR, vadModelPath: '/nonexistent/silero.onnx', workers: 2 }),
    ).rejects.toMatchObject({
      code: expect.stringMatching(/^EVX_ERR_/),
    });
    await expect(RecognizerPool.create({ modelDir: '/nonexistent', workers: 2 })).rejects.toMatchObject({ code: 'EVX_ERR_ASR_MODEL_DIR' });
  });

  it('workers: 0 recognizes in-process behind the same interface', async () => {
    const pool = await RecognizerPool.create({ modelDir: MODEL_DIR, workers: 0 });
    try {
      expect(pool.workerCount).toBe(0);
      const audio = readWavFile(`${SPEECH_EN}/1.wav`);
      const t = await transcribeAudio(pool, audio, '1.wav', { vad: false, endpoint: false });
      expect(t.text.length).toBeGreaterThan(0);
    } finally {
      await pool.close();
    }
  });
});
