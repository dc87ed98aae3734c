/**
 * Transfers the agent on a call asks for (blind by REFER or from the softphone, attended by REFER
 * with Replaces): the rules are in acdCalls.ts's header. This part of the ACD decides the target,
 * rings it while the caller hears music, and hands the call over or back; the call record, the
 * ringing, bridging and queueing are the ACD's (TransferHost).
 */
import type { TypedEmitter } from '../events/typedEmitter.js';
import type { AgentRing } from './agentRing.js';
import { transferTarget, type TransferRefusal } from './agentTransfer.js';
import { HOLD_MUSIC, type QueueAudio } from './announcements.js';
import { replacesOf, type ReplacesTarget } from './consultCalls.js';
import { admit, QUEUE_PROMPTS } from './queuePolicy.js';
import type { AcdCall, AcdCallsDeps, AcdCounters, AcdEvents, AgentTransferRequest, PendingTransfer } from './acdCall.js';

/** After the final NOTIFY of a transfer, how long the transferring phone has to hang up before the box does. */
const RELEASE_AFTER_NOTIFY_MS = 500;

/** What the transfers use of the ACD. */
export interface TransferHost {
  readonly deps: AcdCallsDeps;
  readonly events: TypedEmitter<AcdEvents>;
  readonly counters: AcdCounters;
  readonly calls: ReadonlyMap<string, AcdCall>;
  /** Agent call id → caller call id. */
  readonly byAgentCall: Map<string, string>;
  ringAgent(call: AcdCall, agentId: string): AgentRing[];
  watchRings(
    rings: readonly AgentRing[],
    answered: (ring: AgentRing, agentCallId: string | null) => void,
    none: (why: 'no-answer' | 'failed') => void,
  ): void;
  tellAgent(agentId: string, callId: string, why: 'no-answer' | 'failed'): void;
  bridgeAgent(call: AcdCall, agentCallId: string): boolean;
  closeBridge(call: AcdCall): void;
  holdMusic(call: AcdCall, held: boolean): void;
  queueAgain(call: AcdCall, groupId: string): void;
  leave(call: AcdCall, prompts: readonly string[], why: string): void;
  play(callId: string, items: readonly QueueAudio[]): Promise<boolean>;
}

export class AgentTransfers {
  constructor(private readonly host: TransferHost) {}

  /** The agent's phone asked to transfer its caller (REFER on `agentCallId`): resolves with the status of the final NOTIFY. */
  referral(agentCallId: string, targetUri: string): Promise<number> {
    const callerId = this.host.byAgentCall.get(agentCallId);
    const call = callerId === undefined ? undefined : this.host.calls.get(callerId);
    if (call === undefined || call.phase !== 'bridged' || call.agentId === null || call.agentCallId !== agentCallId) {
      return Promise.resolve(481);
    }
    if (call.transfer !== null) return Promise.resolve(491);
    const places = this.host.deps.transfers;
    const fromAgentId = call.agentId;
    const replaces = this.host.deps.consults === undefined ? undefined : replacesOf(targetUri);
    if (replaces === null) return Promise.resolve(this.refuseTransfer(call, fromAgentId, 'malformed', 403));
    if (replaces !== undefined) return Promise.resolve(this.attendedTransfer(call, fromAgentId, agentCallId, replaces));
    const target = transferTarget(targetUri, {
      boxHosts: new Set(places?.boxHosts ?? []),
      agents: this.host.deps.routing.agentList(),
      groupIds: this.host.deps.routing.groupList().map((g) => g.id),
      problem: places?.problem ?? (() => 'no transfer targets configured'),
    });
    if (target.kind === 'refused') return Promise.resolve(this.refuseTransfer(call, fromAgentId, target.reason, target.status));
    if (target.kind === 'group') return Promise.resolve(this.transferToQueue(call, fromAgentId, agentCallId, target.groupId));
    if (target.agentId === fromAgentId) return Promise.resolve(this.refuseTransfer(call, fromAgentId, 'same-agent', 403));
    return this.transferToAgent(call, fromAgentId, agentCallId, target.agentId);
  }

  /**
   * A browser softphone's agent transfers `callId` to another agent or a queue (softphoneControl.ts):
   * the REFER's path without a SIP leg; resolves with the status a REFER's final NOTIFY would carry
   * (200 done: the softphone leaves the call; 480 not answered: the call is back with the agent;
   * 404/403 refused and audited; 481 not the agent's call, audited; 491 a transfer already rings).
   */
  transferByAgent(callId: string, agentId: string, target: AgentTransferRequest): Promise<number> {
    const call = this.host.calls.get(callId);
    if (call === undefined || call.phase !== 'bridged' || call.agentId !== agentId || call.agentCallId !== null) {
      this.audit(agentId, callId, 'not-on-call', 481);
      return Promise.resolve(481);
    }
    if (call.transfer !== null) return Promise.resolve(491);
    if (target.kind === 'group') {
      if (!this.host.deps.routing.groupList().some((g) => g.id === target.groupId))
        return Promise.resolve(this.refuseTransfer(call, agentId, 'unknown-agent', 404));
      return Promise.resolve(this.transferToQueue(call, agentId, null, target.groupId));
    }
    if (!this.host.deps.routing.agentList().some((a) => a.id === target.agentId))
      return Promise.resolve(this.refuseTransfer(call, agentId, 'unknown-agent', 404));
    if (target.agentId === agentId) return Promise.resolve(this.refuseTransfer(call, agentId, 'same-agent', 403));
    return this.transferToAgent(call, agentId, null, target.agentId);
  }

  private audit(fromAgentId: string, callId: string, reason: TransferRefusal, status: number): void {
    try {
      this.host.deps.audit?.('agent:' + fromAgentId, 'acd.transfer.refused', `call:${callId}`, { reason, status });
    } catch (err) {
      this.host.deps.logger.warn({ callId, code: (err as { code?: string }).code ?? 'error' }, 'transfer refusal not audited');
    }
  }

  private refuseTransfer(
    call: AcdCall,
    fromAgentId: string,
    reason: TransferRefusal,
    status: number,
    kind: 'group' | 'other' = 'other',
  ): number {
    this.audit(fromAgentId, call.callId, reason, status);
    this.host.deps.logger.info({ callId: call.callId, agentId: fromAgentId, reason, status }, 'transfer refused');
    this.host.events.emit('call.transferred', { callId: call.callId, fromAgentId, kind, outcome: 'refused', reason });
    return status;
  }

  /**
   * To a queue, admitted as a caller entering it would be (queuePolicy.ts `admit`): a closed group
   * (480) or a full queue (486) refuses the transfer and the agent keeps the caller, bridged; a full
   * queue whose overflow finds an adjacent group with room sends the caller there. Admitted: the
   * transferring agent is released at once, the caller waits in the group (its priority, its first queueing).
   */
  private transferToQueue(call: AcdCall, fromAgentId: string, fromCallId: string | null, requestedGroupId: string): number {
    const admission = admit(requestedGroupId, this.host.deps.queues.state());
    if (admission.outcome === 'closed') return this.refuseTransfer(call, fromAgentId, 'queue-closed', 480, 'group');
    if (admission.outcome === 'full') return this.refuseTransfer(call, fromAgentId, 'queue-full', 486, 'group');
    const groupId = admission.groupId;
    this.host.deps.facts?.transferred(call.callId, this.host.deps.now());
    this.releaseAgentLeg(call, fromAgentId, fromCallId);
    call.agentId = null;
    call.groupId = groupId;
    if (!call.visited.includes(groupId)) call.visited.push(groupId);
    this.host.counters.transfers++;
    this.host.events.emit('call.transferred', { callId: call.callId, fromAgentId, kind: 'group', outcome: 'requeued', reason: null });
    this.host.deps.logger.info({ callId: call.callId, agentId: fromAgentId, groupId }, 'call transferred to a queue');
    this.host.queueAgain(call, groupId);
    return 200;
  }

  /** To an agent: their endpoints ring, the caller hears music, the transferring agent waits unbridged. */
  private transferToAgent(call: AcdCall, fromAgentId: string, fromCallId: string | null, toAgentId: string): Promise<number> {
    const failed = (status: number): Promise<number> => {
      this.host.events.emit('call.transferred', { callId: call.callId, fromAgentId, kind: 'agent', outcome: 'failed', reason: null });
      return Promise.resolve(status);
    };
    try {
      this.host.deps.agents.offer(toAgentId, call.callId);
    } catch (err) {
      this.host.deps.logger.info(
        { callId: call.callId, agentId: toAgentId, code: (err as { code?: string }).code ?? 'error' },
        'transfer target busy',
      );
      return failed(486);
    }
    const rings = this.host.ringAgent(call, toAgentId);
    if (rings.length === 0) {
      this.host.tellAgent(toAgentId, call.callId, 'failed');
      return failed(480);
    }
    call.bridge?.unbridge();
    void this.host.play(call.callId, [HOLD_MUSIC]);
    this.host.deps.logger.info({ callId: call.callId, agentId: fromAgentId, toAgentId }, 'transfer to an agent ringing');
    return new Promise<number>((done) => {
      const t: PendingTransfer = { fromAgentId, fromCallId, toAgentId, rings, settled: false, fromGone: false, done };
      call.transfer = t;
      this.host.watchRings(
        rings,
        (ring, agentCallId) => this.onTransferAnswered(call, t, ring, agentCallId),
        (why) => !t.settled && this.onTransferNotAnswered(call, t, why),
      );
    });
  }

  private onTransferAnswered(call: AcdCall, t: PendingTransfer, ring: AgentRing, agentCallId: string | null): void {
    if (t.settled || call.transfer !== t || !this.host.calls.has(call.callId)) {
      ring.hangUpAnswered();
      return;
    }
    t.settled = true;
    call.transfer = null;
    for (const other of t.rings) if (other !== ring) other.cancel();
    const at = this.host.deps.now();
    if (!t.fromGone) {
      this.host.deps.facts?.transferred(call.callId, at);
      this.releaseAgentLeg(call, t.fromAgentId, t.fromCallId);
    }
    call.audio.stop();
    call.phase = 'bridged';
    call.agentId = t.toAgentId;
    call.agentCallId = agentCallId;
    call.agentHeld = false;
    if (agentCallId !== null && !this.host.bridgeAgent(call, agentCallId)) {
      t.done(500);
      return;
    }
    this.host.counters.transfers++;
    this.host.deps.facts?.answered(call.callId, t.toAgentId, at);
    try {
      this.host.deps.agents.answered(t.toAgentId, call.callId);
    } catch (err) {
      this.host.deps.logger.warn({ agentId: t.toAgentId, code: (err as { code?: string }).code ?? 'error' }, 'agent state not moved');
    }
    this.host.deps.routing.reassign(call.callId, t.toAgentId);
    this.host.events.emit('call.transferred', {
      callId: call.callId,
      fromAgentId: t.fromAgentId,
      kind: 'agent',
      outcome: 'completed',
      reason: null,
    });
    this.host.deps.logger.info({ callId: call.callId, agentId: t.fromAgentId, toAgentId: t.toAgentId }, 'call transferred to an agent');
    t.done(200);
  }

  /**
   * Attended (REFER with Replaces naming the agent's consult call): the consulted agent's leg is
   * bridged with the caller, the transferring agent's leg released; 481 when no consult matches.
   */
  private attendedTransfer(call: AcdCall, fromAgentId: string, fromCallId: string, replaces: ReplacesTarget): number {
    const taken = this.host.deps.consults?.take(replaces, fromAgentId, call.callId) ?? null;
    if (taken === null) return this.refuseTransfer(call, fromAgentId, 'unknown-replaces', 481);
    const at = this.host.deps.now();
    this.host.deps.facts?.transferred(call.callId, at);
    this.releaseAgentLeg(call, fromAgentId, fromCallId);
    call.audio.stop();
    call.agentId = taken.agentId;
    call.agentCallId = taken.agentCallId;
    call.agentHeld = false;
    if (!this.host.bridgeAgent(call, taken.agentCallId)) return 500;
    this.host.counters.transfers++;
    this.host.deps.facts?.answered(call.callId, taken.agentId, at);
    this.host.deps.routing.reassign(call.callId, taken.agentId);
    this.host.events.emit('call.transferred', { callId: call.callId, fromAgentId, kind: 'attended', outcome: 'completed', reason: null });
    this.host.deps.logger.info(
      { callId: call.callId, agentId: fromAgentId, toAgentId: taken.agentId },
      'call transferred to the consulted agent',
    );
    return 200;
  }

  /** The target did not answer: back to the transferring agent, or — they left — to the call's queue. */
  private onTransferNotAnswered(call: AcdCall, t: PendingTransfer, why: 'no-answer' | 'failed'): void {
    t.settled = true;
    if (call.transfer === t) call.transfer = null;
    this.host.tellAgent(t.toAgentId, call.callId, why);
    t.done(480);
    if (!this.host.calls.has(call.callId)) return;
    const back = !t.fromGone;
    this.host.events.emit('call.transferred', {
      callId: call.callId,
      fromAgentId: t.fromAgentId,
      kind: 'agent',
      outcome: back ? 'returned' : 'failed',
      reason: null,
    });
    this.host.deps.logger.info({ callId: call.callId, agentId: t.toAgentId, outcome: why, back }, 'transfer target did not answer');
    if (back) {
      if (!call.agentHeld) this.host.holdMusic(call, false);
      return;
    }
    if (call.groupId === null) this.host.leave(call, QUEUE_PROMPTS.callLater, 'transfer-failed');
    else this.host.queueAgain(call, call.groupId);
  }

  /** The transferring agent hung up while the target rings (a blind transfer): the caller stays, music on. */
  transferringAgentLeft(call: AcdCall, t: PendingTransfer): void {
    t.fromGone = true;
    call.agentCallId = null;
    call.agentId = null;
    this.host.deps.facts?.transferred(call.callId, this.host.deps.now());
    this.host.closeBridge(call);
    call.phase = 'transferring';
    this.legEnded(t.fromAgentId, call.callId);
  }

  /** The transfer is over unfinished (the caller left, the ACD closes): rings cancelled, the target's offer withdrawn. */
  cancelTransfer(call: AcdCall): void {
    const t = call.transfer;
    if (t === null) return;
    call.transfer = null;
    t.settled = true;
    for (const ring of t.rings) ring.cancel();
    this.legEnded(t.toAgentId, call.callId);
    t.done(487);
  }

  /** The transferring agent leaves the call: wrap-up; their leg ends after the final NOTIFY unless their phone hangs up first. */
  private releaseAgentLeg(call: AcdCall, agentId: string, agentCallId: string | null): void {
    this.host.closeBridge(call);
    this.legEnded(agentId, call.callId);
    // a softphone (no SIP leg) is taken out of the call by whoever asked (softphoneControl.ts)
    if (agentCallId === null) return;
    this.host.byAgentCall.delete(agentCallId);
    if (call.agentCallId === agentCallId) call.agentCallId = null;
    const timer = setTimeout(
      () => void this.host.deps.sip.hangup(agentCallId, 'transferred').catch(() => undefined),
      RELEASE_AFTER_NOTIFY_MS,
    );
    timer.unref();
  }

  private legEnded(agentId: string, callId: string): void {
    try {
      this.host.deps.agents.legEnded(agentId, callId);
    } catch (err) {
      this.host.deps.logger.warn({ agentId, code: (err as { code?: string }).code ?? 'error' }, 'agent state not moved');
    }
  }
}
