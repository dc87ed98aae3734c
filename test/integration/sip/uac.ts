/**
 * A scripted SIP user agent for integration tests: sends hand-written requests over UDP or TCP
 * to the SipServer on loopback and waits for parsed messages.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import type { SipMessage, SipRequest, SipResponse } from '../../../appliance/sip/message.js';
import { parseSipMessage } from '../../../appliance/sip/parser.js';
import { SipStreamFramer } from '../../../appliance/sip/framer.js';
import { DEFAULT_SIP_LIMITS } from '../../../appliance/sip/parser.js';
import { buildResponse, serializeSipMessage, tagOf } from '../../../appliance/sip/serialize.js';

export class TestUac {
  readonly received: SipMessage[] = [];
  private waiters: Array<{ pred: (m: SipMessage) => boolean; resolve: (m: SipMessage) => void }> = [];
  private udp: dgram.Socket | undefined;
  private tcp: net.Socket | undefined;
  port = 0;
  private branchN = 0;
  readonly callId = `uac-${Math.random().toString(16).slice(2)}@127.0.0.1`;
  cseq = 1;
  remoteTag: string | undefined;
  /** The user part of the To of requests: the number dialled (a DID) or the box's name. */
  toUser = 'edgevox';

  constructor(
    readonly serverPort: number,
    readonly transport: 'udp' | 'tcp' | 'tls' = 'udp',
    /** TLS: client certificate, CA to check the server with (none: not checked). */
    private readonly tlsOptions: tls.ConnectionOptions = {},
    /** Source address to send from (127.0.0.2 is a second source on loopback). */
    readonly localAddress = '127.0.0.1',
  ) {}

  /** The TLS connection (for certificate checks in tests). */
  get tlsSocket(): tls.TLSSocket | undefined {
    return this.tcp instanceof tls.TLSSocket ? this.tcp : undefined;
  }

  async open(): Promise<this> {
    if (this.transport === 'udp') {
      this.udp = dgram.createSocket('udp4');
      this.udp.on('message', (b) => this.onBytes(b, true));
      await new Promise<void>((r) => this.udp!.bind(0, this.localAddress, () => r()));
      this.port = this.udp.address().port;
    } else {
      const framer = new SipStreamFramer(DEFAULT_SIP_LIMITS);
      this.tcp =
        this.transport === 'tls'
          ? tls.connect({ port: this.serverPort, host: '127.0.0.1', rejectUnauthorized: false, ...this.tlsOptions })
          : net.connect({ port: this.serverPort, host: '127.0.0.1', localAddress: this.localAddress });
      this.tcp.on('data', (d: Buffer) => {
        for (const f of framer.push(d)) if (f.type === 'message') this.onBytes(f.bytes, false);
      });
      await new Promise<void>((resolve, reject) => {
        this.tcp!.once(this.transport === 'tls' ? 'secureConnect' : 'connect', () => resolve());
        this.tcp!.once('error', reject);
        this.tcp!.once('close', () => reject(new Error('connection closed')));
      });
      this.port = this.tcp.localPort!;
    }
    return this;
  }

  private onBytes(b: Buffer, datagram: boolean): void {
    const r = parseSipMessage(b, DEFAULT_SIP_LIMITS, datagram);
    if (!r.ok) return;
    const m = r.message;
    this.received.push(m);
    if (m.kind === 'response' && m.status >= 200 && this.remoteTag === undefined) this.remoteTag = tagOf(m.headers.get('to'));
    for (const w of [...this.waiters]) {
      if (w.pred(m)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  }

  sendRaw(text: string | Buffer): void {
    const b = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
    if (this.udp !== undefined) this.udp.send(b, this.serverPort, '127.0.0.1');
    else this.tcp!.write(b);
  }

  branch(): string {
    return `z9hG4bK-uac-${this.callId.slice(4, 10)}-${++this.branchN}`;
  }

  /** Build a request in this UAC's dialog (From tag u1, To tag once known). */
  request(
    method: string,
    opts: { body?: string; contentType?: string; extra?: string[]; branch?: string; cseq?: number; uri?: string; noToTag?: boolean } = {},
  ): string {
    const body = opts.body ?? '';
    const t = this.transport.toUpperCase();
    const toTag = opts.noToTag === true || this.remoteTag === undefined ? '' : `;tag=${this.remoteTag}`;
    const lines = [
      `${method} ${opts.uri ?? `sip:edgevox@127.0.0.1:${this.serverPort}`} SIP/2.0`,
      `Via: SIP/2.0/${t} 127.0.0.1:${this.port};branch=${opts.branch ?? this.branch()};rport`,
      'Max-Forwards: 70',
      `From: "Alice" <sip:+15550100@127.0.0.1:${this.port}>;tag=u1`,
      `To: <sip:${this.toUser}@127.0.0.1:${this.serverPort}>${toTag}`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${opts.cseq ?? this.cseq++} ${method}`,
      `Contact: <sip:alice@127.0.0.1:${this.port}${this.transport === 'udp' ? '' : `;transport=${this.transport}`}>`,
      ...(body.length > 0 ? [`Content-Type: ${opts.contentType ?? 'application/sdp'}`] : []),
      ...(opts.extra ?? []),
      `Content-Length: ${Buffer.byteLength(body)}`,
    ];
    return lines.join('\r\n') + '\r\n\r\n' + body;
  }

  /**
   * A REGISTER for `sip:<user>@127.0.0.1` (From = To = the AOR unless `fromUser`), out of dialog
   * (no To tag), on this UAC's Call-ID unless given. `contacts`: Contact values (default our own
   * address; [] = none, a query); `expires`: the Expires header; `authorization`: its header value.
   */
  registerRequest(opts: {
    user: string;
    contacts?: readonly string[];
    expires?: number;
    authorization?: string;
    fromUser?: string;
    callId?: string;
    cseq?: number;
    extra?: readonly string[];
  }): string {
    const t = this.transport.toUpperCase();
    const contacts = opts.contacts ?? [
      `<sip:${opts.user}@${this.localAddress}:${this.port}${this.transport === 'udp' ? '' : `;transport=${this.transport}`}>`,
    ];
    const lines = [
      `REGISTER ${this.registerUri} SIP/2.0`,
      `Via: SIP/2.0/${t} ${this.localAddress}:${this.port};branch=${this.branch()};rport`,
      'Max-Forwards: 70',
      `From: <sip:${opts.fromUser ?? opts.user}@127.0.0.1>;tag=r${this.branchN}`,
      `To: <sip:${opts.user}@127.0.0.1>`,
      `Call-ID: ${opts.callId ?? this.callId}`,
      `CSeq: ${opts.cseq ?? this.cseq++} REGISTER`,
      ...contacts.map((c) => `Contact: ${c}`),
      ...(opts.expires === undefined ? [] : [`Expires: ${opts.expires}`]),
      ...(opts.authorization === undefined ? [] : [`Authorization: ${opts.authorization}`]),
      'User-Agent: TestUac',
      ...(opts.extra ?? []),
      'Content-Length: 0',
    ];
    return lines.join('\r\n') + '\r\n\r\n';
  }

  /** The Request-URI of a REGISTER: the registrar's domain, no user part. */
  get registerUri(): string {
    return `sip:127.0.0.1:${this.serverPort}`;
  }

  sdp(rtpPort: number, extra: string[] = []): string {
    return [
      'v=0',
      'o=alice 1 1 IN IP4 127.0.0.1',
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      `m=audio ${rtpPort} RTP/AVP 0 101`,
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:101 telephone-event/8000',
      ...extra,
      '',
    ].join('\r\n');
  }

  waitFor(pred: (m: SipMessage) => boolean, timeoutMs = 5000): Promise<SipMessage> {
    const hit = this.received.find(pred);
    if (hit !== undefined) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve };
      this.waiters.push(w);
      setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) {
          this.waiters.splice(i, 1);
          reject(new Error('timeout waiting for SIP message'));
        }
      }, timeoutMs).unref();
    });
  }

  waitResponse(method: string, status: number, cseq?: number): Promise<SipResponse> {
    return this.waitFor(
      (m) =>
        m.kind === 'response' &&
        m.status === status &&
        (m.headers.get('cseq') ?? '').endsWith(method) &&
        (cseq === undefined || (m.headers.get('cseq') ?? '').startsWith(`${cseq} `)),
    ) as Promise<SipResponse>;
  }

  waitRequest(method: string): Promise<SipRequest> {
    return this.waitFor((m) => m.kind === 'request' && m.method === method) as Promise<SipRequest>;
  }

  /** Answer a request the server sent us. */
  reply(req: SipRequest, status: number, opts: { body?: string; contentType?: string } = {}): void {
    const res = buildResponse(req, status, {
      toTag: 'u1',
      ...(opts.body !== undefined ? { body: Buffer.from(opts.body), contentType: opts.contentType ?? 'application/sdp' } : {}),
    });
    this.sendRaw(serializeSipMessage(res));
  }

  /** INVITE -> 200 -> ACK; returns the 200. */
  async call(rtpPort: number, extra: string[] = []): Promise<SipResponse> {
    const cseq = this.cseq;
    this.sendRaw(this.request('INVITE', { body: this.sdp(rtpPort), extra, noToTag: true }));
    const ok = await this.waitResponse('INVITE', 200, cseq);
    this.remoteTag = tagOf(ok.headers.get('to'));
    this.sendRaw(this.request('ACK', { cseq }));
    return ok;
  }

  close(): void {
    this.udp?.close();
    this.tcp?.destroy();
  }
}
