/**
 * Load generator for `make bench-sip-secure`, run as a child process so its CPU is not counted
 * against the SIP server: N callers each place one call, stream a μ-law clip (looped) as 20 ms
 * PCMU frames for D seconds, then hang up.
 *
 *   plain:  SIP over UDP (one socket shared by every call, as sipp does), RTP/AVP, plain RTP.
 *   secure: SIP over TLS (one connection per call, server certificate not checked), RTP/SAVP with
 *           one `a=crypto:1 AES_CM_128_HMAC_SHA1_80` line; what we send is SRTP and what the box
 *           sends back (silence every 20 ms while it listens) is unprotected with its answered key.
 *
 * Each call: INVITE with SDP -> 200 -> ACK, media, BYE -> 200. Call starts are spread over the
 * first second. One shared timer paces every call's media (like the server's idle-media clock),
 * not one timer per call. Prints one JSON line at the end:
 * {attempted, established, completedBye, failed, packetsSent, packetsReceivedFromBox,
 *  unprotectFailures, ...} plus this process's own CPU and its worst send lateness, so a run
 * whose load generator could not keep up is visible.
 *
 * Usage: node dist/tools/telephony/benchCallers.js --server-port P --tls-port Q --calls N
 *        --seconds D --mode plain|secure --clip <raw μ-law file> [--host 127.0.0.1] [--spread-clip]
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { writeRtp } from '../../appliance/rtp/packet.js';
import { generateMasterKey, SrtpSession } from '../../appliance/rtp/srtp.js';
import { formatCryptoAttribute, parseCryptoAttribute } from '../../appliance/sdp/crypto.js';
import { attribute, mediaAddress, parseSdp } from '../../appliance/sdp/sdp.js';
import { SipStreamFramer } from '../../appliance/sip/framer.js';
import type { SipMessage, SipRequest } from '../../appliance/sip/message.js';
import { DEFAULT_SIP_LIMITS, parseSipMessage } from '../../appliance/sip/parser.js';
import { buildResponse, randomToken, serializeSipMessage, tagOf } from '../../appliance/sip/serialize.js';
import { arg } from './benchArgs.js';

const SUITE = 'AES_CM_128_HMAC_SHA1_80';
const FRAME_MS = 20;
const FRAME_BYTES = 160;
const TICK_MS = 10;
/** RFC 3261 Timer B / F: give up on a transaction after 64*T1. */
const TRANSACTION_TIMEOUT_MS = 32_000;
/** RFC 3261 T1. */
const UDP_RETRANSMIT_MS = 500;

const host = arg('host', '127.0.0.1');
const serverPort = Number(arg('server-port'));
const tlsPort = Number(arg('tls-port', '0'));
const calls = Number(arg('calls'));
const seconds = Number(arg('seconds'));
const mode = arg('mode');
const clipFile = arg('clip');
/** Each caller starts the clip at its own point (caller i at i/N of it), so not every call talks at once. */
const spreadClip = process.argv.includes('--spread-clip');
if (mode !== 'plain' && mode !== 'secure') throw new Error('--mode must be plain or secure');
const secure = mode === 'secure';
const raw = readFileSync(clipFile);
const clip = raw.subarray(0, raw.length - (raw.length % FRAME_BYTES));
if (clip.length === 0) throw new Error(`${clipFile}: shorter than one 20 ms frame`);
const clipFrames = clip.length / FRAME_BYTES;
const framesPerCall = Math.round((seconds * 1000) / FRAME_MS);

const totals = {
  attempted: 0,
  established: 0,
  completedBye: 0,
  failed: 0,
  packetsSent: 0,
  packetsReceivedFromBox: 0,
  unprotectFailures: 0,
  /** Frames the pacer sent more than 5 frames late (the load generator fell behind). */
  lateFrames: 0,
  maxSendLateMs: 0,
  callerCpuPctOfOneCore: 0,
  failures: {} as Record<string, number>,
};

interface Pending {
  readonly method: string;
  readonly cseq: number;
  readonly bytes: Buffer;
  readonly resolve: (m: SipMessage) => void;
  intervalMs: number;
  resendAt: number;
}

class Caller {
  readonly callId = `bench-${randomToken(8)}@${host}`;
  readonly fromTag = randomToken(4);
  private toTag: string | undefined;
  private cseq = 1;
  private localSipPort = 0;
  private conn: tls.TLSSocket | undefined;
  private rtp: dgram.Socket | undefined;
  private rtpPort = 0;
  private boxAddress = host;
  private boxPort = 0;
  private tx: SrtpSession | undefined;
  private rx: SrtpSession | undefined;
  private readonly ours = generateMasterKey(SUITE);
  private pending: Pending | undefined;
  private okAck: Buffer | undefined;
  /** Media pacing, driven by the shared clock. */
  streaming = false;
  private nextAtMs = 0;
  private sent = 0;
  private readonly ssrc = (Math.random() * 0x100000000) >>> 0;
  private readonly seq0 = Math.floor(Math.random() * 0x8000);
  private readonly ts0 = (Math.random() * 0x100000000) >>> 0;
  private mediaDone: () => void = () => {};

  private readonly clipOffsetFrames: number;

  constructor(private readonly index: number) {
    this.clipOffsetFrames = spreadClip ? Math.floor((index * clipFrames) / calls) : 0;
  }

  async run(): Promise<void> {
    totals.attempted++;
    try {
      await this.openRtp();
      await this.openSignalling();
      const ok = await this.request('INVITE', this.sdp());
      if (ok.kind !== 'response' || ok.status !== 200) throw new Error(`INVITE ${ok.kind === 'response' ? ok.status : '?'}`);
      this.toTag = tagOf(ok.headers.get('to'));
      this.learnAnswer(ok.body);
      this.okAck = this.build('ACK', 1, '');
      this.sendSip(this.okAck);
      totals.established++;
      await new Promise<void>((resolve) => {
        this.mediaDone = resolve;
        this.nextAtMs = performance.now();
        this.streaming = true;
        clock.add(this);
      });
      const bye = await this.request('BYE', '');
      if (bye.kind === 'response' && bye.status === 200) totals.completedBye++;
      else throw new Error(`BYE ${bye.kind === 'response' ? bye.status : '?'}`);
    } catch (err) {
      totals.failed++;
      const why = (err as Error).message.replace(/[0-9]+/g, 'N');
      totals.failures[why] = (totals.failures[why] ?? 0) + 1;
    } finally {
      this.streaming = false;
      clock.delete(this);
      udpPending.delete(this);
      byCallId.delete(this.callId);
      this.conn?.end();
      this.rtp?.close();
    }
  }

  private async openRtp(): Promise<void> {
    const s = dgram.createSocket('udp4');
    s.on('message', (m: Buffer) => this.onRtp(m));
    s.on('error', () => {});
    await new Promise<void>((resolve) => s.bind(0, host, () => resolve()));
    this.rtp = s;
    this.rtpPort = s.address().port;
  }

  private async openSignalling(): Promise<void> {
    if (!secure) {
      this.localSipPort = sharedUdpPort;
      return;
    }
    const framer = new SipStreamFramer(DEFAULT_SIP_LIMITS);
    const conn = tls.connect({ host, port: tlsPort, rejectUnauthorized: false });
    conn.on('data', (d: Buffer) => {
      for (const f of framer.push(d)) {
        if (f.type !== 'message') continue;
        const r = parseSipMessage(f.bytes, DEFAULT_SIP_LIMITS, false);
        if (r.ok) this.onSip(r.message);
      }
    });
    await new Promise<void>((resolve, reject) => {
      conn.once('secureConnect', () => resolve());
      conn.once('error', (e: Error) => reject(new Error(`TLS: ${e.message}`)));
      conn.once('close', () => reject(new Error('TLS connection closed')));
    });
    conn.on('error', () => {});
    this.conn = conn;
    this.localSipPort = conn.localPort ?? 0;
  }

  private sdp(): string {
    const proto = secure ? 'RTP/SAVP' : 'RTP/AVP';
    return [
      'v=0',
      `o=caller ${this.index + 1} 1 IN IP4 ${host}`,
      's=-',
      `c=IN IP4 ${host}`,
      't=0 0',
      `m=audio ${this.rtpPort} ${proto} 0 101`,
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-15',
      'a=ptime:20',
      ...(secure ? [`a=crypto:${formatCryptoAttribute(1, SUITE, this.ours.key, this.ours.salt)}`] : []),
      'a=sendrecv',
      '',
    ].join('\r\n');
  }

  private learnAnswer(body: Buffer): void {
    const sdp = parseSdp(body);
    const m = sdp.media[0];
    if (m === undefined || m.port === 0) throw new Error('answer without audio');
    this.boxAddress = mediaAddress(sdp, m) ?? host;
    this.boxPort = m.port;
    if (!secure) return;
    const line = attribute(m, 'crypto');
    const c = line === undefined ? undefined : parseCryptoAttribute(line);
    const k = c?.keyParams[0];
    if (c === undefined || k === undefined || c.suite !== SUITE) throw new Error('answer without our crypto suite');
    this.tx = new SrtpSession(SUITE, this.ours.key, this.ours.salt);
    this.rx = new SrtpSession(SUITE, k.key, k.salt);
  }

  private build(method: string, cseq: number, body: string): Buffer {
    const t = secure ? 'TLS' : 'UDP';
    const port = secure ? tlsPort : serverPort;
    const uriParams = secure ? ';transport=tls' : '';
    const lines = [
      `${method} sip:edgevox@${host}:${port}${uriParams} SIP/2.0`,
      `Via: SIP/2.0/${t} ${host}:${this.localSipPort};branch=z9hG4bK-${randomToken(6)};rport`,
      'Max-Forwards: 70',
      `From: "Bench ${this.index}" <sip:+1555${String(this.index).padStart(7, '0')}@${host}>;tag=${this.fromTag}`,
      `To: <sip:edgevox@${host}:${port}>${this.toTag === undefined ? '' : `;tag=${this.toTag}`}`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${cseq} ${method}`,
      `Contact: <sip:bench@${host}:${this.localSipPort}${uriParams}>`,
      'User-Agent: EdgeVox benchCallers',
      ...(body.length > 0 ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
    ];
    return Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body, 'latin1');
  }

  /** Send a request and wait for its final response (retransmitted over UDP: Timer A/E, B/F). */
  private request(method: string, body: string): Promise<SipMessage> {
    const cseq = this.cseq++;
    const bytes = this.build(method, cseq, body);
    return new Promise<SipMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        udpPending.delete(this);
        reject(new Error(`${method} timeout`));
      }, TRANSACTION_TIMEOUT_MS);
      this.pending = {
        method,
        cseq,
        bytes,
        intervalMs: UDP_RETRANSMIT_MS,
        resendAt: performance.now() + UDP_RETRANSMIT_MS,
        resolve: (m) => {
          clearTimeout(timer);
          this.pending = undefined;
          udpPending.delete(this);
          resolve(m);
        },
      };
      if (!secure) udpPending.add(this);
      this.sendSip(bytes);
    });
  }

  /** UDP retransmission (T1 = 500 ms, doubling up to T2 = 4 s), from the shared clock. */
  retransmit(now: number): void {
    const p = this.pending;
    if (p === undefined || now < p.resendAt) return;
    this.sendSip(p.bytes);
    p.intervalMs = Math.min(4000, p.intervalMs * 2);
    p.resendAt = now + p.intervalMs;
  }

  private sendSip(bytes: Buffer): void {
    if (this.conn !== undefined) this.conn.write(bytes);
    else sharedUdp!.send(bytes, serverPort, host);
  }

  onSip(m: SipMessage): void {
    if (m.kind === 'request') return this.answer(m);
    const [n, method] = (m.headers.get('cseq') ?? '').split(/\s+/);
    const p = this.pending;
    if (p !== undefined && Number(n) === p.cseq && method === p.method && m.status >= 200) return p.resolve(m);
    // a retransmitted 200 to our INVITE: our ACK was lost, send it again
    if (method === 'INVITE' && m.status === 200 && this.okAck !== undefined) this.sendSip(this.okAck);
  }

  /** A request from the box inside our dialog (a refresh, a BYE of its own): 200 OK. */
  private answer(req: SipRequest): void {
    if (req.method === 'ACK') return;
    this.sendSip(serializeSipMessage(buildResponse(req, 200, { toTag: this.fromTag })));
    if (req.method === 'BYE' && this.streaming) {
      this.streaming = false;
      this.mediaDone();
    }
  }

  private onRtp(pkt: Buffer): void {
    if (pkt.length < 12 || (pkt[1]! >= 192 && pkt[1]! <= 223)) return; // RTCP (not muxed here): ignore
    if (this.rx === undefined) {
      totals.packetsReceivedFromBox++;
      return;
    }
    const clear = this.rx.unprotectRtp(pkt);
    if (typeof clear === 'string') totals.unprotectFailures++;
    else totals.packetsReceivedFromBox++;
  }

  /** Send the frames due at `now` (shared clock). */
  pace(now: number): void {
    if (!this.streaming) return;
    while (now >= this.nextAtMs && this.sent < framesPerCall) {
      const late = now - this.nextAtMs;
      if (late > totals.maxSendLateMs) totals.maxSendLateMs = late;
      if (late > 5 * FRAME_MS) totals.lateFrames++;
      const f = ((this.sent + this.clipOffsetFrames) % clipFrames) * FRAME_BYTES;
      // a fresh (pooled) buffer per packet: dgram holds on to it until the datagram has left, so
      // one reused buffer would send the last of several frames sent in one tick several times
      const packet = Buffer.allocUnsafe(12 + FRAME_BYTES);
      const n = writeRtp(
        packet,
        {
          marker: this.sent === 0,
          payloadType: 0,
          sequence: (this.seq0 + this.sent) & 0xffff,
          timestamp: (this.ts0 + this.sent * FRAME_BYTES) >>> 0,
          ssrc: this.ssrc,
        },
        clip.subarray(f, f + FRAME_BYTES),
      );
      const out = this.tx === undefined ? packet.subarray(0, n) : this.tx.protectRtp(packet.subarray(0, n));
      this.rtp!.send(out, this.boxPort, this.boxAddress);
      totals.packetsSent++;
      this.sent++;
      this.nextAtMs += FRAME_MS;
    }
    if (this.sent >= framesPerCall) {
      this.streaming = false;
      clock.delete(this);
      this.mediaDone();
    }
  }
}

/** One timer for every call: media pacing, call starts and UDP retransmissions. */
class SharedClock {
  private readonly callers = new Set<Caller>();
  private timer: NodeJS.Timeout | undefined;
  private starts: Array<{ atMs: number; start: () => void }> = [];

  add(c: Caller): void {
    this.callers.add(c);
  }

  delete(c: Caller): void {
    this.callers.delete(c);
  }

  schedule(atMs: number, start: () => void): void {
    this.starts.push({ atMs, start });
  }

  run(): void {
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  private tick(): void {
    const now = performance.now();
    if (this.starts.length > 0) {
      const due = this.starts.filter((s) => s.atMs <= now);
      if (due.length > 0) this.starts = this.starts.filter((s) => s.atMs > now);
      for (const s of due) s.start();
    }
    for (const c of this.callers) c.pace(now);
    for (const c of udpPending) c.retransmit(now);
  }
}

const clock = new SharedClock();
/** Plain mode: calls with a request in flight (one UDP socket carries every call, by Call-ID). */
const udpPending = new Set<Caller>();
const byCallId = new Map<string, Caller>();
let sharedUdp: dgram.Socket | undefined;
let sharedUdpPort = 0;

async function main(): Promise<void> {
  if (!secure) {
    const s = dgram.createSocket('udp4');
    s.on('message', (b: Buffer) => {
      const r = parseSipMessage(b, DEFAULT_SIP_LIMITS, true);
      if (r.ok) byCallId.get(r.message.headers.get('call-id') ?? '')?.onSip(r.message);
    });
    await new Promise<void>((resolve) => s.bind(0, host, () => resolve()));
    sharedUdp = s;
    sharedUdpPort = s.address().port;
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const runs: Promise<void>[] = [];
  const all = new Promise<void>((resolve) => {
    let left = calls;
    for (let i = 0; i < calls; i++) {
      clock.schedule(t0 + (i * 1000) / calls, () => {
        const c = new Caller(i);
        byCallId.set(c.callId, c);
        runs.push(
          c.run().finally(() => {
            if (--left === 0) resolve();
          }),
        );
      });
    }
    if (calls === 0) resolve();
  });
  clock.run();
  await all;
  await Promise.allSettled(runs);
  clock.stop();
  sharedUdp?.close();
  const cpu = process.cpuUsage(cpu0);
  totals.maxSendLateMs = Math.round(totals.maxSendLateMs);
  totals.callerCpuPctOfOneCore = Math.round(((cpu.user + cpu.system) / 1000 / (performance.now() - t0)) * 1000) / 10;
  process.stdout.write(JSON.stringify(totals) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`benchCallers: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(2);
});
