/**
 * WebRTC signalling as a fastify plugin: one WebSocket per participant speaking the JSON protocol of
 * protocol.ts. The first message must be `join` with a caller token (HMAC, bound to one call) or an
 * agent token (checked by the pluggable verifier) plus the call id; a socket that does not join in
 * `joinTimeoutMs` is closed. Requests on one socket are handled strictly in order.
 *
 * Or, for an agent's softphone, `ready` with an agent token: the socket becomes the softphone's
 * presence socket (softphones.ts), which gets call offers and may `decline` them; it joins no call,
 * is pinged every `heartbeatMs` (a softphone gone without a close stops counting at the next ping)
 * and closes when its token expires. A supervisor's socket joined to a call closes (4401) when
 * their token expires too.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import websocketPlugin from '@fastify/websocket';
import { isEdgeVoxError, evxError } from '../errors.js';
import {
  MAX_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  parseClientMessage,
  type ClientMessage,
  type ResponseData,
  type ServerMessage,
} from './protocol.js';
import type { SoftphoneConnection, SoftphoneHub } from './softphones.js';
import { isValidCallId, mintCallerToken, verifyCallerToken, type AgentTokenVerifier, type ParticipantRole } from './tokens.js';
import type { Participant, WebRtcCall, WebRtcCallRegistry } from './webrtcCalls.js';
import { CREDENTIAL_ENDED } from '../auth/socketClose.js';

/** The part of a `ws` WebSocket this module uses (ws ships no types here). */
interface SignallingSocket {
  readonly readyState: number;
  readonly OPEN: number;
  readonly CONNECTING: number;
  send(data: string): void;
  close(code: number, reason: string): void;
  on(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): void;
  on(event: 'close' | 'error' | 'pong', listener: () => void): void;
  ping?(): void;
  terminate?(): void;
}

export const DEFAULT_SIGNALLING_PATH = '/api/v1/webrtc/signal';
/** POST here mints a caller token for a new call (what the public "call us" page does). */
export const DEFAULT_CALLER_SESSION_PATH = '/api/v1/webrtc/caller-sessions';

/** Body of a successful caller-session response. */
export interface CallerSession {
  readonly callId: string;
  readonly token: string;
  readonly expiresAtMs: number;
  readonly signallingPath: string;
}

export interface WebRtcSignallingDeps {
  readonly calls: WebRtcCallRegistry;
  /** Secret of the caller tokens (>= 32 bytes); the same one mints them (tokens.ts mintCallerToken). */
  readonly callerTokenSecret: string | Uint8Array;
  readonly verifyAgentToken: AgentTokenVerifier;
  readonly path?: string;
  /** Route minting caller tokens; `false` disables it (tokens then come from the owner). */
  readonly callerSessionPath?: string | false;
  readonly callerTokenTtlMs?: number;
  /** New web calls are refused with 503 above this many active WebRTC calls. */
  readonly maxCalls?: number;
  /** Retry-After (s) sent with a 503 for too many WebRTC calls (default 30). */
  readonly retryAfterS?: number;
  readonly joinTimeoutMs?: number;
  /** Admission control for new web callers (the call manager's); a refusal is HTTP 503 + Retry-After. */
  readonly admitCallerSession?: () => { ok: true } | { ok: false; reason: string; retryAfterS: number };
  /**
   * Whether an agent/supervisor (`subject`: the token's id) may join this call id (e.g. only calls
   * the appliance knows). May throw its own EdgeVox error to say why not. Default: any.
   */
  readonly authorizeJoin?: (callId: string, role: ParticipantRole, subject: string) => boolean;
  /** Agents' softphones taking offered calls (`ready`); absent: `ready` is refused. */
  readonly softphones?: SoftphoneHub;
  /** Ping period of softphone presence sockets (default 30 s); a socket that missed a pong is closed. */
  readonly heartbeatMs?: number;
  /**
   * A joined agent's (or supervisor's) verdict on a card pushed on their call (assist/cardService.ts);
   * throws EVX_ERR_ASSIST_CARD_NOT_FOUND for a card the call was not shown. Absent: refused.
   */
  readonly cardFeedback?: (callId: string, cardId: string, useful: boolean, by: string) => { feedback: 'useful' | 'not_useful' };
  /** Minimal logger (pino fits); messages are static, no PII. */
  readonly log?: { warn(obj: object, msg: string): void; debug(obj: object, msg: string): void };
}

/** Mounts the signalling WebSocket route on `fastify`. Registers @fastify/websocket if absent. */
export async function registerWebRtcSignalling(fastify: FastifyInstance, deps: WebRtcSignallingDeps): Promise<void> {
  const path = deps.path ?? DEFAULT_SIGNALLING_PATH;
  await fastify.register(async (instance) => {
    if (!instance.hasDecorator('websocketServer')) {
      await instance.register(websocketPlugin, { options: { maxPayload: MAX_MESSAGE_BYTES } });
    }
    // Public routes: callers and agents authenticate inside the protocol with signed tokens.
    instance.get(path, { websocket: true, config: { public: true } }, (socket) => {
      new SignallingSession(socket, deps).start();
    });
    const sessionPath = deps.callerSessionPath ?? DEFAULT_CALLER_SESSION_PATH;
    if (sessionPath !== false) {
      instance.post(sessionPath, { config: { public: true } }, async (_request, reply) => {
        const admission =
          deps.calls.size >= (deps.maxCalls ?? 200)
            ? { ok: false as const, reason: 'capacity', retryAfterS: deps.retryAfterS ?? 30 }
            : (deps.admitCallerSession?.() ?? { ok: true as const });
        if (!admission.ok)
          throw evxError('EVX_ERR_NOT_READY', 'The appliance is not taking new calls right now', {
            details: { reason: admission.reason, retryAfterS: admission.retryAfterS },
          });
        const callId = randomUUID();
        const ttlMs = deps.callerTokenTtlMs ?? 300_000;
        const nowMs = Date.now();
        const session: CallerSession = {
          callId,
          token: mintCallerToken(deps.callerTokenSecret, callId, { ttlMs, nowMs }),
          expiresAtMs: nowMs + ttlMs,
          signallingPath: path,
        };
        return reply.code(201).send(session);
      });
    }
  });
}

class SignallingSession {
  private call: WebRtcCall | undefined;
  private participant: Participant | undefined;
  private queue: Promise<void> = Promise.resolve();
  private joinTimer: NodeJS.Timeout | undefined;
  private softphone: SoftphoneConnection | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private expiry: NodeJS.Timeout | undefined;
  private alive = true;
  private done = false;

  constructor(
    private readonly socket: SignallingSocket,
    private readonly deps: WebRtcSignallingDeps,
  ) {}

  start(): void {
    this.joinTimer = setTimeout(() => this.finish(CREDENTIAL_ENDED, 'join timeout'), this.deps.joinTimeoutMs ?? 10_000);
    this.socket.on('message', (data, isBinary) => {
      if (isBinary) {
        this.send({
          type: 'response',
          id: null,
          ok: false,
          error: { code: 'EVX_ERR_WEBRTC_SIGNALLING', message: 'Binary frames are not part of the protocol' },
        });
        return;
      }
      const text = Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.isBuffer(data)
          ? data.toString('utf8')
          : Buffer.from(new Uint8Array(data)).toString('utf8');
      // Serialise: a produce must not overtake the connect before it.
      this.queue = this.queue.then(() => this.handle(text));
    });
    this.socket.on('close', () => this.closed('socket-closed'));
    this.socket.on('error', () => this.closed('socket-error'));
  }

  private async handle(text: string): Promise<void> {
    if (this.done) return;
    let message: ClientMessage;
    try {
      message = parseClientMessage(text);
    } catch (err) {
      const id = isEdgeVoxError(err) && typeof err.details['id'] === 'number' ? err.details['id'] : null;
      this.sendError(id, err);
      return;
    }
    // a failed join/ready closes a socket that has not authenticated yet (never a joined or ready one)
    const unauthenticated = this.participant === undefined && this.softphone === undefined;
    try {
      const data = await this.dispatch(message);
      this.send({ type: 'response', id: message.id, ok: true, data });
      if (message.type === 'hangup') this.finish(1000, 'hangup');
    } catch (err) {
      this.sendError(message.id, err);
      if ((message.type === 'join' || message.type === 'ready') && unauthenticated) this.finish(CREDENTIAL_ENDED, `${message.type} failed`);
    }
  }

  private async dispatch(message: ClientMessage): Promise<ResponseData[ClientMessage['type']]> {
    if (message.type === 'join') return this.join(message.token, message.callId);
    if (message.type === 'ready') return this.ready(message.token);
    if (message.type === 'decline') {
      if (this.softphone === undefined) throw evxError('EVX_ERR_WEBRTC_SIGNALLING', 'Send ready first: only a softphone declines offers');
      this.softphone.decline(message.callId);
      return {};
    }
    if (message.type === 'customer') {
      if (this.softphone === undefined)
        throw evxError('EVX_ERR_WEBRTC_SIGNALLING', "Send ready first: a call's customer goes to the presence socket");
      return { customer: this.softphone.customer(message.callId) };
    }
    if (message.type === 'hold' || message.type === 'transfer') {
      if (this.softphone === undefined)
        throw evxError('EVX_ERR_WEBRTC_SIGNALLING', 'Send ready first: hold and transfer go on the presence socket');
      if (message.type === 'hold') return this.softphone.hold(message.callId, message.held);
      return this.softphone.transfer(message.callId, message.target);
    }
    if (message.type === 'hangup' && this.softphone !== undefined) {
      this.softphone.close();
      return {};
    }
    const { call, participant } = this;
    if (call === undefined || participant === undefined) throw evxError('EVX_ERR_WEBRTC_SIGNALLING', 'Join the call first');
    switch (message.type) {
      case 'cardFeedback': {
        if (participant.role === 'caller' || participant.subject === undefined)
          throw evxError('EVX_ERR_WEBRTC_AUTH', "Only the call's agent or supervisor gives card feedback");
        if (this.deps.cardFeedback === undefined)
          throw evxError('EVX_ERR_WEBRTC_SIGNALLING', 'Agent assist is not running on this appliance');
        const stored = this.deps.cardFeedback(call.callId, message.cardId, message.useful, `${participant.role}:${participant.subject}`);
        return { cardId: message.cardId, feedback: stored.feedback };
      }
      case 'createTransport':
        return call.createTransport(participant, message.direction);
      case 'connectTransport':
        await call.connectTransport(participant, message.transportId, message.dtlsParameters);
        return {};
      case 'produce':
        return { producerId: await call.produce(participant, message.transportId, message.rtpParameters) };
      case 'consume':
        return call.consume(participant, message.transportId, message.producerId, message.rtpCapabilities);
      case 'hangup':
        this.leave('hangup');
        return {};
    }
  }

  /** The socket becomes the presence socket of an agent's softphone. */
  private async ready(token: string): Promise<ResponseData['ready']> {
    if (this.participant !== undefined || this.softphone !== undefined)
      throw evxError('EVX_ERR_WEBRTC_SIGNALLING', 'A softphone sends ready once, on a socket of its own');
    const hub = this.deps.softphones;
    if (hub === undefined) throw evxError('EVX_ERR_WEBRTC_SIGNALLING', 'Calls are not offered to softphones on this appliance');
    const principal = token.startsWith('v1.') ? undefined : await this.deps.verifyAgentToken(token);
    if (principal === undefined) throw evxError('EVX_ERR_WEBRTC_AUTH', 'Invalid agent token');
    if (principal.role !== 'agent') throw evxError('EVX_ERR_WEBRTC_AUTH', 'Only agents take offered calls');
    if (this.done) throw evxError('EVX_ERR_WEBRTC_CLOSED', 'The socket closed during ready');
    this.softphone = hub.connect(
      principal.subject,
      (m) => this.send(m),
      (code, reason) => this.finish(code, reason),
    );
    if (this.joinTimer !== undefined) clearTimeout(this.joinTimer);
    if (principal.expiresAtMs !== undefined)
      this.expiry = setTimeout(
        () => this.finish(CREDENTIAL_ENDED, 'token expired'),
        Math.max(0, Math.min(principal.expiresAtMs - Date.now(), 2 ** 31 - 1)),
      );
    if (this.socket.ping !== undefined) {
      this.socket.on('pong', () => (this.alive = true));
      this.heartbeat = setInterval(() => {
        if (!this.alive) {
          this.finish(4408, 'heartbeat missed');
          this.socket.terminate?.();
          return;
        }
        this.alive = false;
        try {
          this.socket.ping?.();
        } catch {
          // the close event follows
        }
      }, this.deps.heartbeatMs ?? 30_000);
    }
    this.deps.log?.debug({ role: principal.role }, 'webrtc softphone ready');
    return { protocolVersion: PROTOCOL_VERSION, agentId: principal.subject };
  }

  private async join(token: string, requestedCallId: string | undefined): Promise<ResponseData['join']> {
    if (this.participant !== undefined) throw evxError('EVX_ERR_WEBRTC_SIGNALLING', 'Already joined');
    if (this.softphone !== undefined) throw evxError('EVX_ERR_WEBRTC_SIGNALLING', 'A softphone joins calls on a socket of its own');
    let callId: string;
    let role: ParticipantRole;
    let subject: string | undefined;
    let expiresAtMs: number | undefined;
    if (token.startsWith('v1.')) {
      const claims = verifyCallerToken(this.deps.callerTokenSecret, token);
      if (requestedCallId !== undefined && requestedCallId !== claims.callId)
        throw evxError('EVX_ERR_WEBRTC_AUTH', 'The caller token is for another call');
      callId = claims.callId;
      role = 'caller';
      // the cap is checked when a token is minted, but tokens minted while there was room must
      // not open calls past it when they are all used at once
      if (this.deps.calls.get(callId) === undefined && this.deps.calls.size >= (this.deps.maxCalls ?? 200))
        throw evxError('EVX_ERR_NOT_READY', 'The appliance is not taking new calls right now', {
          details: { reason: 'capacity', retryAfterS: this.deps.retryAfterS ?? 30 },
        });
    } else {
      const principal = await this.deps.verifyAgentToken(token);
      if (principal === undefined) throw evxError('EVX_ERR_WEBRTC_AUTH', 'Invalid agent token');
      if (requestedCallId === undefined || !isValidCallId(requestedCallId))
        throw evxError('EVX_ERR_WEBRTC_SIGNALLING', 'An agent join names a valid callId');
      callId = requestedCallId;
      role = principal.role;
      if (this.deps.authorizeJoin !== undefined && !this.deps.authorizeJoin(callId, role, principal.subject))
        throw evxError('EVX_ERR_WEBRTC_SIGNALLING', 'No such call to join', { details: { callId } });
      subject = principal.subject;
      expiresAtMs = principal.expiresAtMs;
    }
    if (this.done) throw evxError('EVX_ERR_WEBRTC_CLOSED', 'The socket closed during join');
    const call = await this.deps.calls.getOrCreate(callId);
    const participant = call.join(role, subject, (m) => {
      this.send(m);
      if (m.type === 'callEnded') this.finish(1000, 'call ended');
    });
    if (this.done) {
      // the socket closed while the call was being created: nothing will ever make it leave, so it
      // leaves now, as if the socket had closed just after joining (the call's end policy applies)
      call.leave(participant.id, 'socket-closed');
      throw evxError('EVX_ERR_WEBRTC_CLOSED', 'The socket closed during join');
    }
    this.call = call;
    this.participant = participant;
    if (this.joinTimer !== undefined) clearTimeout(this.joinTimer);
    // A supervisor listening in (transcripts, audio) stops with their token; an agent's call is not
    // cut at their token's expiry (their leaving would hang up on the caller), it only gets no new offers.
    if (role === 'supervisor' && expiresAtMs !== undefined)
      this.expiry = setTimeout(
        () => this.finish(CREDENTIAL_ENDED, 'token expired'),
        Math.max(0, Math.min(expiresAtMs - Date.now(), 2 ** 31 - 1)),
      );
    this.deps.log?.debug({ callId, role }, 'webrtc participant joined');
    return {
      protocolVersion: PROTOCOL_VERSION,
      callId,
      participantId: participant.id,
      role,
      routerRtpCapabilities: call.media.rtpCapabilities,
      producers: call.audibleProducers(participant),
    };
  }

  private leave(reason: string): void {
    if (this.joinTimer !== undefined) clearTimeout(this.joinTimer);
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    if (this.expiry !== undefined) clearTimeout(this.expiry);
    this.softphone?.close();
    const { call, participant } = this;
    this.call = undefined;
    this.participant = undefined;
    if (call !== undefined && participant !== undefined) call.leave(participant.id, reason);
  }

  /** The socket is gone: nothing more is handled, and a join or ready still in progress gives up. */
  private closed(reason: string): void {
    this.done = true;
    this.leave(reason);
  }

  private finish(code: number, reason: string): void {
    if (this.done) return;
    this.done = true;
    this.leave(reason);
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) this.socket.close(code, reason);
  }

  private sendError(id: number | null, err: unknown): void {
    const known = isEdgeVoxError(err);
    if (!known) this.deps.log?.warn({ err }, 'webrtc signalling request failed');
    this.send({
      type: 'response',
      id,
      ok: false,
      error: known ? { code: err.code, message: err.message } : { code: 'EVX_ERR_INTERNAL', message: 'Internal error' },
    });
  }

  private send(message: ServerMessage): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(message));
  }
}
