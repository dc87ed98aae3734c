/**
 * SIP transports (RFC 3261 §18): UDP datagrams and TCP streams, both delivering raw message bytes
 * with the peer they came from. Responses and in-dialog requests go back on the same flow (the
 * source address for UDP, like rport; the same connection for TCP).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { evxError } from '../errors.js';
import { SipStreamFramer } from './framer.js';
import type { SipPeer } from './message.js';
import type { SipParseLimits } from './parser.js';

/** `datagram`: true for UDP (Content-Length optional), false for a TCP frame. */
export type InboundHandler = (bytes: Buffer, peer: SipPeer, datagram: boolean) => void;
/** A TCP stream that broke framing (reported so it is counted; the connection is closed). */
export type StreamErrorHandler = (reason: string, peer: SipPeer) => void;

export interface SipTransport {
  readonly name: 'udp' | 'tcp';
  /** Bind; resolves with the bound port (0 in the options = ephemeral). */
  listen(): Promise<number>;
  /** Send bytes; false when there is no route (e.g. the TCP connection is gone). */
  send(bytes: Buffer, peer: SipPeer): boolean;
  close(): Promise<void>;
  /** Open TCP connections (0 for UDP). */
  readonly connectionCount: number;
}

export class UdpTransport implements SipTransport {
  readonly name = 'udp' as const;
  private socket: dgram.Socket | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly onMessage: InboundHandler,
  ) {}

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const s = dgram.createSocket({ type: this.host.includes(':') ? 'udp6' : 'udp4' });
      s.once('error', (err) =>
        reject(evxError('EVX_ERR_SIP_TRANSPORT', 'cannot bind SIP UDP socket', { cause: err, details: { port: this.port } })),
      );
      s.on('message', (msg, rinfo) => this.onMessage(msg, { transport: 'udp', address: rinfo.address, port: rinfo.port }, true));
      s.bind({ address: this.host, port: this.port, exclusive: true }, () => {
        s.removeAllListeners('error');
        s.on('error', () => {
          /* ICMP unreachable and friends: counted by the caller's send path, never fatal */
        });
        this.socket = s;
        resolve(s.address().port);
      });
    });
  }

  send(bytes: Buffer, peer: SipPeer): boolean {
    if (this.socket === undefined) return false;
    this.socket.send(bytes, peer.port, peer.address);
    return true;
  }

  get connectionCount(): number {
    return 0;
  }

  close(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s === undefined) return Promise.resolve();
    return new Promise((resolve) => s.close(() => resolve()));
  }
}

export interface TcpTransportOptions {
  readonly maxConnections: number;
  readonly idleTimeoutMs: number;
  readonly limits: SipParseLimits;
}

export class TcpTransport implements SipTransport {
  readonly name = 'tcp' as const;
  private server: net.Server | undefined;
  private readonly connections = new Map<string, net.Socket>();

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly opts: TcpTransportOptions,
    private readonly onMessage: InboundHandler,
    private readonly onStreamError: StreamErrorHandler,
  ) {}

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((sock) => this.accept(sock));
      server.maxConnections = this.opts.maxConnections;
      server.once('error', (err) =>
        reject(evxError('EVX_ERR_SIP_TRANSPORT', 'cannot listen on SIP TCP port', { cause: err, details: { port: this.port } })),
      );
      server.listen({ host: this.host, port: this.port, exclusive: true }, () => {
        server.removeAllListeners('error');
        server.on('error', () => {});
        this.server = server;
        const addr = server.address();
        resolve(typeof addr === 'object' && addr !== null ? addr.port : this.port);
      });
    });
  }

  private accept(sock: net.Socket): void {
    const peer: SipPeer = { transport: 'tcp', address: sock.remoteAddress ?? '', port: sock.remotePort ?? 0 };
    const key = `${peer.address}:${peer.port}`;
    this.connections.set(key, sock);
    const framer = new SipStreamFramer(this.opts.limits);
    sock.setNoDelay(true);
    sock.setTimeout(this.opts.idleTimeoutMs, () => sock.destroy());
    sock.on('data', (chunk: Buffer) => {
      for (const r of framer.push(chunk)) {
        if (r.type === 'message') this.onMessage(r.bytes, peer, false);
        else if (r.type === 'keepalive') {
          // RFC 5626 §4.4.1: answer a double-CRLF ping with a single CRLF pong
          if (!sock.destroyed) sock.write('\r\n');
        } else {
          this.onStreamError(r.reason, peer);
          sock.destroy();
          return;
        }
      }
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      if (this.connections.get(key) === sock) this.connections.delete(key);
    });
  }

  send(bytes: Buffer, peer: SipPeer): boolean {
    const sock = this.connections.get(`${peer.address}:${peer.port}`);
    if (sock === undefined || sock.destroyed) return false;
    sock.write(bytes);
    return true;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.connections.values()) s.destroy();
    this.connections.clear();
    if (server === undefined) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}
