/**
 * What the box plays to one caller: prompts in order, then hold music looping until something else
 * is played or the audio stops. One sequence at a time: a new `play` or `stop` cuts the current one
 * at the next 20 ms frame. The prompts come from the prompt store at the leg's codec rate.
 */
import type { CodecName } from '../sdp/offer-answer.js';
import { playPcm, type PayloadSink } from '../rtp/player.js';
import type { QueueAudio } from './announcements.js';

export interface CallAudioDeps {
  readonly sink: PayloadSink;
  readonly codec: CodecName;
  /** The prompt's PCM at `rateHz` (the prompt store's `get`). */
  readonly load: (name: string, rateHz: 8000 | 16000) => Promise<Int16Array>;
  /** A prompt could not be loaded or played: the sequence stops, the call goes on. */
  readonly onError: (name: string, err: unknown) => void;
}

export class CallAudio {
  private current: AbortController | null = null;
  private closed = false;

  constructor(private readonly deps: CallAudioDeps) {}

  /**
   * Play `items` in order; music as the last item loops. Resolves true once the prompts before any
   * music were played to the end, false when cut short (another play, stop, the leg closing, an error).
   */
  async play(items: readonly QueueAudio[]): Promise<boolean> {
    this.stop();
    if (this.closed || items.length === 0) return items.length === 0;
    const ctl = new AbortController();
    this.current = ctl;
    const rateHz = this.deps.codec === 'G722' ? 16000 : 8000;
    for (const [i, item] of items.entries()) {
      const loop = item.kind === 'music' && i === items.length - 1;
      let pcm: Int16Array;
      try {
        pcm = await this.deps.load(item.name, rateHz);
      } catch (err) {
        this.deps.onError(item.name, err);
        return false;
      }
      if (ctl.signal.aborted) return false;
      if (loop) {
        void this.loop(pcm, ctl.signal);
        return true;
      }
      const r = await playPcm(this.deps.sink, this.deps.codec, pcm, { signal: ctl.signal });
      if (r.cancelled) return false;
    }
    if (this.current === ctl) this.current = null;
    return true;
  }

  /** Stop what plays now (idempotent). */
  stop(): void {
    this.current?.abort();
    this.current = null;
  }

  close(): void {
    this.closed = true;
    this.stop();
  }

  private async loop(pcm: Int16Array, signal: AbortSignal): Promise<void> {
    while (!signal.aborted && !this.deps.sink.isClosed && pcm.length > 0) {
      await playPcm(this.deps.sink, this.deps.codec, pcm, { signal });
    }
  }
}
