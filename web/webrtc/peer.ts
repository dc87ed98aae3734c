/**
 * Browser side of the signalling protocol and the SDP bridge: the same model as the node-webrtc peer
 * (tools/webrtc/client/peer.ts) on the browser's own WebSocket and RTCPeerConnection. One
 * PeerConnection per direction; mediasoup is the ICE-lite DTLS server.
 */
import {
  clientRtpCapabilities,
  localDtlsParameters,
  parseAudioSection,
  producerRtpParameters,
  remoteAnswerForSend,
  remoteOfferForConsumer,
  type ProbeCodec,
} from '../../appliance/webrtc/sdpBridge.js';
import type { CallEventForAgent, ClientRequestType, ProducerInfo, ResponseData, ServerMessage } from '../../appliance/webrtc/protocol.js';

type Pending = { resolve: (d: unknown) => void; reject: (e: Error) => void };

/** Request/response over the signalling WebSocket, notifications as callbacks. */
export class Signalling {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  onNotification: (m: ServerMessage) => void = () => {};
  onClose: () => void = () => {};

  private constructor(private readonly ws: WebSocket) {
    ws.onmessage = (e) => this.onMessage(String(e.data));
    ws.onclose = () => {
      for (const p of this.pending.values()) p.reject(new Error('signalling closed'));
      this.pending.clear();
      this.onClose();
    };
  }

  static open(url: string): Promise<Signalling> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.onopen = () => resolve(new Signalling(ws));
      ws.onerror = () => reject(new Error('signalling connection failed'));
    });
  }

  request<T extends ClientRequestType>(type: T, body: Record<string, unknown>): Promise<ResponseData[T]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (d: unknown) => void, reject });
      this.ws.send(JSON.stringify({ ...body, type, id }));
    });
  }

  close(): void {
    this.ws.close(1000, 'client close');
  }

  private onMessage(text: string): void {
    const m = JSON.parse(text) as ServerMessage;
    if (m.type !== 'response') return this.onNotification(m);
    if (m.id === null) return;
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    this.pending.delete(m.id);
    if (m.ok) p.resolve(m.data);
    else p.reject(new Error(`${m.error.code}: ${m.error.message}`));
  }
}

export interface PeerEvents {
  producer?: (p: ProducerInfo) => void;
  producerClosed?: (producerId: string) => void;
  callEvent?: (e: CallEventForAgent) => void;
  ended?: (reason: string) => void;
}

export function signallingUrl(path = '/api/v1/webrtc/signal'): string {
  const u = new URL(path, location.href);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.toString();
}

/** One participant of a call. */
export class BrowserPeer {
  private sendPc: RTCPeerConnection | undefined;
  /** One receive transport + PeerConnection per heard producer (a supervisor hears two). */
  private readonly recvPcs: RTCPeerConnection[] = [];
  private closed = false;
  readonly producers = new Map<string, ProducerInfo>();

  private constructor(
    private readonly sig: Signalling,
    readonly joined: ResponseData['join'],
    private readonly events: PeerEvents,
  ) {
    for (const p of joined.producers) this.producers.set(p.producerId, p);
    sig.onNotification = (m) => {
      if (m.type === 'newProducer') {
        const p = { producerId: m.producerId, participantId: m.participantId, role: m.role, kind: m.kind };
        this.producers.set(p.producerId, p);
        events.producer?.(p);
      } else if (m.type === 'producerClosed') {
        this.producers.delete(m.producerId);
        events.producerClosed?.(m.producerId);
      } else if (m.type === 'callEvent') events.callEvent?.(m.event);
      else if (m.type === 'callEnded') this.finish(m.reason);
    };
    sig.onClose = () => this.finish('disconnected');
  }

  static async join(token: string, callId: string | undefined, events: PeerEvents): Promise<BrowserPeer> {
    const sig = await Signalling.open(signallingUrl());
    try {
      const joined = await sig.request('join', callId === undefined ? { token } : { token, callId });
      return new BrowserPeer(sig, joined, events);
    } catch (err) {
      sig.close();
      throw err;
    }
  }

  get callId(): string {
    return this.joined.callId;
  }

  /** Sends a microphone track; resolves with the producer id once ICE+DTLS are up. */
  async send(track: MediaStreamTrack, codec: ProbeCodec = 'opus'): Promise<string> {
    const t = await this.sig.request('createTransport', { direction: 'send' });
    const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    this.sendPc = pc;
    pc.addTransceiver(track, { direction: 'sendonly', streams: [new MediaStream([track])] });
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const local = parseAudioSection(offer.sdp ?? '');
    const rtpParameters = producerRtpParameters(local, codec);
    await pc.setRemoteDescription({ type: 'answer', sdp: remoteAnswerForSend(local, rtpParameters, t) });
    await this.sig.request('connectTransport', { transportId: t.transportId, dtlsParameters: localDtlsParameters(local) });
    const { producerId } = await this.sig.request('produce', { transportId: t.transportId, kind: 'audio', rtpParameters });
    await connected(pc);
    return producerId;
  }

  /** Receives a producer; resolves with a stream to play. */
  async receive(producerId: string): Promise<MediaStream> {
    const t = await this.sig.request('createTransport', { direction: 'recv' });
    const c = await this.sig.request('consume', {
      transportId: t.transportId,
      producerId,
      rtpCapabilities: clientRtpCapabilities(this.joined.routerRtpCapabilities),
    });
    const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    this.recvPcs.push(pc);
    const stream = new Promise<MediaStream>((resolve) => {
      pc.ontrack = (e) => resolve(e.streams[0] ?? new MediaStream([e.track]));
    });
    await pc.setRemoteDescription({ type: 'offer', sdp: remoteOfferForConsumer(c.rtpParameters, t, `evx-${c.consumerId.slice(0, 8)}`) });
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    await this.sig.request('connectTransport', {
      transportId: t.transportId,
      dtlsParameters: localDtlsParameters(parseAudioSection(answer.sdp ?? '')),
    });
    const s = await stream;
    await connected(pc);
    return s;
  }

  /** The agent's (or supervisor's) verdict on a card pushed on this call; resolves with the stored one. */
  async cardFeedback(cardId: string, useful: boolean): Promise<ResponseData['cardFeedback']> {
    return this.sig.request('cardFeedback', { cardId, useful });
  }

  /** Inbound audio level figures of the receive side (for the page and tests). */
  async inboundStats(): Promise<{ packetsReceived: number; audioLevel: number; totalAudioEnergy: number }> {
    const out = { packetsReceived: 0, audioLevel: 0, totalAudioEnergy: 0 };
    for (const pc of this.recvPcs) {
      const report = await pc.getStats();
      report.forEach((s: Record<string, unknown>) => {
        if (s['type'] === 'inbound-rtp') {
          out.packetsReceived += Number(s['packetsReceived'] ?? 0);
          out.audioLevel = Math.max(out.audioLevel, Number(s['audioLevel'] ?? 0));
          out.totalAudioEnergy += Number(s['totalAudioEnergy'] ?? 0);
        }
      });
    }
    return out;
  }

  async hangup(): Promise<void> {
    if (this.closed) return;
    try {
      await this.sig.request('hangup', {});
    } catch {
      // already ended
    }
    this.finish('hangup');
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.sendPc?.close();
    for (const pc of this.recvPcs.splice(0)) pc.close();
    this.sig.close();
    this.events.ended?.(reason);
  }
}

function connected(pc: RTCPeerConnection, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('ICE/DTLS did not connect in time')), timeoutMs);
    const check = () => {
      if (pc.connectionState === 'connected') {
        clearTimeout(timer);
        resolve();
      } else if (pc.connectionState === 'failed' || pc.connectionState === 'closed') {
        clearTimeout(timer);
        reject(new Error(`connection ${pc.connectionState}`));
      }
    };
    pc.onconnectionstatechange = check;
    check();
  });
}
