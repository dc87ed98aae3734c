/**
 * Audio tap: receives one producer's RTP on a local UDP socket (through a mediasoup Consumer on a
 * PlainTransport), depacketises it, decodes it (Opus with libopus via @discordjs/opus; PCMU/PCMA with
 * the G.711 tables) and hands 16-bit PCM frames to a PcmSink — the ASR stream of that leg.
 *
 * Packet policy: duplicates and late (reordered) packets are dropped and counted; a forward gap in
 * sequence numbers is filled with silence (at most `maxGapFillMs`) so the recogniser's timeline
 * stays aligned with the call's.
 */
import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import type { Consumer, PlainTransport, Router } from 'mediasoup/types';
import { decodeAlaw, decodeMulaw } from '../codecs/g711.js';
import { evxError } from '../errors.js';
import { parseRtp, seqDelta } from '../rtp/packet.js';
import type { PcmSink } from '../audio/pcmSink.js';

export interface AudioTapOptions {
  /** Longest run of lost packets replaced by silence (default 200 ms). */
  readonly maxGapFillMs?: number;
}

export interface AudioTapStats {
  codec: TapCodec;
  sampleRateHz: number;
  packets: number;
  payloadBytes: number;
  lostPackets: number;
  latePackets: number;
  malformedPackets: number;
  /** Datagrams not from the tap's mediasoup transport (dropped unread). */
  foreignPackets: number;
  decodeErrors: number;
  sinkErrors: number;
  samplesDelivered: number;
  concealedSamples: number;
}

export type TapCodec = 'opus' | 'pcmu' | 'pcma';

interface OpusDecoder {
  decode(packet: Buffer): Buffer;
}
type OpusModule = { OpusEncoder: new (rateHz: number, channels: number) => OpusDecoder };

let opusModule: OpusModule | undefined;
/** Lazily loads the native Opus binding (only Opus taps pay for it). */
export function createOpusDecoder(sampleRateHz = 48000, channels = 1): OpusDecoder {
  opusModule ??= createRequire(import.meta.url)('@discordjs/opus') as OpusModule;
  return new opusModule.OpusEncoder(sampleRateHz, channels);
}

export class AudioTap {
  private readonly closeListeners: (() => void)[] = [];
  private closedFlag = false;
  private lastSeq: number | undefined;
  private lastFrameSamples = 0;
  private readonly counters: AudioTapStats;
  private readonly opus: OpusDecoder | undefined;

  private constructor(
    readonly consumer: Consumer,
    private readonly transport: PlainTransport,
    private readonly socket: dgram.Socket,
    private readonly sink: PcmSink,
    readonly codec: TapCodec,
    readonly sampleRateHz: number,
    private readonly maxGapFillMs: number,
  ) {
    this.counters = {
      codec,
      sampleRateHz,
      packets: 0,
      payloadBytes: 0,
      lostPackets: 0,
      latePackets: 0,
      malformedPackets: 0,
      foreignPackets: 0,
      decodeErrors: 0,
      sinkErrors: 0,
      samplesDelivered: 0,
      concealedSamples: 0,
    };
    this.opus = codec === 'opus' ? createOpusDecoder(sampleRateHz, 1) : undefined;
    socket.on('message', (msg, rinfo) => {
      if (this.fromTransport(rinfo)) this.onDatagram(msg);
      else this.counters.foreignPackets++;
    });
    consumer.on('producerclose', () => this.close());
    consumer.on('transportclose', () => this.close());
    transport.on('routerclose', () => this.close());
  }

  /** Creates the PlainTransport, the local socket and the consumer; see CallMedia.tapProducer. */
  static async create(router: Router, listenIp: string, producerId: string, sink: PcmSink, options: AudioTapOptions): Promise<AudioTap> {
    if (!router.canConsume({ producerId, rtpCapabilities: router.rtpCapabilities })) {
      throw evxError('EVX_ERR_WEBRTC_MEDIA', 'The producer cannot be tapped (unknown producer or codec)', { details: { producerId } });
    }
    const socket = dgram.createSocket(listenIp.includes(':') ? 'udp6' : 'udp4');
    let transport: PlainTransport | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, listenIp, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      // RTP and RTCP on one port; we only read RTP and drop the rest.
      transport = await router.createPlainTransport({
        listenInfo: { protocol: 'udp', ip: listenIp },
        rtcpMux: true,
        comedia: false,
        appData: { role: 'asr-tap' },
      });
      const { port } = socket.address();
      await transport.connect({ ip: listenIp, port });
      const consumer = await transport.consume({ producerId, rtpCapabilities: router.rtpCapabilities, appData: { role: 'asr-tap' } });
      const codecParams = consumer.rtpParameters.codecs[0];
      const mime = codecParams?.mimeType.toLowerCase();
      const codec: TapCodec | undefined =
        mime === 'audio/opus' ? 'opus' : mime === 'audio/pcmu' ? 'pcmu' : mime === 'audio/pcma' ? 'pcma' : undefined;
      if (codec === undefined || codecParams === undefined) {
        throw evxError('EVX_ERR_CODEC_UNSUPPORTED', 'The tapped producer does not send Opus, PCMU or PCMA', {
          details: { mimeType: mime ?? null },
        });
      }
      socket.on('error', () => {}); // a send error on a local socket must not crash the process
      return new AudioTap(consumer, transport, socket, sink, codec, codecParams.clockRate, options.maxGapFillMs ?? 200);
    } catch (err) {
      transport?.close();
      socket.close();
      sink.close();
      if (err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('EVX_ERR_')) throw err;
      throw evxError('EVX_ERR_WEBRTC_MEDIA', 'Creating the audio tap failed', { cause: err, details: { producerId } });
    }
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** The local UDP port the tap reads RTP on. */
  get localPort(): number {
    return this.socket.address().port;
  }

  stats(): AudioTapStats {
    return { ...this.counters };
  }

  onClose(listener: () => void): void {
    if (this.closedFlag) listener();
    else this.closeListeners.push(listener);
  }

  /** Closes consumer, transport, socket and the sink. Idempotent. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.transport.close(); // closes the consumer too
    this.socket.close();
    try {
      this.sink.close();
    } catch {
      this.counters.sinkErrors++;
    }
    for (const listener of this.closeListeners.splice(0)) listener();
  }

  /**
   * Only the worker's end of our PlainTransport sends here; the socket is on `plainListenIp`,
   * which may be reachable from the network, and a forged packet far ahead in sequence would
   * make the real stream "late" (dropped) until the sequence caught up.
   */
  private fromTransport(rinfo: dgram.RemoteInfo): boolean {
    const { localIp, localPort } = this.transport.tuple;
    if (rinfo.port !== localPort) return false;
    return localIp === '0.0.0.0' || localIp === '::' || rinfo.address === localIp;
  }

  private onDatagram(msg: Buffer): void {
    if (this.closedFlag) return;
    const packet = parseRtp(msg);
    if (typeof packet === 'string') {
      if (packet !== 'rtcp') this.counters.malformedPackets++;
      return;
    }
    if (this.lastSeq !== undefined) {
      const delta = seqDelta(packet.sequence, this.lastSeq);
      if (delta <= 0) {
        this.counters.latePackets++;
        return;
      }
      if (delta > 1) {
        this.counters.lostPackets += delta - 1;
        this.concealGap(delta - 1);
      }
    }
    this.lastSeq = packet.sequence;
    this.counters.packets++;
    this.counters.payloadBytes += packet.payload.length;
    let samples: Int16Array;
    try {
      samples = this.decode(packet.payload);
    } catch {
      this.counters.decodeErrors++;
      return;
    }
    this.lastFrameSamples = samples.length;
    this.deliver(samples);
  }

  private decode(payload: Uint8Array): Int16Array {
    if (this.opus !== undefined) {
      const pcm = this.opus.decode(Buffer.from(payload.buffer, payload.byteOffset, payload.length));
      // The binding returns a fresh Buffer; copy only if it is not 2-byte aligned.
      return pcm.byteOffset % 2 === 0
        ? new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length >> 1)
        : new Int16Array(Uint8Array.from(pcm).buffer);
    }
    const out = new Int16Array(payload.length);
    if (this.codec === 'pcmu') decodeMulaw(payload, out);
    else decodeAlaw(payload, out);
    return out;
  }

  private concealGap(missingPackets: number): void {
    if (this.lastFrameSamples === 0) return;
    const maxSamples = Math.floor((this.maxGapFillMs * this.sampleRateHz) / 1000);
    const samples = Math.min(missingPackets * this.lastFrameSamples, maxSamples);
    if (samples <= 0) return;
    this.counters.concealedSamples += samples;
    this.deliver(new Int16Array(samples));
  }

  private deliver(samples: Int16Array): void {
    this.counters.samplesDelivered += samples.length;
    try {
      this.sink.write(samples, this.sampleRateHz);
    } catch {
      // A failing sink (ASR stream) must not break the media path; it is counted instead.
      this.counters.sinkErrors++;
    }
  }
}
