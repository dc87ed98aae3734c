/**
 * Supervision of ACD calls bridged to a SIP agent's phone: a supervisor (an agent account with a
 * phone registered to the box) listens in, whispers to the agent, or barges in.
 *
 *   start(call, supervisor, mode) → the supervisor's registered phones ring (agentRing.ts, the
 *   caller's codec, `ringTimeoutMs`; the first to answer takes it) → answered: the caller-agent
 *   bridge is unbridged and a conference (rtp/conference.ts) mixes caller, agent and supervisor
 *   by the mode's matrix → setMode() switches the matrix from the next 20 ms frame → stop(), or the
 *   supervisor hanging up: the conference closes and the plain relay (rtp/bridge.ts) takes the
 *   caller and agent back.
 *
 * After the supervisor leaves, the call goes back to the plain relay rather than staying mixed:
 * the relay sends each packet from the socket handler (well under a millisecond added), the mixer
 * waits for its 20 ms clock and a party's jitter (typically 10-30 ms added, measured in the
 * conference's delay figures), and re-encodes G.722. The hand-over costs one marker packet.
 *
 * The caller or the agent hanging up (or the bridge closing) ends the supervision too: the
 * supervisor's leg is hung up and the ACD ends the call as usual. So does a hold by the caller's or
 * the agent's phone, or a transfer the agent asks for (REFER). The agent's hold leaves the bridge
 * detached for the ACD's hold music; a caller's hold (the ACD plays nothing) and a transfer (which
 * the ACD, deciding right after, detaches or closes as it needs, or refuses) put caller and agent
 * back on the plain relay, so a refused transfer does not leave them unheard. One supervision per call, one
 * call per supervisor. Events (`supervision.started`, `.mode`, `.ended` on the bus, `started` /
 * `ended` here for metrics) carry ids only, never numbers or names.
 */
import { evxError } from '../errors.js';
import type { EventBus } from '../events/appEvents.js';
import { TypedEmitter } from '../events/typedEmitter.js';
import type { Logger } from '../log/logger.js';
import type { MediaBridge } from '../rtp/bridge.js';
import { Conference, SUPERVISION_MATRIX, type ConferenceStats, type SupervisionMode } from '../rtp/conference.js';
import type { DelaySummary } from '../rtp/delayStats.js';
import type { MediaLeg } from '../telephony/leg.js';
import type { OutboundCall, PlaceCallOptions } from '../telephony/outbound.js';
import type { CallEndReason, TelephonyEvents } from '../telephony/types.js';
import { ringPhones, type AgentRing, type PhoneRinger, phoneRinger } from './agentRing.js';

export type { SupervisionMode } from '../rtp/conference.js';

/** The parts of the SIP server supervision drives. */
export interface SupervisionTelephony {
  readonly events: TypedEmitter<TelephonyEvents>;
  placeCall(opts: PlaceCallOptions): OutboundCall;
  hangup(callId: string, reason?: CallEndReason): Promise<void>;
  leg(callId: string, legId: string): MediaLeg;
}

/** A caller's call bridged to a SIP agent (AcdCalls.bridged). */
export interface BridgedCall {
  readonly agentId: string;
  readonly agentCallId: string;
  readonly bridge: MediaBridge;
}

export interface SupervisionDeps {
  readonly sip: SupervisionTelephony;
  readonly calls: { bridged(callId: string): BridgedCall | undefined };
  /** The supervisor's live registered contacts (registrar `contactsOf`). */
  readonly contactsOf: PhoneRinger['contactsOf'];
  readonly bus: Pick<EventBus, 'publish'>;
  readonly logger: Logger;
  readonly now: () => number;
  /** How long the supervisor's phones ring before the supervision is given up. */
  readonly ringTimeoutMs: number;
}

export type SupervisionState = 'ringing' | 'active';
/** Why a supervision ended. */
export type SupervisionEndReason =
  'stopped' | 'supervisor-left' | 'call-ended' | 'call-held' | 'transfer' | 'no-answer' | 'failed' | 'closed';

/** What the API shows of a supervision. */
export interface SupervisionView {
  readonly callId: string;
  readonly supervisorId: string;
  readonly mode: SupervisionMode;
  readonly state: SupervisionState;
  readonly startedAt: number;
  /** When the supervisor's phone answered; null while ringing. */
  readonly answeredAt: number | null;
  /** The mixer's figures while active; null while ringing. */
  readonly mixer: MixerFigures | null;
}

/** The conference's figures, summed over the parties. */
export interface MixerFigures {
  readonly frames: number;
  /** Party frames that were not there at their tick (silence in their place). */
  readonly missingFrames: number;
  readonly droppedSamples: number;
  /** Samples skipped to bring a standing buffer level (queued jitter) back down. */
  readonly trimmedSamples: number;
  readonly delay: DelaySummary;
}

export interface SupervisionEvents {
  started: { readonly callId: string; readonly supervisorId: string; readonly mode: SupervisionMode };
  mode: { readonly callId: string; readonly supervisorId: string; readonly mode: SupervisionMode };
  ended: {
    readonly callId: string;
    readonly supervisorId: string;
    readonly reason: SupervisionEndReason;
    readonly mixer: MixerFigures | null;
  };
}

interface Session {
  readonly callId: string;
  readonly agentCallId: string;
  readonly supervisorId: string;
  readonly bridge: MediaBridge;
  readonly startedAt: number;
  mode: SupervisionMode;
  state: SupervisionState | 'ended';
  rings: AgentRing[];
  answeredAt: number | null;
  supervisorCallId: string | null;
  conference: Conference | null;
  readonly offs: (() => void)[];
}

export class Supervisions {
  readonly events = new TypedEmitter<SupervisionEvents>();
  /** By the caller's call id. */
  private readonly sessions = new Map<string, Session>();
  private readonly ringer: PhoneRinger;
  private readonly offs: (() => void)[];
  private closed = false;

  constructor(private readonly deps: SupervisionDeps) {
    this.ringer = phoneRinger(deps.sip, deps.contactsOf, deps.logger);
    const ev = deps.sip.events;
    this.offs = [
      ev.on('call.ended', (e) => this.onCallEnded(e.callId)),
      // the ACD takes the caller and agent back for a hold or a transfer (music, another agent)
      ev.on('call.held', (e) => this.onCallTaken(e.callId, 'call-held')),
      ev.on('call.transfer', (e) => e.direction === 'inbound' && e.state === 'requested' && this.onCallTaken(e.callId, 'transfer')),
    ];
  }

  /**
   * Ring the supervisor's phones to supervise the caller's call `callId` in `mode`. Throws
   * EVX_ERR_NOT_FOUND when the call is not bridged to a SIP agent, EVX_ERR_SUPERVISION_STATE when it
   * is supervised already, the supervisor supervises another call or is the call's agent, or has
   * no phone that could be called.
   */
  start(callId: string, supervisorId: string, mode: SupervisionMode): SupervisionView {
    if (this.closed) throw evxError('EVX_ERR_SHUTTING_DOWN', 'supervision is closed');
    const refuse = (why: string): never => {
      throw evxError('EVX_ERR_SUPERVISION_STATE', `the call cannot be supervised: ${why}`, { details: { callId, supervisorId, why } });
    };
    // while supervised the bridge is unbridged: that is a 409, not an unknown call
    if (this.sessions.has(callId)) refuse('already-supervised');
    const bridged = this.deps.calls.bridged(callId);
    if (bridged === undefined || bridged.bridge.state !== 'bridged')
      throw evxError('EVX_ERR_NOT_FOUND', 'no call with that id is bridged to a SIP agent', { details: { callId } });
    if ([...this.sessions.values()].some((s) => s.supervisorId === supervisorId)) refuse('supervisor-busy');
    if (bridged.agentId === supervisorId) refuse('supervisor-is-agent');
    const rings = ringPhones(this.ringer, supervisorId, {
      ringTimeoutMs: this.deps.ringTimeoutMs,
      codec: this.deps.sip.leg(callId, 'leg0').info.codec,
      callId,
    });
    if (rings.length === 0) refuse('no-phone');
    const session: Session = {
      callId,
      agentCallId: bridged.agentCallId,
      supervisorId,
      bridge: bridged.bridge,
      startedAt: this.deps.now(),
      mode,
      state: 'ringing',
      rings,
      answeredAt: null,
      supervisorCallId: null,
      conference: null,
      offs: [],
    };
    this.sessions.set(callId, session);
    session.offs.push(bridged.bridge.events.on('closed', () => this.end(session, 'call-ended')));
    let pending = rings.length;
    let anyNoAnswer = false;
    for (const ring of rings) {
      void ring.result.then((outcome) => {
        if (outcome.type === 'answered') {
          this.onAnswered(session, ring, outcome.agentCallId);
          return;
        }
        anyNoAnswer ||= outcome.noAnswer;
        if (--pending === 0 && session.state === 'ringing') this.end(session, anyNoAnswer ? 'no-answer' : 'failed');
      });
    }
    this.deps.logger.info({ callId, supervisorId, mode }, 'supervisor phone ringing');
    return this.view(session);
  }

  /** Change the mode (from the next frame when active). Throws EVX_ERR_NOT_FOUND when the call is not supervised. */
  setMode(callId: string, mode: SupervisionMode): SupervisionView {
    const session = this.session(callId);
    if (session.mode !== mode) {
      session.mode = mode;
      session.conference?.setMatrix(SUPERVISION_MATRIX[mode]);
      if (session.state === 'active') this.publish(session, 'supervision.mode');
      this.events.emit('mode', { callId, supervisorId: session.supervisorId, mode });
    }
    return this.view(session);
  }

  /** End the supervision: the supervisor's leg is hung up (or stops ringing), caller and agent keep talking. */
  stop(callId: string): void {
    this.end(this.session(callId), 'stopped');
  }

  get(callId: string): SupervisionView | undefined {
    const s = this.sessions.get(callId);
    return s === undefined ? undefined : this.view(s);
  }

  list(): SupervisionView[] {
    return [...this.sessions.values()].map((s) => this.view(s));
  }

  /** End every supervision (shutdown). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.offs) off();
    for (const s of [...this.sessions.values()]) this.end(s, 'closed');
  }

  private session(callId: string): Session {
    const s = this.sessions.get(callId);
    if (s === undefined) throw evxError('EVX_ERR_NOT_FOUND', 'the call is not supervised', { details: { callId } });
    return s;
  }

  private onAnswered(session: Session, ring: AgentRing, supervisorCallId: string | null): void {
    if (session.state !== 'ringing' || supervisorCallId === null) {
      // another phone won, or the supervision ended meanwhile: that leg goes
      ring.hangUpAnswered();
      return;
    }
    for (const other of session.rings) if (other !== ring) other.cancel();
    session.supervisorCallId = supervisorCallId;
    session.answeredAt = this.deps.now();
    let conference: Conference;
    try {
      if (session.bridge.state !== 'bridged') throw evxError('EVX_ERR_SIP_CLOSED', 'the caller and agent are no longer bridged');
      const sides = [
        { name: 'caller', side: this.deps.sip.leg(session.callId, 'leg0').rtp },
        { name: 'agent', side: this.deps.sip.leg(session.agentCallId, 'leg0').rtp },
        { name: 'supervisor', side: this.deps.sip.leg(supervisorCallId, 'leg0').rtp },
      ];
      session.bridge.unbridge();
      conference = new Conference(sides, SUPERVISION_MATRIX[session.mode]);
    } catch (err) {
      this.deps.logger.error(
        { callId: session.callId, supervisorId: session.supervisorId, reason: err instanceof Error ? err.message : String(err) },
        'supervisor not joined',
      );
      this.end(session, 'failed');
      return;
    }
    session.conference = conference;
    session.state = 'active';
    session.offs.push(
      conference.events.on('closed', (e) => {
        if (e.reason === 'leg_closed') this.end(session, e.party === 'supervisor' ? 'supervisor-left' : 'call-ended');
      }),
    );
    conference.start();
    this.publish(session, 'supervision.started');
    this.events.emit('started', { callId: session.callId, supervisorId: session.supervisorId, mode: session.mode });
    this.deps.logger.info({ callId: session.callId, supervisorId: session.supervisorId, mode: session.mode }, 'supervisor joined the call');
  }

  private onCallEnded(callId: string): void {
    for (const s of [...this.sessions.values()]) {
      if (callId === s.supervisorCallId) this.end(s, 'supervisor-left');
      else if (callId === s.callId || callId === s.agentCallId) this.end(s, 'call-ended');
    }
  }

  /** The caller's or the agent's phone held the call, or the agent transfers it: only the agent's hold leaves the bridge detached for the ACD. */
  private onCallTaken(callId: string, reason: 'call-held' | 'transfer'): void {
    for (const s of [...this.sessions.values()])
      if (callId === s.callId || callId === s.agentCallId) this.end(s, reason, reason === 'call-held' && callId === s.agentCallId);
  }

  /** `acdOwnsBridge`: leave caller and agent detached (the call ended, or the ACD plays them hold music). */
  private end(session: Session, reason: SupervisionEndReason, acdOwnsBridge = reason === 'call-ended'): void {
    if (session.state === 'ended') return;
    session.state = 'ended';
    this.sessions.delete(session.callId);
    for (const off of session.offs.splice(0)) off();
    for (const ring of session.rings) ring.cancel();
    const mixer = session.conference === null ? null : figures(session.conference.stats());
    session.conference?.close();
    if (!acdOwnsBridge && session.bridge.state === 'unbridged') {
      // caller and agent back on the plain relay
      try {
        session.bridge.bridge();
      } catch (err) {
        this.deps.logger.warn(
          { callId: session.callId, reason: err instanceof Error ? err.message : String(err) },
          'call not bridged again',
        );
      }
    }
    if (session.supervisorCallId !== null && reason !== 'supervisor-left')
      void this.deps.sip.hangup(session.supervisorCallId).catch(() => undefined);
    this.publish(session, 'supervision.ended', reason);
    this.events.emit('ended', { callId: session.callId, supervisorId: session.supervisorId, reason, mixer });
    this.deps.logger.info(
      { callId: session.callId, supervisorId: session.supervisorId, reason, delayP95Ms: mixer?.delay.p95Ms ?? null },
      'supervision ended',
    );
  }

  private publish(session: Session, type: 'supervision.started' | 'supervision.mode' | 'supervision.ended', reason?: string): void {
    const base = { at: this.deps.now(), callId: session.callId, supervisorId: session.supervisorId, mode: session.mode };
    this.deps.bus.publish(type === 'supervision.ended' ? { type, ...base, reason: reason ?? 'stopped' } : { type, ...base });
  }

  private view(s: Session): SupervisionView {
    return {
      callId: s.callId,
      supervisorId: s.supervisorId,
      mode: s.mode,
      state: s.state === 'active' ? 'active' : 'ringing',
      startedAt: s.startedAt,
      answeredAt: s.answeredAt,
      mixer: s.conference === null ? null : figures(s.conference.stats()),
    };
  }
}

function figures(stats: ConferenceStats): MixerFigures {
  let missingFrames = 0;
  let droppedSamples = 0;
  let trimmedSamples = 0;
  for (const p of Object.values(stats.parties)) {
    missingFrames += p.framesMissing;
    droppedSamples += p.droppedSamples;
    trimmedSamples += p.trimmedSamples;
  }
  return { frames: stats.ticks, missingFrames, droppedSamples, trimmedSamples, delay: stats.delay };
}
