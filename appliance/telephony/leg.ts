/**
 * A media leg: one RTP session feeding one audio sink. Sink exceptions are contained (counted)
 * so an ASR fault can never stop the media path. `close()` is idempotent: it flushes the jitter
 * buffer into the sink, closes the sink, then releases the sockets.
 */
import type { NegotiatedStream } from '../sdp/offer-answer.js';
import type { IdleMediaMode } from '../rtp/idleMedia.js';
import type { DtmfEvent } from '../rtp/dtmf.js';
import type { RtpPortPair } from '../rtp/ports.js';
import { RtpSession } from '../rtp/session.js';
import type { CallEndReason, LegAudioSink, LegAudioSinkFactory, LegInfo, LegLabel, LegQuality } from './types.js';

export interface MediaLegOptions {
  readonly callId: string;
  readonly legId: string;
  readonly label: LegLabel;
  readonly participantId: string | undefined;
  readonly stream: NegotiatedStream;
  readonly pair: RtpPortPair;
  readonly latching: boolean;
  readonly rtcpIntervalMs: number;
  readonly sinkFactory: LegAudioSinkFactory | undefined;
  readonly onDtmf: (legId: string, e: DtmfEvent) => void;
  /** Silence or comfort noise toward the peer while nothing else is sent. */
  readonly idleMedia: IdleMediaMode;
  /** Whether our SDP lets us send on this leg. */
  readonly sending: boolean;
}

export class MediaLeg {
  readonly info: LegInfo;
  readonly rtp: RtpSession;
  private sink: LegAudioSink | undefined;
  private closed = false;
  sinkErrors = 0;
  lastPacketAtMs: number;

  constructor(opts: MediaLegOptions) {
    const s = opts.stream;
    this.info = {
      legId: opts.legId,
      callId: opts.callId,
      label: opts.label,
      codec: s.codec,
      sampleRateHz: s.sampleRateHz,
      frameMs: s.ptimeMs,
      localRtpPort: opts.pair.rtpPort,
      participantId: opts.participantId,
    };
    this.lastPacketAtMs = performance.now();
    this.rtp = new RtpSession({
      pair: opts.pair,
      codec: s.codec,
      payloadType: s.payloadType,
      telephoneEventPt: s.telephoneEventPt,
      frameMs: s.ptimeMs,
      remote: { address: s.remoteAddress, port: s.remotePort },
      latching: opts.latching,
      rtcpIntervalMs: opts.rtcpIntervalMs,
      cname: `edgevox-${opts.legId}`,
      onFrame: (pcm, concealed) => this.deliver(pcm, concealed),
      onDtmf: (e) => opts.onDtmf(opts.legId, e),
      idleMedia: opts.idleMedia,
      rtcpMux: s.rtcpMux,
      ...(s.comfortNoisePt === undefined ? {} : { comfortNoisePt: s.comfortNoisePt }),
    });
    this.rtp.setSending(opts.sending);
  }

  /** Attach the sink (after `call.started` so the app knows the call before audio flows). */
  attachSink(factory: LegAudioSinkFactory | undefined): void {
    if (factory === undefined || this.closed) return;
    try {
      this.sink = factory(this.info);
    } catch {
      this.sinkErrors++;
    }
  }

  private deliver(pcm: Int16Array, concealed: boolean): void {
    this.lastPacketAtMs = performance.now();
    const sink = this.sink;
    if (sink === undefined) return;
    try {
      sink.onFrame(pcm, concealed);
    } catch {
      this.sinkErrors++;
    }
  }

  quality(): LegQuality {
    const c = this.rtp.counters;
    return {
      ...this.rtp.quality(),
      legId: this.info.legId,
      label: this.info.label,
      packetsSent: c.packetsSent,
      malformedPackets: c.malformedPackets,
    };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(reason: CallEndReason): void {
    if (this.closed) return;
    this.closed = true;
    this.rtp.close(); // flushes held frames into the sink first
    const sink = this.sink;
    this.sink = undefined;
    if (sink !== undefined) {
      try {
        sink.close(reason);
      } catch {
        this.sinkErrors++;
      }
    }
  }
}
