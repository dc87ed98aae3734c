/**
 * The ACD bench's callers (acdBenchPeers.ts runs them): INVITE the box, speak, then send tagged
 * marker tones and keep each marker's send time; an agent's phone reports the arrivals back.
 */
import type dgram from 'node:dgram';
import { mediaAddress, parseSdp } from '../../appliance/sdp/sdp.js';
import type { SipRequest, SipResponse } from '../../appliance/sip/message.js';
import { buildResponse, randomToken, serializeSipMessage, tagOf } from '../../appliance/sip/serialize.js';
import {
  bridgeTimeoutMs,
  CALLER_SPREAD_FRAMES,
  callerClip,
  calls,
  count,
  FRAME_BYTES,
  holdMs,
  HOST,
  MARKER_FRAMES,
  markerEveryFrames,
  openRtp,
  pcmuSdp,
  report,
  requestBytes,
  RtpStream,
  serverPort,
  SipSocket,
  speechFrames,
  streams,
  TONE_FRAME,
  via,
} from './acdPeersShared.js';

export function markerFrame(caller: number, marker: number): Buffer {
  const f = Buffer.from(TONE_FRAME);
  f[0] = 0x5a;
  f[1] = 0xa5;
  f.writeUInt16BE(caller, 2);
  f.writeUInt16BE(marker, 4);
  f[6] = 0xc3;
  f[7] = (f[0] ^ f[1] ^ f[2]! ^ f[3]! ^ f[4]! ^ f[5]! ^ f[6]) & 0xff;
  return f;
}

// --- the callers ---------------------------------------------------------------------------------

export class Caller {
  readonly callId = `acd-bench-${randomToken(8)}@${HOST}`;
  private readonly fromTag = randomToken(4);
  private toTag: string | undefined;
  private okAck: Buffer | undefined;
  private rtp: dgram.Socket | undefined;
  private stream: RtpStream | undefined;
  answeredAt = 0;
  /** Send time of each marker's tagged frame, by marker number; the ones an agent received. */
  readonly markerSentAt: number[] = [];
  private readonly markerReceived = new Set<number>();
  /** Marker number of the first marker an agent received (bridged from then on); -1 before. */
  firstBridgedMarker = -1;
  private ended: () => void = () => {};
  private readonly clipOffset: number;

  constructor(
    readonly index: number,
    private readonly sip: SipSocket,
  ) {
    this.clipOffset = Math.floor((index * CALLER_SPREAD_FRAMES) / Math.max(1, calls));
  }

  private uri(): string {
    return `sip:edgevox@${HOST}:${serverPort}`;
  }

  private headers(cseq: number, method: string): string[] {
    return [
      via(this.sip.port),
      `From: "ACD bench ${this.index}" <sip:+1555${String(this.index).padStart(7, '0')}@${HOST}>;tag=${this.fromTag}`,
      `To: <${this.uri()}>${this.toTag === undefined ? '' : `;tag=${this.toTag}`}`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${cseq} ${method}`,
      `Contact: <sip:caller${this.index}@${HOST}:${this.sip.port}>`,
    ];
  }

  async run(): Promise<void> {
    report.callers.attempted++;
    try {
      this.rtp = await openRtp(() => undefined);
      const rtpPort = this.rtp.address().port;
      const ok = await this.sip.request(
        requestBytes('INVITE', this.uri(), this.headers(1, 'INVITE'), pcmuSdp(rtpPort, this.index + 1, 101)),
        this.callId,
        1,
        'INVITE',
        60_000,
      );
      if (ok.status !== 200) throw new Error(`INVITE ${ok.status}`);
      this.toTag = tagOf(ok.headers.get('to'));
      const sdp = parseSdp(ok.body);
      const m = sdp.media[0];
      if (m === undefined || m.port === 0) throw new Error('answer without audio');
      this.okAck = requestBytes('ACK', this.uri(), this.headers(1, 'ACK'));
      this.sip.send(this.okAck);
      report.callers.answeredByBox++;
      this.answeredAt = performance.now();
      const stream = new RtpStream(
        this.rtp,
        m.port,
        mediaAddress(sdp, m) ?? HOST,
        (i) => this.frame(i),
        (i, at) => {
          const k = i - speechFrames;
          if (k >= 0 && k % markerEveryFrames === 0) this.markerSentAt[k / markerEveryFrames] = at;
        },
      );
      this.stream = stream;
      streams.add(stream);
      const outcome = await new Promise<'hold-done' | 'not-bridged' | 'box-bye'>((resolve) => {
        this.ended = () => resolve('box-bye');
        const notBridged = setTimeout(() => resolve('not-bridged'), bridgeTimeoutMs);
        this.onBridged = () => {
          clearTimeout(notBridged);
          setTimeout(() => resolve('hold-done'), holdMs);
        };
      });
      streams.delete(stream);
      this.countBridgedMarkers();
      if (outcome === 'box-bye') {
        report.callers.endedByBox++;
        throw new Error(this.firstBridgedMarker >= 0 ? 'the box hung up while bridged' : 'the box hung up before the call was bridged');
      }
      const bye = await this.sip.request(requestBytes('BYE', this.uri(), this.headers(2, 'BYE')), this.callId, 2, 'BYE');
      if (bye.status !== 200) throw new Error(`BYE ${bye.status}`);
      report.callers.completedBye++;
      if (outcome === 'not-bridged') throw new Error('not bridged in time');
    } catch (err) {
      report.callers.failed++;
      count(report.callers.failures, (err as Error).message);
    } finally {
      if (this.stream !== undefined) streams.delete(this.stream);
      this.rtp?.close();
      callersById.delete(this.callId);
    }
  }

  /** Set by `run` while waiting for the first marker to reach an agent. */
  onBridged: () => void = () => {};

  /** An agent received marker `marker` of this caller. */
  markerArrived(marker: number, atMs: number): number | undefined {
    const sentAt = this.markerSentAt[marker];
    if (sentAt === undefined) return undefined;
    this.markerReceived.add(marker);
    if (this.firstBridgedMarker < 0) {
      this.firstBridgedMarker = marker;
      report.callers.bridged++;
      this.onBridged();
    }
    return atMs - sentAt;
  }

  /** Markers sent while bridged: from the first one that arrived to those sent 200 ms before the end. */
  private countBridgedMarkers(): void {
    if (this.firstBridgedMarker < 0) return;
    const cutoff = performance.now() - 200;
    for (let k = this.firstBridgedMarker; k < this.markerSentAt.length; k++) {
      const at = this.markerSentAt[k];
      if (at === undefined || at > cutoff) continue;
      report.markers.sentBridged++;
      if (this.markerReceived.has(k)) report.markers.receivedBridged++;
    }
  }

  private frame(i: number): Buffer {
    const k = i - speechFrames;
    if (k >= 0) {
      const inMarker = k % markerEveryFrames;
      if (inMarker === 0) return markerFrame(this.index, k / markerEveryFrames);
      if (inMarker < MARKER_FRAMES) return TONE_FRAME;
    }
    const f = ((i + this.clipOffset) % (callerClip.length / FRAME_BYTES)) * FRAME_BYTES;
    return callerClip.subarray(f, f + FRAME_BYTES);
  }

  onRequest(req: SipRequest): void {
    if (req.method === 'ACK') return;
    this.sip.send(serializeSipMessage(buildResponse(req, 200, { toTag: this.fromTag })));
    if (req.method === 'BYE') this.ended();
  }

  onStray(res: SipResponse): void {
    if (res.status === 200 && this.okAck !== undefined && (res.headers.get('cseq') ?? '').includes('INVITE')) this.sip.send(this.okAck);
  }
}

export const callersById = new Map<string, Caller>();
export const callerByIndex: Caller[] = [];
