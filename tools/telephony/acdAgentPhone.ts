/**
 * The ACD bench's agents' desk phones (acdBenchPeers.ts runs them): each REGISTERs with digest,
 * answers the box's INVITEs, talks its own clip and detects the callers' markers on arrival.
 */
import type dgram from 'node:dgram';
import { MULAW_DECODE_TABLE } from '../../appliance/codecs/g711.js';
import { parseRtp } from '../../appliance/rtp/packet.js';
import { mediaAddress, parseSdp, rtpMaps } from '../../appliance/sdp/sdp.js';
import { answerChallenge } from '../../appliance/sip/auth.js';
import type { SipRequest } from '../../appliance/sip/message.js';
import { buildResponse, randomToken, serializeSipMessage, tagOf } from '../../appliance/sip/serialize.js';
import {
  AGENT_SPREAD_FRAMES,
  agentClip,
  agentCount,
  agentPrefix,
  answerToInvite,
  FRAME_BYTES,
  HOST,
  markerDelays,
  openRtp,
  passwordPrefix,
  pcmuSdp,
  report,
  requestBytes,
  RtpStream,
  serverPort,
  SipSocket,
  streams,
  T1_MS,
  T2_MS,
  TRANSACTION_TIMEOUT_MS,
  via,
} from './acdPeersShared.js';
import { callerByIndex, markerFrame } from './acdCaller.js';

/** The tag takes the first bytes of a marker's first frame. */
const TAG_BYTES = 8;

function readTag(p: Uint8Array): { caller: number; marker: number } | undefined {
  if (p.length !== FRAME_BYTES || p[0] !== 0x5a || p[1] !== 0xa5 || p[6] !== 0xc3) return undefined;
  if (((p[0] ^ p[1] ^ p[2]! ^ p[3]! ^ p[4]! ^ p[5]! ^ p[6]) & 0xff) !== p[7]) return undefined;
  return { caller: (p[2]! << 8) | p[3]!, marker: (p[4]! << 8) | p[5]! };
}

/** Share of the frame's energy at 1 kHz (Goertzel over the untagged samples, 18 whole periods): ~1 for the tone, small for speech. */
function toneShare(p: Uint8Array): number {
  const coeff = 2 * Math.cos((2 * Math.PI * 1000) / 8000);
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  const from = TAG_BYTES;
  const to = TAG_BYTES + 144;
  for (let i = from; i < to; i++) {
    const x = MULAW_DECODE_TABLE[p[i]!]!;
    energy += x * x;
    const s = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return energy === 0 ? 0 : (2 * power) / ((to - from) * energy);
}

// --- the agents' phones --------------------------------------------------------------------------

export interface AgentCall {
  readonly callId: string;
  readonly toTag: string;
  readonly inviteAt: number;
  /** Set once the RTP socket is open and the 200 went out. */
  rtp?: dgram.Socket;
  ok?: Buffer;
  okResendAt: number;
  okIntervalMs: number;
  okDeadline: number;
  acked: boolean;
  stream?: RtpStream;
  /** The caller whose markers arrive here (known from the first tag). */
  caller?: number;
}

export class AgentPhone {
  readonly user: string;
  private readonly password: string;
  private readonly regCallId = `reg-${randomToken(8)}@${HOST}`;
  private readonly regTag = randomToken(4);
  private regCseq = 0;
  private call: AgentCall | undefined;
  private readonly clipOffset: number;

  constructor(
    readonly index: number,
    private readonly sip: SipSocket,
  ) {
    this.user = `${agentPrefix}${index + 1}`;
    this.password = `${passwordPrefix}${index + 1}`;
    this.clipOffset = Math.floor((index * AGENT_SPREAD_FRAMES) / Math.max(1, agentCount));
    sip.onRequest = (req) => this.onRequest(req);
  }

  private contact(): string {
    return `sip:${this.user}@${HOST}:${this.sip.port}`;
  }

  /** REGISTER for `expiresSec` (0: remove), answering the digest challenge; true when granted. */
  async register(expiresSec: number): Promise<boolean> {
    const uri = `sip:${HOST}:${serverPort}`;
    const build = (authorization: string | undefined): { bytes: Buffer; cseq: number } => {
      const cseq = ++this.regCseq;
      const headers = [
        via(this.sip.port),
        `From: <sip:${this.user}@${HOST}>;tag=${this.regTag}`,
        `To: <sip:${this.user}@${HOST}>`,
        `Call-ID: ${this.regCallId}`,
        `CSeq: ${cseq} REGISTER`,
        `Contact: <${this.contact()}>;expires=${expiresSec}`,
        `Expires: ${expiresSec}`,
        ...(authorization === undefined ? [] : [`Authorization: ${authorization}`]),
      ];
      return { bytes: requestBytes('REGISTER', uri, headers), cseq };
    };
    let authorization: string | undefined;
    for (let round = 0; round < 3; round++) {
      const { bytes, cseq } = build(authorization);
      const res = await this.sip.request(bytes, this.regCallId, cseq, 'REGISTER');
      if (res.status === 200) return true;
      if (res.status !== 401 || authorization !== undefined) throw new Error(`REGISTER ${res.status}`);
      authorization = answerChallenge(res.headers.getAll('www-authenticate'), {
        method: 'REGISTER',
        uri,
        username: this.user,
        password: this.password,
        nc: 1,
        cnonce: randomToken(8),
      });
    }
    throw new Error('REGISTER: too many challenges');
  }

  private respond(req: SipRequest, status: number, toTag: string, body?: string): Buffer {
    const bytes = serializeSipMessage(
      buildResponse(req, status, {
        toTag,
        headers: { contact: `<${this.contact()}>` },
        ...(body === undefined ? {} : { body: Buffer.from(body, 'latin1') }),
      }),
    );
    this.sip.send(bytes);
    return bytes;
  }

  private onRequest(req: SipRequest): void {
    const callId = req.headers.get('call-id') ?? '';
    const c = this.call;
    const inDialog = tagOf(req.headers.get('to')) !== undefined;
    switch (req.method) {
      case 'INVITE':
        if (!inDialog) return void this.onInvite(req, callId);
        // a re-INVITE (session refresh): the same answer again
        if (c?.rtp !== undefined && c.callId === callId)
          this.respond(req, 200, c.toTag, pcmuSdp(c.rtp.address().port, this.index + 1000, 101));
        else this.respond(req, 481, randomToken(4));
        return;
      case 'ACK':
        if (c !== undefined && c.callId === callId && !c.acked) {
          c.acked = true;
          report.agents.acked++;
        }
        return;
      case 'BYE':
        if (c !== undefined && c.callId === callId) {
          this.respond(req, 200, c.toTag);
          report.agents.byeFromBox++;
          this.hangUp();
        } else this.respond(req, 481, randomToken(4));
        return;
      case 'CANCEL':
        this.respond(req, c !== undefined && c.callId === callId ? 200 : 481, randomToken(4));
        return;
      default:
        this.respond(req, 200, c?.toTag ?? randomToken(4));
    }
  }

  private onInvite(req: SipRequest, callId: string): void {
    const c = this.call;
    if (c !== undefined) {
      // a retransmission of the INVITE we answered: the same 200 again; another call: busy
      if (c.callId === callId && c.ok !== undefined) this.sip.send(c.ok);
      else {
        report.agents.busyRefused++;
        this.respond(req, 486, randomToken(4));
      }
      return;
    }
    report.agents.invites++;
    const toTag = randomToken(4);
    // the phone is taken before its RTP socket is open: a second INVITE meanwhile is busy
    const call: AgentCall = { callId, toTag, inviteAt: performance.now(), okResendAt: 0, okIntervalMs: T1_MS, okDeadline: 0, acked: false };
    this.call = call;
    this.respond(req, 180, toTag);
    void openRtp((msg, at) => this.onRtp(msg, at)).then((rtp) => {
      if (this.call !== call) {
        rtp.close();
        return;
      }
      let offer: { address: string; port: number; tePt: number | undefined };
      try {
        const sdp = parseSdp(req.body);
        const m = sdp.media.find((x) => x.type === 'audio' && x.port > 0);
        const maps = m === undefined ? [] : rtpMaps(m);
        if (m === undefined || !maps.some((r) => r.payloadType === 0)) throw new Error('no PCMU offered');
        offer = {
          address: mediaAddress(sdp, m) ?? HOST,
          port: m.port,
          tePt: maps.find((r) => r.encoding === 'TELEPHONE-EVENT')?.payloadType,
        };
      } catch {
        rtp.close();
        this.call = undefined;
        this.respond(req, 488, toTag);
        return;
      }
      const now = performance.now();
      call.rtp = rtp;
      call.okResendAt = now + T1_MS;
      call.okDeadline = now + TRANSACTION_TIMEOUT_MS;
      call.ok = this.respond(req, 200, toTag, pcmuSdp(rtp.address().port, this.index + 1000, offer.tePt));
      report.agents.answered++;
      call.stream = new RtpStream(rtp, offer.port, offer.address, (i) => {
        const f = ((i + this.clipOffset) % (agentClip.length / FRAME_BYTES)) * FRAME_BYTES;
        return agentClip.subarray(f, f + FRAME_BYTES);
      });
      streams.add(call.stream);
    });
  }

  /** Our 200 to the box's INVITE is retransmitted until the ACK (§13.3.1.4). */
  tick(now: number): void {
    const c = this.call;
    if (c?.ok === undefined || c.acked || now < c.okResendAt || now >= c.okDeadline) return;
    this.sip.send(c.ok);
    c.okIntervalMs = Math.min(T2_MS, c.okIntervalMs * 2);
    c.okResendAt = now + c.okIntervalMs;
  }

  private onRtp(msg: Buffer, atMs: number): void {
    report.agents.rtpPacketsReceived++;
    const p = parseRtp(msg);
    if (typeof p === 'string' || p.payloadType !== 0) return;
    const tag = readTag(p.payload);
    if (tag === undefined) return;
    const caller = callerByIndex[tag.caller];
    const delay = caller?.markerArrived(tag.marker, atMs);
    if (delay === undefined) return;
    const c = this.call;
    if (c !== undefined && c.caller === undefined) {
      c.caller = tag.caller;
      if (caller !== undefined && caller.answeredAt > 0) answerToInvite.push(c.inviteAt - caller.answeredAt);
    }
    markerDelays.push(delay);
    report.markers.detected++;
    if (toneShare(p.payload) > 0.5) report.markers.toneConfirmed++;
    if (Buffer.compare(Buffer.from(p.payload), markerFrame(tag.caller, tag.marker)) === 0) report.markers.payloadExact++;
  }

  private hangUp(): void {
    const c = this.call;
    this.call = undefined;
    if (c === undefined) return;
    if (c.stream !== undefined) streams.delete(c.stream);
    c.rtp?.close();
  }

  close(): void {
    this.hangUp();
  }
}
