/**
 * What the ACD bench's peers (acdBenchPeers.ts) share: the run's options (parsed from argv when this
 * module loads), the clips, the report and its figures, SIP over one UDP socket with retransmission
 * on the shared clock, and the PCMU streams that clock paces.
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { mulawEncodeSample } from '../../appliance/codecs/g711.js';
import { writeRtp } from '../../appliance/rtp/packet.js';
import type { SipMessage, SipRequest, SipResponse } from '../../appliance/sip/message.js';
import { DEFAULT_SIP_LIMITS, parseSipMessage } from '../../appliance/sip/parser.js';
import { randomToken } from '../../appliance/sip/serialize.js';
import type { AcdPeersReport, TimeSummary } from './acdPeersProcess.js';
import { arg } from './benchArgs.js';

export const HOST = '127.0.0.1';
export const FRAME_MS = 20;
export const FRAME_BYTES = 160;
export const TICK_MS = 10;
export const T1_MS = 500;
export const T2_MS = 4000;
/** RFC 3261 Timer B / F. */
export const TRANSACTION_TIMEOUT_MS = 32_000;
/** Marker: 100 ms of 1 kHz; its first frame is tagged. */
export const MARKER_FRAMES = 5;
export const TONE_AMPLITUDE = 10_000;

export const serverPort = Number(arg('server-port'));
export const calls = Number(arg('calls'));
export const agentCount = Number(arg('agents'));
export const agentPrefix = arg('agent-prefix', 'agent-');
export const passwordPrefix = arg('password-prefix');
export const holdMs = Number(arg('hold-seconds')) * 1000;
export const speechFrames = Math.round((Number(arg('speech-seconds', '6')) * 1000) / FRAME_MS);
export const bridgeTimeoutMs = Number(arg('bridge-timeout-seconds', '60')) * 1000;
export const markerEveryFrames = Math.max(MARKER_FRAMES + 1, Math.round(Number(arg('marker-interval-ms', '1000')) / FRAME_MS));
export const rate = Math.max(1, Number(arg('rate', '20')));

function readClip(file: string): Buffer {
  const raw = readFileSync(file);
  const clip = raw.subarray(0, raw.length - (raw.length % FRAME_BYTES));
  if (clip.length === 0) throw new Error(`${file}: shorter than one 20 ms frame`);
  return clip;
}
export const callerClip = readClip(arg('caller-clip'));
export const agentClip = readClip(arg('agent-clip'));
/**
 * Callers start their clip at different points within its first 2 s (inside the opening utterance
 * that routes the call), agents within the first 8 s of theirs: different words, not in lockstep.
 */
export const CALLER_SPREAD_FRAMES = Math.round(2000 / FRAME_MS);
export const AGENT_SPREAD_FRAMES = Math.round(8000 / FRAME_MS);

export const T0 = performance.now();
export const log = (line: string): void => void process.stderr.write(`peers: ${line}\n`);

// --- the marker ----------------------------------------------------------------------------------

/** One 20 ms frame of 1 kHz at 8 kHz: exactly 20 periods, so every frame of the tone is the same bytes. */
export const TONE_FRAME = Buffer.from(
  Array.from({ length: FRAME_BYTES }, (_, n) => mulawEncodeSample(Math.round(TONE_AMPLITUDE * Math.sin((2 * Math.PI * n) / 8)))),
);

// --- figures -------------------------------------------------------------------------------------

export function summary(values: readonly number[]): TimeSummary {
  if (values.length === 0) return { n: 0, p50Ms: null, p95Ms: null, maxMs: null };
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number): number => Math.round(s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]! * 100) / 100;
  return { n: s.length, p50Ms: q(0.5), p95Ms: q(0.95), maxMs: Math.round(s[s.length - 1]! * 100) / 100 };
}

export const report: AcdPeersReport = {
  agents: {
    registered: 0,
    registerFailures: {},
    invites: 0,
    answered: 0,
    acked: 0,
    busyRefused: 0,
    byeFromBox: 0,
    unregistered: 0,
    rtpPacketsReceived: 0,
  },
  callers: { attempted: 0, answeredByBox: 0, bridged: 0, completedBye: 0, endedByBox: 0, failed: 0, failures: {} },
  answerToAgentInvite: summary([]),
  markerDelay: summary([]),
  loopbackDelay: summary([]),
  markers: { sentBridged: 0, receivedBridged: 0, detected: 0, toneConfirmed: 0, payloadExact: 0 },
  lateFrames: 0,
  maxSendLateMs: 0,
  lateSamples: [],
  peersCpuPctOfOneCore: 0,
};
export const count = (m: Record<string, number>, why: string): void => {
  const k = why.replace(/[0-9]+/g, 'N');
  m[k] = (m[k] ?? 0) + 1;
};
export const markerDelays: number[] = [];
export const loopbackDelays: number[] = [];
export const answerToInvite: number[] = [];

// --- SIP over one UDP socket, with retransmission on the shared clock ---------------------------

interface Pending {
  readonly bytes: Buffer;
  readonly invite: boolean;
  readonly resolve: (r: SipResponse) => void;
  readonly reject: (e: Error) => void;
  intervalMs: number;
  resendAt: number;
  deadline: number;
  provisional: boolean;
}

export class SipSocket {
  readonly pending = new Map<string, Pending>();
  port = 0;
  onRequest: (req: SipRequest) => void = () => {};
  /** A final response no transaction waits for (a retransmitted 200 to an INVITE: ACK it again). */
  onStray: (res: SipResponse) => void = () => {};

  private constructor(private readonly socket: dgram.Socket) {
    socket.on('message', (b: Buffer) => {
      const r = parseSipMessage(b, DEFAULT_SIP_LIMITS, true);
      if (r.ok) this.onMessage(r.message);
    });
    socket.on('error', () => {});
  }

  static async open(): Promise<SipSocket> {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(0, HOST, () => resolve()));
    const sip = new SipSocket(s);
    sip.port = s.address().port;
    return sip;
  }

  send(bytes: Buffer): void {
    this.socket.send(bytes, serverPort, HOST);
  }

  /** Send a request; resolves with its final response (retransmitted at T1 doubling to T2 until a response). */
  request(bytes: Buffer, callId: string, cseq: number, method: string, timeoutMs = TRANSACTION_TIMEOUT_MS): Promise<SipResponse> {
    const key = `${callId}|${cseq}|${method}`;
    return new Promise<SipResponse>((resolve, reject) => {
      const now = performance.now();
      this.pending.set(key, {
        bytes,
        invite: method === 'INVITE',
        resolve,
        reject,
        intervalMs: T1_MS,
        resendAt: now + T1_MS,
        deadline: now + timeoutMs,
        provisional: false,
      });
      this.send(bytes);
    });
  }

  tick(now: number): void {
    for (const [key, p] of this.pending) {
      if (now >= p.deadline) {
        this.pending.delete(key);
        p.reject(new Error(`${key.split('|')[2]} timeout`));
        continue;
      }
      // an INVITE stops being retransmitted once a provisional came (§17.1.1.2)
      if (p.provisional || now < p.resendAt) continue;
      this.send(p.bytes);
      p.intervalMs = p.invite ? p.intervalMs * 2 : Math.min(T2_MS, p.intervalMs * 2);
      p.resendAt = now + p.intervalMs;
    }
  }

  close(): void {
    for (const p of this.pending.values()) p.reject(new Error('closed'));
    this.pending.clear();
    this.socket.close();
  }

  private onMessage(m: SipMessage): void {
    if (m.kind === 'request') return this.onRequest(m);
    const [n, method] = (m.headers.get('cseq') ?? '').trim().split(/\s+/);
    const key = `${m.headers.get('call-id') ?? ''}|${Number(n)}|${method ?? ''}`;
    const p = this.pending.get(key);
    if (p === undefined) {
      if (m.status >= 200) this.onStray(m);
      return;
    }
    if (m.status < 200) {
      p.provisional = true;
      return;
    }
    this.pending.delete(key);
    p.resolve(m);
  }
}

export function requestBytes(method: string, uri: string, headers: readonly string[], body = ''): Buffer {
  const lines = [
    `${method} ${uri} SIP/2.0`,
    ...headers,
    'Max-Forwards: 70',
    'User-Agent: EdgeVox acdBenchPeers',
    ...(body.length > 0 ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body, 'latin1');
}

export const via = (port: number): string => `Via: SIP/2.0/UDP ${HOST}:${port};branch=z9hG4bK-${randomToken(6)};rport`;

export function pcmuSdp(rtpPort: number, session: number, telephoneEventPt: number | undefined): string {
  return [
    'v=0',
    `o=bench ${session} 1 IN IP4 ${HOST}`,
    's=-',
    `c=IN IP4 ${HOST}`,
    't=0 0',
    `m=audio ${rtpPort} RTP/AVP 0${telephoneEventPt === undefined ? '' : ` ${telephoneEventPt}`}`,
    'a=rtpmap:0 PCMU/8000',
    ...(telephoneEventPt === undefined ? [] : [`a=rtpmap:${telephoneEventPt} telephone-event/8000`, `a=fmtp:${telephoneEventPt} 0-15`]),
    'a=ptime:20',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

// --- RTP streams paced by the shared clock --------------------------------------------------------

/** One outgoing PCMU stream: `frame(i)` gives the i-th 20 ms payload; `onSent` sees each send time. */
export class RtpStream {
  private readonly ssrc = (Math.random() * 0x100000000) >>> 0;
  private readonly seq0 = Math.floor(Math.random() * 0x8000);
  private readonly ts0 = (Math.random() * 0x100000000) >>> 0;
  private nextAtMs = performance.now();
  sent = 0;

  constructor(
    private readonly socket: dgram.Socket,
    private readonly port: number,
    private readonly address: string,
    private readonly frame: (i: number) => Buffer,
    private readonly onSent: (i: number, atMs: number) => void = () => {},
  ) {}

  pace(now: number): void {
    while (now >= this.nextAtMs) {
      const late = now - this.nextAtMs;
      if (late > report.maxSendLateMs) report.maxSendLateMs = late;
      if (late > 5 * FRAME_MS) {
        report.lateFrames++;
        if (report.lateSamples.length < 10) report.lateSamples.push({ atS: Math.round((now - T0) / 100) / 10, lateMs: Math.round(late) });
      }
      const payload = this.frame(this.sent);
      // a fresh buffer per packet: dgram holds it until the datagram has left
      const packet = Buffer.allocUnsafe(12 + payload.length);
      writeRtp(
        packet,
        {
          marker: this.sent === 0,
          payloadType: 0,
          sequence: (this.seq0 + this.sent) & 0xffff,
          timestamp: (this.ts0 + this.sent * FRAME_BYTES) >>> 0,
          ssrc: this.ssrc,
        },
        payload,
      );
      this.socket.send(packet, this.port, this.address);
      this.onSent(this.sent, performance.now());
      this.sent++;
      this.nextAtMs += FRAME_MS;
    }
  }
}

export const streams = new Set<RtpStream>();
export const sipSockets = new Set<SipSocket>();

export async function openRtp(onPacket: (msg: Buffer, atMs: number) => void): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  s.on('message', (m: Buffer) => onPacket(m, performance.now()));
  s.on('error', () => {});
  await new Promise<void>((resolve) => s.bind(0, HOST, () => resolve()));
  return s;
}
