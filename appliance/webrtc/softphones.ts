/**
 * Agents' browser softphones as endpoints the ACD can ring (acd/acdCalls.ts `AcdSoftphones`).
 *
 * A softphone is "connected" while the agent page keeps a presence socket open: a signalling socket
 * whose first message is `ready` with an agent token (role agent; the token's subject is the agent
 * id). Each such socket is one endpoint: `connected` / `disconnected` events (one per socket) feed
 * the agent's presence like a SIP registration (app/acdSoftphones.ts).
 *
 * Ringing: `ring(agentId, callId, ringTimeoutMs)` pushes `offer` to each of the agent's presence
 * sockets (and to one that connects while it rings). Its result is
 *   answered                 the agent joined `callId` (the ordinary `join`, on a socket of its own)
 *                            within the timeout: resolved from the registry's `participantJoined`,
 *                            before the agent can send any audio, so the ACD stops its hold music on
 *                            the caller's leg before the SIP bridge relays the agent's voice there;
 *   failed, noAnswer: true   the ring timed out, or the agent sent `decline`;
 *   failed, noAnswer: false  every socket it rang on closed, or `cancel()`.
 * Whenever an offer stops ringing for another reason than the join, the agent's sockets get
 * `offer-cancelled` with the reason.
 *
 * The caller's customer (`setCustomers`: customers/softphoneCustomer.ts, the open chats and e-mail
 * cases first) follows each offer on the sockets it rings (`customer`, off the ringing path: a slow
 * or failing read never delays or breaks the offer), and an agent's `customer` request is answered
 * for a call ringing them or answered by them only; any other call is refused (deny by default).
 *
 * A presence socket lasts no longer than its agent's admission (`setAdmission`: on the roster):
 * once the agent is removed, the next offer or customer for it, or its next request, closes the
 * socket (the session's `end`, CREDENTIAL_ENDED) instead of being sent or carried out.
 *
 * A call offered here is guarded until it ends: only the agent it rings (or who answered it) may
 * join it as an agent (`mayJoin`, checked at join); an agent whose join raced the end of the ring,
 * or who answered after another endpoint won (`hangUpAnswered`), is taken out of the call again
 * without ending it (WebRtcCall.remove), so the caller is never left with two agents or with an
 * agent talking over the queue's music.
 */
import { evxError, isEdgeVoxError } from '../errors.js';
import { TypedEmitter } from '../events/typedEmitter.js';
import type { AcdSoftphones, AgentRing, RingOutcome } from '../acd/agentRing.js';
import type { AgentTransferRequest } from '../acd/acdCalls.js';
import type { Logger } from '../log/logger.js';
import type { SoftphoneControl, SoftphoneControlResult } from './softphoneControl.js';
import type { SoftphoneCustomer } from '../customers/softphoneCustomer.js';
import type { CallOffer, OfferEndReason, ServerMessage } from './protocol.js';
import type { ParticipantRole } from './tokens.js';
import type { WebRtcCallsEvents } from './webrtcCalls.js';
import { CREDENTIAL_ENDED } from '../auth/socketClose.js';

export interface SoftphoneEvents {
  /** A presence socket of the agent became ready (`softphones`: how many the agent has now). */
  connected: { agentId: string; softphones: number };
  /** One of the agent's presence sockets closed. */
  disconnected: { agentId: string; softphones: number };
}

/** What the signalling session holds for a ready socket. */
export interface SoftphoneConnection {
  readonly agentId: string;
  /** The agent refused the offer of `callId` (ignored when it no longer rings). */
  decline(callId: string): void;
  /** The caller's customer of `callId`, when it rings this agent or they answered it; throws the refusal. */
  customer(callId: string): SoftphoneCustomer | null;
  /** The agent holds or resumes the call they are on (softphoneControl.ts); throws the refusal. */
  hold(callId: string, held: boolean): { held: boolean };
  /** The agent transfers the call they are on; resolves when it is over, throws the refusal. */
  transfer(callId: string, target: AgentTransferRequest): Promise<{ status: number }>;
  /** The socket closed. Idempotent. */
  close(): void;
}

/** The signalling side of the hub (signalling.ts `ready`). */
export interface SoftphoneHub {
  /**
   * Registers a presence socket; throws EVX_ERR_WEBRTC_AUTH when the agent may not take calls here.
   * `end` closes the socket once its agent no longer may (removed from the roster).
   */
  connect(agentId: string, send: (message: ServerMessage) => void, end?: (code: number, reason: string) => void): SoftphoneConnection;
}

/** The parts of the call registry the hub uses. */
export interface SoftphoneCallRegistry {
  readonly events: Pick<TypedEmitter<WebRtcCallsEvents>, 'on'>;
  get(callId: string): { remove(participantId: string, reason: string): boolean } | undefined;
}

export interface WebRtcSoftphonesDeps {
  readonly registry: SoftphoneCallRegistry;
  /**
   * What a softphone needs to take `callId` (source, codec to send), or undefined when a browser
   * cannot be bridged into it (e.g. a SIP call whose codec is not G.711): then the softphone is not rung.
   */
  readonly callInfo: (callId: string) => Pick<CallOffer, 'source' | 'agentCodec'> | undefined;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'debug'>;
  readonly onListenerError?: (event: string, err: unknown) => void;
}

/** A control's answer, or its refusal thrown (the page shows the message; `status` as a REFER's). */
function controlled(result: SoftphoneControlResult | undefined): number {
  if (result === undefined) throw evxError('EVX_ERR_WEBRTC_SIGNALLING', 'Hold and transfer are not available on this appliance');
  if (!result.ok) throw evxError('EVX_ERR_WEBRTC_SIGNALLING', result.message, { details: { status: result.status } });
  return result.status;
}

/** Guarded calls kept at most (a call leaves at its end; this bounds a leak if an end is missed). */
const MAX_GUARDED = 10_000;

class Connection implements SoftphoneConnection {
  closed = false;
  constructor(
    readonly agentId: string,
    private readonly sendOut: (message: ServerMessage) => void,
    private readonly end: ((code: number, reason: string) => void) | undefined,
    private readonly hub: WebRtcSoftphones,
  ) {}

  /** Whether the agent is still admitted; once not, the socket is closed and forgotten. */
  private admitted(): boolean {
    if (this.closed) return false;
    if (this.hub.admits(this.agentId)) return true;
    this.close();
    this.end?.(CREDENTIAL_ENDED, 'agent removed');
    return false;
  }

  /** Sends to the socket while its agent is admitted. */
  send(message: ServerMessage): void {
    if (this.admitted()) this.sendOut(message);
  }

  /** Throws the refusal of a request from an agent no longer admitted (the socket is closing). */
  private mustBeAdmitted(): void {
    if (!this.admitted()) throw evxError('EVX_ERR_WEBRTC_AUTH', 'This agent takes no calls on this appliance');
  }

  decline(callId: string): void {
    if (this.admitted()) this.hub.declined(this, callId);
  }

  customer(callId: string): SoftphoneCustomer | null {
    this.mustBeAdmitted();
    return this.hub.customerFor(this.agentId, callId);
  }

  hold(callId: string, held: boolean): { held: boolean } {
    this.mustBeAdmitted();
    controlled(this.hub.control?.hold(this.agentId, callId, held));
    return { held };
  }

  async transfer(callId: string, target: AgentTransferRequest): Promise<{ status: number }> {
    this.mustBeAdmitted();
    return { status: controlled(await this.hub.control?.transfer(this.agentId, callId, target)) };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.hub.disconnected(this);
  }
}

interface Ring {
  readonly agentId: string;
  readonly callId: string;
  readonly offer: CallOffer;
  readonly startedAt: number;
  /** The sockets it rings on (still open). */
  readonly connections: Set<Connection>;
  readonly timer: NodeJS.Timeout;
  readonly resolve: (outcome: RingOutcome) => void;
  settled: boolean;
}

interface Guard {
  /** The agent being rung now (at most one: the ACD offers a call to one agent at a time). */
  ringing: Ring | null;
  /** The softphone participant that answered. */
  answered: { readonly agentId: string; readonly participantId: string } | null;
}

export class WebRtcSoftphones implements AcdSoftphones, SoftphoneHub {
  readonly events: TypedEmitter<SoftphoneEvents>;
  private readonly byAgent = new Map<string, Set<Connection>>();
  private readonly guards = new Map<string, Guard>();
  private readonly offs: (() => void)[] = [];
  private admit: (agentId: string) => boolean = () => true;
  /** @internal Connection: hold and transfer of the agents' calls (the ACD's), null without one. */
  control: Pick<SoftphoneControl, 'hold' | 'transfer'> | null = null;
  private customerOf: ((callId: string) => SoftphoneCustomer | null) | null = null;
  private closed = false;

  constructor(private readonly deps: WebRtcSoftphonesDeps) {
    this.events = new TypedEmitter<SoftphoneEvents>(deps.onListenerError);
    this.offs.push(
      deps.registry.events.on('participantJoined', (e) => this.onJoined(e)),
      deps.registry.events.on('callEnded', ({ callId }) => this.callEnded(callId)),
    );
  }

  /** Which agents may connect a softphone (e.g. only agents the site's routing knows). Default: any. */
  setAdmission(admit: (agentId: string) => boolean): void {
    this.admit = admit;
  }

  /** Whether `agentId` may have a softphone here now (asked again before each use of one). */
  admits(agentId: string): boolean {
    return this.admit(agentId);
  }

  /** What carries out the softphones' hold and transfer (app/acdSoftphones.ts: the ACD's); null: refused. */
  setControl(control: Pick<SoftphoneControl, 'hold' | 'transfer'> | null): void {
    this.control = control;
  }

  /** What reads a call's customer for the softphones (app/app.ts: profiles' customers); null: none shown. */
  setCustomers(customerOf: ((callId: string) => SoftphoneCustomer | null) | null): void {
    this.customerOf = customerOf;
  }

  /** Agents with a softphone connected now, with how many each. */
  connectedAgents(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [agentId, set] of this.byAgent) if (set.size > 0) out.set(agentId, set.size);
    return out;
  }

  /** Offers ringing now (tests, metrics). */
  get ringing(): number {
    let n = 0;
    for (const g of this.guards.values()) if (g.ringing !== null && !g.ringing.settled) n++;
    return n;
  }

  // --- presence sockets ------------------------------------------------------------------------------

  connect(agentId: string, send: (message: ServerMessage) => void, end?: (code: number, reason: string) => void): SoftphoneConnection {
    if (this.closed) throw evxError('EVX_ERR_SHUTTING_DOWN', 'Softphones are shutting down');
    if (!this.admit(agentId)) throw evxError('EVX_ERR_WEBRTC_AUTH', 'This agent takes no calls on this appliance');
    const conn = new Connection(agentId, send, end, this);
    let set = this.byAgent.get(agentId);
    if (set === undefined) {
      set = new Set();
      this.byAgent.set(agentId, set);
    }
    set.add(conn);
    this.deps.logger.info({ agentId, softphones: set.size }, 'agent softphone connected');
    this.events.emit('connected', { agentId, softphones: set.size });
    // a page reloaded while its agent was being rung rings too, for the time left
    for (const g of this.guards.values()) {
      const ring = g.ringing;
      if (ring === null || ring.settled || ring.agentId !== agentId) continue;
      ring.connections.add(conn);
      const left = Math.max(0, ring.offer.ringTimeoutMs - (Date.now() - ring.startedAt));
      conn.send({ type: 'offer', ...ring.offer, ringTimeoutMs: left });
      this.pushCustomer(ring, [conn]);
    }
    return conn;
  }

  /** @internal Connection.close */
  disconnected(conn: Connection): void {
    const set = this.byAgent.get(conn.agentId);
    if (set === undefined || !set.delete(conn)) return;
    if (set.size === 0) this.byAgent.delete(conn.agentId);
    this.deps.logger.info({ agentId: conn.agentId, softphones: set.size }, 'agent softphone disconnected');
    for (const g of this.guards.values()) {
      const ring = g.ringing;
      if (ring === null || ring.settled || !ring.connections.delete(conn)) continue;
      // no softphone left to answer: it could not be reached
      if (ring.connections.size === 0) this.settle(ring, { type: 'failed', noAnswer: false }, null);
    }
    this.events.emit('disconnected', { agentId: conn.agentId, softphones: set.size });
  }

  /** @internal Connection.decline */
  declined(conn: Connection, callId: string): void {
    const ring = this.guards.get(callId)?.ringing;
    if (ring === undefined || ring === null || ring.settled || ring.agentId !== conn.agentId) return;
    this.deps.logger.info({ agentId: conn.agentId, callId }, 'agent declined the call on the softphone');
    this.settle(ring, { type: 'failed', noAnswer: true }, 'declined');
  }

  // --- ringing (AcdSoftphones) -----------------------------------------------------------------------

  ring(agentId: string, callerCallId: string, ringTimeoutMs: number): AgentRing | null {
    const set = this.byAgent.get(agentId);
    if (this.closed || set === undefined || set.size === 0) return null;
    const info = this.deps.callInfo(callerCallId);
    if (info === undefined) {
      this.deps.logger.warn({ agentId, callId: callerCallId }, 'softphone not rung: the call cannot be bridged to a browser');
      return null;
    }
    const guard = this.guard(callerCallId);
    if (guard.ringing !== null && !guard.ringing.settled) {
      // one offer at a time per call: a new one replaces the old (the ACD never does this)
      this.settle(guard.ringing, { type: 'failed', noAnswer: false }, 'cancelled');
    }
    const offer: CallOffer = { callId: callerCallId, ringTimeoutMs, ...info };
    let resolve!: (o: RingOutcome) => void;
    const result = new Promise<RingOutcome>((r) => (resolve = r));
    const ring: Ring = {
      agentId,
      callId: callerCallId,
      offer,
      startedAt: Date.now(),
      connections: new Set(set),
      timer: setTimeout(() => this.settle(ring, { type: 'failed', noAnswer: true }, 'timeout'), ringTimeoutMs),
      resolve,
      settled: false,
    };
    guard.ringing = ring;
    guard.answered = null;
    for (const conn of ring.connections) conn.send({ type: 'offer', ...offer });
    this.pushCustomer(ring, [...ring.connections]);
    this.deps.logger.info({ agentId, callId: callerCallId, softphones: ring.connections.size }, 'softphone ringing');
    return {
      result,
      cancel: () => this.settle(ring, { type: 'failed', noAnswer: false }, 'cancelled'),
      hangUpAnswered: () => this.hangUpAnswered(ring),
    };
  }

  /**
   * May `subject` join `callId` as `role`? Agents may not join a call offered here unless it rings
   * them or they answered it; everyone may join calls never offered here. Throws the refusal.
   */
  mayJoin(callId: string, role: ParticipantRole, subject: string | undefined): true {
    if (role !== 'agent') return true;
    const g = this.guards.get(callId);
    if (g === undefined || this.isAllowed(g, subject)) return true;
    throw evxError('EVX_ERR_WEBRTC_SIGNALLING', 'This call is not offered to you', { details: { callId } });
  }

  /**
   * The caller's customer of `callId` for `agentId`: only while the call rings them or after they
   * answered it (null: an anonymous caller, or no customers on this box). Throws the refusal.
   */
  customerFor(agentId: string, callId: string): SoftphoneCustomer | null {
    const g = this.guards.get(callId);
    if (g === undefined || !this.isAllowed(g, agentId))
      throw evxError('EVX_ERR_WEBRTC_AUTH', 'This call is not offered to you', { details: { callId } });
    return this.customerOf?.(callId) ?? null;
  }

  /** The participant id of `agentId`'s softphone that answered `callId`, undefined when it is not theirs. */
  answeredBy(callId: string, agentId: string): string | undefined {
    const answered = this.guards.get(callId)?.answered;
    return answered !== null && answered !== undefined && answered.agentId === agentId ? answered.participantId : undefined;
  }

  /**
   * The agent's softphone leaves `callId`, which goes on (their transfer was carried out): taken out
   * of the call (the page sees `callEnded` with `reason`) and no longer allowed to join it.
   */
  release(callId: string, participantId: string, reason: string): void {
    const g = this.guards.get(callId);
    if (g?.answered?.participantId === participantId) g.answered = null;
    this.kick(callId, participantId, reason);
  }

  /** The call ended (SIP BYE, WebRTC end): forget its guard; a ring still going says failed. */
  callEnded(callId: string): void {
    const g = this.guards.get(callId);
    if (g === undefined) return;
    this.guards.delete(callId);
    if (g.ringing !== null && !g.ringing.settled) this.settle(g.ringing, { type: 'failed', noAnswer: false }, 'cancelled');
  }

  /** Stops every ring (failed) and forgets the sockets (their sessions close them). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.offs.splice(0)) off();
    for (const g of this.guards.values())
      if (g.ringing !== null && !g.ringing.settled) this.settle(g.ringing, { type: 'failed', noAnswer: false }, 'cancelled');
    this.guards.clear();
  }

  // --- inside ----------------------------------------------------------------------------------------

  private guard(callId: string): Guard {
    let g = this.guards.get(callId);
    if (g === undefined) {
      if (this.guards.size >= MAX_GUARDED) {
        const oldest = this.guards.keys().next().value;
        if (oldest !== undefined) this.callEnded(oldest);
      }
      g = { ringing: null, answered: null };
      this.guards.set(callId, g);
    }
    return g;
  }

  private isAllowed(g: Guard, subject: string | undefined): boolean {
    if (subject === undefined) return false;
    if (g.ringing !== null && !g.ringing.settled && g.ringing.agentId === subject) return true;
    return g.answered !== null && g.answered.agentId === subject;
  }

  private onJoined(e: WebRtcCallsEvents['participantJoined']): void {
    if (e.role !== 'agent') return;
    const g = this.guards.get(e.callId);
    if (g === undefined) return;
    const ring = g.ringing;
    if (ring !== null && !ring.settled && ring.agentId === e.subject) {
      g.answered = { agentId: ring.agentId, participantId: e.participantId };
      this.deps.logger.info({ agentId: ring.agentId, callId: e.callId, ringMs: Date.now() - ring.startedAt }, 'softphone answered');
      this.settle(ring, { type: 'answered', agentCallId: null }, 'answered');
      return;
    }
    if (this.isAllowed(g, e.subject)) return;
    // joined as the offer ended (the join was authorised a moment before): out again, the call goes on
    this.kick(e.callId, e.participantId, 'offer-withdrawn');
  }

  /**
   * After the offer went out: the caller's customer to the sockets it rang, while the call still
   * rings this agent or they answered it. A failed read is logged (its code only) and sends nothing.
   */
  private pushCustomer(ring: Ring, to: readonly Connection[]): void {
    const customerOf = this.customerOf;
    if (customerOf === null) return;
    setImmediate(() => {
      const g = this.guards.get(ring.callId);
      if (g === undefined || g.ringing !== ring || !this.isAllowed(g, ring.agentId)) return;
      let customer: SoftphoneCustomer | null;
      try {
        customer = customerOf(ring.callId);
      } catch (err) {
        this.deps.logger.warn(
          { callId: ring.callId, code: isEdgeVoxError(err) ? err.code : 'unexpected' },
          "softphone screen-pop: the caller's customer not read",
        );
        return;
      }
      for (const conn of to) if (!conn.closed) conn.send({ type: 'customer', callId: ring.callId, customer });
    });
  }

  private hangUpAnswered(ring: Ring): void {
    const g = this.guards.get(ring.callId);
    const answered = g?.answered;
    if (g === undefined || answered === null || answered === undefined || answered.agentId !== ring.agentId) return;
    g.answered = null;
    this.kick(ring.callId, answered.participantId, 'answered-elsewhere');
  }

  private kick(callId: string, participantId: string, reason: string): void {
    // after the join has answered its request: the page then sees the call end at once
    setImmediate(() => {
      if (this.deps.registry.get(callId)?.remove(participantId, reason))
        this.deps.logger.info({ callId, reason }, 'softphone taken out of a call no longer offered to it');
    });
  }

  private settle(ring: Ring, outcome: RingOutcome, tell: OfferEndReason | null): void {
    if (ring.settled) return;
    ring.settled = true;
    clearTimeout(ring.timer);
    if (tell !== null)
      for (const conn of ring.connections) if (!conn.closed) conn.send({ type: 'offer-cancelled', callId: ring.callId, reason: tell });
    ring.connections.clear();
    if (outcome.type === 'failed')
      this.deps.logger.debug(
        { agentId: ring.agentId, callId: ring.callId, reason: tell, noAnswer: outcome.noAnswer },
        'softphone offer ended',
      );
    ring.resolve(outcome);
  }
}
