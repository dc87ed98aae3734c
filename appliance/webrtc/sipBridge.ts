/**
 * Bridges a SIP call (terminated by the appliance's own SIP/RTP stack) to a WebRTC agent through
 * the call's mediasoup router, G.711 both ways:
 *
 *   phone --RTP--> SIP leg (jitter buffer, G.711 decode) --PCM tap--> relay: G.711 encode, RTP
 *         --> SipRtpLeg PlainTransport (producer, role 'sip') --> agent (and supervisors)
 *   agent (must send PCMU/PCMA) --> SipRtpLeg.sendProducer --> relay socket --payload-->
 *         SIP leg's RtpSession.sendPayload --> phone
 *
 * The payload bytes are never transcoded: G.711 decode/encode is a bit-exact round trip, and the
 * agent's G.711 payloads go to the phone as they are (mediasoup cannot transcode; an Opus agent on
 * a SIP call is refused with a clear error). The relay starts when an agent (or supervisor) joins a
 * SIP call and stops with either side: the agent hanging up sends BYE; the phone's BYE ends the
 * WebRTC call. Both legs keep their own transcripts (the SIP leg through the telephony bridge as
 * 'caller', the agent's producer through the WebRTC call bridge as 'agent').
 */
import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import type { CallManager } from '../calls/callManager.js';
import { encodeAlaw, encodeMulaw } from '../codecs/g711.js';
import type { Logger } from '../log/logger.js';
import { RTP_HEADER_BYTES, parseRtp, writeRtp } from '../rtp/packet.js';
import type { SipServer } from '../telephony/sip-server.js';
import type { LegAudioSink, LegAudioSinkFactory, LegInfo } from '../telephony/types.js';
import type { SipRtpLeg } from './sipRtpLeg.js';
import type { WebRtcCall, WebRtcCallRegistry } from './webrtcCalls.js';

/** Feeds every SIP leg's audio to two sinks (the telephony bridge's and the WebRTC relay's). */
export function teeSinkFactories(first: LegAudioSinkFactory, second: LegAudioSinkFactory): LegAudioSinkFactory {
  return (info) => {
    const a = first(info);
    const b = second(info);
    if (a === undefined || b === undefined) return a ?? b;
    return {
      onFrame: (pcm, concealed) => {
        a.onFrame(pcm, concealed);
        try {
          b.onFrame(pcm, concealed);
        } catch {
          // the relay never breaks the transcription path
        }
      },
      close: (reason) => {
        a.close(reason);
        b.close(reason);
      },
    };
  };
}

/** One bridged SIP call: the relay socket between the SIP leg's PCM and the call's router. */
class SipRelay {
  private readonly ssrc = randomInt(1, 0xffffffff);
  private sequence = randomInt(0, 0xffff);
  private timestamp = randomInt(0, 0xffffffff);
  private readonly packet = Buffer.alloc(RTP_HEADER_BYTES + 1024);
  private readonly payload = new Uint8Array(1024);
  private socket: Socket | undefined;
  private leg: SipRtpLeg | undefined;
  private closed = false;
  /** Held by the agent's softphone: neither side's audio is relayed (the caller hears the ACD's music). */
  paused = false;
  framesForwarded = 0;
  packetsToPhone = 0;

  constructor(
    readonly callId: string,
    readonly sipLegId: string,
    readonly codec: 'pcmu' | 'pcma',
    private readonly sip: SipServer,
  ) {}

  async start(call: WebRtcCall): Promise<void> {
    const socket = createSocket('udp4');
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', () => {});
    socket.on('message', (msg) => this.toPhone(msg));
    this.leg = await call.attachSipLeg({ ssrc: this.ssrc, codec: this.codec });
    if (this.closed) this.leg.close();
  }

  /** Agent audio sent to the SIP side. */
  async send(producerId: string): Promise<void> {
    if (this.leg === undefined || this.closed) return;
    await this.leg.sendProducer(producerId);
  }

  /** A decoded 8 kHz frame of the phone's audio: re-packetised as G.711 into the router. */
  onFrame(pcm: Int16Array): void {
    const leg = this.leg;
    if (leg === undefined || this.closed || this.paused || leg.closed || pcm.length > this.payload.length) return;
    const n = this.codec === 'pcmu' ? encodeMulaw(pcm, this.payload) : encodeAlaw(pcm, this.payload);
    const len = writeRtp(
      this.packet,
      { marker: false, payloadType: this.codec === 'pcmu' ? 0 : 8, sequence: this.sequence, timestamp: this.timestamp, ssrc: this.ssrc },
      this.payload.subarray(0, n),
    );
    this.sequence = (this.sequence + 1) & 0xffff;
    this.timestamp = (this.timestamp + pcm.length) >>> 0;
    // dgram keeps a reference until the datagram has left: send a copy.
    this.socket?.send(Buffer.from(this.packet.subarray(0, len)), leg.localPort, leg.localIp);
    this.framesForwarded++;
  }

  private toPhone(msg: Buffer): void {
    if (this.paused) return;
    const p = parseRtp(msg);
    if (typeof p === 'string') return;
    try {
      this.sip.leg(this.callId, this.sipLegId).rtp.sendPayload(p.payload, p.sequence, p.timestamp, p.marker);
      this.packetsToPhone++;
    } catch {
      // the SIP leg has ended; the call end closes the relay
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.leg?.close();
    this.socket?.close();
  }
}

export class SipWebRtcBridge {
  private sip: SipServer | undefined;
  /** SIP caller legs of active SIP calls (known from the tap), by call id. */
  private readonly sipLegs = new Map<string, { legId: string; codec: 'pcmu' | 'pcma' }>();
  private readonly relays = new Map<string, SipRelay>();
  private readonly offs: (() => void)[] = [];

  constructor(
    private readonly registry: WebRtcCallRegistry,
    private readonly calls: CallManager,
    private readonly logger: Logger,
  ) {
    this.offs.push(
      registry.events.on('participantJoined', ({ callId, role }) => {
        if (role !== 'caller') void this.bridge(callId);
      }),
      registry.events.on('producerAdded', ({ call, role, producer }) => {
        const relay = this.relays.get(call.callId);
        if (relay === undefined || role !== 'agent') return;
        relay.send(producer.id).catch((err: unknown) => {
          this.logger.warn({ callId: call.callId, code: (err as { code?: string }).code }, 'agent audio cannot reach the SIP caller');
        });
      }),
      registry.events.on('callEnded', ({ callId, reason }) => {
        const relay = this.relays.get(callId);
        if (relay === undefined) return;
        this.relays.delete(callId);
        relay.close();
        // The agent hung up (or the call ended on the WebRTC side): the phone gets a BYE.
        if (reason !== 'sip-ended' && this.sip !== undefined) void this.sip.hangup(callId).catch(() => undefined);
      }),
    );
  }

  /** The SIP server whose calls can be bridged (set once it listens). */
  attachSip(sip: SipServer): void {
    this.sip = sip;
    this.offs.push(
      sip.events.on('call.ended', ({ callId }) => {
        this.sipLegs.delete(callId);
        this.registry.get(callId)?.end('sip-ended');
      }),
    );
  }

  /** The tap for SIP legs (compose with the telephony bridge's sink factory). */
  readonly sinkFactory: LegAudioSinkFactory = (info: LegInfo): LegAudioSink | undefined => {
    if (info.label === 'agent' || (info.codec !== 'PCMU' && info.codec !== 'PCMA')) return undefined;
    const codec = info.codec === 'PCMU' ? 'pcmu' : 'pcma';
    if (!this.sipLegs.has(info.callId)) this.sipLegs.set(info.callId, { legId: info.legId, codec });
    return {
      onFrame: (pcm) => {
        const relay = this.relays.get(info.callId);
        if (relay !== undefined && relay.sipLegId === info.legId) relay.onFrame(pcm);
      },
      close: () => undefined,
    };
  };

  /** Is this a SIP call an agent can be bridged into? */
  isSipCall(callId: string): boolean {
    return this.sipLegs.has(callId) && this.calls.get(callId) !== undefined;
  }

  /** Codec a browser agent must send on this call (G.711 of the SIP leg), undefined for web calls. */
  agentCodec(callId: string): 'pcmu' | 'pcma' | undefined {
    return this.sipLegs.get(callId)?.codec;
  }

  private async bridge(callId: string): Promise<void> {
    const sipLeg = this.sipLegs.get(callId);
    const call = this.registry.get(callId);
    if (sipLeg === undefined || call === undefined || this.relays.has(callId) || this.sip === undefined) return;
    const relay = new SipRelay(callId, sipLeg.legId, sipLeg.codec, this.sip);
    this.relays.set(callId, relay);
    try {
      await relay.start(call);
      this.logger.info({ callId, codec: sipLeg.codec }, 'sip call bridged to webrtc');
    } catch (err) {
      this.relays.delete(callId);
      relay.close();
      this.logger.warn({ callId, reason: err instanceof Error ? err.message : String(err) }, 'bridging the sip call failed');
    }
  }

  /** Stops (`paused`) or restarts relaying `callId`'s audio both ways (softphone hold, transfer); false without a relay. */
  pause(callId: string, paused: boolean): boolean {
    const relay = this.relays.get(callId);
    if (relay === undefined) return false;
    relay.paused = paused;
    return true;
  }

  /** Relays running (tests). */
  get activeRelays(): number {
    return this.relays.size;
  }

  close(): void {
    for (const off of this.offs.splice(0)) off();
    for (const relay of this.relays.values()) relay.close();
    this.relays.clear();
  }
}
