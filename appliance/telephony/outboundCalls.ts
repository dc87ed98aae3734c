/**
 * The calls the box is placing (SipServer.placeCall): checks a target before anything is sent,
 * tracks every call until its outcome, and keeps failed ones for 64·T1 afterwards so a response
 * arriving late (a 2xx crossing our CANCEL and its retransmissions, a 487 after the CANCEL timed out) is still
 * ACKed. Closing cancels every call still ringing.
 *
 * Calls out through a SIP trunk cost money and are what toll fraud is after: they leave only
 * through the trunk line, handed out once (`claimTrunkLine`, taken by the trunk dialer), and a
 * plain target (`{ uri }`) on the address and port of a claimed trunk is refused, whatever transferTargets says.
 */
import { evxError } from '../errors.js';
import { parseNameAddr } from '../sip/grammar.js';
import { INVITE_TIMER_C_MS } from '../sip/transaction.js';
import type { SipPeer, SipResponse, SipTransportName } from '../sip/message.js';
import { tagOf } from '../sip/serialize.js';
import type { InviteContext } from './invite.js';
import { OutboundCall, type OutboundTarget, type PlaceCallOptions } from './outbound.js';
import { contactPeer } from './registrar.js';
import { parseSipTarget, type TransferTargetPolicy } from './transferTargets.js';

/** What the server lends the registry. */
export interface OutboundHost {
  readonly ctx: InviteContext;
  /** Where callers may be sent: a SIP URI target must be inside it (the agent hears the caller). */
  readonly targets: TransferTargetPolicy;
  isListening(): boolean;
  hasTransport(transport: SipTransportName): boolean;
}

/** Where an INVITE goes and its Request-URI. */
export interface OutboundRoute {
  readonly peer: SipPeer;
  readonly requestUri: string;
}

/** The one way out through the trunks (SipServer.claimTrunkLine): the trunk dialer holds it. */
export interface TrunkLine {
  /** Place a call to `route` (a trunk's address); throws like SipServer.placeCall when nothing could be sent. */
  place(opts: Omit<PlaceCallOptions, 'target'>, route: OutboundRoute): OutboundCall;
}

/**
 * Where the INVITE goes and its Request-URI. Throws EVX_ERR_TRANSFER_TARGET for a target we may
 * not call; `trunks` (`address:port` of claimed trunks) are never a plain target.
 */
export function planTarget(t: OutboundTarget, targets: TransferTargetPolicy, trunks: ReadonlySet<string> = new Set()): OutboundRoute {
  if ('uri' in t) {
    targets.assertAllowed(t.uri, 'outbound call target');
    const parsed = parseSipTarget(t.uri);
    const addr = parseNameAddr(`<${t.uri}>`);
    if ('error' in parsed || parsed.family !== 'ipv4' || addr === undefined) {
      throw evxError('EVX_ERR_TRANSFER_TARGET', 'outbound call target: the host must be an IPv4 address (no DNS lookups)', {
        details: { field: 'outbound call target' },
      });
    }
    const peer = contactPeer(addr);
    if (trunks.has(`${peer.address}:${peer.port}`)) {
      throw evxError('EVX_ERR_TRANSFER_TARGET', 'outbound call target: a trunk is called only through the trunk dialer', {
        details: { field: 'outbound call target' },
      });
    }
    return { peer, requestUri: t.uri };
  }
  const addr = parseNameAddr(`<${t.contact}>`);
  if (addr === undefined || addr.uri.scheme === 'tel') {
    throw evxError('EVX_ERR_TRANSFER_TARGET', 'outbound call target: the contact is not a SIP URI', { details: { field: 'contact' } });
  }
  return { peer: t.target, requestUri: t.contact };
}

export class OutboundCalls {
  private readonly ringing = new Set<OutboundCall>();
  private readonly lingering = new Map<string, { readonly call: OutboundCall; readonly timer: NodeJS.Timeout }>();
  /** `address:port` of the claimed trunks. */
  private readonly trunks = new Set<string>();
  private trunkLineClaimed = false;

  constructor(private readonly host: OutboundHost) {}

  /**
   * Place a call. Throws (nothing sent) when the server is not listening (EVX_ERR_SIP_CLOSED), the
   * target may not be called (EVX_ERR_TRANSFER_TARGET), its transport is off (EVX_ERR_SIP_TRANSPORT)
   * or the ring timeout is not positive (EVX_ERR_BAD_REQUEST); every later failure is an outcome.
   */
  place(opts: PlaceCallOptions): OutboundCall {
    this.assertCanPlace(opts);
    return this.placeRoute(opts, planTarget(opts.target, this.host.targets, this.trunks));
  }

  /**
   * The trunk line, once: calls to the trunks at `trunks` (IPv4 address and port) leave only
   * through it, and `place` refuses them from then on. A second claim throws EVX_ERR_INTERNAL (a wiring bug).
   */
  claimTrunkLine(trunks: readonly { readonly address: string; readonly port: number }[]): TrunkLine {
    if (this.trunkLineClaimed) throw evxError('EVX_ERR_INTERNAL', 'the trunk line is already taken');
    this.trunkLineClaimed = true;
    for (const t of trunks) this.trunks.add(`${t.address}:${t.port}`);
    return {
      place: (opts, route) => {
        this.assertCanPlace(opts);
        return this.placeRoute(opts, route);
      },
    };
  }

  private assertCanPlace(opts: Pick<PlaceCallOptions, 'ringTimeoutMs'>): void {
    if (!this.host.isListening()) throw evxError('EVX_ERR_SIP_CLOSED', 'SIP server is not listening');
    if (!(opts.ringTimeoutMs > 0 && opts.ringTimeoutMs < INVITE_TIMER_C_MS)) {
      throw evxError('EVX_ERR_BAD_REQUEST', `ringTimeoutMs must be a positive number of milliseconds below ${INVITE_TIMER_C_MS}`);
    }
  }

  private placeRoute(opts: Omit<PlaceCallOptions, 'target'>, { peer, requestUri }: OutboundRoute): OutboundCall {
    if (!this.host.hasTransport(peer.transport)) {
      throw evxError('EVX_ERR_SIP_TRANSPORT', `SIP transport ${peer.transport} is not enabled`, { details: { transport: peer.transport } });
    }
    const call = new OutboundCall(this.host.ctx, opts, { peer, requestUri, onSettled: (c) => this.onSettled(c) });
    this.ringing.add(call);
    call.start();
    return call;
  }

  /** Calls placed and not yet answered or failed. */
  get size(): number {
    return this.ringing.size;
  }

  private onSettled(call: OutboundCall): void {
    this.ringing.delete(call);
    const key = call.dialogKey;
    if (call.state !== 'failed' || key === undefined) return;
    const timer = setTimeout(() => this.lingering.delete(key), 64 * this.host.ctx.t1Ms);
    timer.unref();
    this.lingering.set(key, { call, timer });
  }

  /** A response to one of our INVITEs that no transaction took; true when it was ours. */
  onStrayResponse(res: SipResponse): boolean {
    if (!/\sINVITE$/i.test((res.headers.get('cseq') ?? '').trim())) return false;
    const key = `${res.headers.get('call-id')}|${tagOf(res.headers.get('from'))}`;
    const call = this.lingering.get(key)?.call ?? [...this.ringing].find((c) => c.dialogKey === key);
    if (call === undefined) return false;
    call.onStray(res);
    return true;
  }

  /** Server closing: CANCEL what still rings, report `shutdown`, forget the rest. */
  close(): void {
    for (const call of [...this.ringing]) {
      call.stop('shutdown');
      call.fail('shutdown', undefined);
    }
    for (const { timer } of this.lingering.values()) clearTimeout(timer);
    this.lingering.clear();
  }
}
