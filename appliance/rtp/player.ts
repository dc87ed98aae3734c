/**
 * Paced RTP sender for prompts ("this call may be recorded"): encodes PCM in ptime frames and
 * sends frame n at start + n·ptime on a monotonic clock. Each wait is computed from the start
 * time, not from the previous wake-up, so timer lateness never accumulates into drift.
 */
import { readFile } from 'node:fs/promises';
import { StreamingResampler } from '../audio/resample.js';
import { parseWav } from '../audio/wav.js';
import type { CodecName } from '../sdp/offer-answer.js';
import { createEncoder } from './codec.js';
import { secureInt, secureUint32 } from '../randomness.js';

export interface PayloadSink {
  sendPayload(payload: Uint8Array, sequence: number, timestamp: number, marker: boolean): void;
  readonly isClosed: boolean;
}

export interface PlayResult {
  readonly framesSent: number;
  readonly durationMs: number;
  /** Largest lateness of a send against its schedule, ms. */
  readonly maxLatenessMs: number;
  readonly cancelled: boolean;
}

export interface PlayOptions {
  readonly frameMs?: number;
  readonly signal?: AbortSignal;
  /** Injected clock for tests (ms, monotonic). */
  readonly now?: () => number;
}

/** Bring a mono PCM buffer to `rateHz`. */
export function toRate(samples: Int16Array, fromHz: number, rateHz: number): Int16Array {
  if (fromHz === rateHz) return samples;
  const rs = new StreamingResampler(fromHz, rateHz);
  const f = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) f[i] = samples[i]! / 32768;
  const buf = new Float32Array(rs.maxOutput(samples.length) + rs.maxOutput(0) + 16);
  let n = rs.process(f, buf);
  n += rs.flush(buf.subarray(n));
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.max(-32768, Math.min(32767, Math.round(buf[i]! * 32768)));
  return out;
}

/** Load a WAV prompt and convert it to the codec's rate. */
export async function loadPrompt(path: string, codec: CodecName): Promise<Int16Array> {
  const wav = parseWav(await readFile(path), path.split('/').pop() ?? 'prompt');
  return toRate(wav.samples, wav.sampleRateHz, codec === 'G722' ? 16000 : 8000);
}

/** Play `pcm` (at the codec's rate) into `sink`; resolves when done or cancelled. */
export function playPcm(sink: PayloadSink, codec: CodecName, pcm: Int16Array, opts: PlayOptions = {}): Promise<PlayResult> {
  const frameMs = opts.frameMs ?? 20;
  const now = opts.now ?? (() => performance.now());
  const enc = createEncoder(codec);
  const samplesPerFrame = (enc.sampleRateHz * frameMs) / 1000;
  const tsPerFrame = samplesPerFrame * enc.rtpUnitsPerSample;
  const frames = Math.ceil(pcm.length / samplesPerFrame);
  const frame = new Int16Array(samplesPerFrame);
  const payload = new Uint8Array(enc.bytesFor(samplesPerFrame));
  let seq = secureInt(0, 0x10000);
  let ts = secureUint32();
  const start = now();
  let n = 0;
  let maxLate = 0;
  return new Promise((resolve) => {
    const finish = (cancelled: boolean): void =>
      resolve({ framesSent: n, durationMs: n * frameMs, maxLatenessMs: Math.round(maxLate * 10) / 10, cancelled });
    const step = (): void => {
      if (opts.signal?.aborted === true || sink.isClosed) return finish(true);
      const t = now();
      // send every frame that is due (catches up after a stalled event loop, timestamps stay exact)
      while (n < frames && start + n * frameMs <= t) {
        maxLate = Math.max(maxLate, t - (start + n * frameMs));
        frame.fill(0);
        frame.set(pcm.subarray(n * samplesPerFrame, Math.min(pcm.length, (n + 1) * samplesPerFrame)));
        enc.encode(frame, payload);
        sink.sendPayload(payload, seq, ts >>> 0, n === 0);
        seq = (seq + 1) & 0xffff;
        ts = (ts + tsPerFrame) >>> 0;
        n++;
      }
      if (n >= frames) return finish(false);
      setTimeout(step, Math.max(0, start + n * frameMs - now()));
    };
    step();
  });
}
