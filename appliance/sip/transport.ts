/**
 * SIP transports (RFC 3261 §18, RFC 5630 for TLS): UDP datagrams and TCP or TLS streams, all
 * delivering raw message bytes with the peer they came from. Responses and in-dialog requests go
 * back on the same flow (the source address for UDP, like rport; the same connection for streams).
 * Streams to a peer with no open connection (trunk keep-alives, registration) are opened on demand.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { evxError } from '../errors.js';
import { SipStreamFramer } from './framer.js';
import type { SipPeer, SipTransportName } from './message.js';
import type { SipParseLimits } from './parser.js';

/** `datagram`: true for UDP (Content-Length optional), false for a TCP frame. */
export type InboundHandler = (bytes: Buffer, peer: SipPeer, datagram: boolean) => void;
/** A TCP stream that broke framing (reported so it is counted; the connection is closed). */
export type StreamErrorHandler = (reason: string, peer: SipPeer) => void;

export interface SipTransport {
  readonly name: SipTransportName;
  /** Bind; resolves with the bound port (0 in the options = ephemeral). */
  listen(): Promise<number>;
  /** Send bytes; false when there is no route (e.g. the TCP connection is gone). */
  send(bytes: Buffer, peer: SipPeer): boolean;
  close(): Promise<void>;
  /** Open stream connections (0 for UDP). */
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

export interface StreamTransportOptions {
  /** Connections held at once; at the cap the longest-idle one makes room (see `accept`). */
  readonly maxConnections: number;
  /** Connections one source address may hold: one host can never take the whole table. */
  readonly maxConnectionsPerSource: number;
  /** A connection silent for this long is closed (CRLF keep-alives count as activity). */
  readonly idleTimeoutMs: number;
  readonly limits: SipParseLimits;
  /** A connection refused or evicted by these limits (counted by the caller). */
  readonly onLimited?: (reason: 'per_source' | 'evicted' | 'full', peer: SipPeer) => void;
  /** TLS only: the server's certificate and options (called again by `reloadTls`). */
  readonly tlsServer?: () => tls.SecureContextOptions & { requestCert?: boolean };
  /** TLS only: options to open a connection to a peer (CA, server name, verification). */
  readonly tlsClient?: (peer: SipPeer) => tls.ConnectionOptions;
  /** A TLS connection that completed its handshake: false closes it (client-certificate checks). */
  readonly admitTls?: (sock: tls.TLSSocket, peer: SipPeer) => boolean;
  /** A TLS handshake that failed (counted by the caller). */
  readonly onTlsError?: (peer: SipPeer) => void;
  /** A connection we opened failed before it carried anything back (refused, handshake failed). */
  readonly onConnectFailed?: (peer: SipPeer) => void;
}

/** A connection idle at least this long may be evicted to make room for a new one. */
const EVICTABLE_AFTER_MS = 5_000;

interface Connection {
  readonly sock: net.Socket;
  readonly source: string;
  lastActiveMs: number;
}

/** SIP over TCP or TLS: one framer per connection, limits per source and in all, idle eviction. */
export class StreamTransport implements SipTransport {
  private server: net.Server | undefined;
  private readonly connections = new Map<string, Connection>();
  private readonly perSource = new Map<string, number>();

  constructor(
    readonly name: 'tcp' | 'tls',
    private readonly host: string,
    private readonly port: number,
    private readonly opts: StreamTransportOptions,
    private readonly onMessage: InboundHandler,
    private readonly onStreamError: StreamErrorHandler,
  ) {}

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = this.createServer();
      server.once('error', (err) =>
        reject(
          evxError('EVX_ERR_SIP_TRANSPORT', `cannot listen on SIP ${this.name.toUpperCase()} port`, {
            cause: err,
            details: { port: this.port },
          }),
        ),
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

  private createServer(): net.Server {
    if (this.name === 'tcp') return net.createServer((sock) => this.accept(sock, false));
    const material = this.opts.tlsServer?.();
    if (material === undefined) throw evxError('EVX_ERR_SIP_TRANSPORT', 'SIP over TLS needs a certificate and key');
    const server = tls.createServer({ ...material, minVersion: 'TLSv1.2', rejectUnauthorized: false }, (sock) => {
      const peer = this.peerOf(sock);
      if (this.opts.admitTls !== undefined && !this.opts.admitTls(sock, peer)) {
        sock.destroy();
        return;
      }
      this.accept(sock, false);
    });
    server.on('tlsClientError', (_err, sock) => this.opts.onTlsError?.(this.peerOf(sock)));
    return server;
  }

  /** Take a new certificate (and client CAs) for new connections; open ones keep theirs. */
  reloadTls(): void {
    if (this.name !== 'tls' || !(this.server instanceof tls.Server)) return;
    const material = this.opts.tlsServer?.();
    if (material !== undefined) this.server.setSecureContext(material);
  }

  private peerOf(sock: net.Socket): SipPeer {
    return { transport: this.name, address: sock.remoteAddress ?? '', port: sock.remotePort ?? 0 };
  }

  /**
   * Take a new connection within the limits: a source at its own cap is refused; at the global cap
   * the connection idle the longest (at least a few seconds) is closed to make room, so idle
   * connections parked by one host (or many) never lock other trunks out; when every connection is
   * busy, the new one is refused. Connections we open count the same way.
   */
  private accept(sock: net.Socket, outbound: boolean, peerOverride?: SipPeer): Connection | undefined {
    const peer = peerOverride ?? this.peerOf(sock);
    const source = peer.address;
    if (!outbound && (this.perSource.get(source) ?? 0) >= this.opts.maxConnectionsPerSource) {
      this.opts.onLimited?.('per_source', peer);
      sock.destroy();
      return undefined;
    }
    if (this.connections.size >= this.opts.maxConnections && !this.evictIdlest()) {
      this.opts.onLimited?.('full', peer);
      sock.destroy();
      return undefined;
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
    return conn;
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
    this.opts.onLimited?.('evicted', { transport: this.name, address: idlest.source, port: idlest.sock.remotePort ?? 0 });
    idlest.sock.destroy();
    // The close handler runs later; take it out of the table now so the new one fits.
    for (const [key, c] of this.connections) if (c === idlest) this.forget(key, c);
    return true;
  }

  /**
   * Send on the peer's connection; with none open, open one to the peer (writes are queued until it
   * is up; a connection that fails closes, and the transaction sending times out).
   */
  send(bytes: Buffer, peer: SipPeer): boolean {
    let conn = this.connections.get(`${peer.address}:${peer.port}`);
    if (conn === undefined || conn.sock.destroyed) conn = this.server === undefined ? undefined : this.connect(peer);
    if (conn === undefined) return false;
    conn.lastActiveMs = performance.now();
    conn.sock.write(bytes);
    return true;
  }

  private connect(peer: SipPeer): Connection | undefined {
    const sock =
      this.name === 'tcp'
        ? net.connect({ host: peer.address, port: peer.port })
        : tls.connect({ minVersion: 'TLSv1.2', ...this.opts.tlsClient?.(peer), host: peer.address, port: peer.port });
    let up = false;
    sock.once(this.name === 'tcp' ? 'connect' : 'secureConnect', () => (up = true));
    sock.once('close', () => {
      if (!up) this.opts.onConnectFailed?.(peer);
    });
    return this.accept(sock, true, peer);
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
