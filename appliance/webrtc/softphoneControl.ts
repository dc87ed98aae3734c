/**
 * Hold and blind transfer asked by an agent's browser softphone (the agent page's Hold / Resume and
 * Transfer buttons, sent on its presence socket: `hold` / `transfer` in protocol.ts). What a SIP
 * agent's phone does with a re-INVITE or a REFER (acd/acdCalls.ts), for an agent who is in the
 * caller's WebRTC call instead of on a SIP leg of their own:
 *
 * - Hold: the ACD plays hold music to the caller (`holdByAgent`, the CallAudio path of a SIP agent's
 *   hold) and the SIP↔WebRTC relay of the call stops both ways (the agent hears nothing, the caller
 *   only the music); Resume: the music stops and the relay starts again.
 * - Transfer: `transferByAgent` (the ACD's own transfer path). While the target agent rings the
 *   relay is stopped as on hold (the caller hears the ACD's music). 200: the softphone leaves the
 *   call (`callEnded` reason `transferred` on the page) and may not join it again; the call goes on
 *   with the new agent or in the queue. Anything else: the call stays with the agent (back as it
 *   was, held or not) and the page gets the status as an error.
 *
 * The ACD decides who may: only the agent of the call, on a softphone (no SIP leg); it audits
 * refused transfers (481 for a call that is not theirs, 404 unknown target, 403 themselves).
 */
import type { AgentTransferRequest } from '../acd/acdCalls.js';
import type { Logger } from '../log/logger.js';

/** The ACD's side (AcdCalls). */
export interface SoftphoneControlAcd {
  holdByAgent(callId: string, agentId: string, held: boolean): number;
  transferByAgent(callId: string, agentId: string, target: AgentTransferRequest): Promise<number>;
}

export interface SoftphoneControlDeps {
  readonly acd: SoftphoneControlAcd;
  /** Who answered which call, and taking a softphone out of a call (WebRtcSoftphones). */
  readonly softphones: {
    answeredBy(callId: string, agentId: string): string | undefined;
    release(callId: string, participantId: string, reason: string): void;
  };
  /** The SIP↔WebRTC relay (SipWebRtcBridge.pause). */
  readonly media: { pause(callId: string, paused: boolean): boolean };
  readonly logger: Pick<Logger, 'info'>;
}

/** What the page is told: done, or refused with the status a REFER would have got and why. */
export type SoftphoneControlResult =
  { readonly ok: true; readonly status: number } | { readonly ok: false; readonly status: number; readonly message: string };

const MESSAGES: Readonly<Record<number, string>> = {
  403: 'That transfer is not allowed (same agent)',
  404: 'No such agent or queue',
  409: 'The call is already in that state',
  480: 'The agent did not answer; the call is back with you',
  481: 'You are not on that call',
  486: 'That agent cannot take a call now',
  487: 'The call ended during the transfer',
  491: 'A transfer of this call is already ringing',
};

/** A transfer to a queue refused by the group's admission (acd: queue-closed, queue-full). */
const QUEUE_MESSAGES: Readonly<Record<number, string>> = {
  480: 'That queue is closed now; the call is still with you',
  486: 'That queue is full; the call is still with you',
};

/** Held calls remembered at most. */
const MAX_HELD = 10_000;

function refused(status: number, target?: AgentTransferRequest): SoftphoneControlResult {
  const message = (target?.kind === 'group' ? QUEUE_MESSAGES[status] : undefined) ?? MESSAGES[status] ?? 'The transfer failed';
  return { ok: false, status, message };
}

export class SoftphoneControl {
  /** Calls held from a softphone (the relay is paused; a failed transfer leaves it so). */
  private readonly held = new Set<string>();

  constructor(private readonly deps: SoftphoneControlDeps) {}

  /** `agentId`'s softphone holds (`held`) or resumes `callId`. */
  hold(agentId: string, callId: string, held: boolean): SoftphoneControlResult {
    const status = this.deps.acd.holdByAgent(callId, agentId, held);
    if (status !== 200) return refused(status);
    if (held) {
      // ended calls are not told here: the oldest goes first (a call held that long has ended)
      if (this.held.size >= MAX_HELD) this.held.delete(this.held.values().next().value ?? '');
      this.held.add(callId);
    } else this.held.delete(callId);
    this.deps.media.pause(callId, held);
    this.deps.logger.info({ callId, agentId, held }, 'softphone hold');
    return { ok: true, status: 200 };
  }

  /** `agentId`'s softphone transfers `callId`; resolves when the transfer is over (answered, queued, or not). */
  async transfer(agentId: string, callId: string, target: AgentTransferRequest): Promise<SoftphoneControlResult> {
    // read before the transfer: a softphone target's ring takes the call's guard over
    const participantId = this.deps.softphones.answeredBy(callId, agentId);
    const pending = this.deps.acd.transferByAgent(callId, agentId, target);
    // the target rings: the caller hears the ACD's music only, the agent nothing
    const paused = participantId !== undefined && this.deps.media.pause(callId, true);
    const status = await pending;
    this.deps.logger.info({ callId, agentId, status }, 'softphone transfer ended');
    if (status === 200) {
      this.held.delete(callId);
      if (participantId !== undefined) {
        this.deps.media.pause(callId, false);
        this.deps.softphones.release(callId, participantId, 'transferred');
      }
      return { ok: true, status };
    }
    if (paused && !this.held.has(callId)) this.deps.media.pause(callId, false);
    return refused(status, target);
  }
}
