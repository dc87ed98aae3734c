/**
 * Adaptive, bounded jitter buffer for a receive-only media sink (ASR, recording).
 *
 * In-order packets are released at once (no added latency). When a packet is missing, the buffer
 * holds later packets until either the gap is filled (reordering) or `depth` later packets have
 * arrived / `depth * frameMs` have passed, then declares it lost (the consumer conceals it).
 * `depth` adapts: it grows to the deepest reordering seen (plus one) and to the interarrival
 * jitter, and decays slowly back to `minDepthFrames`. Storage is a fixed ring of preallocated
 * slots: nothing is allocated per packet, and memory never grows.
 */
import { seqDelta } from './packet.js';

export interface JitterBufferOptions {
  readonly frameMs: number;
  readonly minDepthFrames?: number;
  readonly maxDepthFrames?: number;
  /** Ring size (frames); packets further ahead than this force a resync. */
  readonly capacityFrames?: number;
  readonly maxPayloadBytes?: number;
}

export interface JitterBufferStats {
  received: number;
  released: number;
  lost: number;
  late: number;
  duplicate: number;
  resyncs: number;
  depthFrames: number;
}

/** Called with a frame's payload (valid during the call only), or null for a lost frame. */
export type FrameCallback = (payload: Uint8Array | null, extSeq: number) => void;

export class JitterBuffer {
  private readonly capacity: number;
  private readonly slots: Uint8Array[];
  private readonly lengths: Int32Array;
  private readonly seqs: Float64Array;
  /** Extended seq last released from each slot (tells a duplicate from a late packet). */
  private readonly done: Float64Array;
  private readonly minDepth: number;
  private readonly maxDepth: number;
  private readonly frameMs: number;
  private next = -1; // extended seq expected next; -1 before the first packet
  private highest = -1;
  private lastExt = -1;
  private gapSinceMs = -1;
  private depth: number;
  private decayCounter = 0;
  readonly stats: JitterBufferStats;

  constructor(
    opts: JitterBufferOptions,
    private readonly onFrame: FrameCallback,
  ) {
    this.frameMs = opts.frameMs;
    this.minDepth = opts.minDepthFrames ?? 2;
    this.maxDepth = Math.max(this.minDepth, opts.maxDepthFrames ?? 10);
    this.capacity = Math.max(this.maxDepth * 2, opts.capacityFrames ?? 64);
    const maxPayload = opts.maxPayloadBytes ?? 1500;
    this.slots = Array.from({ length: this.capacity }, () => new Uint8Array(maxPayload));
    this.lengths = new Int32Array(this.capacity).fill(-1);
    this.seqs = new Float64Array(this.capacity).fill(-1);
    this.done = new Float64Array(this.capacity).fill(-1);
    this.depth = this.minDepth;
    this.stats = { received: 0, released: 0, lost: 0, late: 0, duplicate: 0, resyncs: 0, depthFrames: this.depth };
  }

  /** Extend a 16-bit sequence number relative to the last one seen. */
  private extend(seq: number): number {
    if (this.lastExt < 0) return seq + 65536; // leave room below for early reordering
    return this.lastExt + seqDelta(seq, this.lastExt & 0xffff);
  }

  /** Offer a packet. `nowMs` is a monotonic clock (used for the time-based gap decision). */
  push(seq: number, payload: Uint8Array, nowMs: number): void {
    this.stats.received++;
    let ext = this.extend(seq);
    if (this.next - ext >= this.capacity) {
      // further behind than the ring reaches: a sender restart (seq jumped back), not a late packet
      this.reset();
      ext = this.extend(seq);
    }
    if (this.next < 0) {
      this.next = ext;
      this.highest = ext;
    }
    if (ext < this.next) {
      if (this.done[ext % this.capacity] === ext) {
        this.stats.duplicate++;
        return;
      }
      this.stats.late++;
      // a packet we already gave up on: we were too impatient, wait longer next time
      this.raiseDepth(this.highest - ext + 1);
      return;
    }
    if (ext - this.next >= this.capacity) {
      // a jump (new talk spurt after a long silence, sender restart): release what we hold, restart
      this.stats.resyncs++;
      this.drain();
      this.next = ext;
      this.highest = ext;
    }
    const slot = ext % this.capacity;
    if (this.seqs[slot] === ext) {
      this.stats.duplicate++;
      return;
    }
    if (payload.length > this.slots[slot]!.length) return; // oversized: treated as lost
    this.slots[slot]!.set(payload);
    this.lengths[slot] = payload.length;
    this.seqs[slot] = ext;
    if (ext > this.highest) this.highest = ext;
    else if (ext < this.highest) this.raiseDepth(this.highest - ext);
    if (seqDelta(seq, this.lastExt & 0xffff) > 0 || this.lastExt < 0) this.lastExt = ext;
    this.release(nowMs);
  }

  /** Time-based gap decision when no packet arrives (call from a periodic tick). */
  tick(nowMs: number): void {
    this.release(nowMs);
  }

  /** Release everything held, declaring remaining gaps lost (end of call). */
  drain(): void {
    while (this.next >= 0 && this.next <= this.highest) this.emitNext();
    this.gapSinceMs = -1;
  }

  /** Release what is held, then start over as before the first packet (a new source, a restart). */
  reset(): void {
    this.drain();
    this.stats.resyncs++;
    this.next = -1;
    this.highest = -1;
    this.lastExt = -1;
    this.seqs.fill(-1);
    this.done.fill(-1);
  }

  /** Frames held waiting for a gap to fill. */
  get heldFrames(): number {
    return this.next < 0 ? 0 : Math.max(0, this.highest - this.next + 1);
  }

  private release(nowMs: number): void {
    while (this.next >= 0 && this.next <= this.highest) {
      const slot = this.next % this.capacity;
      if (this.seqs[slot] === this.next) {
        this.emitNext();
        this.gapSinceMs = -1;
        continue;
      }
      if (this.gapSinceMs < 0) this.gapSinceMs = nowMs;
      const ahead = this.highest - this.next;
      if (ahead >= this.depth || nowMs - this.gapSinceMs >= this.depth * this.frameMs) {
        this.emitNext();
        this.gapSinceMs = nowMs;
        continue;
      }
      break;
    }
    this.decay();
  }

  private emitNext(): void {
    const slot = this.next % this.capacity;
    const ext = this.next;
    this.next++;
    if (this.seqs[slot] === ext) {
      this.seqs[slot] = -1;
      this.done[slot] = ext;
      this.stats.released++;
      this.onFrame(this.slots[slot]!.subarray(0, this.lengths[slot]), ext);
    } else {
      this.stats.lost++;
      this.onFrame(null, ext);
    }
  }

  private raiseDepth(d: number): void {
    const target = Math.min(this.maxDepth, Math.max(this.depth, d + 1));
    this.depth = target;
    this.stats.depthFrames = target;
    this.decayCounter = 0;
  }

  /** Let the interarrival jitter (ms) set a floor on the depth. */
  observeJitter(jitterMs: number): void {
    const d = Math.ceil((2 * jitterMs) / this.frameMs);
    if (d > this.depth) this.raiseDepth(d - 1);
  }

  private decay(): void {
    // one frame of depth back every 500 in-order frames without a new reorder event
    if (this.depth > this.minDepth && ++this.decayCounter >= 500) {
      this.depth--;
      this.stats.depthFrames = this.depth;
      this.decayCounter = 0;
    }
  }
}
