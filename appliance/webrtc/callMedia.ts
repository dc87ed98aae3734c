/**
 * The media of one call: its mediasoup router and everything created on it (WebRTC transports of
 * browser/probe participants, the PlainTransport of a SIP leg, the PlainTransports + UDP sockets of
 * ASR taps). Closing the call closes all of it; see CLOSURES.md.
 */
import type { Consumer, Producer, Router, Transport, WebRtcTransport } from 'mediasoup/types';
import { evxError } from '../errors.js';
import { TypedEmitter } from '../events/typedEmitter.js';
import { AudioTap, type AudioTapOptions } from './audioTap.js';
import type { PcmSink } from '../audio/pcmSink.js';
import type { MediaPlaneConfig } from './config.js';
import { SipRtpLeg, type SipRtpLegOptions } from './sipRtpLeg.js';

export interface CallMediaEvents {
  closed: { reason: string };
}

/** What is still open on a call; all zero after close (the close-cascade test checks it). */
export interface OpenResources {
  transports: number;
  producers: number;
  consumers: number;
  taps: number;
  sipLegs: number;
}

/** Something the call owns besides mediasoup objects (taps, SIP legs). */
interface OwnedChild {
  close(): void;
  readonly closed: boolean;
}

export class CallMedia {
  readonly events = new TypedEmitter<CallMediaEvents>();
  private readonly transports = new Set<Transport>();
  private readonly producers = new Set<Producer>();
  private readonly consumers = new Set<Consumer>();
  private readonly taps = new Set<AudioTap>();
  private readonly sipLegs = new Set<SipRtpLeg>();
  private closeReason: string | undefined;

  constructor(
    readonly callId: string,
    readonly router: Router,
    private readonly config: MediaPlaneConfig,
    private readonly onClosed: (reason: string) => void,
  ) {
    // Track every mediasoup object created on this router, whoever created it, so the close
    // cascade can be verified (and leaks counted) from here.
    router.observer.on('newtransport', (transport: Transport) => {
      this.transports.add(transport);
      transport.observer.on('close', () => this.transports.delete(transport));
      transport.observer.on('newproducer', (producer: Producer) => {
        this.producers.add(producer);
        producer.observer.on('close', () => this.producers.delete(producer));
      });
      transport.observer.on('newconsumer', (consumer: Consumer) => {
        this.consumers.add(consumer);
        consumer.observer.on('close', () => this.consumers.delete(consumer));
      });
    });
    router.on('workerclose', () => this.close('worker-died'));
  }

  get closed(): boolean {
    return this.closeReason !== undefined;
  }

  get rtpCapabilities() {
    return this.router.rtpCapabilities;
  }

  /** A WebRTC transport (ICE-lite + DTLS-SRTP) on the configured listen IP / announced address. */
  async createWebRtcTransport(appData: Record<string, unknown> = {}): Promise<WebRtcTransport> {
    this.assertOpen();
    const { listenIp, announcedAddress, enableTcp } = this.config;
    const announced = announcedAddress === undefined ? {} : { announcedAddress };
    try {
      return await this.router.createWebRtcTransport({
        listenInfos: [
          { protocol: 'udp', ip: listenIp, ...announced },
          ...(enableTcp ? [{ protocol: 'tcp' as const, ip: listenIp, ...announced }] : []),
        ],
        enableUdp: true,
        enableTcp,
        preferUdp: true,
        appData: { callId: this.callId, ...appData },
      });
    } catch (err) {
      throw evxError('EVX_ERR_WEBRTC_MEDIA', 'Creating a WebRTC transport failed', { cause: err, details: { callId: this.callId } });
    }
  }

  /** The RTP leg of a SIP call (G.711 PlainTransport, comedia). */
  async createSipLeg(options: SipRtpLegOptions): Promise<SipRtpLeg> {
    this.assertOpen();
    const leg = await SipRtpLeg.create(this.router, this.config.plainListenIp, options);
    this.adopt(leg, this.sipLegs);
    return leg;
  }

  /**
   * Taps a producer's audio for recognition: decoded PCM goes to `sink` until the producer, the
   * tap or the call closes (then `sink.close()` is called once).
   */
  async tapProducer(producerId: string, sink: PcmSink, options: AudioTapOptions = {}): Promise<AudioTap> {
    this.assertOpen();
    const tap = await AudioTap.create(this.router, this.config.plainListenIp, producerId, sink, options);
    this.adopt(tap, this.taps);
    return tap;
  }

  openResources(): OpenResources {
    return {
      transports: this.transports.size,
      producers: this.producers.size,
      consumers: this.consumers.size,
      taps: this.taps.size,
      sipLegs: this.sipLegs.size,
    };
  }

  /** Closes taps, SIP legs and the router (which closes its transports, producers, consumers). Idempotent. */
  close(reason = 'hangup'): void {
    if (this.closeReason !== undefined) return;
    this.closeReason = reason;
    for (const tap of [...this.taps]) tap.close();
    for (const leg of [...this.sipLegs]) leg.close();
    this.router.close();
    this.onClosed(reason);
    this.events.emit('closed', { reason });
    this.events.removeAllListeners();
  }

  private adopt<T extends OwnedChild & { onClose(listener: () => void): void }>(child: T, set: Set<T>): void {
    if (this.closed) {
      child.close();
      return;
    }
    set.add(child);
    child.onClose(() => set.delete(child));
  }

  private assertOpen(): void {
    if (this.closeReason !== undefined) {
      throw evxError('EVX_ERR_WEBRTC_CLOSED', 'The call media is closed', { details: { callId: this.callId, reason: this.closeReason } });
    }
  }
}
