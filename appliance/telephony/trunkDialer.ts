/**
 * TrunkDialer: the only way a call leaves the box through a SIP trunk. Calls out through a provider
 * cost money and are what toll fraud is after, so the SIP server hands the trunk line out once
 * (SipServer.claimTrunkLine, outboundCalls.ts) and this dialer holds it; a plain call target on a
 * claimed trunk's address is refused there.
 *
 * Before anything is sent a call must pass, in this order (the first that fails is the refusal):
 * - `no-trunk`: the trunk named, or the first with `outbound.enabled`, calls out;
 * - `invalid-number`: '+' (optional) and 3-20 digits once visual separators (space . - / ( )) are stripped;
 * - `not-allowed`: the trunk's allow-list has a prefix of it ('+4930'), or a pattern of its length
 *   ('+44XXXXXXXXXX', X = any one digit); an empty list allows nothing;
 * - `concurrent-cap`: calls placed through the trunk that have not ended (ringing, or answered and
 *   not hung up) are below `maxConcurrent`;
 * - `hourly-cap`: calls placed through the trunk in the last 60 minutes (a sliding window) are
 *   below `maxPerHour`.
 * A refused call throws EVX_ERR_OUTBOUND_REFUSED (details.reason) and nothing is sent or counted.
 *
 * The INVITE: `sip:<number>@<trunk address>:<port>;user=phone` (`;transport=` of the trunk's when not
 * UDP) sent to the trunk's address; From the trunk's caller id and name, P-Asserted-Identity when
 * asked for, and digest credentials (outbound's, else the registration's) for a challenge.
 *
 * Every placed and every refused call is written to the audit log (actor `system`, target
 * `trunk:<name>`, the number masked to its last two digits) and emitted on `events` (trunk, purpose,
 * reason: the metrics' labels). The number in clear goes into the INVITE and nowhere else.
 */
import { evxError } from '../errors.js';
import { TypedEmitter } from '../events/typedEmitter.js';
import type { SipAccount } from '../sip/auth.js';
import { parseUri } from '../sip/grammar.js';
import { uriUser } from '../sip/outOfDialog.js';
import type { CodecName } from '../sdp/offer-answer.js';
import type { OutboundCall } from './outbound.js';
import type { TrunkLine } from './outboundCalls.js';
import { trunkPort, type TrunkConfig, type TrunkOutboundConfig } from './trunkTypes.js';
import type { LegAudioSinkFactory, LegLabel } from './types.js';

export type TrunkCallPurpose = 'callback' | 'transfer';

export interface TrunkCallRequest {
  /** Digits with an optional leading '+'; visual separators are allowed and stripped. */
  readonly number: string;
  readonly purpose: TrunkCallPurpose;
  readonly ringTimeoutMs: number;
  /** Trunk name; default: the first trunk with outbound.enabled. */
  readonly trunk?: string;
  readonly sinkFactory?: LegAudioSinkFactory;
  readonly label?: LegLabel;
  readonly codecs?: readonly CodecName[];
}

export type OutboundRefusalReason = 'no-trunk' | 'invalid-number' | 'not-allowed' | 'hourly-cap' | 'concurrent-cap';

export interface OutboundRefusal {
  readonly reason: OutboundRefusalReason;
  /** The trunk that refused; null when none calls out under that name. */
  readonly trunk: string | null;
}

/** What the dialer reports; `trunk` is '' when no trunk calls out under the name asked for. No numbers. */
export interface TrunkDialerEvents {
  'outbound.placed': { readonly trunk: string; readonly purpose: TrunkCallPurpose };
  'outbound.refused': { readonly trunk: string; readonly purpose: TrunkCallPurpose; readonly reason: OutboundRefusalReason };
  /** The audit log could not be written (the store failing); the call itself went on or was refused as usual. */
  'outbound.audit_failed': { readonly trunk: string };
}

export interface TrunkDialerOptions {
  /** Every configured trunk; those without `outbound.enabled` are never dialled. */
  readonly trunks: readonly TrunkConfig[];
  /** The SIP server's trunk line (SipServer.claimTrunkLine with the addresses and ports of `callingTrunks(trunks)`). */
  readonly line: TrunkLine;
  /** Subscribe to calls ending (SipServer `call.ended`); returns the unsubscribe function. */
  readonly onCallEnded: (listener: (callId: string) => void) => () => void;
  /** Append to the audit log (the store's, actor `system`). */
  readonly audit: (action: 'outbound.placed' | 'outbound.refused', target: string, details: Record<string, unknown>) => void;
  /** Wall clock in ms (the hourly window); default Date.now. */
  readonly now?: () => number;
}

const HOUR_MS = 3_600_000;
const SEPARATORS = /[\s.\-/()]/g;

/** '+'? and 3-20 digits after stripping visual separators, or null. */
export function normaliseNumber(number: string): string | null {
  const n = number.replace(SEPARATORS, '');
  return /^\+?\d{3,20}$/.test(n) ? n : null;
}

/** The dialable number of a caller's URI (sip:+4930123@host, tel:+4930123): see normaliseNumber; null otherwise (anonymous, names, etc.). */
export function dialableNumber(uri: string): string | null {
  const parsed = parseUri(uri);
  if (parsed?.user === undefined) return null;
  let user: string;
  try {
    user = decodeURIComponent(parsed.user);
  } catch {
    return null;
  }
  return normaliseNumber(user);
}

/** True when an allow-list entry lets `number` (normalised) be dialled: a prefix, or with X a whole number. */
export function allowedBy(number: string, allow: readonly string[]): boolean {
  return allow.some((entry) =>
    entry.includes('X')
      ? entry.length === number.length && [...entry].every((c, i) => (c === 'X' ? /\d/.test(number[i]!) : c === number[i]))
      : number.startsWith(entry),
  );
}

/** `••••••` and the last two digits (none of them when there are 4 or fewer): for audit rows. */
export function maskDialled(number: string): string {
  const digits = number.replace(/\D/g, '');
  return digits.length > 4 ? `••••••${digits.slice(-2)}` : '••••••';
}

/** The trunks that call out (outbound.enabled), in configuration order. */
export function callingTrunks(trunks: readonly TrunkConfig[]): TrunkConfig[] {
  return trunks.filter((t) => t.outbound?.enabled === true);
}

interface Calling {
  readonly trunk: TrunkConfig;
  readonly outbound: TrunkOutboundConfig;
  /** When calls were placed, oldest first; pruned to the last hour. */
  readonly placedAt: number[];
  /** Ids of the calls placed that have not ended. */
  readonly active: Set<string>;
}

export class TrunkDialer {
  readonly events = new TypedEmitter<TrunkDialerEvents>();
  private readonly calling: Calling[];
  private readonly byCall = new Map<string, Calling>();
  private readonly now: () => number;
  private readonly unsubscribe: () => void;

  constructor(private readonly opts: TrunkDialerOptions) {
    this.now = opts.now ?? Date.now;
    this.calling = callingTrunks(opts.trunks).map((trunk) => ({ trunk, outbound: trunk.outbound!, placedAt: [], active: new Set() }));
    this.unsubscribe = opts.onCallEnded((callId) => this.release(callId));
  }

  /** Names of the trunks that call out, in configuration order. */
  get trunks(): string[] {
    return this.calling.map((c) => c.trunk.name);
  }

  /** Why `number` may not be dialled now, or null. */
  check(number: string, trunk?: string): OutboundRefusal | null {
    return this.decide(number, trunk).refusal;
  }

  /**
   * Place the call; throws EVX_ERR_OUTBOUND_REFUSED (details.reason: 'no-trunk' | 'invalid-number' |
   * 'not-allowed' | 'hourly-cap' | 'concurrent-cap') BEFORE anything is sent, or what
   * SipServer.placeCall throws (not listening, transport off).
   */
  place(req: TrunkCallRequest): OutboundCall {
    const { refusal, calling, number } = this.decide(req.number, req.trunk);
    if (refusal !== null || calling === undefined || number === null) {
      const why = refusal ?? { reason: 'no-trunk', trunk: null };
      this.refused(req, why);
      throw evxError('EVX_ERR_OUTBOUND_REFUSED', `outbound call refused (${why.reason})`, {
        details: { reason: why.reason, trunk: why.trunk, purpose: req.purpose },
      });
    }
    const { trunk, outbound } = calling;
    const auth = credentialsOf(trunk);
    const call = this.opts.line.place(
      {
        ringTimeoutMs: req.ringTimeoutMs,
        fromUser: outbound.callerId,
        ...(outbound.callerName === '' ? {} : { fromDisplayName: outbound.callerName }),
        ...(outbound.assertIdentity ? { assertedIdentity: `<tel:${outbound.callerId}>` } : {}),
        ...(auth === undefined ? {} : { auth }),
        ...(req.sinkFactory === undefined ? {} : { sinkFactory: req.sinkFactory }),
        ...(req.label === undefined ? {} : { label: req.label }),
        ...(req.codecs === undefined ? {} : { codecs: req.codecs }),
      },
      { peer: { transport: trunk.transport, address: trunk.host, port: trunkPort(trunk) }, requestUri: trunkUri(number, trunk) },
    );
    calling.placedAt.push(this.now());
    calling.active.add(call.id);
    this.byCall.set(call.id, calling);
    void call.result.then((o) => {
      if (o.type === 'failed' || o.call.state === 'ended') this.release(call.id);
    });
    this.record(trunk.name, 'outbound.placed', { purpose: req.purpose, number: maskDialled(number), callId: call.id });
    this.events.emit('outbound.placed', { trunk: trunk.name, purpose: req.purpose });
    return call;
  }

  /** Stop following calls (the SIP server ends them). Idempotent. */
  close(): void {
    this.unsubscribe();
  }

  private decide(raw: string, name: string | undefined): { refusal: OutboundRefusal | null; calling?: Calling; number: string | null } {
    const calling = name === undefined ? this.calling[0] : this.calling.find((c) => c.trunk.name === name);
    if (calling === undefined) return { refusal: { reason: 'no-trunk', trunk: null }, number: null };
    const trunk = calling.trunk.name;
    const number = normaliseNumber(raw);
    if (number === null) return { refusal: { reason: 'invalid-number', trunk }, number };
    if (!allowedBy(number, calling.outbound.allow)) return { refusal: { reason: 'not-allowed', trunk }, number };
    if (calling.active.size >= calling.outbound.maxConcurrent) return { refusal: { reason: 'concurrent-cap', trunk }, number };
    const since = this.now() - HOUR_MS;
    while (calling.placedAt.length > 0 && calling.placedAt[0]! <= since) calling.placedAt.shift();
    if (calling.placedAt.length >= calling.outbound.maxPerHour) return { refusal: { reason: 'hourly-cap', trunk }, number };
    return { refusal: null, calling, number };
  }

  private refused(req: TrunkCallRequest, refusal: OutboundRefusal): void {
    const trunk = refusal.trunk ?? '';
    this.record(trunk === '' ? (req.trunk ?? '') : trunk, 'outbound.refused', {
      purpose: req.purpose,
      reason: refusal.reason,
      number: maskDialled(req.number),
    });
    this.events.emit('outbound.refused', { trunk, purpose: req.purpose, reason: refusal.reason });
  }

  /** An audit row; a failing store must not turn a placed call into a thrown one. */
  private record(trunk: string, action: 'outbound.placed' | 'outbound.refused', details: Record<string, unknown>): void {
    try {
      this.opts.audit(action, `trunk:${trunk}`, details);
    } catch {
      this.events.emit('outbound.audit_failed', { trunk });
    }
  }

  /** A call through a trunk ended (or failed): it no longer counts against the concurrent cap. Once per call. */
  private release(callId: string): void {
    const calling = this.byCall.get(callId);
    if (calling === undefined) return;
    this.byCall.delete(callId);
    calling.active.delete(callId);
  }
}

/** The Request-URI of a number on a trunk (IPv4 address, checked at config load). */
function trunkUri(number: string, trunk: TrunkConfig): string {
  const transport = trunk.transport === 'udp' ? '' : `;transport=${trunk.transport}`;
  return `sip:${uriUser(number)}@${trunk.host}:${trunkPort(trunk)}${transport};user=phone`;
}

/** Digest credentials for calls out: outbound's own, else the registration's, else none (IP-authenticated). */
function credentialsOf(trunk: TrunkConfig): SipAccount | undefined {
  const out = trunk.outbound;
  if (out !== undefined && out.username !== '') return { username: out.username, password: out.password };
  return trunk.register === undefined ? undefined : { username: trunk.register.username, password: trunk.register.password };
}
