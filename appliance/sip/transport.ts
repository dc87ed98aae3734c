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
  /** Connections held at once; at the cap the longest-idle one makes room (see `accept`). */
  readonly maxConnections: number;
  /** Connections one source address may hold: one host can never take the whole table. */
  readonly maxConnectionsPerSource: number;
  /** A connection silent for this long is closed (CRLF keep-alives count as activity). */
  readonly idleTimeoutMs: number;
  readonly limits: SipParseLimits;
  /** A connection refused or evicted by these limits (counted by the caller). */
  readonly onLimited?: (reason: 'per_source' | 'evicted' | 'full', peer: SipPeer) => void;
}

/** A connection idle at least this long may be evicted to make room for a new one. */
const EVICTABLE_AFTER_MS = 5_000;

interface Connection {
  readonly sock: net.Socket;
  readonly source: string;
  lastActiveMs: number;
}

export class TcpTransport implements SipTransport {
  readonly name = 'tcp' as const;
  private server: net.Server | undefined;
  private readonly connections = new Map<string, Connection>();
  private readonly perSource = new Map<string, number>();

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

  /**
   * Take a new connection within the limits: a source at its own cap is refused; at the global cap
   * the connection idle the longest (at least a few seconds) is closed to make room, so idle
   * connections parked by one host (or many) never lock other trunks out; when every connection is
   * busy, the new one is refused.
   */
  private accept(sock: net.Socket): void {
    const peer: SipPeer = { transport: 'tcp', address: sock.remoteAddress ?? '', port: sock.remotePort ?? 0 };
    const source = peer.address;
    if ((this.perSource.get(source) ?? 0) >= this.opts.maxConnectionsPerSource) {
      this.opts.onLimited?.('per_source', peer);
      sock.destroy();
      return;
    }
    if (this.connections.size >= this.opts.maxConnections && !this.evictIdlest()) {
      this.opts.onLimited?.('full', peer);
      sock.destroy();
      return;
    }
    const key = `${peer.address}:${peer.port}`;
    const conn: Connection = { sock, source, lastActiveMs: performance.now() };
    this.connections.set(key, conn);
    this.perSource.set(source, (this.perSource.get(source) ?? 0) + 1);
    const framer = new SipStreamFramer(this.opts.limits);
    sock.setNoDelay(true);
    sock.setTimeout(this.opts.idleTimeoutMs, () => sock.destroy());
    sock.on('data', (chunk: Buffer) => {
      conn.lastActiveMs = performance.now();
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
    sock.on('close', () => this.forget(key, conn));
  }

  /** Drop a connection from the tables (once: a later call for the same one does nothing). */
  private forget(key: string, conn: Connection): void {
    if (this.connections.get(key) !== conn) return;
    this.connections.delete(key);
    const left = (this.perSource.get(conn.source) ?? 1) - 1;
    if (left > 0) this.perSource.set(conn.source, left);
    else this.perSource.delete(conn.source);
  }

  /** Close the connection idle the longest, if it has been idle long enough; true when one went. */
  private evictIdlest(): boolean {
    let idlest: Connection | undefined;
    for (const c of this.connections.values()) if (idlest === undefined || c.lastActiveMs < idlest.lastActiveMs) idlest = c;
    if (idlest === undefined || performance.now() - idlest.lastActiveMs < EVICTABLE_AFTER_MS) return false;
    this.opts.onLimited?.('evicted', { transport: 'tcp', address: idlest.source, port: idlest.sock.remotePort ?? 0 });
    idlest.sock.destroy();
    // The close handler runs later; take it out of the table now so the new one fits.
    for (const [key, c] of this.connections) if (c === idlest) this.forget(key, c);
    return true;
  }

  send(bytes: Buffer, peer: SipPeer): boolean {
    const conn = this.connections.get(`${peer.address}:${peer.port}`);
    if (conn === undefined || conn.sock.destroyed) return false;
    conn.lastActiveMs = performance.now();
    conn.sock.write(bytes);
    return true;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const c of this.connections.values()) c.sock.destroy();
    this.connections.clear();
    this.perSource.clear();
    if (server === undefined) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}
