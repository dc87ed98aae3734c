/**
 * The batched path: chunks of many streams in one encoder call, and their greedy search in shared
 * joiner/decoder calls, give, stream by stream, the same transcripts as the same models run one
 * stream at a time, on every clip of the eval set; the
 * batches really hold more than one stream; a fixed-batch encoder refuses batching; closing with
 * chunks queued loses no caller.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Recognizer } from '../../../appliance/asr/recognizer.js';
import { readWavFile } from '../../../appliance/asr/transcribeFile.js';
import { loadEvalSet } from '../../../tools/asr/evalSet.js';
import { REPO_ROOT } from '../../helpers/paths.js';
import { MODEL_DIR, SHARED } from './helpers.js';

const BATCH_MODEL_DIR = join(REPO_ROOT, 'models', 'asr-batch');
const { clips } = loadEvalSet(SHARED);

/** Decode every clip as its own stream, all pushed at once, then flushed together. */
async function decodeTogether(rec: Recognizer, audios: Int16Array[]): Promise<string[]> {
  const streams = audios.map((a) =>
    rec.createStream({ sampleRateHz: 16000, vad: false, endpoint: false, maxBufferedMs: Math.ceil(a.length / 16) + 2000 }),
  );
  const texts = streams.map(() => [] as string[]);
  streams.forEach((s, i) => s.on('final', (e) => texts[i]!.push(e.text)));
  streams.forEach((s, i) => s.push(audios[i]!));
  await Promise.all(streams.map((s) => s.flush()));
  for (const s of streams) s.close();
  return texts.map((t) => t.join(' '));
}

describe('batched encoder', () => {
  let alone: Recognizer;
  let batched: Recognizer;
  const audios = clips.map((c) => readWavFile(c.path).samples);
  beforeAll(async () => {
    alone = await Recognizer.create({ modelDir: MODEL_DIR, batchModelDir: BATCH_MODEL_DIR, threads: 1 });
    // a long window: every stream's next chunk joins the batch (decoding files, not live audio)
    batched = await Recognizer.create({
      modelDir: MODEL_DIR,
      batchModelDir: BATCH_MODEL_DIR,
      threads: 1,
      batch: { maxBatch: 16, windowMs: 200, budgetMs: Infinity },
    });
  });
  afterAll(async () => {
    await alone?.close();
    await batched?.close();
  });

  it('reads the batch axis of every state from the model', () => {
    expect(alone.model.geometry.encoderBatchable).toBe(true);
    expect(alone.model.states.every((s) => s.batchAxis === 0 || s.batchAxis === 1)).toBe(true);
    expect(alone.model.states.some((s) => s.batchAxis === 1)).toBe(true);
  });

  it('gives every eval clip the transcript of the same encoder run one stream at a time, in batches larger than one', async () => {
    expect(clips.length).toBe(12);
    const solo: string[] = [];
    for (const a of audios) solo.push((await decodeTogether(alone, [a]))[0]!);
    const together = await decodeTogether(batched, audios);
    expect(together).toEqual(solo);
    expect(solo.filter((t) => t.length > 0)).toHaveLength(clips.length);
    const stats = batched.batchStats()!;
    // no silent fallback to batch 1: most chunks ran in calls of several streams
    expect(stats.maxBatchRun).toBeGreaterThan(4);
    const multi = stats.sizes.reduce((acc, calls, size) => acc + (size > 1 ? calls * size : 0), 0);
    expect(multi / stats.chunks).toBeGreaterThan(0.8);
    // greedy search shared its joiner calls across the streams of a batch
    expect(stats.joinerRows / stats.joinerCalls).toBeGreaterThan(2);
    expect(alone.batchStats()).toBeUndefined();
  });

  it('runs a lone stream in calls of one', async () => {
    const rec = await Recognizer.create({
      modelDir: MODEL_DIR,
      batchModelDir: BATCH_MODEL_DIR,
      threads: 1,
      batch: { maxBatch: 8, windowMs: 2 },
    });
    try {
      const [text] = await decodeTogether(rec, [audios[0]!]);
      expect(text!.length).toBeGreaterThan(0);
      const stats = rec.batchStats()!;
      expect(stats.chunks).toBeGreaterThan(5);
      expect(stats.sizes[1]).toBe(stats.calls);
    } finally {
      await rec.close();
    }
  });

  it('refuses batching with an encoder whose batch is fixed at 1', async () => {
    await expect(Recognizer.create({ modelDir: MODEL_DIR, threads: 1, batch: { maxBatch: 8, windowMs: 2 } })).rejects.toMatchObject({
      code: 'EVX_ERR_MODEL_CONTRACT',
    });
  });

  it('closes with chunks queued for a batch: every flush settles', async () => {
    const rec = await Recognizer.create({
      modelDir: MODEL_DIR,
      batchModelDir: BATCH_MODEL_DIR,
      threads: 1,
      batch: { maxBatch: 64, windowMs: 10_000, budgetMs: Infinity },
    });
    const streams = audios.slice(0, 4).map((a) => {
      const s = rec.createStream({ sampleRateHz: 16000, vad: false, endpoint: false, maxBufferedMs: Math.ceil(a.length / 16) + 2000 });
      s.push(a);
      return s;
    });
    const flushes = streams.map((s) =>
      s.flush().then(
        () => 'resolved',
        () => 'rejected',
      ),
    );
    await new Promise((r) => setTimeout(r, 50));
    await rec.close();
    const outcomes = await Promise.all(flushes);
    expect(outcomes).toHaveLength(4);
  });
});
