import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeWav } from '../../../appliance/audio/wav.js';
import { loadPrompt, playPcm, toRate } from '../../../appliance/rtp/player.js';

interface Sent {
  seq: number;
  ts: number;
  marker: boolean;
  atMs: number;
  bytes: number;
}

function sink(now: () => number): {
  sent: Sent[];
  isClosed: boolean;
  sendPayload: (p: Uint8Array, seq: number, ts: number, m: boolean) => void;
} {
  const s = {
    sent: [] as Sent[],
    isClosed: false,
    sendPayload: (p: Uint8Array, seq: number, ts: number, marker: boolean) =>
      s.sent.push({ seq, ts, marker, atMs: now(), bytes: p.length }),
  };
  return s;
}

describe('paced prompt player', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends one 20 ms packet per 20 ms, on an absolute schedule (no drift even with late timers)', async () => {
    const now = (): number => Date.now();
    const s = sink(now);
    const t0 = now();
    const done = playPcm(s, 'PCMU', new Int16Array(8000), { now }); // 1 s = 50 frames
    expect(s.sent).toHaveLength(1); // the first frame goes at once
    await vi.advanceTimersByTimeAsync(100);
    expect(s.sent).toHaveLength(6);
    await vi.advanceTimersByTimeAsync(1000);
    const r = await done;
    expect(r).toMatchObject({ framesSent: 50, durationMs: 1000, cancelled: false });
    expect(s.sent.map((x) => x.atMs - t0)).toEqual(Array.from({ length: 50 }, (_, i) => i * 20));
    for (let i = 1; i < 50; i++) {
      expect((s.sent[i]!.seq - s.sent[i - 1]!.seq) & 0xffff).toBe(1);
      expect((s.sent[i]!.ts - s.sent[i - 1]!.ts) >>> 0).toBe(160);
      expect(s.sent[i]!.marker).toBe(false);
    }
    expect(s.sent[0]!.marker).toBe(true);
  });

  it('catches up after an event-loop stall instead of drifting', async () => {
    let skew = 0;
    const now = (): number => Date.now() + skew;
    const s = sink(now);
    const done = playPcm(s, 'PCMU', new Int16Array(1600), { now }); // 10 frames
    await vi.advanceTimersByTimeAsync(40);
    skew = 75; // the process stalled 75 ms
    await vi.advanceTimersByTimeAsync(200);
    const r = await done;
    expect(r.framesSent).toBe(10);
    expect(r.maxLatenessMs).toBeGreaterThanOrEqual(55);
    // frame k is never sent before its slot start + k*20
    const t0 = s.sent[0]!.atMs;
    s.sent.forEach((x, k) => expect(x.atMs - t0).toBeGreaterThanOrEqual(k * 20));
    // and it ends when the schedule ends, not 75 ms later
    expect(s.sent.at(-1)!.atMs - t0).toBeLessThanOrEqual(9 * 20 + 75);
  });

  it('G.722 frames are 160 bytes per 20 ms with an 8 kHz RTP clock (+160 per packet)', async () => {
    const now = (): number => Date.now();
    const s = sink(now);
    const done = playPcm(s, 'G722', new Int16Array(3200), { now });
    await vi.advanceTimersByTimeAsync(400);
    await done;
    expect(s.sent).toHaveLength(10);
    expect(s.sent[0]!.bytes).toBe(160);
    expect((s.sent[1]!.ts - s.sent[0]!.ts) >>> 0).toBe(160);
  });

  it('stops when cancelled or the leg closes', async () => {
    const now = (): number => Date.now();
    const s = sink(now);
    const ac = new AbortController();
    const done = playPcm(s, 'PCMA', new Int16Array(8000), { now, signal: ac.signal });
    await vi.advanceTimersByTimeAsync(60);
    ac.abort();
    await vi.advanceTimersByTimeAsync(40);
    const r = await done;
    expect(r.cancelled).toBe(true);
    expect(r.framesSent).toBe(4);
  });

  it('resamples prompts to the codec rate', () => {
    const x = new Int16Array(16000).map((_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16000)));
    const y = toRate(x, 16000, 8000);
    expect(Math.abs(y.length - 8000)).toBeLessThanOrEqual(2);
  });

  it('loads a WAV prompt at the codec rate (16 kHz file -> 8 kHz for G.711, kept for G.722)', async () => {
    vi.useRealTimers();
    const dir = mkdtempSync(path.join(tmpdir(), 'evx-prompt-'));
    try {
      const file = path.join(dir, 'greeting.wav');
      const x = new Int16Array(16000).map((_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16000)));
      writeFileSync(file, encodeWav(x, 16000, 'pcm16'));
      const narrow = await loadPrompt(file, 'PCMU');
      expect(Math.abs(narrow.length - 8000)).toBeLessThanOrEqual(2);
      expect(await loadPrompt(file, 'G722')).toEqual(x);
      writeFileSync(file, Buffer.from('not a wav file at all'));
      await expect(loadPrompt(file, 'PCMU')).rejects.toMatchObject({ code: 'EVX_ERR_AUDIO_FORMAT' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
