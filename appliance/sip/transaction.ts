/**
 * SIP transactions (RFC 3261 §17, with RFC 6026's "Accepted" state for 2xx to INVITE).
 *
 * Server: INVITE (Proceeding -> Accepted | Completed -> Confirmed -> Terminated) and non-INVITE
 * (Trying -> Proceeding -> Completed -> Terminated). Client: INVITE (Timer A/B/D) and non-INVITE
 * (Timer E/F/K). On UDP the timers retransmit and absorb retransmissions; on TCP (reliable) the
 * retransmit timers are off and the wait timers are zero. Timers use the global setTimeout, so
 * tests drive them with fake timers.
 */
import { parseCSeq, parseVia } from './grammar.js';
import type { SipRequest, SipResponse } from './message.js';
import { serializeSipMessage } from './serialize.js';

export interface SipTimers {
  readonly t1Ms: number;
  readonly t2Ms: number;
  readonly t4Ms: number;
}

export const DEFAULT_TIMERS: SipTimers = { t1Ms: 500, t2Ms: 4000, t4Ms: 5000 };

/** Longest a client INVITE transaction that got a provisional waits for its final response. */
export const INVITE_TIMER_C_MS = 181_000;

export type ServerTxState = 'trying' | 'proceeding' | 'accepted' | 'completed' | 'confirmed' | 'terminated';

/** Transaction key of a request (§17.2.3): branch, sent-by and method (ACK matches INVITE). */
export function serverTransactionKey(req: SipRequest): string | undefined {
  const via = parseVia(req.headers.getAll('via')[0] ?? '');
  if (via?.branch === undefined) return undefined;
  const method = req.method === 'ACK' ? 'INVITE' : req.method;
  return `${via.branch}|${via.host}:${via.port ?? 5060}|${method}`;
}

/** Client transaction key of a response: top Via branch + CSeq method. */
export function clientTransactionKey(res: SipResponse): string | undefined {
  const via = parseVia(res.headers.getAll('via')[0] ?? '');
  const cseq = parseCSeq(res.headers.get('cseq') ?? '');
  if (via?.branch === undefined || cseq === undefined) return undefined;
  return `${via.branch}|${cseq.method === 'ACK' ? 'INVITE' : cseq.method}`;
}

class TimerSet {
  private readonly handles = new Set<NodeJS.Timeout>();
  start(ms: number, fn: () => void): NodeJS.Timeout {
    const h = setTimeout(() => {
      this.handles.delete(h);
      fn();
    }, ms);
    this.handles.add(h);
    return h;
  }
  stop(h: NodeJS.Timeout | undefined): void {
    if (h === undefined) return;
    clearTimeout(h);
    this.handles.delete(h);
  }
  clear(): void {
    for (const h of this.handles) clearTimeout(h);
    this.handles.clear();
  }
  get size(): number {
    return this.handles.size;
  }
}

export interface ServerTxEvents {
  /** Final response never acknowledged (Timer H, or Timer L for a 2xx): the TU should end the dialog. */
  onAckTimeout?(tx: ServerTransaction): void;
  onTerminated(tx: ServerTransaction): void;
}

export class ServerTransaction {
  state: ServerTxState;
  readonly isInvite: boolean;
  private last: Buffer | undefined;
  private lastStatus = 0;
  private readonly timers = new TimerSet();
  private retransmit: NodeJS.Timeout | undefined;
  private interval: number;

  constructor(
    readonly key: string,
    readonly request: SipRequest,
    private readonly reliable: boolean,
    private readonly send: (bytes: Buffer) => void,
    private readonly t: SipTimers,
    private readonly events: ServerTxEvents,
  ) {
    this.isInvite = request.method === 'INVITE';
    this.state = this.isInvite ? 'proceeding' : 'trying';
    this.interval = t.t1Ms;
  }

  get finalStatus(): number {
    return this.lastStatus >= 200 ? this.lastStatus : 0;
  }

  /** Send a response through the transaction (ignored once a final response was sent). */
  respond(res: SipResponse): void {
    if (this.state === 'terminated' || this.state === 'completed' || this.state === 'accepted' || this.state === 'confirmed') return;
    const bytes = serializeSipMessage(res);
    this.last = bytes;
    this.lastStatus = res.status;
    this.send(bytes);
    if (res.status < 200) {
      this.state = 'proceeding';
      return;
    }
    const t64 = 64 * this.t.t1Ms;
    if (!this.isInvite) {
      this.state = 'completed';
      this.timers.start(this.reliable ? 0 : t64, () => this.terminate()); // Timer J
      return;
    }
    this.state = res.status < 300 ? 'accepted' : 'completed';
    if (!this.reliable) this.scheduleRetransmit(); // Timer G, or 2xx retransmission (§13.3.1.4)
    this.timers.start(t64, () => {
      // Timer H (non-2xx) / Timer L (2xx)
      const unacked = this.state === 'completed' || this.state === 'accepted';
      if (unacked) this.events.onAckTimeout?.(this);
      this.terminate();
    });
  }

  private scheduleRetransmit(): void {
    this.retransmit = this.timers.start(this.interval, () => {
      if (this.state !== 'completed' && this.state !== 'accepted') return;
      if (this.last !== undefined) this.send(this.last);
      this.interval = Math.min(this.interval * 2, this.t.t2Ms);
      this.scheduleRetransmit();
    });
  }

  /** A retransmission of the request arrived: repeat the last response. */
  onRequestRetransmission(): void {
    if (this.last !== undefined && this.state !== 'terminated' && this.state !== 'confirmed') this.send(this.last);
  }

  /** ACK for this INVITE (non-2xx: same transaction; 2xx: matched by the dialog). */
  onAck(): void {
    if (!this.isInvite) return;
    if (this.state === 'completed') {
      this.state = 'confirmed';
      this.timers.stop(this.retransmit);
      this.timers.start(this.reliable ? 0 : this.t.t4Ms, () => this.terminate()); // Timer I
    } else if (this.state === 'accepted') {
      this.timers.stop(this.retransmit);
      this.state = 'confirmed';
      // stay until Timer L to absorb INVITE retransmissions
    }
  }

  /**
   * The dialog our 2xx set up ended before its ACK (a BYE overtook it, or we hung up): the 2xx
   * has nobody left to reach, so its retransmissions stop (§13.3.1.4 sends them to set the dialog
   * up). The transaction stays until Timer L to absorb INVITE retransmissions.
   */
  onDialogEnded(): void {
    if (this.state === 'accepted') this.timers.stop(this.retransmit);
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.timers.clear();
    this.last = undefined;
    this.events.onTerminated(this);
  }

  get pendingTimers(): number {
    return this.timers.size;
  }
}

export type ClientTxResult =
  | { readonly type: 'response'; readonly response: SipResponse }
  | { readonly type: 'timeout' }
  | { readonly type: 'aborted' }
  | { readonly type: 'unreachable' };

export class ClientTransaction {
  state: 'calling' | 'trying' | 'proceeding' | 'completed' | 'terminated';
  readonly isInvite: boolean;
  private readonly timers = new TimerSet();
  private retransmit: NodeJS.Timeout | undefined;
  private interval: number;
  private readonly bytes: Buffer;
  private ackBytes: Buffer | undefined;

  constructor(
    readonly key: string,
    request: SipRequest,
    private readonly reliable: boolean,
    private readonly send: (bytes: Buffer) => void,
    private readonly t: SipTimers,
    /** Called once with the final response or a timeout; provisional responses are passed too. */
    private readonly onResult: (r: ClientTxResult) => void,
    /** For INVITE: builds the ACK of a non-2xx final response (§17.1.1.3). */
    private readonly buildAck: ((res: SipResponse) => SipRequest) | undefined,
    private readonly onTerminated: (tx: ClientTransaction) => void,
  ) {
    this.isInvite = request.method === 'INVITE';
    this.state = this.isInvite ? 'calling' : 'trying';
    this.interval = this.t.t1Ms;
    this.bytes = serializeSipMessage(request);
  }

  start(): void {
    this.send(this.bytes);
    if (!this.reliable) this.scheduleRetransmit();
    this.timers.start(64 * this.t.t1Ms, () => {
      // Timer B (INVITE, only while Calling: a 1xx stops it, §17.1.1.2) / Timer F (non-INVITE)
      if (this.state === 'completed' || this.state === 'terminated') return;
      if (this.isInvite && this.state === 'proceeding') return;
      this.timeout();
    });
    // A ringing INVITE waits for its final answer as long as its TU likes (the TU CANCELs it);
    // Timer C (§16.6, > 3 min) bounds it so a peer that never answers the CANCEL leaks nothing.
    if (this.isInvite) this.timers.start(INVITE_TIMER_C_MS, () => this.timeout());
  }

  private timeout(): void {
    if (this.state === 'completed' || this.state === 'terminated') return;
    this.onResult({ type: 'timeout' });
    this.terminate();
  }

  private scheduleRetransmit(): void {
    this.retransmit = this.timers.start(this.interval, () => {
      if (this.state === 'completed' || this.state === 'terminated') return;
      if (this.isInvite && this.state === 'proceeding') return; // Timer A stops on 1xx
      this.send(this.bytes);
      this.interval = this.isInvite ? this.interval * 2 : Math.min(this.interval * 2, this.t.t2Ms);
      if (this.state === 'proceeding') this.interval = this.t.t2Ms; // §17.1.2.2
      this.scheduleRetransmit();
    });
  }

  receive(res: SipResponse): void {
    if (this.state === 'terminated') return;
    if (this.state === 'completed') {
      if (this.ackBytes !== undefined) this.send(this.ackBytes); // retransmitted final: repeat ACK
      return;
    }
    if (res.status < 200) {
      this.state = 'proceeding';
      this.onResult({ type: 'response', response: res });
      return;
    }
    this.timers.stop(this.retransmit);
    this.onResult({ type: 'response', response: res });
    if (this.isInvite && res.status < 300) {
      this.terminate(); // the TU sends the ACK for 2xx
      return;
    }
    if (this.isInvite && this.buildAck !== undefined) {
      this.ackBytes = serializeSipMessage(this.buildAck(res));
      this.send(this.ackBytes);
    }
    this.state = 'completed';
    const wait = this.reliable ? 0 : this.isInvite ? 32_000 : this.t.t4Ms; // Timer D / K
    this.timers.start(wait, () => this.terminate());
  }

  /** Stop without a final response (server closing): the caller is told `aborted`. */
  abort(): void {
    if (this.state === 'terminated') return;
    if (this.state !== 'completed') this.onResult({ type: 'aborted' });
    this.terminate();
  }

  /** The flow to the peer failed (connection refused, TLS handshake failed; §8.1.3.1): told `unreachable`. */
  fail(): void {
    if (this.state === 'terminated' || this.state === 'completed') return;
    this.onResult({ type: 'unreachable' });
    this.terminate();
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.timers.clear();
    this.onTerminated(this);
  }
}
