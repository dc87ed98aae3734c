/**
 * Client side of the signalling protocol (protocol.ts) over a `ws` WebSocket: request/response with
 * ids and timeouts, notifications as typed events.
 */
import { createRequire } from 'node:module';
import { evxError } from '../../../appliance/errors.js';
import { TypedEmitter } from '../../../appliance/events/typedEmitter.js';
import type { ClientMessage, ResponseData, ServerMessage } from '../../../appliance/webrtc/protocol.js';

interface WsSocket {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  on(event: 'open' | 'close', listener: () => void): void;
  on(event: 'message', listener: (data: Buffer) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  once(event: 'open' | 'close', listener: () => void): void;
  once(event: 'error', listener: (err: Error) => void): void;
}
type WsConstructor = new (url: string, options?: { maxPayload?: number }) => WsSocket;

export interface SignallingClientEvents {
  newProducer: Extract<ServerMessage, { type: 'newProducer' }>;
  producerClosed: Extract<ServerMessage, { type: 'producerClosed' }>;
  consumerClosed: Extract<ServerMessage, { type: 'consumerClosed' }>;
  callEnded: Extract<ServerMessage, { type: 'callEnded' }>;
  callEvent: Extract<ServerMessage, { type: 'callEvent' }>;
  /** Softphone presence sockets (`ready`): a call offered, an offer withdrawn. */
  offer: Extract<ServerMessage, { type: 'offer' }>;
  'offer-cancelled': Extract<ServerMessage, { type: 'offer-cancelled' }>;
  /** Presence sockets: the caller's customer of a call just offered. */
  customer: Extract<ServerMessage, { type: 'customer' }>;
  closed: { code: number };
}

type RequestOf<T extends ClientMessage['type']> = Omit<Extract<ClientMessage, { type: T }>, 'id' | 'type'>;

export class SignallingClient {
  readonly events = new TypedEmitter<SignallingClientEvents>();
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (d: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private closedFlag = false;

  private constructor(
    private readonly ws: WsSocket,
    private readonly requestTimeoutMs: number,
  ) {
    ws.on('message', (data) => this.onMessage(data.toString('utf8')));
    ws.on('close', () => this.onClosed());
    ws.on('error', () => {});
  }

  static async connect(url: string, options: { timeoutMs?: number; requestTimeoutMs?: number } = {}): Promise<SignallingClient> {
    const WebSocket = createRequire(import.meta.url)('ws') as WsConstructor;
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.close();
        reject(
          evxError('EVX_ERR_WEBRTC_NEGOTIATION', 'Signalling WebSocket did not open in time', {
            details: { timeoutMs: options.timeoutMs ?? 5000 },
          }),
        );
      }, options.timeoutMs ?? 5000);
      ws.once('open', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.once('error', (err) => {
        clearTimeout(timer);
        reject(evxError('EVX_ERR_WEBRTC_NEGOTIATION', `Signalling WebSocket failed: ${err.message}`, { cause: err }));
      });
    });
    return new SignallingClient(ws, options.requestTimeoutMs ?? 10_000);
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Sends a request and resolves with the response data (rejects with the server's error code). */
  request<T extends ClientMessage['type']>(type: T, body: RequestOf<T>): Promise<ResponseData[T]> {
    if (this.closedFlag) return Promise.reject(evxError('EVX_ERR_WEBRTC_CLOSED', 'The signalling connection is closed'));
    const id = this.nextId++;
    return new Promise<ResponseData[T]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          evxError('EVX_ERR_WEBRTC_NEGOTIATION', `Signalling request '${type}' timed out`, {
            details: { timeoutMs: this.requestTimeoutMs },
          }),
        );
      }, this.requestTimeoutMs);
      this.pending.set(id, { resolve: resolve as (d: unknown) => void, reject, timer });
      this.ws.send(JSON.stringify({ ...body, type, id }));
    });
  }

  close(): void {
    if (this.closedFlag) return;
    this.ws.close(1000, 'client close');
    this.onClosed();
  }

  private onMessage(text: string): void {
    let message: ServerMessage;
    try {
      message = JSON.parse(text) as ServerMessage;
    } catch {
      return;
    }
    switch (message.type) {
      case 'response': {
        if (message.id === null) return;
        const entry = this.pending.get(message.id);
        if (entry === undefined) return;
        this.pending.delete(message.id);
        clearTimeout(entry.timer);
        if (message.ok) entry.resolve(message.data);
        else {
          const err = new Error(`${message.error.code}: ${message.error.message}`) as Error & { code: string };
          err.code = message.error.code;
          entry.reject(err);
        }
        return;
      }
      case 'newProducer':
      case 'producerClosed':
      case 'consumerClosed':
      case 'callEnded':
      case 'callEvent':
        this.events.emit(message.type, message);
        return;
      case 'offer':
        this.events.emit('offer', message);
        return;
      case 'offer-cancelled':
        this.events.emit('offer-cancelled', message);
        return;
      case 'customer':
        this.events.emit('customer', message);
        return;
    }
  }

  private onClosed(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const [, entry] of this.pending) {
      clearTimeout(entry.timer);
      entry.reject(evxError('EVX_ERR_WEBRTC_CLOSED', 'The signalling connection closed'));
    }
    this.pending.clear();
    this.events.emit('closed', { code: this.ws.readyState });
  }
}
