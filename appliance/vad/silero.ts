/**
 * Silero VAD v5 on onnxruntime: one session shared by all streams, a small state object per
 * stream. The model runs at 16 kHz (512-sample windows, 64 samples of context) or at 8 kHz
 * (256-sample windows, 32 of context), as the upstream wrapper feeds it; either way a window is
 * 32 ms. A stream whose audio was born at 8 kHz (a G.711 telephone leg) is judged at 8 kHz: the
 * stream hands over its 16 kHz block and the state keeps every other sample, which is the 8 kHz
 * signal back (the upsampler is zero-phase). That costs about half as much per window and
 * judges the audio the model was trained on for that band.
 *
 * Windows from many streams are run as ONE batched call per sample rate (the model has a dynamic
 * batch axis): here a batch of 8 costs ~0.07 ms per window at 16 kHz and ~0.04 at 8 kHz, against
 * ~0.14 / 0.12 ms for single calls. By default a batch closes at the end of the event-loop turn;
 * `batchWaitMs` holds it open a little longer so live streams, whose windows complete at
 * scattered moments, share calls (a worker serving many calls sets it; file decoding must not).
 */
import * as ort from 'onnxruntime-node';
import { evxError } from '../errors.js';
import { loadSession, releaseSession, type LoadedSession, type SessionOptions } from '../inference/sessions.js';

export const VAD_SAMPLE_RATE_HZ = 16000;
/** Samples of one window at 16 kHz (32 ms): what `SileroVadState.process` takes. */
export const VAD_WINDOW_SAMPLES = 512;
/** Rates the model runs at. */
export type VadRateHz = 8000 | 16000;
const GEOMETRY: Record<VadRateHz, { window: number; context: number }> = {
  16000: { window: 512, context: 64 },
  8000: { window: 256, context: 32 },
};
const STATE_SIZE = 2 * 128;
/** Largest batch run in one call; more pending windows wait for the next call. */
const MAX_BATCH = 64;

interface Pending {
  readonly state: SileroVadState;
  readonly resolve: (p: number) => void;
  readonly reject: (err: unknown) => void;
}

/** The pending windows of one sample rate (a batched call has one `sr`). */
class RateQueue {
  readonly rate: VadRateHz;
  readonly inputSamples: number;
  readonly sr: ort.Tensor;
  pending: Pending[] = [];
  scheduled = false;
  readonly batchInput: Float32Array[] = [];
  readonly batchState: Float32Array[] = [];

  constructor(rate: VadRateHz) {
    this.rate = rate;
    this.inputSamples = GEOMETRY[rate].window + GEOMETRY[rate].context;
    this.sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(rate)]), []);
  }
}

export interface SileroVadOptions {
  /** How long a batch stays open for more windows (0: until the end of the event-loop turn). */
  readonly batchWaitMs?: number;
}

export class SileroVad {
  readonly loaded: LoadedSession;
  private readonly queues: Record<VadRateHz, RateQueue> = { 16000: new RateQueue(16000), 8000: new RateQueue(8000) };
  private readonly batchWaitMs: number;
  private closed = false;
  /** Batched calls made, and windows processed (for metrics). */
  calls = 0;
  windows = 0;

  private constructor(loaded: LoadedSession, options: SileroVadOptions) {
    this.loaded = loaded;
    this.batchWaitMs = Math.max(0, options.batchWaitMs ?? 0);
    const names = loaded.session.inputNames;
    for (const n of ['input', 'state', 'sr']) {
      if (!names.includes(n)) {
        throw evxError('EVX_ERR_MODEL_CONTRACT', `${loaded.path}: Silero VAD input '${n}' missing`, { details: { path: loaded.path } });
      }
    }
  }

  static async load(path: string, options: SessionOptions, vadOptions: SileroVadOptions = {}): Promise<SileroVad> {
    return new SileroVad(await loadSession(path, options), vadOptions);
  }

  /** A stream's state; `rateHz` is the rate its windows are judged at (see the module comment). */
  createState(rateHz: VadRateHz = 16000): SileroVadState {
    return new SileroVadState(this, rateHz);
  }

  /** Queue one window of `state`; resolves to the speech probability. */
  enqueue(state: SileroVadState): Promise<number> {
    if (this.closed) return Promise.reject(evxError('EVX_ERR_STREAM_CLOSED', 'VAD is closed'));
    const q = this.queues[state.rateHz];
    return new Promise<number>((resolve, reject) => {
      q.pending.push({ state, resolve, reject });
      if (q.pending.length >= MAX_BATCH) {
        void this.runBatch(q);
      } else if (!q.scheduled) {
        q.scheduled = true;
        if (this.batchWaitMs > 0) setTimeout(() => void this.runBatch(q), this.batchWaitMs);
        else setImmediate(() => void this.runBatch(q));
      }
    });
  }

  private async runBatch(q: RateQueue): Promise<void> {
    q.scheduled = false;
    const batch = q.pending.splice(0, MAX_BATCH);
    if (q.pending.length > 0) {
      q.scheduled = true;
      setImmediate(() => void this.runBatch(q));
    }
    const b = batch.length;
    if (b === 0) return;
    const n = q.inputSamples;
    const input = (q.batchInput[b] ??= new Float32Array(b * n));
    const state = (q.batchState[b] ??= new Float32Array(b * STATE_SIZE));
    for (let i = 0; i < b; i++) {
      const s = batch[i]!.state;
      input.set(s.input, i * n);
      // state layout [2, b, 128]
      state.set(s.state.subarray(0, 128), i * 128);
      state.set(s.state.subarray(128, 256), (b + i) * 128);
    }
    try {
      const out = await this.loaded.session.run({
        input: new ort.Tensor('float32', input, [b, n]),
        state: new ort.Tensor('float32', state, [2, b, 128]),
        sr: q.sr,
      });
      const prob = out.output!.data as Float32Array;
      const next = out.stateN!.data as Float32Array;
      this.calls++;
      this.windows += b;
      for (let i = 0; i < b; i++) {
        const s = batch[i]!.state;
        s.state.set(next.subarray(i * 128, (i + 1) * 128), 0);
        s.state.set(next.subarray((b + i) * 128, (b + i + 1) * 128), 128);
        batch[i]!.resolve(prob[i]!);
      }
    } catch (err) {
      const e = evxError('EVX_ERR_INFERENCE_FAILED', 'Silero VAD inference failed', { cause: err });
      for (const p of batch) p.reject(e);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const e = evxError('EVX_ERR_STREAM_CLOSED', 'VAD closed');
    for (const q of Object.values(this.queues)) for (const p of q.pending.splice(0)) p.reject(e);
    await releaseSession(this.loaded).catch(() => undefined);
  }
}

/** One stream's VAD state: recurrent state and the context samples of the previous window. */
export class SileroVadState {
  private readonly vad: SileroVad;
  readonly rateHz: VadRateHz;
  readonly input: Float32Array;
  readonly state = new Float32Array(STATE_SIZE);
  private readonly window: number;
  private readonly context: number;

  constructor(vad: SileroVad, rateHz: VadRateHz) {
    this.vad = vad;
    this.rateHz = rateHz;
    this.window = GEOMETRY[rateHz].window;
    this.context = GEOMETRY[rateHz].context;
    this.input = new Float32Array(this.window + this.context);
  }

  /** Speech probability of one 32 ms window, given as 512 samples at 16 kHz. */
  process(window16k: Float32Array): Promise<number> {
    if (window16k.length !== VAD_WINDOW_SAMPLES) throw new RangeError(`VAD window must be ${VAD_WINDOW_SAMPLES} samples`);
    const n = this.input.length;
    // context = last samples of the previous input
    this.input.copyWithin(0, n - this.context, n);
    if (this.rateHz === 16000) this.input.set(window16k, this.context);
    else for (let i = 0; i < this.window; i++) this.input[this.context + i] = window16k[2 * i]!;
    return this.vad.enqueue(this);
  }

  reset(): void {
    this.input.fill(0);
    this.state.fill(0);
  }
}
