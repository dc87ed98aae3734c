/**
 * The receive pipeline of one leg, without sockets: RTP packet -> statistics -> jitter buffer ->
 * decoder -> loss concealment -> PCM frames; telephone-events -> DTMF. Pure and clock-injected,
 * so it is unit-tested with synthetic packet streams.
 */
import type { CodecName } from '../sdp/offer-answer.js';
import { createDecoder, type PayloadDecoder } from './codec.js';
import { DtmfDecoder, type DtmfEvent } from './dtmf.js';
import { JitterBuffer } from './jitter-buffer.js';
import { estimateMos } from './mos.js';
import type { RtpPacket } from './packet.js';
import { ReceiverStats } from './rtcp.js';

export interface ReceiveQuality {
  packetsReceived: number;
  packetsExpected: number;
  packetsLost: number;
  lossPct: number;
  late: number;
  duplicate: number;
  concealedFrames: number;
  jitterMs: number;
  rttMs: number | undefined;
  mos: number;
  jitterBufferDepthFrames: number;
  framesDelivered: number;
}

export interface ReceiverOptions {
  readonly codec: CodecName;
  readonly payloadType: number;
  readonly telephoneEventPt: number | undefined;
  /** RFC 3389 comfort noise, when negotiated: its packets are silence, not lost audio. */
  readonly comfortNoisePt?: number | undefined;
  readonly frameMs: number;
  /** PCM frame (a view valid only during the call; copy it to keep it). */
  readonly onFrame: (pcm: Int16Array, concealed: boolean) => void;
  readonly onDtmf: (e: DtmfEvent) => void;
}

/** Consecutive lost frames concealed by fading the last frame; longer gaps are silence. */
const PLC_MAX_FRAMES = 3;
const EMPTY = new Uint8Array(0);

export class RtpReceiver {
  readonly stats: ReceiverStats;
  private readonly jb: JitterBuffer;
  private readonly decoder: PayloadDecoder;
  private readonly dtmf: DtmfDecoder;
  private readonly frame: Int16Array;
  private readonly last: Int16Array;
  private lastLen = 0;
  private lossRun = 0;
  private concealed = 0;
  private delivered = 0;
  private ssrc = -1;
  rttMs: number | undefined;
  readonly samplesPerFrame: number;

  constructor(private readonly opts: ReceiverOptions) {
    this.decoder = createDecoder(opts.codec);
    this.stats = new ReceiverStats(8000);
    this.samplesPerFrame = (this.decoder.sampleRateHz * opts.frameMs) / 1000;
    this.frame = new Int16Array(Math.max(this.samplesPerFrame * 4, 2048));
    this.last = new Int16Array(this.frame.length);
    this.jb = new JitterBuffer({ frameMs: opts.frameMs }, (payload) => this.onJitterFrame(payload));
    this.dtmf = new DtmfDecoder(8000, opts.onDtmf);
  }

  /** Accept a parsed packet; returns false when its payload type is not negotiated. */
  push(p: RtpPacket, nowMs: number): boolean {
    if (p.payloadType === this.opts.telephoneEventPt) {
      this.dtmf.push(p.payload, p.timestamp);
      this.stats.update(p.sequence, p.timestamp, nowMs);
      // events share the sequence space: mark the slot so the jitter buffer does not count a gap
      this.jb.push(p.sequence, EMPTY, nowMs);
      return true;
    }
    if (p.payloadType === this.opts.comfortNoisePt) {
      // a silence descriptor takes a sequence number like audio: mark its slot, deliver nothing
      this.stats.update(p.sequence, p.timestamp, nowMs);
      this.jb.push(p.sequence, EMPTY, nowMs);
      return true;
    }
    if (p.payloadType !== this.opts.payloadType) return false;
    if (p.ssrc !== this.ssrc) {
      // a new source (transfer, re-INVITE to other media) has its own sequence space
      if (this.ssrc >= 0) this.jb.reset();
      this.ssrc = p.ssrc;
      this.stats.ssrc = p.ssrc;
    }
    this.stats.update(p.sequence, p.timestamp, nowMs);
    this.jb.observeJitter(this.stats.jitterMs);
    this.jb.push(p.sequence, p.payload, nowMs);
    return true;
  }

  /** Time-based gap handling when packets stop (call from a timer while `held > 0`). */
  tick(nowMs: number): void {
    this.jb.tick(nowMs);
  }

  get held(): number {
    return this.jb.heldFrames;
  }

  /** End of stream: release held frames, report an unfinished DTMF. */
  flush(): void {
    this.jb.drain();
    this.dtmf.flush();
  }

  private onJitterFrame(payload: Uint8Array | null): void {
    if (payload !== null && payload.length === 0) return; // a telephone-event or comfort-noise slot
    if (payload !== null) {
      const n = this.decoder.decode(payload, this.frame);
      this.last.set(this.frame.subarray(0, n));
      this.lastLen = n;
      this.lossRun = 0;
      this.delivered++;
      this.opts.onFrame(this.frame.subarray(0, n), false);
      return;
    }
    // loss concealment: repeat the last frame at -6 dB per lost frame, then silence
    this.lossRun++;
    this.concealed++;
    const n = this.lastLen > 0 ? this.lastLen : this.samplesPerFrame;
    if (this.lossRun <= PLC_MAX_FRAMES && this.lastLen > 0) {
      const gain = Math.pow(0.5, this.lossRun);
      for (let i = 0; i < n; i++) this.frame[i] = Math.round(this.last[i]! * gain);
    } else this.frame.fill(0, 0, n);
    this.delivered++;
    this.opts.onFrame(this.frame.subarray(0, n), true);
  }

  quality(): ReceiveQuality {
    const expected = this.stats.expected;
    const lost = Math.max(0, this.stats.cumulativeLost);
    const lossPct = expected > 0 ? (100 * lost) / expected : 0;
    const jitterMs = Math.round(this.stats.jitterMs * 100) / 100;
    const jb = this.jb.stats;
    return {
      packetsReceived: this.stats.received,
      packetsExpected: expected,
      packetsLost: lost,
      lossPct: Math.round(lossPct * 100) / 100,
      late: jb.late,
      duplicate: jb.duplicate,
      concealedFrames: this.concealed,
      jitterMs,
      rttMs: this.rttMs,
      mos: estimateMos({ codec: this.opts.codec, lossPct, jitterMs, rttMs: this.rttMs, frameMs: this.opts.frameMs }),
      jitterBufferDepthFrames: jb.depthFrames,
      framesDelivered: this.delivered,
    };
  }
}
