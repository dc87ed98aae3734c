/** The main-thread side of the recognizer pool: wire formats and a pooled stream's accounting. */
import { describe, expect, it } from 'vitest';
import type { StreamStats } from '../../../appliance/asr/events.js';
import { PooledStream, type StreamHost } from '../../../appliance/asr/pool/pooledStream.js';
import { STAT_FIELDS, emptyStats, fromWireError, packStats, toWireError, unpackStats } from '../../../appliance/asr/pool/protocol.js';
import { evxError } from '../../../appliance/errors.js';

/** A host that records what the stream asks of it; `accept` decides whether audio gets through. */
class RecordingHost implements StreamHost {
  accept = true;
  sent: { id: number; samples: number; at: number }[] = [];
  released = 0;
  requests: { kind: string; resolve: (v: unknown) => void }[] = [];
  sendAudio(stream: PooledStream, samples: Int16Array | Float32Array, at: number): boolean {
    if (this.accept) this.sent.push({ id: stream.id, samples: samples.length, at });
    return this.accept;
  }
  request(_s: PooledStream, kind: 'flush' | 'idle'): Promise<unknown> {
    return new Promise((resolve) => this.requests.push({ kind, resolve }));
  }
  release(): void {
    this.released++;
  }
}

function stats(over: Partial<Record<(typeof STAT_FIELDS)[number], number>>): ReturnType<typeof emptyStats> {
  return { ...emptyStats(), ...over };
}

describe('pool wire formats', () => {
  it('stats survive packing in field order', () => {
    const s = Object.fromEntries(STAT_FIELDS.map((k, i) => [k, i * 1.5 + 1])) as unknown as StreamStats;
    const packed = packStats(s);
    expect(packed).toHaveLength(STAT_FIELDS.length);
    expect(unpackStats(packed)).toEqual(s);
    const two = new Float64Array(STAT_FIELDS.length * 2);
    packStats(s, two, STAT_FIELDS.length);
    expect(unpackStats(two, STAT_FIELDS.length)).toEqual(s);
  });

  it('errors keep their registry code across the thread boundary; foreign errors become EVX_ERR_INFERENCE_FAILED', () => {
    const e = fromWireError(toWireError(evxError('EVX_ERR_ASR_PHRASE', 'cannot spell', { details: { phrase: 1 } })));
    expect(e.code).toBe('EVX_ERR_ASR_PHRASE');
    expect(e.message).toBe('cannot spell');
    expect(e.details).toEqual({ phrase: 1 });
    expect(e.httpStatus).toBe(400);
    const f = fromWireError(toWireError(new TypeError('boom')));
    expect(f.code).toBe('EVX_ERR_INFERENCE_FAILED');
    expect(f.message).toMatch(/boom/);
  });
});

describe('PooledStream accounting', () => {
  it('counts pushed audio, audio its host refused (dropped), and lag against the worker mirror', () => {
    const host = new RecordingHost();
    const s = new PooledStream(7, { sampleRateHz: 8000 }, host);
    for (let i = 0; i < 50; i++) s.push(new Int16Array(160), 1000 + i); // 1 s
    expect(host.sent).toHaveLength(50);
    expect(host.sent[3]).toEqual({ id: 7, samples: 160, at: 1003 });
    host.accept = false;
    for (let i = 0; i < 10; i++) s.push(new Int16Array(160)); // 200 ms refused
    let st = s.stats();
    expect(st.audioPushedMs).toBeCloseTo(1200);
    expect(st.droppedMs).toBeCloseTo(200);
    expect(st.droppedFrames).toBe(10);
    expect(st.lagMs).toBeCloseTo(1000); // nothing processed yet
    s.updateStats(stats({ audioProcessedMs: 640, audioDecodedMs: 640, encoderChunks: 2, chunkLatencyP95Ms: 30, droppedMs: 0 }));
    st = s.stats();
    expect(st.lagMs).toBeCloseTo(360);
    expect(st.encoderChunks).toBe(2);
    expect(st.chunkLatencyP95Ms).toBe(30);
    // the worker's own ring drops count too (its processed figure already includes them)
    s.updateStats(stats({ audioProcessedMs: 1000, droppedMs: 100, encoderChunks: 2 }));
    st = s.stats();
    expect(st.lagMs).toBeCloseTo(0);
    expect(st.droppedMs).toBeCloseTo(300);
  });

  it('a lost worker: one error event, unprocessed audio counted as dropped, totals carried, lag back to 0', () => {
    const host = new RecordingHost();
    const s = new PooledStream(1, { sampleRateHz: 16000 }, host);
    const errors: string[] = [];
    s.on('error', (e) => errors.push(e.error.code));
    for (let i = 0; i < 100; i++) s.push(new Int16Array(320)); // 2 s
    s.updateStats(
      stats({ audioProcessedMs: 1500, audioDecodedMs: 1200, audioSkippedMs: 300, encoderChunks: 4, finals: 1, chunkLatencyP95Ms: 40 }),
    );
    s.workerLost(evxError('EVX_ERR_ASR_WORKER_EXITED', 'worker 0 stopped'));
    expect(errors).toEqual(['EVX_ERR_ASR_WORKER_EXITED']);
    let st = s.stats();
    expect(st.droppedMs).toBeCloseTo(500);
    expect(st.lagMs).toBeCloseTo(0);
    expect(st.finals).toBe(1);
    expect(st.encoderChunks).toBe(4);
    expect(st.chunkLatencyP95Ms).toBe(40);
    // the replacement worker starts counting from zero; totals add up
    s.push(new Int16Array(16000)); // 1 s
    s.updateStats(stats({ audioProcessedMs: 1000, audioDecodedMs: 1000, encoderChunks: 3, finals: 1, chunkLatencyP95Ms: 20 }));
    st = s.stats();
    expect(st.audioPushedMs).toBeCloseTo(3000);
    expect(st.audioProcessedMs).toBeCloseTo(2500);
    expect(st.audioDecodedMs).toBeCloseTo(2200);
    expect(st.lagMs).toBeCloseTo(0);
    expect(st.finals).toBe(2);
    expect(st.encoderChunks).toBe(7);
    expect(st.chunkLatencyP95Ms).toBe(20);
  });

  it('push during flush and after close throw EVX_ERR_STREAM_CLOSED; close is idempotent and releases once', async () => {
    const host = new RecordingHost();
    const s = new PooledStream(2, { sampleRateHz: 16000 }, host);
    const flushing = s.flush();
    expect(host.requests.map((r) => r.kind)).toEqual(['flush']);
    expect(() => s.push(new Int16Array(320))).toThrowError(expect.objectContaining({ code: 'EVX_ERR_STREAM_CLOSED' }));
    host.requests[0]!.resolve(null);
    expect(await flushing).toBeNull();
    s.push(new Int16Array(320)); // allowed again once the flush is done
    const finals: unknown[] = [];
    s.on('final', (e) => finals.push(e));
    s.close();
    s.close();
    expect(host.released).toBe(1);
    expect(s.isClosed).toBe(true);
    expect(s.stats().lagMs).toBe(0);
    expect(() => s.push(new Int16Array(320))).toThrowError(expect.objectContaining({ code: 'EVX_ERR_STREAM_CLOSED' }));
    await expect(s.flush()).rejects.toMatchObject({ code: 'EVX_ERR_STREAM_CLOSED' });
    s.deliver('final', {
      type: 'final',
      utteranceId: 0,
      language: 'en',
      text: 'X',
      words: [],
      confidence: 1,
      startMs: 0,
      endMs: 1,
      reason: 'flush',
      latencyMs: 1,
      processingMs: 1,
    });
    expect(finals).toEqual([]); // nothing is delivered after close
  });
});
