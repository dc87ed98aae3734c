/**
 * SipServer: the telephony facade the app composes. It owns the SIP transports, the guards
 * (allow-list, per-source rate limit, digest auth, max calls), the transaction layer, the RTP
 * port allocator and the active calls, and reports everything as typed events.
 *
 * Inbound path: bytes -> allow-list -> rate limit -> parse (400 + count when malformed) ->
 * transaction layer (retransmissions absorbed) -> OPTIONS / INVITE / in-dialog dispatch.
 * Close cascade: `close()` ends every call (BYE sent, legs closed, sinks closed, ports released),
 * stops the quality tick, terminates all transactions, closes the transports. Idempotent.
 */
import { TypedEmitter } from '../events/typedEmitter.js';
import { evxError } from '../errors.js';
import { DigestAuthenticator } from '../sip/auth.js';
import { LOCAL_TRANSFER_TARGETS, transferPolicyOf, type TransferTargetPolicy } from './transferTargets.js';
import type { LocalEndpoint } from '../sip/dialog.js';
import { parseCSeq } from '../sip/grammar.js';
import { AllowList, SourceRateLimiter } from '../sip/guard.js';
import type { SipPeer, SipRequest, SipResponse, SipTransportName } from '../sip/message.js';
import { canAddressResponse, DEFAULT_SIP_LIMITS, parseSipMessage } from '../sip/parser.js';
import { buildResponse, randomToken, serializeSipMessage, tagOf } from '../sip/serialize.js';
import { DEFAULT_TIMERS, type ServerTransaction } from '../sip/transaction.js';
import { TransactionLayer } from '../sip/transaction-layer.js';
import { StreamTransport, UdpTransport, type SipTransport } from '../sip/transport.js';
import { DEFAULT_MEDIA_SECURITY, SUPPORTED_CODECS } from '../sdp/offer-answer.js';
import { MediaBridge } from '../rtp/bridge.js';
import { RtpPortAllocator } from '../rtp/ports.js';
import { ALLOW, SUPPORTED, type Call } from './call.js';
import { answerInvite, type InviteContext } from './invite.js';
import type { MediaLeg } from './leg.js';
import type { OutboundCall, PlaceCallOptions } from './outbound.js';
import { OutboundCalls, type TrunkLine } from './outboundCalls.js';
import type {
  CallEndReason,
  LegQuality,
  ReferralHandler,
  RegistrarLike,
  RejectReason,
  SipServerOptions,
  TelephonyEvents,
} from './types.js';

export interface SipServerCounters {
  received: number;
  malformed: number;
  rejectedAllowList: number;
  rejectedRateLimit: number;
  rejectedAuth: number;
  rejectedCapacity: number;
  /** TLS handshakes that failed, client certificates refused. */
  rejectedTls: number;
  /** Requests from scanner user agents, dropped without an answer. */
  rejectedScanner: number;
  /** Offers refused by the media-encryption policy (488 with a Warning). */
  rejectedSrtp: number;
  rejectedOther: number;
  callsStarted: number;
  callsEnded: number;
  sendFailures: number;
  /** Exceptions escaping a handler (bugs): must stay 0. */
  internalErrors: number;
}

/**
 * User agents of SIP scanners and toll-fraud tools (parts of the header, case-insensitive), as
 * fail2ban and SBC vendors list them. Real phones and trunks never send these.
 */
export const DEFAULT_SCANNER_AGENTS: readonly string[] = [
  'friendly-scanner',
  'sipvicious',
  'sipcli',
  'sip-scan',
  'iwar',
  'sundayddr',
  'vaxsipuseragent',
  'pplsip',
  'smap',
];

export class SipServer {
  readonly events: TypedEmitter<TelephonyEvents>;
  readonly counters: SipServerCounters = {
    received: 0,
    malformed: 0,
    rejectedAllowList: 0,
    rejectedRateLimit: 0,
    rejectedAuth: 0,
    rejectedCapacity: 0,
    rejectedTls: 0,
    rejectedScanner: 0,
    rejectedSrtp: 0,
    rejectedOther: 0,
    callsStarted: 0,
    callsEnded: 0,
    sendFailures: 0,
    internalErrors: 0,
  };
  private readonly host: string;
  private readonly transports = new Map<SipTransportName, SipTransport>();
  private readonly ports: RtpPortAllocator;
  private readonly txl: TransactionLayer;
  private readonly allow: AllowList;
  private readonly transferTargets: TransferTargetPolicy;
  private readonly limiter: SourceRateLimiter;
  private readonly auth: DigestAuthenticator;
  private readonly calls = new Map<string, Call>(); // by dialog key
  private readonly byId = new Map<string, Call>();
  private pending = 0;
  private referralHandler: ReferralHandler | undefined;
  private referralOwner: ((callId: string) => boolean) | undefined;
  private readonly scannerAgents: readonly string[];
  private boundPort = 0;
  private boundTlsPort = 0;
  private qualityTimer: NodeJS.Timeout | undefined;
  private state: 'new' | 'listening' | 'closing' | 'closed' = 'new';
  private closing: Promise<void> | undefined;
  private readonly inviteCtx: InviteContext;
  private readonly outbound: OutboundCalls;

  constructor(private readonly opts: SipServerOptions = {}) {
    this.events = new TypedEmitter<TelephonyEvents>();
    this.host = opts.host ?? '127.0.0.1';
    const rtpHost = opts.rtpHost ?? this.host;
    this.ports = new RtpPortAllocator(rtpHost, opts.rtpPortMin ?? 20000, opts.rtpPortMax ?? 20999);
    this.allow = new AllowList(opts.allowList ?? []);
    this.transferTargets = transferPolicyOf({
      transferTargets: opts.transferTargets ?? LOCAL_TRANSFER_TARGETS,
      allowList: opts.allowList ?? [],
    });
    this.scannerAgents = (opts.dropUserAgents ?? DEFAULT_SCANNER_AGENTS).map((s) => s.toLowerCase()).filter((s) => s !== '');
    this.limiter = new SourceRateLimiter(opts.rateLimitPerSec ?? 50, opts.rateLimitBurst ?? 100);
    this.auth = new DigestAuthenticator({ realm: opts.realm ?? 'edgevox', accounts: opts.accounts ?? [] });
    this.txl = new TransactionLayer(
      (bytes, peer) => this.send(bytes, peer),
      opts.timers ?? DEFAULT_TIMERS,
      10_000,
      (tx) => this.onAckTimeout(tx),
    );
    this.inviteCtx = {
      auth: this.auth,
      ports: this.ports,
      txl: this.txl,
      emitter: this.events,
      rtpAddress: rtpHost,
      codecs: opts.codecs ?? SUPPORTED_CODECS,
      maxCalls: opts.maxCalls ?? 100,
      admit: opts.admit,
      atCapacityStatus: opts.atCapacityStatus ?? 503,
      retryAfterSec: opts.retryAfterSec ?? 30,
      sessionExpiresSec: opts.sessionExpiresSec ?? 1800,
      minSessionExpiresSec: opts.minSessionExpiresSec ?? 90,
      latching: opts.latching ?? true,
      rtcpIntervalMs: opts.rtcpIntervalMs ?? 5000,
      agentAor: opts.agentAor,
      sinkFactory: opts.sinkFactory,
      answerDelayMs: opts.answerDelayMs ?? 0,
      idleMedia: opts.idleMedia ?? 'silence',
      callLoad: () => this.calls.size + this.pending,
      reserve: (d) => {
        this.pending += d;
      },
      register: (call, tx) => {
        this.calls.set(call.dialogKey, call);
        if (tx !== undefined) this.inviteTx.set(call.dialogKey, tx);
        this.byId.set(call.id, call);
        this.counters.callsStarted++;
      },
      forget: (call) => {
        this.calls.delete(call.dialogKey);
        // a 2xx still awaiting its ACK (BYE before ACK) must not go on being resent for 64·T1;
        // unless our hang-up's BYE waits for that ACK: the 2xx goes on until it comes
        if (!this.byesAwaitingAck.has(call.dialogKey)) {
          this.inviteTx.get(call.dialogKey)?.onDialogEnded();
          this.inviteTx.delete(call.dialogKey);
        }
        this.byId.delete(call.id);
        this.counters.callsEnded++;
      },
      reject: (reason, req, status, peer) => this.countReject(reason, req.method, status, peer),
      local: (peer) => this.localEndpoint(peer),
      referral: (call, uri) => this.decideReferral(call, uri),
      t1Ms: (opts.timers ?? DEFAULT_TIMERS).t1Ms,
      mediaSecurity: (peer) => opts.mediaSecurity?.(peer) ?? DEFAULT_MEDIA_SECURITY,
      expectPrack: (key, rseq) => {
        let resolve: (v: boolean) => void = () => {};
        const arrived = new Promise<boolean>((r) => (resolve = r));
        this.pracks.set(key, { rseq, arrived: () => resolve(true) });
        return {
          arrived,
          cancel: () => {
            this.pracks.delete(key);
            resolve(false);
          },
        };
      },
      earlyDialog: (tx, localTag) => this.earlyTags.set(tx, localTag),
      whenCancelled: (tx, then) => this.cancelWatchers.set(tx, then),
      byeAfterAck: (call, send) => {
        const key = call.dialogKey;
        const tx = this.inviteTx.get(key);
        if (tx === undefined || tx.state !== 'accepted' || this.state !== 'listening') return undefined;
        return new Promise<void>((resolve) => {
          const release = (sendBye: boolean): Promise<void> => (sendBye ? send() : Promise.resolve()).then(resolve);
          this.byesAwaitingAck.set(key, { tx, release });
        });
      },
      expectAck: (key, tx, onAck, onGone) => {
        this.inviteTx.set(key, tx);
        this.lateOffers.set(key, { onAck, onGone, tx });
      },
    };
    this.outbound = new OutboundCalls({
      ctx: this.inviteCtx,
      targets: this.transferTargets,
      isListening: () => this.state === 'listening',
      hasTransport: (t) => this.transports.has(t),
    });
  }

  /** Bind the transports; resolves with the SIP port (useful with port 0). */
  async listen(): Promise<number> {
    if (this.state !== 'new') throw evxError('EVX_ERR_SIP_CLOSED', 'SipServer.listen() called twice or after close');
    this.state = 'listening';
    const wanted = this.opts.port ?? 5060;
    let port = 0;
    // with an ephemeral port, UDP picks it and TCP must get the same number: retry if it is taken
    for (let attempt = 0; ; attempt++) {
      try {
        port = await this.bindTransports(wanted);
        break;
      } catch (err) {
        for (const t of this.transports.values()) await t.close();
        this.transports.clear();
        if (wanted !== 0 || attempt >= 5) {
          await this.close();
          throw err;
        }
      }
    }
    this.boundPort = port;
    const interval = this.opts.qualityIntervalMs ?? 5000;
    this.qualityTimer = setInterval(() => this.qualityTick(), interval);
    this.qualityTimer.unref();
    return port;
  }

  private async bindTransports(wanted: number): Promise<number> {
    let port = wanted;
    for (const name of this.opts.transports ?? ['udp', 'tcp']) {
      if (name === 'tls') continue; // on its own port, below
      const t: SipTransport =
        name === 'udp' ? new UdpTransport(this.host, port, (b, p, d) => this.onBytes(b, p, d)) : this.streamTransport('tcp', port);
      this.transports.set(name, t);
      port = await t.listen(); // UDP and TCP share the (possibly ephemeral) port
    }
    if (this.opts.transports?.includes('tls') === true) {
      const t = this.streamTransport('tls', this.opts.tlsPort ?? 5061);
      this.transports.set('tls', t);
      this.boundTlsPort = await t.listen();
    }
    return port;
  }

  private streamTransport(name: 'tcp' | 'tls', port: number): StreamTransport {
    const tlsOpts = this.opts.tls;
    if (name === 'tls' && tlsOpts === undefined) throw evxError('EVX_ERR_SIP_TRANSPORT', 'SIP over TLS needs a certificate and key');
    return new StreamTransport(
      name,
      this.host,
      port,
      {
        maxConnections: this.opts.maxTcpConnections ?? 1024,
        maxConnectionsPerSource: this.opts.maxTcpConnectionsPerSource ?? 32,
        idleTimeoutMs: this.opts.tcpIdleTimeoutMs ?? 600_000,
        limits: this.opts.limits ?? DEFAULT_SIP_LIMITS,
        onLimited: (_reason, peer) => this.countReject('connection_limit', undefined, undefined, peer),
        onConnectFailed: (peer) => this.txl.failFlow(peer),
        ...(tlsOpts === undefined
          ? {}
          : {
              tlsServer: () => {
                const cas = tlsOpts.clientCas?.() ?? '';
                return { ...tlsOpts.certificate(), ...(cas === '' ? {} : { ca: cas, requestCert: true }) };
              },
              tlsClient: (peer: SipPeer) => tlsOpts.client?.(peer) ?? {},
              admitTls: (sock, peer) => {
                if (tlsOpts.requireClientCert?.(peer.address) !== true || sock.authorized) return true;
                this.countReject('tls', undefined, undefined, peer);
                return false;
              },
              onTlsError: (peer: SipPeer) => this.countReject('tls', undefined, undefined, peer),
            }),
      },
      (b, p, d) => this.onBytes(b, p, d),
      (_reason, peer) => this.countReject('malformed', undefined, undefined, peer),
    );
  }

  /** Take the TLS certificate (and client CAs) again, for new connections: no restart, calls stay up. */
  reloadTls(): void {
    const t = this.transports.get('tls');
    if (t instanceof StreamTransport) t.reloadTls();
  }

  /** The SIP over TLS port (0 when TLS is off). */
  get tlsPort(): number {
    return this.boundTlsPort;
  }

  get port(): number {
    return this.boundPort;
  }

  /** Where we are for a peer on its transport (Via, Contact). */
  localEndpoint(peer: SipPeer): LocalEndpoint {
    return { host: this.host, port: peer.transport === 'tls' ? this.boundTlsPort : this.boundPort, transport: peer.transport };
  }

  /**
   * Send an out-of-dialog request (trunk keep-alive, registration) in a client transaction; over
   * TCP/TLS a connection is opened when none is. Resolves with the final response.
   */
  request(req: SipRequest, peer: SipPeer): Promise<SipResponse> {
    if (this.state !== 'listening') return Promise.reject(evxError('EVX_ERR_SIP_CLOSED', 'SIP server is not listening'));
    if (!this.transports.has(peer.transport)) {
      return Promise.reject(
        evxError('EVX_ERR_SIP_TRANSPORT', `SIP transport ${peer.transport} is not enabled`, { details: { transport: peer.transport } }),
      );
    }
    return this.txl.request(req, peer);
  }

  private send(bytes: Buffer, peer: SipPeer): void {
    const t = this.transports.get(peer.transport);
    if (t === undefined || !t.send(bytes, peer)) this.counters.sendFailures++;
  }

  private countReject(reason: RejectReason, method: string | undefined, status: number | undefined, peer: SipPeer): void {
    if (reason === 'malformed') this.counters.malformed++;
    else if (reason === 'allow_list') this.counters.rejectedAllowList++;
    else if (reason === 'rate_limit') this.counters.rejectedRateLimit++;
    else if (reason === 'auth') this.counters.rejectedAuth++;
    else if (reason === 'capacity') this.counters.rejectedCapacity++;
    else if (reason === 'tls') this.counters.rejectedTls++;
    else if (reason === 'scanner') this.counters.rejectedScanner++;
    else if (reason === 'srtp') this.counters.rejectedSrtp++;
    else this.counters.rejectedOther++;
    this.events.emit('sip.rejected', { reason, method, status, pii: { source: peer.address } });
  }

  private onBytes(bytes: Buffer, peer: SipPeer, datagram: boolean): void {
    // While closing, the answers to our BYEs still count (dropping them resent every BYE at T1);
    // new requests do not.
    if (this.state !== 'listening' && this.state !== 'closing') return;
    try {
      this.handleBytes(bytes, peer, datagram);
    } catch {
      // a bug in a handler must not take the server down; count it
      this.counters.internalErrors++;
    }
  }

  private handleBytes(bytes: Buffer, peer: SipPeer, datagram: boolean): void {
    // UDP keep-alives (CRLF / empty datagrams) carry no message
    if (bytes.length <= 4 && bytes.every((b) => b === 0x0d || b === 0x0a || b === 0x00)) return;
    this.counters.received++;
    if (!this.allow.allows(peer.address)) return this.countReject('allow_list', undefined, undefined, peer);
    if (!this.limiter.take(peer.address)) return this.countReject('rate_limit', undefined, undefined, peer);
    const parsed = parseSipMessage(bytes, this.opts.limits ?? DEFAULT_SIP_LIMITS, datagram);
    if (!parsed.ok) {
      if (canAddressResponse(parsed)) {
        const res = buildResponse({ headers: parsed.headers! }, parsed.status, {
          reason: parsed.status === 400 ? `Bad Request (${parsed.reason})` : undefined,
          toTag: randomToken(),
        });
        this.send(serializeSipMessage(res), peer);
      }
      return this.countReject('malformed', parsed.method, canAddressResponse(parsed) ? parsed.status : undefined, peer);
    }
    const msg = parsed.message;
    if (msg.kind === 'response') return this.onResponse(msg);
    if (this.isScanner(msg)) return this.countReject('scanner', msg.method, undefined, peer); // no answer: nothing to learn
    if (this.state !== 'listening') return;
    this.onRequest(msg, peer);
  }

  /** A request from a known scanner's user agent (sipvicious and friends), when dropping them is on. */
  private isScanner(req: SipRequest): boolean {
    if (this.scannerAgents.length === 0) return false;
    const ua = (req.headers.get('user-agent') ?? '').toLowerCase();
    return ua !== '' && this.scannerAgents.some((s) => ua.includes(s));
  }

  private onResponse(res: SipResponse): void {
    if (this.txl.onResponse(res)) return;
    if (this.outbound.onStrayResponse(res)) return;
    // a retransmitted 2xx to our re-INVITE (its transaction is gone): the call repeats its ACK (§13.2.2.4)
    if (res.status >= 200 && res.status < 300 && (res.headers.get('cseq') ?? '').endsWith(' INVITE')) {
      const ourTag = tagOf(res.headers.get('from'));
      if (ourTag !== undefined) this.calls.get(`${res.headers.get('call-id')}|${ourTag}`)?.resendAck();
    }
  }

  private onRequest(req: SipRequest, peer: SipPeer): void {
    const mf = req.headers.get('max-forwards');
    const d = this.txl.onRequest(req, peer);
    if (d.type === 'absorbed') return;
    if (d.type === 'overload') {
      if (req.method !== 'ACK') this.send(serializeSipMessage(buildResponse(req, 503, { headers: { 'retry-after': '5' } })), peer);
      return this.countReject('overload', req.method, 503, peer);
    }
    const tx = d.tx;
    if (req.method === 'ACK') return this.onAck(req);
    if (tx === undefined) return;
    if (mf !== undefined && Number(mf) === 0 && req.method !== 'OPTIONS')
      return tx.respond(buildResponse(req, 483, { toTag: randomToken() }));
    if (req.method === 'CANCEL') return this.onCancel(req, tx);
    const toTag = tagOf(req.headers.get('to'));
    if (toTag !== undefined) {
      const key = `${req.headers.get('call-id')}|${toTag}`;
      if (req.method === 'PRACK' && this.pracks.has(key)) return this.onPrack(req, tx, key);
      const call = this.calls.get(key);
      if (call === undefined) {
        if (req.method === 'BYE' && this.lateOffers.has(key)) return this.onByeBeforeAck(req, tx, key);
        if (req.method === 'BYE' && this.byesAwaitingAck.has(key)) return this.onByeWhileAwaitingAck(req, tx, key);
        return tx.respond(buildResponse(req, 481));
      }
      // A re-INVITE's 2xx is retransmitted until its ACK, which (like the first one's) matches by
      // dialog, not by transaction: without this, every hold or refresh resent its 200 for 32 s.
      if (req.method === 'INVITE') this.inviteTx.set(key, tx);
      return call.handleRequest(req, tx);
    }
    switch (req.method) {
      case 'OPTIONS':
        return this.onOptions(req, tx);
      case 'INVITE':
        void answerInvite(this.inviteCtx, req, tx, peer).catch(() => {
          if (tx.state === 'proceeding') tx.respond(buildResponse(req, 500, { toTag: randomToken() }));
        });
        return;
      case 'BYE':
      case 'REFER':
      case 'NOTIFY':
      case 'UPDATE':
      case 'INFO':
        return tx.respond(buildResponse(req, 481, { toTag: randomToken() }));
      case 'REGISTER':
        // without a registrar REGISTER is refused like any method the box does not serve
        if (this.opts.registrar !== undefined) return this.onRegister(this.opts.registrar, req, tx, peer);
        return this.notAllowed(req, tx, peer);
      default:
        return this.notAllowed(req, tx, peer);
    }
  }

  /**
   * OPTIONS outside a dialog (RFC 3261 §11): 200 with what the box serves while it would take a new
   * call; 503 + Retry-After while it is full or its admission control says no (draining, recognition
   * lagging), the answer a new INVITE would get, so health probes route calls elsewhere.
   */
  private onOptions(req: SipRequest, tx: ServerTransaction): void {
    const refusal = this.availability();
    if (refusal !== undefined) {
      return tx.respond(buildResponse(req, 503, { toTag: randomToken(), headers: { 'retry-after': String(refusal.retryAfterS) } }));
    }
    tx.respond(
      buildResponse(req, 200, {
        toTag: randomToken(),
        headers: { allow: this.allowed, accept: 'application/sdp, multipart/mixed', supported: `${SUPPORTED}, siprec` },
      }),
    );
  }

  /** Why a new call would be refused now (capacity or admission control), or undefined when it would be taken. */
  private availability(): { retryAfterS: number } | undefined {
    if (this.calls.size + this.pending >= (this.opts.maxCalls ?? 100)) return { retryAfterS: this.opts.retryAfterSec ?? 30 };
    const decision = this.opts.availability?.();
    return decision === undefined || decision.ok ? undefined : { retryAfterS: decision.retryAfterS };
  }

  private notAllowed(req: SipRequest, tx: ServerTransaction, peer: SipPeer): void {
    tx.respond(buildResponse(req, 405, { toTag: randomToken(), headers: { allow: this.allowed } }));
    this.countReject('unsupported', req.method, 405, peer);
  }

  /** Methods served out of dialog: REGISTER only when a registrar is configured. */
  private get allowed(): string {
    return this.opts.registrar === undefined ? ALLOW : `${ALLOW}, REGISTER`;
  }

  /** REGISTER from an agent's phone: the registrar answers; its refusals are counted (401 and 403 as auth, like INVITE's). */
  private onRegister(registrar: RegistrarLike, req: SipRequest, tx: ServerTransaction, peer: SipPeer): void {
    let res: SipResponse;
    try {
      res = registrar.handle(req, peer);
    } catch {
      this.counters.internalErrors++;
      res = buildResponse(req, 500, { toTag: randomToken() });
    }
    tx.respond(res);
    if (res.status < 300) return;
    const reason: RejectReason = res.status === 401 || res.status === 403 ? 'auth' : res.status === 400 ? 'malformed' : 'unsupported';
    this.countReject(reason, req.method, res.status, peer);
  }

  private onAck(req: SipRequest): void {
    const toTag = tagOf(req.headers.get('to'));
    if (toTag === undefined) return;
    const key = `${req.headers.get('call-id')}|${toTag}`;
    // an earlier INVITE's ACK again (retransmitted, or late in the network) acknowledges nothing now:
    // taken, it stopped the 2xx of the INVITE awaiting its ACK and used up the answer that ACK carries
    const awaiting = this.inviteTx.get(key) ?? this.lateOffers.get(key)?.tx;
    if (awaiting !== undefined && cseqNumber(awaiting.request) !== cseqNumber(req)) return;
    const late = this.lateOffers.get(key);
    if (late !== undefined) {
      this.lateOffers.delete(key);
      late.onAck(req);
    }
    this.calls.get(key)?.onAck(req);
    // ACK for a 2xx has its own branch: stop the INVITE transaction's 2xx retransmissions here
    this.inviteTx.get(key)?.onAck();
    this.inviteTx.delete(key);
    void this.releaseBye(key, true);
  }

  /** Our hang-ups whose BYE waits for the ACK of our 2xx (§15), by dialog key: ended here, not yet there. */
  private readonly byesAwaitingAck = new Map<string, { tx: ServerTransaction; release: (sendBye: boolean) => Promise<void> }>();

  /** Settle a BYE waiting for its ACK: send it (resolves when answered or given up) or drop it. */
  private releaseBye(key: string, sendBye: boolean): Promise<void> {
    const waiting = this.byesAwaitingAck.get(key);
    if (waiting === undefined) return Promise.resolve();
    this.byesAwaitingAck.delete(key);
    return waiting.release(sendBye);
  }

  /** The peer's BYE crossed ours, still waiting for its ACK: the dialog is over, ours is not sent. */
  private onByeWhileAwaitingAck(req: SipRequest, tx: ServerTransaction, key: string): void {
    this.inviteTx.get(key)?.onDialogEnded();
    this.inviteTx.delete(key);
    void this.releaseBye(key, false);
    tx.respond(buildResponse(req, 200));
  }

  /** The To tag of the early dialog a ringing INVITE opened (its 180), for the 487 that ends it. */
  private readonly earlyTags = new WeakMap<ServerTransaction, string>();
  /** Who waits on a ringing INVITE to be CANCELled (the answer delay). */
  private readonly cancelWatchers = new WeakMap<ServerTransaction, () => void>();
  /** Answered INVITE transactions awaiting their ACK, by dialog key. */
  private readonly inviteTx = new Map<string, ServerTransaction>();
  /** Reliable provisionals awaiting their PRACK (RFC 3262), by early dialog key. */
  private readonly pracks = new Map<string, { rseq: number; arrived: () => void }>();
  /** Late offers: 2xx with our offer sent, the answer comes in the ACK. */
  private readonly lateOffers = new Map<
    string,
    { onAck: (ack: SipRequest) => void; onGone: (byeNeeded: boolean) => void; tx: ServerTransaction }
  >();

  /**
   * BYE in a late-offer dialog whose ACK (with the answer) has not come: the caller hung up at once
   * and its ACK was lost or overtaken. The dialog exists since our 2xx (§15), so the BYE ends it
   * here: ports and the admission place go, the 2xx stops, and a late ACK starts no call (before,
   * the BYE got 481 and the retransmitted ACK then started a call nobody would ever hang up).
   */
  private onByeBeforeAck(req: SipRequest, tx: ServerTransaction, key: string): void {
    const late = this.lateOffers.get(key)!;
    this.lateOffers.delete(key);
    this.inviteTx.get(key)?.onAck();
    this.inviteTx.delete(key);
    late.onGone(false);
    tx.respond(buildResponse(req, 200));
  }

  /** PRACK of a reliable provisional (RFC 3262 §3, RAck: rseq cseq method). */
  private onPrack(req: SipRequest, tx: ServerTransaction, key: string): void {
    const wanted = this.pracks.get(key)!;
    const rack = /^\s*(\d+)\s+(\d+)\s+INVITE\s*$/i.exec(req.headers.get('rack') ?? '');
    if (rack === null || Number(rack[1]) !== wanted.rseq) return tx.respond(buildResponse(req, 481));
    tx.respond(buildResponse(req, 200));
    this.pracks.delete(key);
    wanted.arrived();
  }

  private onCancel(req: SipRequest, tx: ServerTransaction): void {
    const invite = this.txl.findInviteFor(req);
    if (invite === undefined) return tx.respond(buildResponse(req, 481, { toTag: randomToken() }));
    tx.respond(buildResponse(req, 200, { toTag: randomToken() }));
    // one To tag for every response to the INVITE (§8.2.6.2): the 180's when it rang
    if (invite.state !== 'proceeding') return;
    invite.respond(buildResponse(invite.request, 487, { toTag: this.earlyTags.get(invite) ?? randomToken() }));
    this.cancelWatchers.get(invite)?.();
    this.cancelWatchers.delete(invite);
  }

  private onAckTimeout(tx: ServerTransaction): void {
    if (tx.finalStatus < 200 || tx.finalStatus >= 300) return;
    // the ACK will not come: a BYE that waited for it goes now (§13.3.1.4 ends such a dialog with BYE)
    for (const [key, waiting] of this.byesAwaitingAck) {
      if (waiting.tx !== tx) continue;
      this.inviteTx.delete(key);
      void this.releaseBye(key, true);
    }
    for (const [key, t] of this.inviteTx) if (t === tx) this.inviteTx.delete(key);
    for (const [key, late] of this.lateOffers) {
      if (late.tx !== tx) continue;
      this.lateOffers.delete(key);
      this.inviteTx.delete(key);
      late.onGone(true);
    }
    const toTag = tagOf(tx.request.headers.get('to'));
    // the 2xx was never acknowledged (§13.3.1.4): hang up the call it created
    for (const call of this.calls.values()) {
      if (call.dialog.callId === tx.request.headers.get('call-id') && (toTag === undefined || call.dialog.localTag === toTag)) {
        if (call.dialog.state === 'early') void call.hangup('ack_timeout');
      }
    }
  }

  private qualityTick(): void {
    const timeout = this.opts.rtpTimeoutMs ?? 0;
    const now = performance.now();
    for (const call of [...this.byId.values()]) {
      if (call.state !== 'active') continue;
      const legs: LegQuality[] = call.quality();
      this.events.emit('call.quality', { callId: call.id, legs });
      if (timeout > 0 && !call.held && call.legs.every((l) => now - l.lastPacketAtMs > timeout)) void call.hangup('media_timeout');
    }
  }

  /** Active calls (answered, not ended). */
  get activeCalls(): number {
    return this.byId.size;
  }

  /** Resources still held: for leak checks in tests and readiness. */
  resources(): {
    calls: number;
    pendingInvites: number;
    rtpPortPairs: number;
    serverTransactions: number;
    clientTransactions: number;
    tcpConnections: number;
  } {
    return {
      calls: this.byId.size,
      pendingInvites: this.pending,
      rtpPortPairs: this.ports.allocated,
      serverTransactions: this.txl.serverCount,
      clientTransactions: this.txl.clientCount,
      tcpConnections: (this.transports.get('tcp')?.connectionCount ?? 0) + (this.transports.get('tls')?.connectionCount ?? 0),
    };
  }

  callQuality(callId: string): LegQuality[] {
    const call = this.byId.get(callId);
    if (call === undefined) throw evxError('EVX_ERR_SIP_CALL_NOT_FOUND', 'no active call with that id', { details: { callId } });
    return call.quality();
  }

  /** Hang up a call: it ends at once; resolves when its BYE is answered (after our 2xx's ACK, §15). */
  async hangup(callId: string, reason: CallEndReason = 'local_hangup'): Promise<void> {
    const call = this.byId.get(callId);
    if (call === undefined) throw evxError('EVX_ERR_SIP_CALL_NOT_FOUND', 'no active call with that id', { details: { callId } });
    await call.hangup(reason);
  }

  /** Blind-transfer the caller with REFER; resolves with the REFER's final status. */
  async transfer(callId: string, targetUri: string): Promise<number> {
    // Checked here as well as where targets are saved: a record that reached the store any other
    // way (an older version, a restored backup) still cannot send a caller off the allowed networks.
    this.transferTargets.assertAllowed(targetUri, 'transfer target');
    const call = this.byId.get(callId);
    if (call === undefined) throw evxError('EVX_ERR_SIP_CALL_NOT_FOUND', 'no active call with that id', { details: { callId } });
    return call.transfer(targetUri);
  }

  /**
   * Who carries out a transfer a peer asks for (its REFER): resolves with the final status for the
   * peer's NOTIFY. Without one, such transfers are declined (603): the box does not place calls on
   * a caller's behalf unless the contact-centre layer takes them on. `owns`: the calls whose REFERs
   * the handler decides in full, the transfer-target policy included (the ACD's agent legs, whose
   * targets are mostly places on the box itself); for other calls the policy is checked here first.
   */
  setReferralHandler(handler: ReferralHandler | undefined, owns?: (callId: string) => boolean): void {
    this.referralHandler = handler;
    this.referralOwner = handler === undefined ? undefined : owns;
  }

  private async decideReferral(call: Call, targetUri: string): Promise<number> {
    // the same rule as our own transfers: never send a caller off the allowed networks
    const owned = this.referralOwner?.(call.id) === true;
    if (!owned && this.transferTargets.problem(targetUri) !== null) return 403;
    const handler = this.referralHandler;
    if (handler === undefined) return 603;
    const limitMs = this.opts.referralTimeoutMs ?? 32_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<number>((resolve) => {
      timer = setTimeout(() => resolve(408), limitMs);
      timer.unref();
    });
    try {
      return await Promise.race([handler(call.id, targetUri), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Place a call (outbound INVITE, see outbound.ts): to a registered contact or a SIP URI inside
   * `transferTargets`. Throws when nothing could be sent; otherwise `result` tells how it went and
   * an answered call is a normal Call (in `hangup`, `leg`, `call.ended`; no `call.started`).
   */
  placeCall(opts: PlaceCallOptions): OutboundCall {
    return this.outbound.place(opts);
  }

  /**
   * The one way to call out through the SIP trunks at `trunks` (IPv4 address and port), handed out
   * once: the trunk dialer (trunkDialer.ts) takes it, with its allow-lists and caps. From then on
   * `placeCall` refuses a target on those addresses and ports.
   */
  claimTrunkLine(trunks: readonly { readonly address: string; readonly port: number }[]): TrunkLine {
    return this.outbound.claimTrunkLine(trunks);
  }

  /** Bridge the media of two active calls (their first legs), e.g. a caller and the agent the box called. */
  bridge(callIdA: string, callIdB: string): MediaBridge {
    return new MediaBridge(this.leg(callIdA, 'leg0').rtp, this.leg(callIdB, 'leg0').rtp);
  }

  /** An active call's dialog as the box sees it (RFC 3891 matching: Call-ID, our tag, the peer's tag) and its peer. */
  dialogOf(callId: string): { sipCallId: string; localTag: string; remoteTag: string | undefined; peer: SipPeer } | undefined {
    const d = this.byId.get(callId)?.dialog;
    return d === undefined ? undefined : { sipCallId: d.callId, localTag: d.localTag, remoteTag: d.remoteTag, peer: d.peer };
  }

  /** A call's media leg (play a prompt into it with rtp/player.ts `playPcm(leg.rtp, ...)`). */
  leg(callId: string, legId: string): MediaLeg {
    const call = this.byId.get(callId);
    const leg = call?.legs.find((l) => l.info.legId === legId);
    if (leg === undefined) throw evxError('EVX_ERR_SIP_CALL_NOT_FOUND', 'no active call leg with that id', { details: { callId, legId } });
    return leg;
  }

  /** End every call (BYE), terminate transactions, close transports. Idempotent. */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.closing = (async () => {
      this.state = 'closing';
      this.outbound.close(); // CANCEL what still rings while the transports are up
      if (this.qualityTimer !== undefined) clearInterval(this.qualityTimer);
      this.qualityTimer = undefined;
      // shutting down: BYEs still waiting for an ACK go now, while the transports are up
      const waiting = [...this.byesAwaitingAck.keys()].map((key) => this.releaseBye(key, true));
      const byes = [...waiting, ...[...this.byId.values()].map((c) => c.hangup('shutdown'))];
      // BYEs are best effort: wait for their answers at most one second
      await Promise.race([Promise.allSettled(byes), new Promise((r) => setTimeout(r, 1000).unref())]);
      for (const c of [...this.byId.values()]) c.end('shutdown');
      this.txl.close();
      this.inviteTx.clear();
      for (const late of this.lateOffers.values()) late.onGone(false);
      this.lateOffers.clear();
      this.pracks.clear();
      for (const t of this.transports.values()) await t.close();
      this.transports.clear();
      this.state = 'closed';
    })();
    return this.closing;
  }
}

function cseqNumber(m: SipRequest): number | undefined {
  return parseCSeq(m.headers.get('cseq') ?? '')?.seq;
}
