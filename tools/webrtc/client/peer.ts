/**
 * A WebRTC participant built on node-webrtc: joins a call through the signalling protocol, sends
 * audio from a clock-driven RTCAudioSource (10 ms frames, 48 kHz mono) and receives the producers it
 * is allowed to hear through an RTCAudioSink, measuring what arrives.
 *
 * ICE: mediasoup is ICE-lite and announces one host candidate (the configured address); this peer
 * never sends its own candidates, so connectivity checks can only reach that one address.
 */
import { evxError } from '../../../appliance/errors.js';
import type { ProducerInfo, ResponseData } from '../../../appliance/webrtc/protocol.js';
import {
  clientRtpCapabilities,
  localDtlsParameters,
  parseAudioSection,
  producerRtpParameters,
  remoteAnswerForSend,
  remoteOfferForConsumer,
  type ProbeCodec,
} from '../../../appliance/webrtc/sdpBridge.js';
import { SignallingClient } from './signallingClient.js';
import { loadWrtc, type WrtcAudioSink, type WrtcAudioSource, type WrtcMediaStreamTrack, type WrtcPeerConnection } from './wrtc.js';

export const FRAME_MS = 10;
export const SEND_RATE_HZ = 48_000;
const FRAME_SAMPLES = (SEND_RATE_HZ * FRAME_MS) / 1000;

export interface PeerJoinOptions {
  /** ws:// URL of the signalling route. */
  readonly url: string;
  readonly token: string;
  /** Required for agent/supervisor tokens; caller tokens carry their call. */
  readonly callId?: string;
  readonly connectTimeoutMs?: number;
}

/** What a receiver measured; energies are RMS of 16-bit samples. */
export interface ReceivedAudioStats {
  frames: number;
  samples: number;
  sampleRateHz: number;
  rmsMean: number;
  rmsMax: number;
  /** Wall-clock ms (Date.now) of the first frame above the onset threshold. */
  firstOnsetAtMs: number | undefined;
  firstFrameAtMs: number | undefined;
}

export const ONSET_RMS = 500;

function rms(samples: Int16Array): number {
  let acc = 0;
  for (let i = 0; i < samples.length; i++) acc += samples[i]! * samples[i]!;
  return samples.length === 0 ? 0 : Math.sqrt(acc / samples.length);
}

/** Waits until a PeerConnection is connected (ICE + DTLS), or fails. */
function waitConnected(pc: WrtcPeerConnection, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (pc.connectionState === 'connected') {
        clearTimeout(timer);
        resolve();
      } else if (pc.connectionState === 'failed' || pc.connectionState === 'closed') {
        clearTimeout(timer);
        reject(evxError('EVX_ERR_WEBRTC_NEGOTIATION', `PeerConnection ${pc.connectionState}`));
      }
    };
    const timer = setTimeout(
      () =>
        reject(
          evxError('EVX_ERR_WEBRTC_NEGOTIATION', 'ICE/DTLS did not connect in time', {
            details: { timeoutMs, iceState: pc.iceConnectionState },
          }),
        ),
      timeoutMs,
    );
    pc.onconnectionstatechange = check;
    check();
  });
}

export class AudioReceiver {
  readonly stats: ReceivedAudioStats = {
    frames: 0,
    samples: 0,
    sampleRateHz: 0,
    rmsMean: 0,
    rmsMax: 0,
    firstOnsetAtMs: undefined,
    firstFrameAtMs: undefined,
  };
  private rmsSum = 0;
  /** Optional raw frame hook (tests, a WAV writer). */
  onFrame: ((samples: Int16Array, sampleRateHz: number) => void) | undefined;

  constructor(
    readonly producerId: string,
    readonly consumerId: string,
    private readonly sink: WrtcAudioSink,
  ) {
    sink.ondata = (data) => {
      // node-webrtc may deliver a few 16 kHz frames of silence before the decoder settles.
      const value = rms(data.samples);
      const s = this.stats;
      s.frames++;
      s.samples += data.samples.length;
      s.sampleRateHz = data.sampleRate;
      this.rmsSum += value;
      s.rmsMean = this.rmsSum / s.frames;
      if (value > s.rmsMax) s.rmsMax = value;
      const now = Date.now();
      s.firstFrameAtMs ??= now;
      if (value >= ONSET_RMS) s.firstOnsetAtMs ??= now;
      this.onFrame?.(data.samples, data.sampleRate);
    };
  }

  stop(): void {
    this.sink.ondata = null;
    this.sink.stop();
  }
}

export interface SendResult {
  framesSent: number;
  /** Wall-clock ms of the first frame pushed whose RMS is above the onset threshold. */
  firstOnsetAtMs: number | undefined;
  /** How late the sending clock ran at worst (event-loop lag), ms. */
  maxClockLagMs: number;
}

export class WebRtcPeer {
  readonly timings: Record<string, number> = {};
  private sendPc: WrtcPeerConnection | undefined;
  private sendTrack: WrtcMediaStreamTrack | undefined;
  private source: WrtcAudioSource | undefined;
  /** One receive transport + PeerConnection per consumed producer (a supervisor hears two). */
  private readonly recvPcs: WrtcPeerConnection[] = [];
  private readonly receivers: AudioReceiver[] = [];
  private closedFlag = false;
  /** Producers this peer may hear right now: those present at join plus every later announcement. */
  private readonly audible = new Map<string, ProducerInfo>();

  private constructor(
    readonly signalling: SignallingClient,
    readonly joined: ResponseData['join'],
    private readonly connectTimeoutMs: number,
  ) {
    for (const p of joined.producers) this.audible.set(p.producerId, p);
    // Announcements can arrive while this peer is busy (e.g. during its own startSending): keep them.
    signalling.events.on('newProducer', (p) =>
      this.audible.set(p.producerId, { producerId: p.producerId, participantId: p.participantId, role: p.role, kind: p.kind }),
    );
    signalling.events.on('producerClosed', (p) => this.audible.delete(p.producerId));
  }

  /** Producers this peer may consume now. */
  producers(): ProducerInfo[] {
    return [...this.audible.values()];
  }

  /** Opens the signalling socket and joins the call. */
  static async join(options: PeerJoinOptions): Promise<WebRtcPeer> {
    const t0 = performance.now();
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    const signalling = await SignallingClient.connect(options.url, { timeoutMs });
    const t1 = performance.now();
    try {
      const joined = await signalling.request('join', {
        token: options.token,
        ...(options.callId === undefined ? {} : { callId: options.callId }),
      });
      const peer = new WebRtcPeer(signalling, joined, timeoutMs);
      peer.timings['wsOpenMs'] = t1 - t0;
      peer.timings['joinMs'] = performance.now() - t1;
      return peer;
    } catch (err) {
      signalling.close();
      throw err;
    }
  }

  get callId(): string {
    return this.joined.callId;
  }

  /** Creates the send transport and produces one audio track; resolves when ICE+DTLS are up. */
  async startSending(codec: ProbeCodec = 'opus'): Promise<string> {
    const wrtc = loadWrtc();
    const t0 = performance.now();
    const transport = await this.signalling.request('createTransport', { direction: 'send' });
    const pc = new wrtc.RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    this.sendPc = pc;
    this.source = new wrtc.nonstandard.RTCAudioSource();
    this.sendTrack = this.source.createTrack();
    pc.addTransceiver(this.sendTrack, { direction: 'sendonly' });
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const local = parseAudioSection(offer.sdp);
    const rtpParameters = producerRtpParameters(local, codec);
    await pc.setRemoteDescription({ type: 'answer', sdp: remoteAnswerForSend(local, rtpParameters, transport) });
    await this.signalling.request('connectTransport', { transportId: transport.transportId, dtlsParameters: localDtlsParameters(local) });
    const { producerId } = await this.signalling.request('produce', { transportId: transport.transportId, kind: 'audio', rtpParameters });
    await waitConnected(pc, this.connectTimeoutMs);
    this.timings['sendConnectMs'] = performance.now() - t0;
    return producerId;
  }

  /**
   * Plays mono 48 kHz samples as 10 ms frames on a wall clock (catching up after event-loop stalls,
   * never running ahead). Resolves when the last frame was pushed.
   */
  async play(samples: Int16Array, options: { signal?: AbortSignal } = {}): Promise<SendResult> {
    const source = this.source;
    if (source === undefined) throw evxError('EVX_ERR_WEBRTC_CLOSED', 'startSending() first');
    const totalFrames = Math.ceil(samples.length / FRAME_SAMPLES);
    const result: SendResult = { framesSent: 0, firstOnsetAtMs: undefined, maxClockLagMs: 0 };
    const start = performance.now();
    while (result.framesSent < totalFrames && !this.closedFlag && options.signal?.aborted !== true) {
      const due = Math.min(totalFrames, Math.floor((performance.now() - start) / FRAME_MS) + 1);
      const lag = performance.now() - (start + result.framesSent * FRAME_MS);
      if (lag > result.maxClockLagMs) result.maxClockLagMs = lag;
      while (result.framesSent < due) {
        const frame = new Int16Array(FRAME_SAMPLES);
        frame.set(samples.subarray(result.framesSent * FRAME_SAMPLES, (result.framesSent + 1) * FRAME_SAMPLES));
        source.onData({ samples: frame, sampleRate: SEND_RATE_HZ, bitsPerSample: 16, channelCount: 1, numberOfFrames: FRAME_SAMPLES });
        if (result.firstOnsetAtMs === undefined && rms(frame) >= ONSET_RMS) result.firstOnsetAtMs = Date.now();
        result.framesSent++;
      }
      const nextAt = start + result.framesSent * FRAME_MS;
      await new Promise((r) => setTimeout(r, Math.max(1, nextAt - performance.now())));
    }
    return result;
  }

  /** Consumes a producer on the (lazily created) receive transport and starts measuring it. */
  async receive(producerId: string): Promise<AudioReceiver> {
    const wrtc = loadWrtc();
    const t0 = performance.now();
    const transport = await this.signalling.request('createTransport', { direction: 'recv' });
    const consumed = await this.signalling.request('consume', {
      transportId: transport.transportId,
      producerId,
      rtpCapabilities: clientRtpCapabilities(this.joined.routerRtpCapabilities),
    });
    const pc = new wrtc.RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    this.recvPcs.push(pc);
    const track = new Promise<WrtcMediaStreamTrack>((resolve) => {
      pc.ontrack = (event) => resolve(event.track);
    });
    await pc.setRemoteDescription({
      type: 'offer',
      sdp: remoteOfferForConsumer(consumed.rtpParameters, transport, `evx-${consumed.consumerId.slice(0, 8)}`),
    });
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    await this.signalling.request('connectTransport', {
      transportId: transport.transportId,
      dtlsParameters: localDtlsParameters(parseAudioSection(answer.sdp)),
    });
    const receiver = new AudioReceiver(producerId, consumed.consumerId, new wrtc.nonstandard.RTCAudioSink(await track));
    this.receivers.push(receiver);
    await waitConnected(pc, this.connectTimeoutMs);
    this.timings['recvConnectMs'] = performance.now() - t0;
    return receiver;
  }

  /** Resolves with the first producer this peer may hear (already present or announced later). */
  waitForProducer(timeoutMs: number, filter: (p: ProducerInfo) => boolean = () => true): Promise<ProducerInfo> {
    const present = this.producers().find(filter);
    if (present !== undefined) return Promise.resolve(present);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(evxError('EVX_ERR_WEBRTC_NEGOTIATION', 'No producer was announced in time', { details: { timeoutMs } }));
      }, timeoutMs);
      const off = this.signalling.events.on('newProducer', (p) => {
        if (!filter(p)) return;
        clearTimeout(timer);
        off();
        resolve(p);
      });
    });
  }

  /** Outbound RTP figures from the send PeerConnection (packets sent, RTT from RTCP RR). */
  async sendStats(): Promise<{
    packetsSent: number;
    bytesSent: number;
    roundTripTimeMs: number | undefined;
    packetsLostReported: number | undefined;
  }> {
    const out = {
      packetsSent: 0,
      bytesSent: 0,
      roundTripTimeMs: undefined as number | undefined,
      packetsLostReported: undefined as number | undefined,
    };
    if (this.sendPc === undefined) return out;
    const report = await this.sendPc.getStats();
    report.forEach((s) => {
      if (s.type === 'outbound-rtp') {
        out.packetsSent += Number(s['packetsSent'] ?? 0);
        out.bytesSent += Number(s['bytesSent'] ?? 0);
      } else if (s.type === 'remote-inbound-rtp') {
        if (typeof s['roundTripTime'] === 'number') out.roundTripTimeMs = s['roundTripTime'] * 1000;
        if (typeof s['packetsLost'] === 'number') out.packetsLostReported = s['packetsLost'];
      }
    });
    return out;
  }

  /** Inbound RTP figures summed over the receive PeerConnections (jitter: the worst). */
  async receiveStats(): Promise<{ packetsReceived: number; packetsLost: number; jitterMs: number | undefined }> {
    const out = { packetsReceived: 0, packetsLost: 0, jitterMs: undefined as number | undefined };
    for (const pc of this.recvPcs) {
      const report = await pc.getStats();
      report.forEach((s) => {
        if (s.type === 'inbound-rtp') {
          out.packetsReceived += Number(s['packetsReceived'] ?? 0);
          out.packetsLost += Number(s['packetsLost'] ?? 0);
          if (typeof s['jitter'] === 'number') out.jitterMs = Math.max(out.jitterMs ?? 0, s['jitter'] * 1000);
        }
      });
    }
    return out;
  }

  /** Sends hangup (best effort) and releases everything. Idempotent. */
  async hangup(): Promise<void> {
    if (this.closedFlag) return;
    if (!this.signalling.closed) {
      try {
        await this.signalling.request('hangup', {});
      } catch {
        // the call may already have ended; closing below is what matters
      }
    }
    this.close();
  }

  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const r of this.receivers.splice(0)) r.stop();
    this.sendTrack?.stop();
    this.sendPc?.close();
    for (const pc of this.recvPcs.splice(0)) pc.close();
    this.signalling.close();
  }
}
