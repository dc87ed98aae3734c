/**
 * Media toward a peer while the box only listens: many phones, PBXs and SBCs hang up a call that
 * sends them nothing for a while (a no-media timeout). Sessions that have sent nothing for one
 * frame get a silence frame (or an RFC 3389 comfort-noise packet every few frames when the peer
 * offered CN). One shared timer drives every session, so a thousand calls cost one timer.
 */
import type { CodecName } from '../sdp/offer-answer.js';
import { createEncoder } from './codec.js';

export type IdleMediaMode = 'silence' | 'comfort-noise' | 'off';

/** What a session must offer the clock. */
export interface IdleMediaTarget {
  /** Send whatever is due at `nowMs` (monotonic). */
  fillIdle(nowMs: number): void;
}

/** One encoded frame of digital silence for a codec and frame length. */
export function silencePayload(codec: CodecName, frameMs: number): Uint8Array {
  const enc = createEncoder(codec);
  const samples = (enc.sampleRateHz * frameMs) / 1000;
  const pcm = new Int16Array(samples);
  const out = new Uint8Array(enc.bytesFor(samples));
  // G.722 is adaptive: after a few frames of zeros its output is one steady pattern
  for (let i = 0; i < 8; i++) enc.encode(pcm, out);
  return out;
}

/** RFC 3389 §3: one byte, the noise level in -dBov; 127 is the quietest. */
export const COMFORT_NOISE_PAYLOAD: Uint8Array = Uint8Array.of(127);

const TICK_MS = 10;

/** The shared clock: ticks only while some session is registered. */
export class IdleMediaClock {
  private readonly targets = new Set<IdleMediaTarget>();
  private timer: NodeJS.Timeout | undefined;

  add(target: IdleMediaTarget): void {
    this.targets.add(target);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.tick(), TICK_MS);
      this.timer.unref();
    }
  }

  delete(target: IdleMediaTarget): void {
    this.targets.delete(target);
    if (this.targets.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  get size(): number {
    return this.targets.size;
  }

  private tick(): void {
    const now = performance.now();
    for (const t of this.targets) {
      try {
        t.fillIdle(now);
      } catch {
        // a closed socket or similar: the session's own close removes it
      }
    }
  }
}

/** The process-wide clock the SIP legs share. */
export const idleMediaClock = new IdleMediaClock();
