/**
 * A media leg: one RTP session feeding one audio sink. Sink exceptions are contained (counted)
 * so an ASR fault can never stop the media path. `close()` is idempotent: it flushes the jitter
 * buffer into the sink, closes the sink, then releases the sockets.
 */
import type { AcceptedCrypto, NegotiatedStream } from '../sdp/offer-answer.js';
import { generateMasterKey, SrtpSession } from '../rtp/srtp.js';
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
  /** Our SRTP master key when the stream is encrypted (the peer's is in the stream's crypto). */
  readonly localKey: SrtpMasterKey | undefined;
}

export interface SrtpMasterKey {
  readonly key: Buffer;
  readonly salt: Buffer;
}

export class MediaLeg {
  readonly info: LegInfo;
  readonly rtp: RtpSession;
  private sink: LegAudioSink | undefined;
  private closed = false;
  sinkErrors = 0;
  lastPacketAtMs: number;
  private remoteCrypto: AcceptedCrypto | undefined;
  private localKey: SrtpMasterKey | undefined;

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
      remoteRtcp: s.remoteRtcp,
      latching: opts.latching,
      rtcpIntervalMs: opts.rtcpIntervalMs,
      cname: `edgevox-${opts.legId}`,
      onFrame: (pcm, concealed) => this.deliver(pcm, concealed),
      onDtmf: (e) => opts.onDtmf(opts.legId, e),
      idleMedia: opts.idleMedia,
      rtcpMux: s.rtcpMux,
      ...(s.crypto === undefined || opts.localKey === undefined
        ? {}
        : {
            srtp: {
              send: new SrtpSession(s.crypto.suite, opts.localKey.key, opts.localKey.salt),
              receive: new SrtpSession(s.crypto.suite, s.crypto.key, s.crypto.salt),
            },
          }),
      ...(s.comfortNoisePt === undefined ? {} : { comfortNoisePt: s.comfortNoisePt }),
    });
    this.rtp.setSending(opts.sending);
    this.remoteCrypto = opts.localKey === undefined ? undefined : s.crypto;
    this.localKey = this.remoteCrypto === undefined ? undefined : opts.localKey;
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

  /**
   * Apply the encryption a re-offer asks for and return our key for the answer: the peer's new key
   * (or suite) takes effect for what we receive; ours is kept unless the suite changed, and its
   * sending session is kept too, so our packet index (and keystream) never restarts under one key.
   */
  applyCrypto(remote: AcceptedCrypto | undefined): SrtpMasterKey | undefined {
    const prev = this.remoteCrypto;
    if (remote === undefined) {
      if (prev !== undefined) this.rtp.rekey(undefined);
      this.remoteCrypto = undefined;
      this.localKey = undefined;
      return undefined;
    }
    const sameSuite = prev !== undefined && prev.suite === remote.suite && this.localKey !== undefined;
    if (sameSuite && prev.key.equals(remote.key) && prev.salt.equals(remote.salt)) return this.localKey;
    const local = sameSuite ? this.localKey! : generateMasterKey(remote.suite);
    const current = this.rtp.srtpKeys;
    this.rtp.rekey({
      send: sameSuite && current !== undefined ? current.send : new SrtpSession(remote.suite, local.key, local.salt),
      receive: new SrtpSession(remote.suite, remote.key, remote.salt),
    });
    this.remoteCrypto = remote;
    this.localKey = local;
    return local;
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
