/**
 * The public contract of the telephony layer: options, typed events and the per-leg audio sink.
 * Phone numbers, SIP URIs, names and remote IPs only appear under a `pii` key.
 */
import type { SipAccount } from '../sip/auth.js';
import type { ConnectionOptions } from 'node:tls';
import type { SipPeer, SipRequest, SipResponse, SipTransportName } from '../sip/message.js';
import type { SipParseLimits } from '../sip/parser.js';
import type { SipTimers } from '../sip/transaction.js';
import type { CodecName, MediaSecurity } from '../sdp/offer-answer.js';
import type { ReceiveQuality } from '../rtp/receiver.js';
import type { IdleMediaMode } from '../rtp/idleMedia.js';

export type LegLabel = 'caller' | 'agent' | 'unknown';

/** What the app learns about a leg when it starts. */
export interface LegInfo {
  readonly legId: string;
  readonly callId: string;
  /** `caller` for a plain inbound call; SIPREC participants are `caller` / `agent`. */
  readonly label: LegLabel;
  readonly codec: CodecName;
  /** Rate of the PCM frames delivered to the sink (8000 for G.711, 16000 for G.722). */
  readonly sampleRateHz: number;
  readonly frameMs: number;
  readonly localRtpPort: number;
  /** SIPREC participant id (opaque, not PII). */
  readonly participantId: string | undefined;
}

/**
 * Receives a leg's decoded audio in order, one ptime frame per call, lost frames concealed.
 * `pcm` is a view into a reused buffer: copy it if it must outlive the call. `close` is called
 * exactly once when the leg ends (flush the ASR stream there). Exceptions are contained.
 */
export interface LegAudioSink {
  onFrame(pcm: Int16Array, concealed: boolean): void;
  close(reason: CallEndReason): void;
}

/** Called when a leg starts; return undefined to not consume that leg's audio. */
export type LegAudioSinkFactory = (leg: LegInfo) => LegAudioSink | undefined;

export type CallEndReason =
  | 'remote_bye'
  | 'local_hangup'
  | 'cancelled'
  | 'session_timer_expired'
  | 'ack_timeout'
  | 'media_timeout'
  | 'transferred'
  | 'shutdown'
  | 'error';

export type CallMode = 'call' | 'siprec';

/** Who placed the call: the peer (`inbound`) or the box (`outbound`, `SipServer.placeCall`). */
export type CallDirection = 'inbound' | 'outbound';

export interface LegQuality extends ReceiveQuality {
  readonly legId: string;
  readonly label: LegLabel;
  readonly packetsSent: number;
  readonly malformedPackets: number;
}

export interface CallStartedEvent {
  readonly callId: string;
  /** SIP Call-ID (opaque token chosen by the peer). */
  readonly sipCallId: string;
  readonly mode: CallMode;
  readonly transport: SipTransportName;
  readonly startedAtMs: number;
  readonly answeredAtMs: number;
  readonly legs: readonly LegInfo[];
  readonly pii: {
    readonly from: string;
    readonly to: string;
    readonly remoteAddress: string;
    readonly participants?: readonly { participantId: string; aor: string | undefined }[];
  };
}

export interface CallEndedEvent {
  readonly callId: string;
  readonly direction: CallDirection;
  readonly reason: CallEndReason;
  readonly startedAtMs: number;
  readonly answeredAtMs: number;
  readonly endedAtMs: number;
  readonly legs: readonly LegQuality[];
}

export type RejectReason =
  | 'allow_list'
  | 'rate_limit'
  | 'auth'
  | 'capacity'
  | 'malformed'
  | 'bad_body'
  | 'unsupported'
  | 'no_codec'
  | 'media_address'
  | 'overload'
  | 'connection_limit'
  | 'tls'
  | 'scanner'
  | 'srtp';

/** Why a call the box placed did not get answered. */
export type OutboundFailureReason =
  /** 3xx-6xx from the far end (ACKed). */
  | 'rejected'
  /** Not answered within the ring timeout: CANCELled. */
  | 'ring_timeout'
  /** `cancel()` before the answer: CANCELled. */
  | 'cancelled'
  /** Nothing at all came back (Timer B). */
  | 'no_response'
  /** The connection to the target failed. */
  | 'unreachable'
  /** Max calls, the app's admission control, or no free RTP port pair. */
  | 'capacity'
  /** The 2xx had no usable SDP answer: it was ACKed and the dialog ended with BYE. */
  | 'bad_answer'
  /** The server is closing. */
  | 'shutdown'
  /** An unexpected internal error (a bug): the outcome's error says which. */
  | 'error';

/**
 * Progress of a call the box placed (outbound): `callId` is the Call's id once answered. An
 * answered outbound call emits no `call.started` (the app placed it and holds the Call), but it
 * ends with `call.ended` (direction `outbound`) like every call.
 */
export interface CallOutboundEvent {
  readonly callId: string;
  readonly state: 'ringing' | 'answered' | 'failed';
  /** The SIP status that moved it (180/183, 200, the failure's final status; undefined without one). */
  readonly status: number | undefined;
  readonly reason: OutboundFailureReason | undefined;
  readonly pii: { readonly target: string };
}

export interface TelephonyEvents {
  'call.started': CallStartedEvent;
  'call.ended': CallEndedEvent;
  'call.outbound': CallOutboundEvent;
  'call.held': { readonly callId: string };
  'call.resumed': { readonly callId: string };
  'call.quality': { readonly callId: string; readonly legs: readonly LegQuality[] };
  dtmf: {
    readonly callId: string;
    readonly legId: string;
    readonly digit: string;
    readonly durationMs: number;
    readonly source: 'rfc4733' | 'info';
  };
  /** REFER progress: outbound = we transfer the caller; inbound = the peer asked us to transfer. */
  'call.transfer': {
    readonly callId: string;
    readonly direction: 'outbound' | 'inbound';
    readonly state: 'requested' | 'accepted' | 'completed' | 'failed';
    readonly status: number | undefined;
    readonly pii: { readonly target: string };
  };
  /** Every refused message, for metrics (no PII: the source address is under pii). */
  'sip.rejected': {
    readonly reason: RejectReason;
    readonly method: string | undefined;
    readonly status: number | undefined;
    readonly pii: { readonly source: string };
  };
}

export interface SipServerOptions {
  readonly host?: string;
  /** 0 = ephemeral (tests). */
  readonly port?: number;
  readonly transports?: readonly SipTransportName[];
  /** SIP over TLS port (default 5061; 0 = ephemeral). */
  readonly tlsPort?: number;
  readonly tls?: SipTlsOptions;
  /** Address RTP sockets bind to and the SDP advertises (default: host). */
  readonly rtpHost?: string;
  readonly rtpPortMin?: number;
  readonly rtpPortMax?: number;
  /** Digest accounts; empty = no authentication. */
  readonly accounts?: readonly SipAccount[];
  readonly realm?: string;
  /** Source IPs/CIDRs allowed to send SIP; empty = everyone. */
  readonly allowList?: readonly string[];
  /** Where REFER may send callers: IPs/CIDRs and host names (default: this host); allowList counts too. */
  readonly transferTargets?: readonly string[];
  /** Requests per second per source IP (0 = off) and burst. */
  readonly rateLimitPerSec?: number;
  readonly rateLimitBurst?: number;
  readonly maxCalls?: number;
  /**
   * Admission control of the app, asked for every new INVITE after the max-calls check: lets the
   * appliance refuse calls (503 + Retry-After) while recognition lags real time or it is draining.
   */
  readonly admit?: () => AdmissionDecision;
  /**
   * The same decision without counting it as an attempt, asked by each OPTIONS outside a dialog: a
   * box that would refuse a new INVITE answers 503 + Retry-After, so a SIP front (Kamailio's
   * dispatcher probing with OPTIONS) sends it no new calls while it drains or is full.
   */
  readonly availability?: () => AdmissionDecision;
  readonly atCapacityStatus?: 486 | 503;
  readonly retryAfterSec?: number;
  /** RFC 4028: interval we propose / accept, and our Min-SE. */
  readonly sessionExpiresSec?: number;
  readonly minSessionExpiresSec?: number;
  readonly codecs?: readonly CodecName[];
  readonly timers?: SipTimers;
  readonly limits?: SipParseLimits;
  readonly latching?: boolean;
  readonly rtcpIntervalMs?: number;
  /** How often `call.quality` is emitted and media timeouts are checked. */
  readonly qualityIntervalMs?: number;
  /** End a call when no RTP arrived for this long (0 = never). */
  readonly rtpTimeoutMs?: number;
  /** SIPREC: participants whose AOR matches are labelled `agent`. */
  readonly agentAor?: RegExp;
  readonly sinkFactory?: LegAudioSinkFactory;
  /** Media encryption for calls from a peer (its trunk's policy); default: optional with every suite. */
  readonly mediaSecurity?: (peer: SipPeer) => MediaSecurity;
  /** Requests whose User-Agent contains one of these are dropped unanswered (default: known scanners; [] = off). */
  readonly dropUserAgents?: readonly string[];
  /** A peer's REFER not decided within this long is reported failed (408) (default 32 s). */
  readonly referralTimeoutMs?: number;
  /** What the box sends a peer while it only listens (default silence: no-media timeouts never fire). */
  readonly idleMedia?: IdleMediaMode;
  /** Send 180 Ringing and wait this long before answering (0 = answer at once). */
  readonly answerDelayMs?: number;
  readonly maxTcpConnections?: number;
  /** TCP connections one source address may hold (default 32). */
  readonly maxTcpConnectionsPerSource?: number;
  /** A TCP connection silent this long is closed (default 600 s). */
  readonly tcpIdleTimeoutMs?: number;
  /** Answers REGISTER (agents' phones); without one REGISTER gets 405 and Allow does not list it. */
  readonly registrar?: RegistrarLike;
}

/** The registrar the SIP server hands REGISTER to (telephony/registrar.ts): one final answer per request. */
export interface RegistrarLike {
  handle(req: SipRequest, peer: SipPeer): SipResponse;
}

/** SIP over TLS: where the certificate comes from, and who must show a client certificate. */
export interface SipTlsOptions {
  /** Certificate chain and key (PEM); read again by `SipServer.reloadTls()`. */
  readonly certificate: () => { readonly cert: string; readonly key: string };
  /** CA certificates (PEM) client certificates are checked against; empty = none asked for. */
  readonly clientCas?: () => string;
  /** True when connections from this address must present a certificate those CAs verify. */
  readonly requireClientCert?: (address: string) => boolean;
  /** Options to open a TLS connection to a peer (its CA, the name to verify). */
  readonly client?: (peer: SipPeer) => ConnectionOptions;
}

/** Carries out a transfer a peer asked for; resolves with the final SIP status to report. */
export type ReferralHandler = (callId: string, targetUri: string) => Promise<number>;

export type AdmissionDecision = { ok: true } | { ok: false; reason: 'capacity' | 'overload' | 'draining'; retryAfterS: number };
