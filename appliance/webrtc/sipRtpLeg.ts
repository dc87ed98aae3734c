/**
 * The SIP leg of a bridged call inside the call's router: a PlainTransport carrying G.711 RTP.
 *
 * Inbound: RTP sent to `localIp:localPort` with the agreed SSRC becomes `producer` (consumable by the
 * WebRTC agent, taps, supervisors). Outbound: `sendProducer()` consumes another participant's G.711
 * producer and sends it back to the SIP side. With `comedia` (default) mediasoup learns the SIP
 * side's address from its first packet, so a relay (or the phone itself) only needs our address.
 *
 * mediasoup forwards RTP and never transcodes: the WebRTC leg must send the same codec (PCMU) for
 * audio to reach the SIP side, which is what "PCMU end to end" means.
 */
import type { Consumer, PlainTransport, Producer, Router } from 'mediasoup/types';
import { evxError } from '../errors.js';
import { capabilitiesFor } from './codecs.js';

export interface SipRtpLegOptions {
  /** SSRC of the RTP the SIP side sends (from SDP a=ssrc, or the one a relay rewrites to). */
  readonly ssrc: number;
  readonly codec?: 'pcmu' | 'pcma';
  /** Where to send when known in advance; omitted = comedia (learn from the first packet). */
  readonly remote?: { readonly ip: string; readonly port: number };
}

export class SipRtpLeg {
  private readonly closeListeners: (() => void)[] = [];
  private closedFlag = false;

  private constructor(
    readonly transport: PlainTransport,
    readonly producer: Producer,
    readonly codec: 'pcmu' | 'pcma',
    private readonly router: Router,
  ) {
    transport.on('routerclose', () => this.close());
  }

  static async create(router: Router, listenIp: string, options: SipRtpLegOptions): Promise<SipRtpLeg> {
    if (!Number.isInteger(options.ssrc) || options.ssrc <= 0 || options.ssrc > 0xffffffff) {
      throw evxError('EVX_ERR_WEBRTC_SIGNALLING', 'A SIP leg needs a 32-bit non-zero SSRC', { details: { ssrc: options.ssrc } });
    }
    const codec = options.codec ?? 'pcmu';
    const comedia = options.remote === undefined;
    let transport: PlainTransport | undefined;
    try {
      transport = await router.createPlainTransport({
        listenInfo: { protocol: 'udp', ip: listenIp },
        rtcpMux: true,
        comedia,
        appData: { role: 'sip-leg' },
      });
      if (options.remote !== undefined) await transport.connect({ ip: options.remote.ip, port: options.remote.port });
      const producer = await transport.produce({
        kind: 'audio',
        rtpParameters: {
          codecs: [
            codec === 'pcmu'
              ? { mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 }
              : { mimeType: 'audio/PCMA', clockRate: 8000, channels: 1, payloadType: 8 },
          ],
          encodings: [{ ssrc: options.ssrc }],
        },
        appData: { role: 'sip-leg' },
      });
      return new SipRtpLeg(transport, producer, codec, router);
    } catch (err) {
      transport?.close();
      throw evxError('EVX_ERR_WEBRTC_MEDIA', 'Creating the SIP RTP leg failed', { cause: err });
    }
  }

  get localIp(): string {
    return this.transport.tuple.localAddress ?? this.transport.tuple.localIp;
  }

  get localPort(): number {
    return this.transport.tuple.localPort;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Sends another participant's audio to the SIP side; it must already be G.711 (no transcoding). */
  async sendProducer(producerId: string): Promise<Consumer> {
    if (this.closedFlag) throw evxError('EVX_ERR_WEBRTC_CLOSED', 'The SIP leg is closed');
    const rtpCapabilities = capabilitiesFor(this.router.rtpCapabilities, this.codec);
    if (!this.router.canConsume({ producerId, rtpCapabilities })) {
      throw evxError(
        'EVX_ERR_CODEC_UNSUPPORTED',
        `The producer does not send ${this.codec.toUpperCase()}; mediasoup cannot transcode for the SIP leg`,
        {
          details: { producerId, codec: this.codec },
        },
      );
    }
    try {
      return await this.transport.consume({ producerId, rtpCapabilities, appData: { role: 'sip-leg' } });
    } catch (err) {
      throw evxError('EVX_ERR_WEBRTC_MEDIA', 'Consuming towards the SIP leg failed', { cause: err, details: { producerId } });
    }
  }

  onClose(listener: () => void): void {
    if (this.closedFlag) listener();
    else this.closeListeners.push(listener);
  }

  /** Closes the transport (and with it the producer and consumers). Idempotent. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.transport.close();
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}
