/**
 * What trunk supervision works with and reports: a trunk's configuration, the narrow slice of the
 * SIP server it sends through, the clock it schedules on, and its typed events and status.
 */
import type { LocalEndpoint } from '../sip/dialog.js';
import type { SipPeer, SipRequest, SipResponse, SipTransportName } from '../sip/message.js';

/** Outbound registration of a trunk (the provider requires it). */
export interface TrunkRegistrationConfig {
  readonly username: string;
  readonly password: string;
  /** Domain of the address of record; '' = the trunk's host. */
  readonly domain: string;
  /** Expiry asked for; the registrar's grant wins. */
  readonly expiresSec: number;
}

/** Calls out through a trunk (trunkDialer.ts): who we say we are, and the toll-fraud limits. */
export interface TrunkOutboundConfig {
  readonly enabled: boolean;
  /** Digest credentials for a challenge to our INVITE; '' = the registration's. Secret. */
  readonly username: string;
  readonly password: string;
  /** User part of our From (our number). */
  readonly callerId: string;
  /** Display name of our From; '' = none. */
  readonly callerName: string;
  /** Also send P-Asserted-Identity (RFC 3325). */
  readonly assertIdentity: boolean;
  /** Prefixes, or whole numbers with X for any one digit; empty = nothing may be dialled. */
  readonly allow: readonly string[];
  readonly maxPerHour: number;
  readonly maxConcurrent: number;
}

export interface TrunkConfig {
  /** Operator-chosen label: in logs, events, metrics and the API. */
  readonly name: string;
  readonly host: string;
  /** 0 = 5060, or 5061 for TLS. */
  readonly port: number;
  readonly transport: SipTransportName;
  /** OPTIONS interval; 0 = no keep-alive (the state stays unknown). */
  readonly keepaliveSec: number;
  readonly register?: TrunkRegistrationConfig | undefined;
  readonly outbound?: TrunkOutboundConfig | undefined;
}

/** The part of SipServer trunk supervision sends through (tests drive it with a real SipServer). */
export interface TrunkSignalling {
  /** An out-of-dialog request in a client transaction: the final response, or a rejection (Timer F, transport). */
  request(req: SipRequest, peer: SipPeer): Promise<SipResponse>;
  /** Where we are for a peer (Via, Contact). */
  localEndpoint(peer: SipPeer): LocalEndpoint;
}

export type TimerHandle = ReturnType<typeof setTimeout>;

/** Wall clock and timers; tests pass one that runs faster. */
export interface TrunkClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Date.now and unref'd timers: supervision never keeps the process alive on its own. */
export const SYSTEM_CLOCK: TrunkClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (t) => clearTimeout(t),
};

export type TrunkState = 'up' | 'down' | 'unknown';
export type TrunkRegistrationState = 'registered' | 'failed' | 'unregistered';

/** A trunk became reachable (any answer to OPTIONS) or stopped answering. */
export interface TrunkStateEvent {
  readonly trunk: string;
  readonly state: TrunkState;
  readonly reason: string;
  /** Round trip of the OPTIONS that brought it up; null when down. */
  readonly rttMs: number | null;
}

/** A trunk's registration changed: granted (with its expiry), failed, or removed. */
export interface TrunkRegistrationEvent {
  readonly trunk: string;
  readonly state: TrunkRegistrationState;
  /** Granted expiry; 0 unless registered. */
  readonly expiresSec: number;
  readonly reason: string;
}

export interface TrunkEvents {
  'trunk.state': TrunkStateEvent;
  'trunk.registration': TrunkRegistrationEvent;
}

/** One trunk for the API and metrics: configuration labels and state, never credentials. */
export interface TrunkStatus {
  readonly name: string;
  readonly transport: SipTransportName;
  readonly host: string;
  readonly port: number;
  readonly keepaliveSec: number;
  readonly state: TrunkState;
  /** When the state last changed (ms since the epoch). */
  readonly since: number;
  readonly reason: string;
  readonly rttMs: number | null;
  readonly registration: {
    readonly state: TrunkRegistrationState;
    readonly since: number;
    readonly expiresSec: number;
    readonly reason: string;
  } | null;
}

/** The port a trunk is reached on. */
export function trunkPort(t: Pick<TrunkConfig, 'port' | 'transport'>): number {
  if (t.port > 0) return t.port;
  return t.transport === 'tls' ? 5061 : 5060;
}

/** Why a request got no answer, for events and logs: static text, no peer data. */
export function failureReason(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'EVX_ERR_SIP_TRANSACTION_TIMEOUT') return 'no answer';
  if (code === 'EVX_ERR_SIP_TRANSPORT') return /not enabled/.test((err as Error).message) ? 'transport not enabled' : 'connection failed';
  if (code === 'EVX_ERR_SIP_CLOSED') return 'sip closed';
  return 'send failed';
}
