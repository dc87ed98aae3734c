/**
 * The far ends of `make bench-acd`, in one child process (acdPeersProcess.ts runs it): M agents'
 * desk phones and N callers, over SIP/UDP + RTP (PCMU) on loopback, against a box in ACD mode.
 *
 *   agents:  each phone has its own SIP socket and REGISTERs as `<prefix>i` with digest (the
 *            account's password), so the box's presence makes the agent available; an INVITE from
 *            the box is answered at once (180, 200 with a PCMU answer, retransmitted until the ACK);
 *            the agent then talks (its own clip) and captures what it receives with arrival times;
 *            the box's BYE ends the leg. At the end every phone unregisters (Expires: 0, digest).
 *   callers: INVITE the box -> 200 -> ACK, then speak (the routing utterance, `--speech-seconds`),
 *            then keep talking with a marker every `--marker-interval-ms`: 100 ms of a 1 kHz tone
 *            whose first 20 ms frame carries the caller's number and the marker's number in its
 *            first 8 bytes. The time the frame is handed to the socket is kept.
 *
 * Bridging is checked on the wire: a caller counts as bridged when one of its markers arrives at an
 * agent's phone (identified by the tag, the tone confirmed by a Goertzel filter on the decoded
 * frame). The delay the box adds on the caller -> agent path is, per marker, arrival at the agent's
 * socket minus the send at the caller's socket, both read from this process's one clock
 * (performance.now()). A direct socket pair in this process measures the same thing without the box
 * at the same time (the floor of the method: loopback plus this process's own event-loop delay).
 * A bridged caller holds the call `--hold-seconds` after its first marker arrived, then hangs up.
 *
 * Why not sipp for the agents (as the issue first asked): one sipp process can neither REGISTER N
 * different digest accounts nor then take new dialogs on each of those flows; and the callers are
 * ours rather than sipp because each marker's send time must come from the clock the agents read
 * arrivals with. One shared 10 ms timer paces every stream and retransmits SIP, as benchCallers.ts.
 *
 * Prints progress on stderr and one JSON line (AcdPeersReport) on stdout at the end.
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { MULAW_DECODE_TABLE, mulawEncodeSample } from '../../appliance/codecs/g711.js';
import { parseRtp, writeRtp } from '../../appliance/rtp/packet.js';
import { mediaAddress, parseSdp, rtpMaps } from '../../appliance/sdp/sdp.js';
import { answerChallenge } from '../../appliance/sip/auth.js';
import type { SipMessage, SipRequest, SipResponse } from '../../appliance/sip/message.js';
import { DEFAULT_SIP_LIMITS, parseSipMessage } from '../../appliance/sip/parser.js';
import { buildResponse, randomToken, serializeSipMessage, tagOf } from '../../appliance/sip/serialize.js';
import type { AcdPeersReport, TimeSummary } from './acdPeersProcess.js';

const HOST = '127.0.0.1';
const FRAME_MS = 20;
const FRAME_BYTES = 160;
const TICK_MS = 10;
const T1_MS = 500;
const T2_MS = 4000;
/** RFC 3261 Timer B / F. */
const TRANSACTION_TIMEOUT_MS = 32_000;
/** Marker: 100 ms of 1 kHz; its first frame is tagged. */
const MARKER_FRAMES = 5;
const TONE_AMPLITUDE = 10_000;
const TAG_BYTES = 8;

function arg(name: string, def?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : def;
  if (v === undefined) throw new Error(`--${name} is required`);
  return v;
}

const serverPort = Number(arg('server-port'));
const calls = Number(arg('calls'));
const agentCount = Number(arg('agents'));
const agentPrefix = arg('agent-prefix', 'agent-');
const passwordPrefix = arg('password-prefix');
const holdMs = Number(arg('hold-seconds')) * 1000;
const speechFrames = Math.round((Number(arg('speech-seconds', '6')) * 1000) / FRAME_MS);
const bridgeTimeoutMs = Number(arg('bridge-timeout-seconds', '60')) * 1000;
const markerEveryFrames = Math.max(MARKER_FRAMES + 1, Math.round(Number(arg('marker-interval-ms', '1000')) / FRAME_MS));
const rate = Math.max(1, Number(arg('rate', '20')));

function readClip(file: string): Buffer {
  const raw = readFileSync(file);
  const clip = raw.subarray(0, raw.length - (raw.length % FRAME_BYTES));
  if (clip.length === 0) throw new Error(`${file}: shorter than one 20 ms frame`);
  return clip;
}
const callerClip = readClip(arg('caller-clip'));
const agentClip = readClip(arg('agent-clip'));
/**
 * Callers start their clip at different points within its first 2 s (inside the opening utterance
 * that routes the call), agents within the first 8 s of theirs: different words, not in lockstep.
 */
const CALLER_SPREAD_FRAMES = Math.round(2000 / FRAME_MS);
const AGENT_SPREAD_FRAMES = Math.round(8000 / FRAME_MS);

const T0 = performance.now();
const log = (line: string): void => void process.stderr.write(`peers: ${line}\n`);

// --- the marker ----------------------------------------------------------------------------------

/** One 20 ms frame of 1 kHz at 8 kHz: exactly 20 periods, so every frame of the tone is the same bytes. */
const TONE_FRAME = Buffer.from(
  Array.from({ length: FRAME_BYTES }, (_, n) => mulawEncodeSample(Math.round(TONE_AMPLITUDE * Math.sin((2 * Math.PI * n) / 8)))),
);

function markerFrame(caller: number, marker: number): Buffer {
  const f = Buffer.from(TONE_FRAME);
  f[0] = 0x5a;
  f[1] = 0xa5;
  f.writeUInt16BE(caller, 2);
  f.writeUInt16BE(marker, 4);
  f[6] = 0xc3;
  f[7] = (f[0] ^ f[1] ^ f[2]! ^ f[3]! ^ f[4]! ^ f[5]! ^ f[6]) & 0xff;
  return f;
}

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

// --- figures -------------------------------------------------------------------------------------

function summary(values: readonly number[]): TimeSummary {
  if (values.length === 0) return { n: 0, p50Ms: null, p95Ms: null, maxMs: null };
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number): number => Math.round(s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]! * 100) / 100;
  return { n: s.length, p50Ms: q(0.5), p95Ms: q(0.95), maxMs: Math.round(s[s.length - 1]! * 100) / 100 };
}

const report: AcdPeersReport = {
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
const count = (m: Record<string, number>, why: string): void => {
  const k = why.replace(/[0-9]+/g, 'N');
  m[k] = (m[k] ?? 0) + 1;
};
const markerDelays: number[] = [];
const loopbackDelays: number[] = [];
const answerToInvite: number[] = [];

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

class SipSocket {
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

function requestBytes(method: string, uri: string, headers: readonly string[], body = ''): Buffer {
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

const via = (port: number): string => `Via: SIP/2.0/UDP ${HOST}:${port};branch=z9hG4bK-${randomToken(6)};rport`;

function pcmuSdp(rtpPort: number, session: number, telephoneEventPt: number | undefined): string {
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
class RtpStream {
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

const streams = new Set<RtpStream>();
const sipSockets = new Set<SipSocket>();

async function openRtp(onPacket: (msg: Buffer, atMs: number) => void): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  s.on('message', (m: Buffer) => onPacket(m, performance.now()));
  s.on('error', () => {});
  await new Promise<void>((resolve) => s.bind(0, HOST, () => resolve()));
  return s;
}

// --- the callers ---------------------------------------------------------------------------------

class Caller {
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

const callersById = new Map<string, Caller>();
const callerByIndex: Caller[] = [];

// --- the agents' phones --------------------------------------------------------------------------

interface AgentCall {
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

class AgentPhone {
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

// --- the floor of the method: a direct socket pair, same process, same clock ---------------------

class LoopbackProbe {
  private sender: dgram.Socket | undefined;
  private receiver: dgram.Socket | undefined;
  private nextAt = 0;
  private seq = 0;
  private readonly sentAt = new Map<number, number>();

  async open(): Promise<void> {
    this.receiver = await openRtp((msg, at) => {
      const p = parseRtp(msg);
      if (typeof p === 'string') return;
      const t = this.sentAt.get(p.sequence);
      if (t === undefined) return;
      this.sentAt.delete(p.sequence);
      loopbackDelays.push(at - t);
    });
    this.sender = await openRtp(() => undefined);
  }

  /** One packet every 100 ms, sent from the shared clock like the markers. */
  pace(now: number): void {
    if (this.sender === undefined || this.receiver === undefined || now < this.nextAt) return;
    this.nextAt = now + 100;
    const packet = Buffer.allocUnsafe(12 + FRAME_BYTES);
    const seq = this.seq++ & 0xffff;
    writeRtp(packet, { marker: false, payloadType: 0, sequence: seq, timestamp: seq * FRAME_BYTES, ssrc: 1 }, TONE_FRAME);
    this.sender.send(packet, this.receiver.address().port, HOST);
    this.sentAt.set(seq, performance.now());
  }

  close(): void {
    this.sender?.close();
    this.receiver?.close();
  }
}

// --- the run -------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const phones: AgentPhone[] = [];
  const probe = new LoopbackProbe();
  await probe.open();
  let probing = false;
  const timer = setInterval(() => {
    const now = performance.now();
    for (const s of streams) s.pace(now);
    for (const s of sipSockets) s.tick(now);
    for (const p of phones) p.tick(now);
    if (probing) probe.pace(now);
  }, TICK_MS);

  // 1. the agents' phones register
  for (let i = 0; i < agentCount; i++) {
    const sip = await SipSocket.open();
    sipSockets.add(sip);
    phones.push(new AgentPhone(i, sip));
  }
  await Promise.all(
    phones.map(async (p) => {
      try {
        if (await p.register(3600)) report.agents.registered++;
      } catch (err) {
        count(report.agents.registerFailures, (err as Error).message);
      }
    }),
  );
  log(`${report.agents.registered}/${agentCount} agents registered`);

  // 2. the callers, `rate` new calls per second
  const callerSip = await SipSocket.open();
  sipSockets.add(callerSip);
  callerSip.onRequest = (req) => callersById.get(req.headers.get('call-id') ?? '')?.onRequest(req);
  callerSip.onStray = (res) => callersById.get(res.headers.get('call-id') ?? '')?.onStray(res);
  probing = true;
  const runs: Promise<void>[] = [];
  for (let i = 0; i < calls; i++) {
    const c = new Caller(i, callerSip);
    callersById.set(c.callId, c);
    callerByIndex[i] = c;
    runs.push(new Promise<void>((r) => setTimeout(r, (i * 1000) / rate)).then(() => c.run()));
  }
  let last = '';
  const progress = setInterval(() => {
    const line = `answered by box ${report.callers.answeredByBox}/${calls}, agent INVITEs ${report.agents.invites}, bridged ${report.callers.bridged}, done ${report.callers.completedBye + report.callers.failed}`;
    if (line !== last) log(line);
    last = line;
  }, 5000);
  await Promise.allSettled(runs);
  clearInterval(progress);
  probing = false;
  log(
    `callers done: bridged ${report.callers.bridged}/${calls}, completed ${report.callers.completedBye}, failed ${report.callers.failed} ${JSON.stringify(report.callers.failures)}`,
  );

  // 3. the box's BYEs to the agents' legs, then every phone unregisters
  const deadline = performance.now() + 5000;
  while (performance.now() < deadline && report.agents.byeFromBox < report.agents.acked) await new Promise((r) => setTimeout(r, 100));
  await Promise.all(
    phones.map(async (p) => {
      try {
        if (await p.register(0)) report.agents.unregistered++;
      } catch (err) {
        count(report.agents.registerFailures, `unregister: ${(err as Error).message}`);
      }
      p.close();
    }),
  );
  clearInterval(timer);
  for (const s of sipSockets) s.close();
  probe.close();
  const cpu = process.cpuUsage(cpu0);
  report.answerToAgentInvite = summary(answerToInvite);
  report.markerDelay = summary(markerDelays);
  report.loopbackDelay = summary(loopbackDelays);
  report.maxSendLateMs = Math.round(report.maxSendLateMs);
  report.peersCpuPctOfOneCore = Math.round(((cpu.user + cpu.system) / 1000 / (performance.now() - t0)) * 1000) / 10;
  process.stdout.write(JSON.stringify(report) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`acdBenchPeers: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(2);
});
