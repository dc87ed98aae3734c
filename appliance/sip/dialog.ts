/**
 * UAS-side dialog state (RFC 3261 §12): identifiers, CSeq spaces, remote target and route set,
 * and construction of in-dialog requests (BYE, re-INVITE, REFER, NOTIFY, ACK for our re-INVITE).
 */
import { parseCSeq, parseNameAddr } from './grammar.js';
import { SipHeaders, type SipPeer, type SipRequest, type SipTransportName } from './message.js';
import { newBranch } from './serialize.js';
import { secureInt } from '../randomness.js';

export interface LocalEndpoint {
  readonly host: string;
  readonly port: number;
  readonly transport: SipTransportName;
}

/** Our Contact URI on an endpoint: `sips:` when the peer addressed us with a sips URI (RFC 5630 §3.1.3). */
export function contactUri(local: LocalEndpoint, secure = false): string {
  if (secure) return `sips:edgevox@${local.host}:${local.port}`;
  const t = local.transport === 'udp' ? '' : `;transport=${local.transport}`;
  return `sip:edgevox@${local.host}:${local.port}${t}`;
}

export class Dialog {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string | undefined;
  /** Our From header value in requests we send (the INVITE's To plus our tag). */
  readonly localHeader: string;
  /** Their address (the INVITE's From) as our To. */
  readonly remoteHeader: string;
  remoteTarget: string;
  readonly routeSet: readonly string[];
  private localSeq: number;
  remoteSeq: number;
  state: 'early' | 'confirmed' | 'terminated' = 'early';
  /** The dialog was set up with a sips: Request-URI over TLS: our Contact is sips too. */
  readonly secure: boolean;

  constructor(
    invite: SipRequest,
    localTag: string,
    readonly peer: SipPeer,
    readonly local: LocalEndpoint,
  ) {
    this.callId = invite.headers.get('call-id')!;
    this.localTag = localTag;
    const from = parseNameAddr(invite.headers.get('from')!)!;
    const t = from.params.get('tag');
    this.remoteTag = t === null || t === undefined ? undefined : t;
    this.remoteHeader = invite.headers.get('from')!;
    this.localHeader = `${invite.headers.get('to')!};tag=${localTag}`;
    const contact = parseNameAddr(invite.headers.get('contact') ?? '');
    this.remoteTarget = contact?.uri.raw ?? invite.uri;
    // UAS route set: Record-Route in order (§12.1.1)
    this.routeSet = [...invite.headers.getAll('record-route')];
    this.remoteSeq = parseCSeq(invite.headers.get('cseq')!)!.seq;
    this.secure = local.transport === 'tls' && /^sips:/i.test(invite.uri);
    this.localSeq = secureInt(1, 10_001);
  }

  get contactHeader(): string {
    return `<${contactUri(this.local, this.secure)}>`;
  }

  /** Check an in-dialog request's CSeq (§12.2.2): false for an out-of-order (lower) one. */
  acceptRemoteCSeq(req: SipRequest): boolean {
    const c = parseCSeq(req.headers.get('cseq') ?? '');
    if (c === undefined) return false;
    if (req.method === 'ACK' || req.method === 'CANCEL') return true;
    if (c.seq <= this.remoteSeq) return false;
    this.remoteSeq = c.seq;
    return true;
  }

  /** Update the remote target from a target-refresh request (re-INVITE, §12.2.2). */
  refreshTarget(req: SipRequest): void {
    const c = parseNameAddr(req.headers.get('contact') ?? '');
    if (c !== undefined) this.remoteTarget = c.uri.raw;
  }

  /** Build an in-dialog request; `cseq` defaults to the next local number. */
  createRequest(
    method: string,
    opts: {
      headers?: Record<string, string | readonly string[]>;
      body?: Buffer;
      contentType?: string;
      cseq?: number;
      branch?: string;
    } = {},
  ): SipRequest {
    const h = new SipHeaders();
    const transport = this.local.transport.toUpperCase();
    h.set('via', `SIP/2.0/${transport} ${this.local.host}:${this.local.port};branch=${opts.branch ?? newBranch()};rport`);
    h.set('max-forwards', '70');
    h.set('from', this.localHeader);
    h.set('to', this.remoteHeader);
    h.set('call-id', this.callId);
    const seq = opts.cseq ?? ++this.localSeq;
    h.set('cseq', `${seq} ${method}`);
    if (this.routeSet.length > 0) h.set('route', this.routeSet);
    if (method !== 'ACK' && method !== 'BYE' && method !== 'CANCEL') h.set('contact', this.contactHeader);
    for (const [k, v] of Object.entries(opts.headers ?? {})) h.set(k, v);
    const body = opts.body ?? Buffer.alloc(0);
    if (body.length > 0) h.set('content-type', opts.contentType ?? 'application/sdp');
    // loose routing only: the Request-URI is the remote target (§12.2.1.1)
    return { kind: 'request', method, uri: this.remoteTarget, headers: h, body };
  }

  /** Our next requests count above `seq`: a UAC's dialog whose INVITE had CSeq `seq` (§12.1.2). */
  countAbove(seq: number): void {
    if (this.localSeq < seq) this.localSeq = seq;
  }

  get lastLocalSeq(): number {
    return this.localSeq;
  }
}
