/**
 * Transaction table: matches incoming requests and responses to transactions, absorbs
 * retransmissions, and hands new requests to the transaction user (the SIP server core).
 */
import { evxError } from '../errors.js';
import type { SipPeer, SipRequest, SipResponse } from './message.js';
import { ClientTransaction, clientTransactionKey, serverTransactionKey, ServerTransaction, type SipTimers } from './transaction.js';
import { parseVia } from './grammar.js';
import { serializeSipMessage } from './serialize.js';

export type Sender = (bytes: Buffer, peer: SipPeer) => void;

export type InboundRequestDisposition =
  { readonly type: 'new'; readonly tx: ServerTransaction | undefined } | { readonly type: 'absorbed' } | { readonly type: 'overload' };

export class TransactionLayer {
  private readonly server = new Map<string, ServerTransaction>();
  private readonly client = new Map<string, ClientTransaction>();
  /** Where each client transaction sends, so a failed flow fails its transactions at once. */
  private readonly clientPeer = new Map<ClientTransaction, SipPeer>();
  private closed = false;

  constructor(
    private readonly send: Sender,
    private readonly timers: SipTimers,
    private readonly maxServerTransactions: number,
    private readonly onAckTimeout: (tx: ServerTransaction) => void,
  ) {}

  /**
   * Classify an inbound request. ACKs return `new` with tx undefined when they do not match a
   * non-2xx INVITE transaction (they are for the dialog); retransmissions are absorbed.
   */
  onRequest(req: SipRequest, peer: SipPeer): InboundRequestDisposition {
    const key = serverTransactionKey(req);
    if (key === undefined) return { type: 'new', tx: undefined };
    const existing = this.server.get(key);
    if (req.method === 'ACK') {
      if (existing !== undefined && existing.state === 'completed') {
        existing.onAck();
        return { type: 'absorbed' };
      }
      if (existing !== undefined && existing.state === 'confirmed') return { type: 'absorbed' };
      return { type: 'new', tx: undefined };
    }
    if (existing !== undefined) {
      existing.onRequestRetransmission();
      return { type: 'absorbed' };
    }
    if (this.closed || this.server.size >= this.maxServerTransactions) return { type: 'overload' };
    const tx = new ServerTransaction(key, req, peer.transport !== 'udp', (bytes) => this.send(bytes, peer), this.timers, {
      onAckTimeout: (t) => this.onAckTimeout(t),
      onTerminated: (t) => {
        if (this.server.get(t.key) === t) this.server.delete(t.key);
      },
    });
    this.server.set(key, tx);
    return { type: 'new', tx };
  }

  /** The INVITE server transaction a CANCEL refers to (same branch, §9.2). */
  findInviteFor(cancel: SipRequest): ServerTransaction | undefined {
    const via = parseVia(cancel.headers.getAll('via')[0] ?? '');
    if (via?.branch === undefined) return undefined;
    return this.server.get(`${via.branch}|${via.host}:${via.port ?? 5060}|INVITE`);
  }

  /** Deliver a response to its client transaction; false when none matches (stray / 2xx retransmission). */
  onResponse(res: SipResponse): boolean {
    const key = clientTransactionKey(res);
    const tx = key === undefined ? undefined : this.client.get(key);
    if (tx === undefined) return false;
    tx.receive(res);
    return true;
  }

  /**
   * Send a request in a client transaction; resolves with the final response, rejects with
   * EVX_ERR_SIP_TRANSACTION_TIMEOUT. `onProvisional` sees 1xx responses.
   */
  request(
    req: SipRequest,
    peer: SipPeer,
    buildAck?: (res: SipResponse) => SipRequest,
    onProvisional?: (res: SipResponse) => void,
  ): Promise<SipResponse> {
    if (this.closed) return Promise.reject(evxError('EVX_ERR_SIP_CLOSED', 'SIP transaction layer is closed'));
    const via = parseVia(req.headers.getAll('via')[0] ?? '');
    if (via?.branch === undefined) return Promise.reject(new Error('request without Via branch'));
    const key = `${via.branch}|${req.method}`;
    return new Promise((resolve, reject) => {
      const tx = new ClientTransaction(
        key,
        req,
        peer.transport !== 'udp',
        (bytes) => this.send(bytes, peer),
        this.timers,
        (r) => {
          if (r.type === 'timeout') {
            reject(evxError('EVX_ERR_SIP_TRANSACTION_TIMEOUT', `${req.method} got no final response`, { details: { method: req.method } }));
          } else if (r.type === 'unreachable') {
            reject(
              evxError('EVX_ERR_SIP_TRANSPORT', `${req.method} not sent: the connection to the peer failed`, {
                details: { method: req.method, transport: peer.transport },
              }),
            );
          } else if (r.type === 'aborted') {
            reject(evxError('EVX_ERR_SIP_CLOSED', `${req.method} aborted: SIP server closing`, { details: { method: req.method } }));
          } else if (r.response.status < 200) onProvisional?.(r.response);
          else resolve(r.response);
        },
        buildAck,
        (t) => {
          if (this.client.get(t.key) === t) this.client.delete(t.key);
          this.clientPeer.delete(t);
        },
      );
      this.client.set(key, tx);
      this.clientPeer.set(tx, peer);
      tx.start();
    });
  }

  /** A stream to `peer` could not be opened or broke: its pending client transactions fail now. */
  failFlow(peer: SipPeer): void {
    for (const [tx, p] of [...this.clientPeer]) {
      if (p.transport === peer.transport && p.address === peer.address && p.port === peer.port) tx.fail();
    }
  }

  /** Send a request outside any transaction (ACK for a 2xx, §17.1.1.3). */
  sendAck(ack: SipRequest, peer: SipPeer): void {
    if (!this.closed) this.send(serializeSipMessage(ack), peer);
  }

  get serverCount(): number {
    return this.server.size;
  }

  get clientCount(): number {
    return this.client.size;
  }

  /** Terminate every transaction and its timers (idempotent). */
  close(): void {
    this.closed = true;
    for (const tx of [...this.server.values()]) tx.terminate();
    for (const tx of [...this.client.values()]) tx.abort();
    this.server.clear();
    this.client.clear();
    this.clientPeer.clear();
  }
}
