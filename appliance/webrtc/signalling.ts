/**
 * WebRTC signalling as a fastify plugin: one WebSocket per participant speaking the JSON protocol of
 * protocol.ts. The first message must be `join` with a caller token (HMAC, bound to one call) or an
 * agent token (checked by the pluggable verifier) plus the call id; a socket that does not join in
 * `joinTimeoutMs` is closed. Requests on one socket are handled strictly in order.
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
import { isValidCallId, mintCallerToken, verifyCallerToken, type AgentTokenVerifier, type ParticipantRole } from './tokens.js';
import type { Participant, WebRtcCall, WebRtcCallRegistry } from './webrtcCalls.js';

/** The part of a `ws` WebSocket this module uses (ws ships no types here). */
interface SignallingSocket {
  readonly readyState: number;
  readonly OPEN: number;
  readonly CONNECTING: number;
  send(data: string): void;
  close(code: number, reason: string): void;
  on(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): void;
  on(event: 'close' | 'error', listener: () => void): void;
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
  /** Whether an agent/supervisor may join this call id (e.g. only calls the appliance knows). Default: any. */
  readonly authorizeJoin?: (callId: string, role: ParticipantRole) => boolean;
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
  private done = false;

  constructor(
    private readonly socket: SignallingSocket,
    private readonly deps: WebRtcSignallingDeps,
  ) {}

  start(): void {
    this.joinTimer = setTimeout(() => this.finish(4401, 'join timeout'), this.deps.joinTimeoutMs ?? 10_000);
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
    this.socket.on('close', () => this.leave('socket-closed'));
    this.socket.on('error', () => this.leave('socket-error'));
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
    try {
      const data = await this.dispatch(message);
      this.send({ type: 'response', id: message.id, ok: true, data });
      if (message.type === 'hangup') this.finish(1000, 'hangup');
    } catch (err) {
      this.sendError(message.id, err);
      if (message.type === 'join') this.finish(4401, 'join failed');
    }
  }

  private async dispatch(message: ClientMessage): Promise<ResponseData[ClientMessage['type']]> {
    if (message.type === 'join') return this.join(message.token, message.callId);
    const { call, participant } = this;
    if (call === undefined || participant === undefined) throw evxError('EVX_ERR_WEBRTC_SIGNALLING', 'Join the call first');
    switch (message.type) {
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

  private async join(token: string, requestedCallId: string | undefined): Promise<ResponseData['join']> {
    if (this.participant !== undefined) throw evxError('EVX_ERR_WEBRTC_SIGNALLING', 'Already joined');
    let callId: string;
    let role: ParticipantRole;
    let subject: string | undefined;
    if (token.startsWith('v1.')) {
      const claims = verifyCallerToken(this.deps.callerTokenSecret, token);
      if (requestedCallId !== undefined && requestedCallId !== claims.callId)
        throw evxError('EVX_ERR_WEBRTC_AUTH', 'The caller token is for another call');
      callId = claims.callId;
      role = 'caller';
    } else {
      const principal = await this.deps.verifyAgentToken(token);
      if (principal === undefined) throw evxError('EVX_ERR_WEBRTC_AUTH', 'Invalid agent token');
      if (requestedCallId === undefined || !isValidCallId(requestedCallId))
        throw evxError('EVX_ERR_WEBRTC_SIGNALLING', 'An agent join names a valid callId');
      callId = requestedCallId;
      role = principal.role;
      if (this.deps.authorizeJoin !== undefined && !this.deps.authorizeJoin(callId, role))
        throw evxError('EVX_ERR_WEBRTC_SIGNALLING', 'No such call to join', { details: { callId } });
      subject = principal.subject;
    }
    if (this.done) throw evxError('EVX_ERR_WEBRTC_CLOSED', 'The socket closed during join');
    const call = await this.deps.calls.getOrCreate(callId);
    const participant = call.join(role, subject, (m) => {
      this.send(m);
      if (m.type === 'callEnded') this.finish(1000, 'call ended');
    });
    this.call = call;
    this.participant = participant;
    if (this.joinTimer !== undefined) clearTimeout(this.joinTimer);
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
    const { call, participant } = this;
    this.call = undefined;
    this.participant = undefined;
    if (call !== undefined && participant !== undefined) call.leave(participant.id, reason);
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
