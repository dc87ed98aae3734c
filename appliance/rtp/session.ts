/**
 * One leg's RTP session on a bound port pair: receive (via RtpReceiver), symmetric RTP latching
 * (RFC 4961 / NAT: the first valid packet fixes where we send and whom we accept), RTCP SR/RR
 * every ~5 s (randomised per RFC 3550 §6.3.1), RTCP BYE on close, and one outgoing stream: prompts
 * and bridged audio (`sendPayload`) and, between them, silence or comfort noise (idleMedia.ts),
 * all renumbered into one sequence and timestamp space so the peer sees a single clean stream.
 */
import { randomBytes } from 'node:crypto';
import type dgram from 'node:dgram';
import type { CodecName } from '../sdp/offer-answer.js';
import type { DtmfEvent } from './dtmf.js';
import { parseRtp, writeRtp, RTP_HEADER_BYTES, type RtpPacket } from './packet.js';
import type { RtpPortPair } from './ports.js';
import { RtpReceiver, type ReceiveQuality } from './receiver.js';
import { buildRtcpBye, buildRtcpReport, ntpFromMs, parseRtcp, rttFromReport } from './rtcp.js';
import { secureInt, secureUint32, secureUniform } from '../randomness.js';
import type { SrtpSession } from './srtp.js';
import {
  COMFORT_NOISE_PAYLOAD,
  idleMediaClock,
  silencePayload,
  type IdleMediaClock,
  type IdleMediaMode,
  type IdleMediaTarget,
} from './idleMedia.js';

export interface RtpEndpoint {
  address: string;
  port: number;
}

export interface RtpSessionOptions {
  readonly pair: RtpPortPair;
  readonly codec: CodecName;
  readonly payloadType: number;
  readonly telephoneEventPt: number | undefined;
  readonly frameMs: number;
  /** Where the SDP says to send; replaced by the latched source. */
  readonly remote: RtpEndpoint;
  /** Where the SDP's `a=rtcp` (RFC 3605) says RTCP goes; default the RTP port + 1 (ignored with mux). */
  readonly remoteRtcp?: RtpEndpoint | undefined;
  readonly latching: boolean;
  readonly rtcpIntervalMs?: number;
  readonly cname: string;
  readonly onFrame: (pcm: Int16Array, concealed: boolean) => void;
  readonly onDtmf: (e: DtmfEvent) => void;
  /** What to send while nothing else is sent (default 'off'). */
  readonly idleMedia?: IdleMediaMode;
  /** Payload type of CN (RFC 3389) when the peer offered it; comfort noise falls back to silence without. */
  readonly comfortNoisePt?: number;
  readonly idleClock?: IdleMediaClock;
  /** RTCP on the RTP port (RFC 5761). */
  readonly rtcpMux?: boolean;
  /** SRTP/SRTCP (SDES keys): what we send is protected, what we receive must authenticate. */
  readonly srtp?: SrtpPair;
}

/**
 * Sees every accepted RTP packet of a session (its negotiated audio or telephone-event payload
 * type, from the latched source, SRTP already removed) before the receive pipeline: the media
 * bridge forwards from here, so the sink's work never delays the other leg.
 */
export interface RtpTap {
  /** `arrivedAtMs`: performance.now() when the datagram reached the socket handler. */
  onPacket(packet: RtpPacket, arrivedAtMs: number): void;
  /** The session closed; the tap was dropped. */
  onClose(): void;
}

/** The two directions of a leg's SRTP: each with its own master key. */
export interface SrtpPair {
  readonly send: SrtpSession;
  readonly receive: SrtpSession;
}

/** RTP clock of every codec we carry (G.722 included, RFC 3551 §4.5.2). */
const RTP_CLOCK_HZ = 8000;
/** Comfort-noise updates while idle (RFC 3389 leaves the rate to the sender). */
const CN_EVERY_FRAMES = 10;

export interface SessionCounters {
  rtpPacketsReceived: number;
  malformedPackets: number;
  foreignPackets: number;
  unknownPayloadType: number;
  rtcpReceived: number;
  rtcpSent: number;
  packetsSent: number;
  octetsSent: number;
  /** Of packetsSent: silence or comfort noise sent while idle. */
  idlePacketsSent: number;
  /** SRTP/SRTCP packets that failed authentication (forged, or the wrong key). */
  srtpAuthFailures: number;
  /** SRTP/SRTCP packets replayed or too old for the replay window. */
  srtpReplays: number;
  /** Exceptions thrown by the tap (media bridge): contained, must stay 0. */
  tapErrors: number;
}

/** 0.0.0.0 or :: : no address to send to (sent there, a packet reaches this host itself). */
function unspecified(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

export class RtpSession implements IdleMediaTarget {
  readonly ssrc = randomBytes(4).readUInt32BE(0);
  readonly receiver: RtpReceiver;
  private remote: RtpEndpoint;
  private remoteRtcp: RtpEndpoint;
  /** RTCP destination the SDP named (a=rtcp), kept while RTP comes from where the SDP said. */
  private sdpRtcp: RtpEndpoint | undefined;
  private latched = false;
  private closed = false;
  private rtcpTimer: NodeJS.Timeout | undefined;
  private gapTimer: NodeJS.Timeout | undefined;
  private sentSinceReport = false;
  private lastRtpTs = 0;
  readonly counters: SessionCounters = {
    rtpPacketsReceived: 0,
    malformedPackets: 0,
    foreignPackets: 0,
    unknownPayloadType: 0,
    rtcpReceived: 0,
    rtcpSent: 0,
    packetsSent: 0,
    octetsSent: 0,
    idlePacketsSent: 0,
    srtpAuthFailures: 0,
    srtpReplays: 0,
    tapErrors: 0,
  };
  private tap: RtpTap | undefined;
  /** Source and output timestamp of the telephone-event being relayed (one timestamp per event). */
  private relayedEvent: { readonly source: number; readonly out: number } | undefined;
  private srtp: SrtpPair | undefined;
  // the outgoing stream
  private outSeq = secureInt(0, 0x10000);
  private outTs = secureUint32();
  private readonly outOriginTs = this.outTs;
  private readonly outOriginMs = performance.now();
  private lastSendMs = -Infinity;
  private lastSourceTs: number | undefined;
  private idleNextAtMs = 0;
  private idleFrames = 0;
  private sending = true;
  private readonly idlePayload: Uint8Array | undefined;
  private readonly idleClock: IdleMediaClock;

  constructor(private readonly opts: RtpSessionOptions) {
    this.remote = { ...opts.remote };
    this.sdpRtcp = opts.remoteRtcp === undefined ? undefined : { ...opts.remoteRtcp };
    this.remoteRtcp = this.rtcpEndpointFor(opts.remote);
    this.receiver = new RtpReceiver({
      codec: opts.codec,
      payloadType: opts.payloadType,
      telephoneEventPt: opts.telephoneEventPt,
      comfortNoisePt: opts.comfortNoisePt,
      frameMs: opts.frameMs,
      onFrame: opts.onFrame,
      onDtmf: opts.onDtmf,
    });
    opts.pair.rtp.on('message', (msg, rinfo) => this.onRtp(msg, rinfo));
    opts.pair.rtcp.on('message', (msg, rinfo) => this.onRtcp(msg, rinfo));
    opts.pair.rtp.on('error', () => {});
    opts.pair.rtcp.on('error', () => {});
    this.scheduleRtcp();
    this.srtp = opts.srtp;
    this.idleClock = opts.idleClock ?? idleMediaClock;
    const idle = opts.idleMedia ?? 'off';
    if (idle !== 'off') {
      this.idlePayload =
        idle === 'comfort-noise' && opts.comfortNoisePt !== undefined ? COMFORT_NOISE_PAYLOAD : silencePayload(opts.codec, opts.frameMs);
      this.idleClock.add(this);
    }
  }

  /** New SRTP keys (a re-INVITE changed them); packets in flight under the old keys fail and are counted. */
  rekey(srtp: SrtpPair | undefined): void {
    this.srtp = srtp;
  }

  get srtpKeys(): SrtpPair | undefined {
    return this.srtp;
  }

  get encrypted(): boolean {
    return this.srtp !== undefined;
  }

  /** Unprotect an inbound packet when SRTP is on; undefined when it must be dropped (counted). */
  private unprotect(msg: Buffer, rtcp: boolean): Buffer | undefined {
    if (this.srtp === undefined) return msg;
    const out = rtcp ? this.srtp.receive.unprotectRtcp(msg) : this.srtp.receive.unprotectRtp(msg);
    if (typeof out !== 'string') return out;
    if (out === 'auth') this.counters.srtpAuthFailures++;
    else if (out === 'replay' || out === 'too_old') this.counters.srtpReplays++;
    else this.counters.malformedPackets++;
    return undefined;
  }

  /** Idle fill is comfort noise (CN stays in re-negotiated answers). */
  get sendsComfortNoise(): boolean {
    return this.idlePayload === COMFORT_NOISE_PAYLOAD;
  }

  /**
   * Whether we may send (our SDP direction is sendrecv or sendonly). A peer that put the call on
   * hold, or a SIPREC recorder leg, gets nothing.
   */
  setSending(allowed: boolean): void {
    this.sending = allowed;
  }

  /**
   * Sending allowed, and somewhere to send: an unspecified remote address (the legacy c=0.0.0.0
   * hold of RFC 3264 §8.4) gets nothing until a packet from the peer latches a real one; sent
   * there, packets would reach this host itself.
   */
  private get canSend(): boolean {
    return this.sending && !unspecified(this.remote.address);
  }

  get localPort(): number {
    return this.opts.pair.rtpPort;
  }

  get codec(): CodecName {
    return this.opts.codec;
  }

  /** The telephone-event payload type the peer negotiated (undefined: no RFC 4733 on this leg). */
  get telephoneEventPt(): number | undefined {
    return this.opts.telephoneEventPt;
  }

  /** Attach (or with undefined, detach) the one tap that sees received packets (the media bridge). */
  setTap(tap: RtpTap | undefined): void {
    this.tap = this.closed ? undefined : tap;
  }

  get currentTap(): RtpTap | undefined {
    return this.tap;
  }

  get remoteEndpoint(): Readonly<RtpEndpoint> {
    return this.remote;
  }

  get isLatched(): boolean {
    return this.latched;
  }

  /** New remote (and its a=rtcp, if any) from a re-INVITE: latch again on the next packet. */
  updateRemote(remote: RtpEndpoint, remoteRtcp?: RtpEndpoint): void {
    this.remote = { ...remote };
    this.sdpRtcp = remoteRtcp === undefined ? undefined : { ...remoteRtcp };
    this.remoteRtcp = this.rtcpEndpointFor(remote);
    this.latched = false;
  }

  /**
   * Where RTCP goes for RTP sent to `rtp`: the RTP port with mux, else the SDP's a=rtcp, else the
   * RTP port + 1 (RFC 3550 §11); port 0 (none) when that is past 65535 (dgram would throw).
   */
  private rtcpEndpointFor(rtp: RtpEndpoint): RtpEndpoint {
    if (this.opts.rtcpMux === true) return { address: rtp.address, port: rtp.port };
    if (this.sdpRtcp !== undefined) return { ...this.sdpRtcp };
    return { address: rtp.address, port: rtp.port < 65535 ? rtp.port + 1 : 0 };
  }

  /** Somewhere to send RTCP: not the unspecified address, not port 0. */
  private get rtcpReachable(): boolean {
    return !unspecified(this.remoteRtcp.address) && this.remoteRtcp.port > 0;
  }

  /** The socket RTCP leaves from: the RTP one when multiplexed. */
  private get rtcpSocket(): dgram.Socket {
    return this.opts.rtcpMux === true ? this.opts.pair.rtp : this.opts.pair.rtcp;
  }

  private onRtp(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const arrivedAtMs = performance.now();
    if (this.closed) return;
    // RFC 5761 §4: with RTCP multiplexed, packet types 192-223 in the second byte are RTCP
    if (this.opts.rtcpMux === true && msg.length >= 2 && msg[1]! >= 192 && msg[1]! <= 223) return this.onRtcp(msg, rinfo);
    if (this.latched && (rinfo.address !== this.remote.address || rinfo.port !== this.remote.port)) {
      this.counters.foreignPackets++;
      return;
    }
    const clear = this.unprotect(msg, false);
    if (clear === undefined) return;
    const p = parseRtp(clear);
    if (typeof p === 'string') {
      this.counters.malformedPackets++;
      return;
    }
    const tap = this.tap;
    if (tap !== undefined && (p.payloadType === this.opts.payloadType || p.payloadType === this.opts.telephoneEventPt)) {
      try {
        tap.onPacket(p, arrivedAtMs);
      } catch {
        this.counters.tapErrors++;
      }
    }
    if (!this.receiver.push(p, arrivedAtMs)) {
      this.counters.unknownPayloadType++;
      return;
    }
    this.counters.rtpPacketsReceived++;
    if (!this.latched && this.opts.latching) {
      // RTP from elsewhere than the SDP said (a NAT): its a=rtcp names a port behind that NAT too
      if (rinfo.address !== this.remote.address || rinfo.port !== this.remote.port) this.sdpRtcp = undefined;
      this.latched = true;
      this.remote = { address: rinfo.address, port: rinfo.port };
      this.remoteRtcp = this.rtcpEndpointFor(this.remote);
    }
    this.armGapTimer();
  }

  /** While the jitter buffer holds frames behind a gap, wake up to release them on time. */
  private armGapTimer(): void {
    if (this.receiver.held === 0 || this.gapTimer !== undefined) return;
    this.gapTimer = setTimeout(() => {
      this.gapTimer = undefined;
      if (this.closed) return;
      this.receiver.tick(performance.now());
      this.armGapTimer();
    }, this.opts.frameMs);
  }

  private onRtcp(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.closed) return;
    // once RTP has latched, RTCP comes from the same host (its port may differ behind a NAT):
    // taken from anyone, a report would point ours elsewhere and feed our statistics
    if (this.latched && rinfo.address !== this.remote.address) {
      this.counters.foreignPackets++;
      return;
    }
    const clear = this.unprotect(msg, true);
    if (clear === undefined) return;
    const packets = parseRtcp(clear);
    if (packets === undefined) {
      this.counters.malformedPackets++;
      return;
    }
    this.counters.rtcpReceived++;
    if (this.opts.latching) this.remoteRtcp = { address: rinfo.address, port: rinfo.port };
    for (const p of packets) {
      if (p.type === 'sr') this.receiver.stats.onSenderReport(p.sender, performance.now());
      if (p.type === 'sr' || p.type === 'rr') {
        for (const r of p.reports) {
          if (r.ssrc !== this.ssrc) continue;
          const rtt = rttFromReport(r, Date.now());
          if (rtt !== undefined) this.receiver.rttMs = Math.round(rtt * 10) / 10;
        }
      }
    }
  }

  private scheduleRtcp(): void {
    const base = this.opts.rtcpIntervalMs ?? 5000;
    const delay = base * (0.5 + secureUniform());
    this.rtcpTimer = setTimeout(() => {
      this.rtcpTimer = undefined;
      if (this.closed) return;
      this.sendRtcpReport();
      this.scheduleRtcp();
    }, delay);
  }

  /** Send an SR (when we sent media since the last report) or RR now. */
  sendRtcpReport(): void {
    if (this.closed || !this.rtcpReachable) return;
    const reports = this.counters.rtpPacketsReceived > 0 ? [this.receiver.stats.reportBlock(performance.now())] : [];
    const sender = this.sentSinceReport
      ? {
          ...ntpFromMs(Date.now()),
          rtpTimestamp: this.lastRtpTs,
          packetCount: this.counters.packetsSent,
          octetCount: this.counters.octetsSent,
        }
      : undefined;
    this.sentSinceReport = false;
    const pkt = this.protectRtcp(buildRtcpReport(this.ssrc, this.opts.cname, reports, sender));
    this.rtcpSocket.send(pkt, this.remoteRtcp.port, this.remoteRtcp.address);
    this.counters.rtcpSent++;
  }

  /**
   * Send one encoded media payload (prompt player, bridged audio). The source's own sequence
   * numbers are replaced by ours; its timestamps are kept relative while it sends without a break,
   * and re-anchored on our clock at a marker or after a break (or after idle frames).
   * Returns false when nothing was sent (closed, or the peer holds the call).
   */
  sendPayload(payload: Uint8Array, _sequence: number, timestamp: number, marker: boolean): boolean {
    if (this.closed || !this.canSend) return false;
    const step = this.lastSourceTs === undefined ? 0 : (timestamp - this.lastSourceTs) >>> 0;
    const continuous = !marker && this.lastSourceTs !== undefined && step > 0 && step <= RTP_CLOCK_HZ;
    const ts = continuous ? (this.outTs + step) >>> 0 : this.clockTs();
    this.lastSourceTs = timestamp;
    this.emit(payload, this.opts.payloadType, ts, marker || !continuous);
    return true;
  }

  /**
   * Relay one RFC 4733 telephone-event payload (bridged DTMF) under our event payload type. Every
   * packet of one event keeps one timestamp: the source's event timestamp mapped with the offset
   * of the audio relayed before it (or our clock when none was). False when not sent (no
   * telephone-event negotiated with this peer, closed, or held).
   */
  sendEvent(payload: Uint8Array, timestamp: number, marker: boolean): boolean {
    const pt = this.opts.telephoneEventPt;
    if (this.closed || !this.canSend || pt === undefined) return false;
    let out = this.relayedEvent?.source === timestamp ? this.relayedEvent.out : undefined;
    if (out === undefined) {
      out = this.lastSourceTs === undefined ? this.clockTs() : (this.outTs + ((timestamp - this.lastSourceTs) | 0)) >>> 0;
      this.relayedEvent = { source: timestamp, out };
    }
    if (this.lastSourceTs === undefined) {
      // idle fill pauses while events flow and restarts afterwards on our clock (with a marker)
      this.idleFrames = 0;
      this.idleNextAtMs = performance.now() + 3 * this.opts.frameMs;
    }
    this.emit(payload, pt, out, marker, false);
    return true;
  }

  /** The RTP timestamp for now on our clock, never behind the last one sent. */
  private clockTs(): number {
    const elapsed = Math.round(((performance.now() - this.outOriginMs) * RTP_CLOCK_HZ) / 1000);
    const byClock = (this.outOriginTs + elapsed) >>> 0;
    return ((byClock - this.outTs) | 0) > 0 || this.counters.packetsSent === 0 ? byClock : (this.outTs + 1) >>> 0;
  }

  /** Idle fill (called by the shared clock): silence or comfort noise once nothing else has been sent for a while. */
  fillIdle(nowMs: number): void {
    if (this.closed || !this.canSend || this.idlePayload === undefined) return;
    const frameMs = this.opts.frameMs;
    const idle = this.lastSourceTs === undefined;
    if (!idle) {
      // another source sent recently: wait for a clear break before filling
      if (nowMs - this.lastSendMs < 3 * frameMs) return;
      this.lastSourceTs = undefined;
      this.idleNextAtMs = nowMs;
      this.idleFrames = 0;
    }
    if (nowMs < this.idleNextAtMs) return;
    if (nowMs - this.idleNextAtMs > 5 * frameMs) this.idleNextAtMs = nowMs; // stalled loop: no burst
    const first = this.idleFrames === 0;
    const unitsPerFrame = (RTP_CLOCK_HZ * frameMs) / 1000;
    const ts = first ? this.clockTs() : (this.outTs + unitsPerFrame) >>> 0;
    this.idleNextAtMs += frameMs;
    this.idleFrames++;
    const cn = this.idlePayload === COMFORT_NOISE_PAYLOAD;
    if (cn && !first && (this.idleFrames - 1) % CN_EVERY_FRAMES !== 0) {
      this.outTs = ts; // the clock runs on between comfort-noise updates
      return;
    }
    this.emit(this.idlePayload, cn ? this.opts.comfortNoisePt! : this.opts.payloadType, ts, first);
    this.counters.idlePacketsSent++;
  }

  /** `advance`: the packet moves the stream's clock (events do not: they repeat their start time). */
  private emit(payload: Uint8Array, payloadType: number, timestamp: number, marker: boolean, advance = true): void {
    // a fresh (pooled) buffer per packet: dgram keeps a reference until the datagram has left,
    // so reusing one buffer corrupts packets sent in the same tick (player catching up)
    const pkt = Buffer.allocUnsafe(RTP_HEADER_BYTES + payload.length);
    const sequence = this.outSeq;
    this.outSeq = (this.outSeq + 1) & 0xffff;
    const len = writeRtp(pkt, { marker, payloadType, sequence, timestamp, ssrc: this.ssrc }, payload);
    const wire = this.srtp === undefined ? pkt.subarray(0, len) : this.srtp.send.protectRtp(pkt.subarray(0, len));
    this.opts.pair.rtp.send(wire, this.remote.port, this.remote.address);
    this.counters.packetsSent++;
    this.counters.octetsSent += len - RTP_HEADER_BYTES;
    if (advance) this.outTs = timestamp;
    this.lastRtpTs = timestamp;
    this.lastSendMs = performance.now();
    this.sentSinceReport = true;
  }

  private protectRtcp(packet: Buffer): Buffer {
    return this.srtp === undefined ? packet : this.srtp.send.protectRtcp(packet);
  }

  quality(): ReceiveQuality {
    return this.receiver.quality();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Flush the receive pipeline, send RTCP BYE, release the port pair (idempotent). */
  close(): void {
    if (this.closed) return;
    this.receiver.flush();
    this.closed = true;
    const tap = this.tap;
    this.tap = undefined;
    if (tap !== undefined) {
      try {
        tap.onClose();
      } catch {
        this.counters.tapErrors++;
      }
    }
    this.idleClock.delete(this);
    if (this.rtcpTimer !== undefined) clearTimeout(this.rtcpTimer);
    if (this.gapTimer !== undefined) clearTimeout(this.gapTimer);
    this.rtcpTimer = undefined;
    this.gapTimer = undefined;
    this.opts.pair.rtp.removeAllListeners('message');
    this.opts.pair.rtcp.removeAllListeners('message');
    const pair = this.opts.pair;
    if ((this.counters.rtpPacketsReceived === 0 && this.counters.packetsSent === 0) || !this.rtcpReachable) {
      pair.release();
      return;
    }
    try {
      // release once the BYE has left (closing first would cancel the queued send)
      this.rtcpSocket.send(this.protectRtcp(buildRtcpBye(this.ssrc)), this.remoteRtcp.port, this.remoteRtcp.address, () => pair.release());
    } catch {
      pair.release();
    }
  }
}
