/**
 * Ringing an agent: every endpoint the agent can answer on — each registered SIP phone (an INVITE
 * from the box, SipServer.placeCall) and, when WebRTC is on, their browser softphones — rung at
 * once for one call; the first to answer takes it, the caller's side cancels the others. Used by
 * the ACD for callers (acdCalls.ts) and for callbacks (callbackDialer.ts).
 */
import type { Logger } from '../log/logger.js';
import type { SipPeer } from '../sip/message.js';
import type { CodecName } from '../sdp/offer-answer.js';
import type { OutboundCall, PlaceCallOptions } from '../telephony/outbound.js';
import type { CallEndReason, LegAudioSinkFactory } from '../telephony/types.js';

/** How ringing one of the agent's endpoints ended. */
export type RingOutcome =
  /** `agentCallId`: the SIP call to bridge with the caller; null when the endpoint joined the caller's call itself (softphone). */
  | { readonly type: 'answered'; readonly agentCallId: string | null }
  /** `noAnswer`: it rang out or the agent declined (busy); else it could not be reached. */
  | { readonly type: 'failed'; readonly noAnswer: boolean };

/** One of the agent's endpoints being rung for a call. */
export interface AgentRing {
  /** Resolves once; never rejects. */
  readonly result: Promise<RingOutcome>;
  /** Stop ringing (another endpoint answered, the caller left); its result then says failed. */
  cancel(): void;
  /** It answered too late (another endpoint won, the caller left): end what it answered. */
  hangUpAnswered(): void;
}

/** Agents' browser softphones (WebRTC): rung alongside their registered phones. */
export interface AcdSoftphones {
  /** Ring the agent's connected softphones for `callerCallId`; null when none is connected. */
  ring(agentId: string, callerCallId: string, ringTimeoutMs: number): AgentRing | null;
}

/** Final statuses that mean the agent did not pick up (busy, not available, declined). */
export const NO_ANSWER_STATUSES: ReadonlySet<number> = new Set([408, 480, 486, 487, 600, 603]);

/** What ringing a registered phone needs from the SIP server and the registrar. */
export interface PhoneRinger {
  placeCall(opts: PlaceCallOptions): OutboundCall;
  hangup(callId: string, reason?: CallEndReason): Promise<void>;
  /** The agent's live registered contacts (registrar `contactsOf`). */
  readonly contactsOf: (agentId: string) => readonly { readonly target: SipPeer; readonly contact: string }[];
  readonly logger: Logger;
}

export interface PhoneRingOptions {
  readonly ringTimeoutMs: number;
  /** Offered alone (the caller's codec: no transcoding in the bridge); default: the server's codecs. */
  readonly codec?: CodecName | undefined;
  /** Where the answered leg's audio goes (transcribed as the interaction's agent leg). */
  readonly sinkFactory?: LegAudioSinkFactory | undefined;
  /** The call being offered, for logs only. */
  readonly callId: string;
}

/** A PhoneRinger over the SIP server's placeCall and hangup (bound: the server's methods keep their `this`). */
export function phoneRinger(
  sip: Pick<PhoneRinger, 'placeCall' | 'hangup'>,
  contactsOf: PhoneRinger['contactsOf'],
  logger: Logger,
): PhoneRinger {
  return {
    placeCall: (opts) => sip.placeCall(opts),
    hangup: (callId, reason) => sip.hangup(callId, reason),
    contactsOf,
    logger,
  };
}

/** An INVITE from the box to each of the agent's registered phones (none when no phone is registered or none could be called). */
export function ringPhones(r: PhoneRinger, agentId: string, opts: PhoneRingOptions): AgentRing[] {
  const rings: AgentRing[] = [];
  for (const c of r.contactsOf(agentId)) {
    let placed: OutboundCall;
    try {
      placed = r.placeCall({
        target: { target: c.target, contact: c.contact },
        ringTimeoutMs: opts.ringTimeoutMs,
        label: 'agent',
        ...(opts.codec === undefined ? {} : { codecs: [opts.codec] }),
        ...(opts.sinkFactory === undefined ? {} : { sinkFactory: opts.sinkFactory }),
      });
    } catch (err) {
      r.logger.warn({ callId: opts.callId, agentId, code: (err as { code?: string }).code ?? 'error' }, 'agent phone not called');
      continue;
    }
    rings.push({
      result: placed.result.then((o): RingOutcome =>
        o.type === 'answered'
          ? { type: 'answered', agentCallId: placed.id }
          : {
              type: 'failed',
              noAnswer:
                o.reason === 'ring_timeout' || (o.reason === 'rejected' && o.status !== undefined && NO_ANSWER_STATUSES.has(o.status)),
            },
      ),
      cancel: () => void placed.cancel(),
      hangUpAnswered: () => void r.hangup(placed.id).catch(() => undefined),
    });
  }
  return rings;
}
