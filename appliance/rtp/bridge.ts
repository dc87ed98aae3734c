/**
 * Media bridge between two RTP sessions (a B2BUA's caller and agent legs). Each packet a side
 * receives is sent on the other side's outgoing stream from the socket handler itself: no jitter
 * buffer and no timer on the way, the session renumbers it into its own stream. Same codec: the
 * payload is relayed as is; different codecs: decoded, resampled and encoded (transcode.ts).
 * RFC 4733 telephone-events are relayed under the other side's event payload type (dropped and
 * counted when that side negotiated none). Each session keeps feeding its own sink (the bridge
 * only taps the packets), and its idle media fill resumes by itself when the bridge stops sending.
 *
 * Lifecycle: `unbridge()` detaches (hold, a transfer in progress: each side gets idle media or
 * prompts again), `bridge()` attaches again, `close()` is final and idempotent. A session that
 * closes (its call ended) closes the bridge with reason `leg_closed`.
 *
 * Delay: for every packet relayed, the time from its arrival in the socket handler to the return
 * of the other side's send (decryption, transcoding and encryption included), as p50/p95/max.
 */
import { evxError } from '../errors.js';
import { TypedEmitter } from '../events/typedEmitter.js';
import type { CodecName } from '../sdp/offer-answer.js';
import { DelayStats, type DelaySummary } from './delayStats.js';
import type { RtpPacket } from './packet.js';
import type { RtpTap } from './session.js';
import { Transcoder } from './transcode.js';

/** What the bridge needs of a session (RtpSession has it all). */
export interface BridgeSide {
  readonly codec: CodecName;
  readonly telephoneEventPt: number | undefined;
  readonly isClosed: boolean;
  readonly currentTap: RtpTap | undefined;
  setTap(tap: RtpTap | undefined): void;
  sendPayload(payload: Uint8Array, sequence: number, timestamp: number, marker: boolean): boolean;
  sendEvent(payload: Uint8Array, timestamp: number, marker: boolean): boolean;
}

export type BridgeState = 'bridged' | 'unbridged' | 'closed';
export type BridgeCloseReason = 'closed' | 'leg_closed';

/** Counters of one direction. */
export interface BridgeDirectionCounters {
  /** Packets sent on the other side (audio and events). */
  forwarded: number;
  /** Of `forwarded`: audio packets that went through the transcoder. */
  transcoded: number;
  /** Of `forwarded`: RFC 4733 telephone-event packets. */
  events: number;
  /** Packets not sent: the other side holds the call or is closed, has no telephone-event, or a payload too large to transcode. */
  dropped: number;
}

export interface BridgeStats {
  readonly state: BridgeState;
  readonly transcoding: boolean;
  readonly packetsForwarded: number;
  readonly packetsDropped: number;
  readonly aToB: Readonly<BridgeDirectionCounters>;
  readonly bToA: Readonly<BridgeDirectionCounters>;
  /** Arrival in the socket handler to the other side's send, per relayed packet, both directions. */
  readonly delay: DelaySummary;
}

export interface MediaBridgeEvents {
  closed: { readonly reason: BridgeCloseReason };
}

/** One direction: taps `from`, sends on `to`. */
class Relay implements RtpTap {
  readonly counters: BridgeDirectionCounters = { forwarded: 0, transcoded: 0, events: 0, dropped: 0 };
  private transcoder: Transcoder | undefined;

  constructor(
    private readonly from: BridgeSide,
    private readonly to: BridgeSide,
    private readonly delay: DelayStats,
    private readonly onSideClosed: () => void,
  ) {}

  /** Fresh codec state for each attachment (a decoder must not resume on stale history). */
  attach(): void {
    this.transcoder = this.from.codec === this.to.codec ? undefined : new Transcoder(this.from.codec, this.to.codec);
    this.from.setTap(this);
  }

  detach(): void {
    if (this.from.currentTap === this) this.from.setTap(undefined);
  }

  onPacket(p: RtpPacket, arrivedAtMs: number): void {
    let sent: boolean;
    if (p.payloadType === this.from.telephoneEventPt) {
      sent = this.to.sendEvent(p.payload, p.timestamp, p.marker);
      if (sent) this.counters.events++;
    } else if (this.transcoder === undefined) {
      sent = this.to.sendPayload(p.payload, p.sequence, p.timestamp, p.marker);
    } else {
      const out = this.transcoder.transcode(p.payload);
      sent = out.length > 0 && this.to.sendPayload(out, p.sequence, p.timestamp, p.marker);
      if (sent) this.counters.transcoded++;
    }
    if (!sent) {
      this.counters.dropped++;
      return;
    }
    this.counters.forwarded++;
    this.delay.record(performance.now() - arrivedAtMs);
  }

  onClose(): void {
    this.onSideClosed();
  }
}

export class MediaBridge {
  readonly events = new TypedEmitter<MediaBridgeEvents>();
  private readonly delay = new DelayStats();
  private readonly ab: Relay;
  private readonly ba: Relay;
  private current: BridgeState = 'unbridged';

  /**
   * Connect `a` and `b` at once. Throws EVX_ERR_SIP_CLOSED when either is closed, EVX_ERR_BAD_REQUEST
   * when a side is bridged elsewhere (or both are one).
   */
  constructor(
    readonly a: BridgeSide,
    readonly b: BridgeSide,
  ) {
    if (a === b) throw evxError('EVX_ERR_BAD_REQUEST', 'a leg cannot be bridged to itself');
    this.ab = new Relay(a, b, this.delay, () => this.close('leg_closed'));
    this.ba = new Relay(b, a, this.delay, () => this.close('leg_closed'));
    this.bridge();
  }

  get state(): BridgeState {
    return this.current;
  }

  /** True when the two sides use different codecs (audio is transcoded both ways). */
  get transcoding(): boolean {
    return this.a.codec !== this.b.codec;
  }

  /** (Re)connect the two sides. */
  bridge(): void {
    if (this.current === 'bridged') return;
    if (this.current === 'closed' || this.a.isClosed || this.b.isClosed) {
      throw evxError('EVX_ERR_SIP_CLOSED', 'the bridge or one of its legs is closed', { details: { state: this.current } });
    }
    for (const [side, relay] of [
      [this.a, this.ab],
      [this.b, this.ba],
    ] as const) {
      const tap = side.currentTap;
      if (tap !== undefined && tap !== relay) throw evxError('EVX_ERR_BAD_REQUEST', 'the leg is already bridged elsewhere');
    }
    this.ab.attach();
    this.ba.attach();
    this.current = 'bridged';
  }

  /** Stop relaying; each side falls back to its idle media (or prompts). The bridge can be bridged again. */
  unbridge(): void {
    if (this.current !== 'bridged') return;
    this.ab.detach();
    this.ba.detach();
    this.current = 'unbridged';
  }

  /** Final: detach and emit `closed` once. Idempotent. */
  close(reason: BridgeCloseReason = 'closed'): void {
    if (this.current === 'closed') return;
    this.ab.detach();
    this.ba.detach();
    this.current = 'closed';
    this.events.emit('closed', { reason });
  }

  stats(): BridgeStats {
    const ab = this.ab.counters;
    const ba = this.ba.counters;
    return {
      state: this.current,
      transcoding: this.transcoding,
      packetsForwarded: ab.forwarded + ba.forwarded,
      packetsDropped: ab.dropped + ba.dropped,
      aToB: { ...ab },
      bToA: { ...ba },
      delay: this.delay.summary(),
    };
  }
}
