/**
 * Consult calls between agents, the first half of an attended transfer (RFC 5589 §7, the box in
 * the middle), and the hand-over of the consulted agent's leg when the transfer completes.
 *
 * A consult call: an INVITE to the box whose source (transport, address and port) is a live
 * registered contact of agent A and whose To names another configured agent B at the box
 * (`sip:<agentId>@<box>`, the blind-transfer addressing of agentTransfer.ts). The SIP server has
 * answered it like every INVITE; it is claimed here before the ACD treats it as a caller: no
 * greeting, no routing (never routed from A's words: `doNotRoute`), no queue KPIs. B is offered it
 * (agent state ringing, for the consult call's id: an agent who is not available is not rung and
 * the consult call ends) and B's registered phones ring (agentRing.ts); the first to answer is
 * bridged with A's consult call (rtp/bridge.ts) and B is on-call. A stays on-call for their caller
 * (their phone holds the caller: hold music), and for the consult: if the caller hangs up first, A
 * stays on-call for the consult call until it ends (agentState.ts `consult-started` / `consult-ended`),
 * never offered a call while talking to B. B not answering (or A hanging up first) ends the
 * consult call with a BYE to A; A's call with the caller is not touched and stays on hold.
 * B's leg is placed with a deferred audio sink: not transcribed during the consult.
 *
 * Hand-over (`take`): A's phone sends, on its ACD leg, a REFER whose Refer-To carries
 * `?Replaces=<Call-ID>;to-tag=..;from-tag=..` (RFC 3891 escaped). `replacesOf` reads it; `take`
 * finds the consult dialog of that agent whose Call-ID matches and whose tags match from the box's
 * side (to-tag = the box's local tag, from-tag = A's tag), closes the consult bridge, moves B's
 * agent state to the caller's call, lets B's leg be transcribed as that call's `agent` leg from
 * now on and ends A's consult call (BYE). The ACD (acdCalls.ts) then bridges the caller with B's
 * leg and releases A's ACD leg.
 *
 * Close cascade: `close()` cancels the rings and forgets the consults (the SIP server ends the
 * calls); a consult whose A or B leg ends hangs the other up and is forgotten.
 */
import type { Logger } from '../log/logger.js';
import type { MediaBridge } from '../rtp/bridge.js';
import type { SipPeer } from '../sip/message.js';
import type { TypedEmitter } from '../events/typedEmitter.js';
import type { OutboundCall, PlaceCallOptions } from '../telephony/outbound.js';
import type { MediaLeg } from '../telephony/leg.js';
import type { CallEndReason, CallStartedEvent, LegAudioSink, LegAudioSinkFactory, LegInfo, TelephonyEvents } from '../telephony/types.js';
import { phoneRinger, ringPhones, type AgentRing, type PhoneRinger } from './agentRing.js';

/** The parts of the SIP server a consult call needs. */
export interface ConsultTelephony {
  readonly events: TypedEmitter<TelephonyEvents>;
  placeCall(opts: PlaceCallOptions): OutboundCall;
  bridge(callIdA: string, callIdB: string): MediaBridge;
  hangup(callId: string, reason?: CallEndReason): Promise<void>;
  leg(callId: string, legId: string): MediaLeg;
  dialogOf(callId: string): { sipCallId: string; localTag: string; remoteTag: string | undefined; peer: SipPeer } | undefined;
}

/** The agent-state calls of a consult (agentPresence.ts). */
export interface ConsultAgents {
  offer(agentId: string, callId: string): void;
  answered(agentId: string, callId: string): void;
  noAnswer(agentId: string, callId: string): void;
  offerFailed(agentId: string, callId: string): void;
  moveCall(agentId: string, callId: string, toCallId: string): void;
  /** The consulting agent placed `consultCallId` from the call they are on: busy until it ends. */
  consultStarted(agentId: string, consultCallId: string): void;
  /** The consulting agent's consult call is over (ended, or handed over to the caller). */
  consultEnded(agentId: string, consultCallId: string): void;
}

export interface ConsultCallsDeps {
  readonly sip: ConsultTelephony;
  readonly agents: ConsultAgents;
  /** The configured agents' ids. */
  readonly agentIds: () => readonly string[];
  /** An agent's live registered contacts (registrar `contactsOf`). */
  readonly contactsOf: (agentId: string) => readonly { readonly target: SipPeer; readonly contact: string }[];
  /** The box's host names and addresses as phones address it (lower case). */
  readonly boxHosts: readonly string[];
  /** Where a caller's `agent` leg audio goes (transcribed with that call). */
  readonly agentSink: (callerCallId: string) => LegAudioSinkFactory | undefined;
  /** Keep the call router from routing the consult call from A's words. */
  readonly doNotRoute?: (callId: string) => void;
  readonly logger: Logger;
  readonly ringTimeoutMs: number;
}

/** The Replaces header of a Refer-To URI (RFC 3891 §6.1), unescaped. */
export interface ReplacesTarget {
  readonly callId: string;
  readonly toTag: string;
  readonly fromTag: string;
}

/** B's leg handed over to the caller's call. */
export interface TakenConsult {
  readonly agentId: string;
  readonly agentCallId: string;
}

export interface ConsultCounters {
  /** Consult calls claimed (an agent dialled an agent). */
  started: number;
  answered: number;
  notAnswered: number;
  /** Consults handed over to a caller by a REFER with Replaces. */
  taken: number;
}

interface Consult {
  /** A's consult call (the box's id). */
  readonly callId: string;
  readonly fromAgentId: string;
  readonly toAgentId: string;
  readonly dialog: { readonly sipCallId: string; readonly localTag: string; readonly remoteTag: string | undefined };
  readonly sink: DeferredSink;
  rings: AgentRing[];
  /** B's answered leg, null while ringing. */
  toCallId: string | null;
  bridge: MediaBridge | null;
  done: boolean;
}

/** `Replaces` in a Refer-To (`sip:b@box?Replaces=...`): undefined when there is none, null when it is malformed. */
export function replacesOf(uri: string): ReplacesTarget | null | undefined {
  const q = uri.indexOf('?');
  if (q < 0) return undefined;
  let value: string | undefined;
  for (const h of uri.slice(q + 1).split('&')) {
    const eq = h.indexOf('=');
    if (eq > 0 && h.slice(0, eq).toLowerCase() === 'replaces') value = h.slice(eq + 1);
  }
  if (value === undefined) return undefined;
  let text: string;
  try {
    text = decodeURIComponent(value);
  } catch {
    return null;
  }
  const [callId, ...params] = text.split(';').map((p) => p.trim());
  let toTag: string | undefined;
  let fromTag: string | undefined;
  for (const p of params) {
    const eq = p.indexOf('=');
    const name = (eq < 0 ? p : p.slice(0, eq)).toLowerCase();
    if (name === 'to-tag') toTag = p.slice(eq + 1);
    else if (name === 'from-tag') fromTag = p.slice(eq + 1);
  }
  // both tags are mandatory (RFC 3891 §6.1)
  if (callId === undefined || callId === '' || toTag === undefined || toTag === '' || fromTag === undefined || fromTag === '') return null;
  return { callId, toTag, fromTag };
}

const USER_AT_HOST = /^\s*(?:"[^"]*"\s*|[^<"]*)?<?sips?:([^@;?>]+)@(\[[^\]]+\]|[^:;?>]+)/i;

export class ConsultCalls {
  /** By A's consult call id. */
  private readonly consults = new Map<string, Consult>();
  /** B's leg → A's consult call id. */
  private readonly byToCall = new Map<string, string>();
  private readonly ringer: PhoneRinger;
  private readonly off: () => void;
  private closed = false;
  readonly counters: ConsultCounters = { started: 0, answered: 0, notAnswered: 0, taken: 0 };

  constructor(private readonly deps: ConsultCallsDeps) {
    this.ringer = phoneRinger(deps.sip, deps.contactsOf, deps.logger);
    this.off = deps.sip.events.on('call.ended', (e) => this.onCallEnded(e.callId));
  }

  /** Consult calls in progress (tests, the console). */
  get size(): number {
    return this.consults.size;
  }

  /** Take `e` as a consult call when an agent's registered phone dialled another agent at the box; false: a caller. */
  claim(e: CallStartedEvent): boolean {
    if (this.closed || e.mode !== 'call') return false;
    const dialog = this.deps.sip.dialogOf(e.callId);
    if (dialog === undefined) return false;
    const fromAgentId = this.agentAt(dialog.peer);
    if (fromAgentId === null) return false;
    const toAgentId = this.agentNamed(e.pii.to);
    if (toAgentId === null || toAgentId === fromAgentId) return false;
    this.deps.doNotRoute?.(e.callId);
    this.counters.started++;
    const consult: Consult = {
      callId: e.callId,
      fromAgentId,
      toAgentId,
      dialog: { sipCallId: dialog.sipCallId, localTag: dialog.localTag, remoteTag: dialog.remoteTag },
      sink: new DeferredSink(),
      rings: [],
      toCallId: null,
      bridge: null,
      done: false,
    };
    this.consults.set(e.callId, consult);
    this.tellAgents(() => this.deps.agents.consultStarted(fromAgentId, e.callId), fromAgentId);
    this.deps.logger.info({ callId: e.callId, agentId: fromAgentId, toAgentId }, 'consult call: ringing an agent');
    try {
      this.deps.agents.offer(toAgentId, e.callId);
    } catch (err) {
      this.deps.logger.info(
        { callId: e.callId, agentId: toAgentId, code: (err as { code?: string }).code ?? 'error' },
        'consult target busy',
      );
      this.notAnswered(consult, null);
      return true;
    }
    let codec: LegInfo['codec'] | undefined;
    try {
      codec = this.deps.sip.leg(e.callId, 'leg0').info.codec;
    } catch {
      codec = undefined;
    }
    consult.rings = ringPhones(this.ringer, toAgentId, {
      ringTimeoutMs: this.deps.ringTimeoutMs,
      ...(codec === undefined ? {} : { codec }),
      sinkFactory: consult.sink.factory,
      callId: e.callId,
    });
    if (consult.rings.length === 0) {
      this.notAnswered(consult, 'failed');
      return true;
    }
    let pending = consult.rings.length;
    let anyNoAnswer = false;
    for (const ring of consult.rings) {
      void ring.result.then((outcome) => {
        if (outcome.type === 'answered') return this.onAnswered(consult, ring, outcome.agentCallId);
        anyNoAnswer ||= outcome.noAnswer;
        if (--pending === 0 && !consult.done && consult.toCallId === null) this.notAnswered(consult, anyNoAnswer ? 'no-answer' : 'failed');
      });
    }
    return true;
  }

  /**
   * Hand B's leg of the consult `r` names (from the box's side of that dialog, asked by `fromAgentId`)
   * over to the caller's call `callerCallId`: null when no answered consult of that agent matches.
   */
  take(r: ReplacesTarget, fromAgentId: string, callerCallId: string): TakenConsult | null {
    const consult = [...this.consults.values()].find(
      (c) =>
        !c.done &&
        c.fromAgentId === fromAgentId &&
        c.toCallId !== null &&
        c.dialog.sipCallId === r.callId &&
        c.dialog.localTag === r.toTag &&
        c.dialog.remoteTag === r.fromTag,
    );
    if (consult === undefined || consult.toCallId === null) return null;
    const agentCallId = consult.toCallId;
    this.forget(consult);
    consult.bridge?.close();
    consult.bridge = null;
    try {
      this.deps.agents.moveCall(consult.toAgentId, consult.callId, callerCallId);
    } catch (err) {
      this.deps.logger.warn({ agentId: consult.toAgentId, code: (err as { code?: string }).code ?? 'error' }, 'agent state not moved');
    }
    consult.sink.attach(this.deps.agentSink(callerCallId));
    this.counters.taken++;
    void this.deps.sip.hangup(consult.callId, 'transferred').catch(() => undefined);
    this.deps.logger.info({ callId: callerCallId, agentId: fromAgentId, toAgentId: consult.toAgentId }, 'consulted agent takes the caller');
    return { agentId: consult.toAgentId, agentCallId };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.off();
    for (const c of this.consults.values()) {
      c.done = true;
      for (const ring of c.rings) ring.cancel();
      c.bridge?.close();
    }
    this.consults.clear();
    this.byToCall.clear();
  }

  private onAnswered(consult: Consult, ring: AgentRing, agentCallId: string | null): void {
    if (consult.done || consult.toCallId !== null || agentCallId === null) {
      ring.hangUpAnswered();
      return;
    }
    for (const other of consult.rings) if (other !== ring) other.cancel();
    consult.toCallId = agentCallId;
    this.byToCall.set(agentCallId, consult.callId);
    this.counters.answered++;
    try {
      this.deps.agents.answered(consult.toAgentId, consult.callId);
    } catch (err) {
      this.deps.logger.warn({ agentId: consult.toAgentId, code: (err as { code?: string }).code ?? 'error' }, 'agent state not moved');
    }
    try {
      consult.bridge = this.deps.sip.bridge(consult.callId, agentCallId);
    } catch (err) {
      this.deps.logger.error(
        { callId: consult.callId, reason: err instanceof Error ? err.message : String(err) },
        'consult call not bridged',
      );
      this.end(consult);
      return;
    }
    this.deps.logger.info({ callId: consult.callId, toAgentId: consult.toAgentId }, 'consult call bridged');
  }

  /** B could not be offered it (`why` null), did not answer or could not be called: the consult call ends, A keeps the caller. */
  private notAnswered(consult: Consult, why: 'no-answer' | 'failed' | null): void {
    this.counters.notAnswered++;
    if (why !== null) {
      try {
        if (why === 'no-answer') this.deps.agents.noAnswer(consult.toAgentId, consult.callId);
        else this.deps.agents.offerFailed(consult.toAgentId, consult.callId);
      } catch (err) {
        this.deps.logger.warn({ agentId: consult.toAgentId, code: (err as { code?: string }).code ?? 'error' }, 'agent state not moved');
      }
    }
    this.deps.logger.info({ callId: consult.callId, toAgentId: consult.toAgentId, outcome: why ?? 'busy' }, 'consult call not answered');
    this.end(consult);
  }

  /** Either side of the consult ended: the other side goes too (agent states follow the calls' ends). */
  private onCallEnded(callId: string): void {
    const consult = this.consults.get(callId) ?? this.consults.get(this.byToCall.get(callId) ?? '');
    if (consult === undefined || consult.done) return;
    this.end(consult, callId);
  }

  /** The consult is over: rings cancelled, the bridge closed, both legs hung up (but `ended`, gone already). */
  private end(consult: Consult, ended?: string): void {
    this.forget(consult);
    for (const ring of consult.rings) ring.cancel();
    consult.bridge?.close();
    consult.bridge = null;
    consult.sink.attach(undefined);
    for (const callId of [consult.callId, consult.toCallId]) {
      if (callId !== null && callId !== ended) void this.deps.sip.hangup(callId).catch(() => undefined);
    }
  }

  /** The consult is no longer carried here; A's state is told (their wrap-up starts if their caller has gone). */
  private forget(consult: Consult): void {
    consult.done = true;
    this.consults.delete(consult.callId);
    if (consult.toCallId !== null) this.byToCall.delete(consult.toCallId);
    this.tellAgents(() => this.deps.agents.consultEnded(consult.fromAgentId, consult.callId), consult.fromAgentId);
  }

  /** An agent-state input; one the state refuses is logged, never thrown from a call's event. */
  private tellAgents(input: () => void, agentId: string): void {
    try {
      input();
    } catch (err) {
      this.deps.logger.warn({ agentId, code: (err as { code?: string }).code ?? 'error' }, 'agent state not moved');
    }
  }

  /** The agent one of whose live registered contacts is `peer` (same transport, address and port), null for none. */
  private agentAt(peer: SipPeer): string | null {
    for (const agentId of this.deps.agentIds()) {
      for (const c of this.deps.contactsOf(agentId)) {
        if (c.target.transport === peer.transport && c.target.address === peer.address && c.target.port === peer.port) return agentId;
      }
    }
    return null;
  }

  /** The configured agent a To header names at one of the box's hosts, null otherwise. */
  private agentNamed(to: string): string | null {
    const m = USER_AT_HOST.exec(to);
    if (m === null) return null;
    const host = m[2]!.toLowerCase().replace(/^\[|\]$/g, '');
    if (!this.deps.boxHosts.includes(host)) return null;
    let user = m[1]!;
    try {
      user = decodeURIComponent(user);
    } catch {
      // kept as written
    }
    return this.deps.agentIds().includes(user) ? user : null;
  }
}

/**
 * A leg's audio sink chosen after the leg started: frames before `attach` are dropped, then go to
 * the attached factory's sink (B's leg: not transcribed during the consult, the caller's `agent`
 * leg once it is handed over).
 */
class DeferredSink {
  private info: LegInfo | null = null;
  private sink: LegAudioSink | undefined;
  private attached = false;

  readonly factory: LegAudioSinkFactory = (info) => {
    this.info = info;
    return {
      onFrame: (pcm, concealed) => this.sink?.onFrame(pcm, concealed),
      close: (reason) => {
        this.sink?.close(reason);
        this.sink = undefined;
      },
    };
  };

  /** From now on the leg's audio goes to `factory`'s sink (once; undefined: nowhere). */
  attach(factory: LegAudioSinkFactory | undefined): void {
    if (this.attached) return;
    this.attached = true;
    if (factory !== undefined && this.info !== null) this.sink = factory(this.info);
  }
}
