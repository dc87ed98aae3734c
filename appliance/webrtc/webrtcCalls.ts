/**
 * WebRTC calls: who is in a call (caller, agent, supervisors, an optional SIP leg), which of their
 * producers each participant may hear, and when a call ends.
 *
 * Audio routing (who hears whom):
 *   caller / SIP leg  -> agent, supervisors
 *   agent             -> caller, supervisors (and the SIP leg, wired by the owner via SipRtpLeg.sendProducer)
 *   supervisor        -> agents only ("whisper")
 * End policy: a caller or agent leaving ends the call (everyone gets `callEnded`); a supervisor leaving
 * does not. The registry's `callEnded` event tells the owner (SIP side: send BYE; store: close the call).
 */
import type { Consumer, DtlsParameters, Producer, RtpCapabilities, RtpParameters, WebRtcTransport } from 'mediasoup/types';
import { randomUUID } from 'node:crypto';
import { evxError } from '../errors.js';
import { TypedEmitter } from '../events/typedEmitter.js';
import type { CallMedia } from './callMedia.js';
import type { MediaPlane } from './mediaPlane.js';
import type { ProducerInfo, ResponseData, ServerMessage } from './protocol.js';
import type { SipRtpLeg, SipRtpLegOptions } from './sipRtpLeg.js';
import type { ParticipantRole } from './tokens.js';

export const MAX_PARTICIPANTS_PER_CALL = 8;
// send + one receive transport per heard producer (a supervisor hears the caller and the agent).
const MAX_TRANSPORTS_PER_PARTICIPANT = 4;
const MAX_PRODUCERS_PER_PARTICIPANT = 1;

export interface Participant {
  readonly id: string;
  readonly role: ParticipantRole;
  /** Agent/supervisor id from the token verifier; undefined for callers. Not PII (an opaque id). */
  readonly subject: string | undefined;
  readonly transports: Map<string, WebRtcTransport>;
  readonly producers: Map<string, Producer>;
  readonly consumers: Map<string, Consumer>;
}

export interface WebRtcCallsEvents {
  /** `subject`: the agent or supervisor id of the token (undefined for callers). */
  participantJoined: { callId: string; participantId: string; role: ParticipantRole; subject: string | undefined };
  /** A participant (or SIP leg) started sending audio: tap it for ASR here (CallMedia.tapProducer). */
  producerAdded: { call: WebRtcCall; participantId: string; role: ParticipantRole | 'sip'; producer: Producer };
  participantLeft: { callId: string; participantId: string; role: ParticipantRole; reason: string };
  callEnded: { callId: string; reason: string };
}

type ProducerRole = ParticipantRole | 'sip';

function hears(listener: ParticipantRole, source: ProducerRole): boolean {
  switch (source) {
    case 'caller':
    case 'sip':
      return listener === 'agent' || listener === 'supervisor';
    case 'agent':
      return listener === 'caller' || listener === 'supervisor';
    case 'supervisor':
      return listener === 'agent';
  }
}

interface ProducerEntry {
  readonly producer: Producer;
  readonly participantId: string;
  readonly role: ProducerRole;
}

export class WebRtcCall {
  private readonly participants = new Map<string, { participant: Participant; send: (m: ServerMessage) => void }>();
  private readonly producerEntries = new Map<string, ProducerEntry>();
  private endedReason: string | undefined;

  constructor(
    readonly media: CallMedia,
    private readonly emitter: TypedEmitter<WebRtcCallsEvents>,
    private readonly onEnded: () => void,
  ) {
    media.events.on('closed', ({ reason }) => this.end(reason));
  }

  get callId(): string {
    return this.media.callId;
  }

  get ended(): boolean {
    return this.endedReason !== undefined;
  }

  get participantCount(): number {
    return this.participants.size;
  }

  producers(): ProducerInfo[] {
    return [...this.producerEntries.values()].map((e) => ({
      producerId: e.producer.id,
      participantId: e.participantId,
      role: e.role,
      kind: e.producer.kind,
    }));
  }

  join(role: ParticipantRole, subject: string | undefined, send: (m: ServerMessage) => void): Participant {
    this.assertOpen();
    if (this.participants.size >= MAX_PARTICIPANTS_PER_CALL) {
      throw evxError('EVX_ERR_WEBRTC_SIGNALLING', 'The call is full', { details: { limit: MAX_PARTICIPANTS_PER_CALL } });
    }
    if (role === 'caller' && [...this.participants.values()].some((p) => p.participant.role === 'caller')) {
      throw evxError('EVX_ERR_WEBRTC_SIGNALLING', 'The call already has a caller');
    }
    const participant: Participant = { id: randomUUID(), role, subject, transports: new Map(), producers: new Map(), consumers: new Map() };
    this.participants.set(participant.id, { participant, send });
    this.emitter.emit('participantJoined', { callId: this.callId, participantId: participant.id, role, subject });
    return participant;
  }

  /** Producers this participant may consume (announced to it on join). */
  audibleProducers(participant: Participant): ProducerInfo[] {
    return this.producers().filter((p) => p.participantId !== participant.id && hears(participant.role, p.role));
  }

  async createTransport(participant: Participant, direction: 'send' | 'recv'): Promise<ResponseData['createTransport']> {
    this.assertMember(participant);
    if (participant.transports.size >= MAX_TRANSPORTS_PER_PARTICIPANT) {
      throw evxError('EVX_ERR_WEBRTC_SIGNALLING', 'Too many transports for one participant', {
        details: { limit: MAX_TRANSPORTS_PER_PARTICIPANT },
      });
    }
    const transport = await this.media.createWebRtcTransport({ participantId: participant.id, direction });
    participant.transports.set(transport.id, transport);
    transport.observer.on('close', () => participant.transports.delete(transport.id));
    return {
      transportId: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  }

  async connectTransport(participant: Participant, transportId: string, dtlsParameters: DtlsParameters): Promise<void> {
    const transport = this.transportOf(participant, transportId);
    try {
      await transport.connect({ dtlsParameters });
    } catch (err) {
      throw evxError('EVX_ERR_WEBRTC_NEGOTIATION', 'Connecting the transport failed', { cause: err });
    }
  }

  async produce(participant: Participant, transportId: string, rtpParameters: RtpParameters): Promise<string> {
    const transport = this.transportOf(participant, transportId);
    if (participant.producers.size >= MAX_PRODUCERS_PER_PARTICIPANT) {
      throw evxError('EVX_ERR_WEBRTC_SIGNALLING', 'A participant sends one audio stream', {
        details: { limit: MAX_PRODUCERS_PER_PARTICIPANT },
      });
    }
    let producer: Producer;
    try {
      producer = await transport.produce({
        kind: 'audio',
        rtpParameters,
        appData: { participantId: participant.id, role: participant.role },
      });
    } catch (err) {
      throw evxError('EVX_ERR_WEBRTC_NEGOTIATION', 'The audio RTP parameters were rejected', { cause: err });
    }
    participant.producers.set(producer.id, producer);
    producer.observer.on('close', () => participant.producers.delete(producer.id));
    this.addProducer(producer, participant.id, participant.role);
    return producer.id;
  }

  async consume(
    participant: Participant,
    transportId: string,
    producerId: string,
    rtpCapabilities: RtpCapabilities,
  ): Promise<ResponseData['consume']> {
    const transport = this.transportOf(participant, transportId);
    const entry = this.producerEntries.get(producerId);
    if (entry === undefined || entry.participantId === participant.id || !hears(participant.role, entry.role)) {
      throw evxError('EVX_ERR_WEBRTC_SIGNALLING', 'No such producer for this participant', { details: { producerId } });
    }
    // a second consumer of one producer forwards every packet again: N requests would make the box
    // send N copies of the stream (traffic amplification), so one at a time per participant
    for (const c of participant.consumers.values()) {
      if (c.producerId === producerId && !c.closed) {
        throw evxError('EVX_ERR_WEBRTC_SIGNALLING', 'The participant already receives this producer', { details: { producerId } });
      }
    }
    if (!this.media.router.canConsume({ producerId, rtpCapabilities })) {
      throw evxError('EVX_ERR_WEBRTC_NEGOTIATION', 'The client cannot receive the producer codec', { details: { producerId } });
    }
    let consumer: Consumer;
    try {
      consumer = await transport.consume({ producerId, rtpCapabilities, appData: { participantId: participant.id } });
    } catch (err) {
      throw evxError('EVX_ERR_WEBRTC_MEDIA', 'Creating the consumer failed', { cause: err });
    }
    participant.consumers.set(consumer.id, consumer);
    consumer.observer.on('close', () => participant.consumers.delete(consumer.id));
    consumer.on('producerclose', () => this.sendTo(participant.id, { type: 'consumerClosed', consumerId: consumer.id, producerId }));
    return { consumerId: consumer.id, producerId, kind: consumer.kind, rtpParameters: consumer.rtpParameters };
  }

  /** Adds the RTP leg of a SIP call; its producer is announced like a caller's. */
  async attachSipLeg(options: SipRtpLegOptions): Promise<SipRtpLeg> {
    this.assertOpen();
    const leg = await this.media.createSipLeg(options);
    this.addProducer(leg.producer, `sip:${leg.transport.id}`, 'sip');
    return leg;
  }

  /** Removes a participant (hangup or socket closed). Ends the call when a caller or agent leaves. */
  leave(participantId: string, reason: string): void {
    const entry = this.participants.get(participantId);
    if (entry === undefined) return;
    this.participants.delete(participantId);
    const { participant } = entry;
    for (const transport of participant.transports.values()) transport.close();
    this.emitter.emit('participantLeft', { callId: this.callId, participantId, role: participant.role, reason });
    if (participant.role !== 'supervisor') this.end(`${participant.role}-left`);
    else if (this.participants.size === 0) this.end('empty');
  }

  /**
   * Takes a participant out of the call without the end policy: it is told `callEnded` (its
   * signalling socket then closes) and its transports close, while the call goes on for the others
   * (a bridged SIP caller keeps their call). Used when a softphone joined a call that was no longer
   * offered to it (softphones.ts). Returns false when it was not in the call.
   */
  remove(participantId: string, reason: string): boolean {
    const entry = this.participants.get(participantId);
    if (entry === undefined || this.endedReason !== undefined) return false;
    this.participants.delete(participantId);
    const { participant, send } = entry;
    for (const transport of participant.transports.values()) transport.close();
    send({ type: 'callEnded', callId: this.callId, reason });
    this.emitter.emit('participantLeft', { callId: this.callId, participantId, role: participant.role, reason });
    return true;
  }

  /** True while a participant with this role is in the call. */
  has(role: ParticipantRole): boolean {
    for (const p of this.participants.values()) if (p.participant.role === role) return true;
    return false;
  }

  /** Sends a notification to every participant whose role is in `roles`. */
  notify(message: ServerMessage, roles: readonly ParticipantRole[]): void {
    for (const p of this.participants.values()) if (roles.includes(p.participant.role)) p.send(message);
  }

  /** Ends the call: notifies participants, closes the router (CallMedia). Idempotent. */
  end(reason: string): void {
    if (this.endedReason !== undefined) return;
    this.endedReason = reason;
    for (const { send } of this.participants.values()) send({ type: 'callEnded', callId: this.callId, reason });
    this.participants.clear();
    this.media.close(reason);
    this.onEnded();
    this.emitter.emit('callEnded', { callId: this.callId, reason });
  }

  private addProducer(producer: Producer, participantId: string, role: ProducerRole): void {
    this.producerEntries.set(producer.id, { producer, participantId, role });
    producer.observer.on('close', () => {
      this.producerEntries.delete(producer.id);
      for (const p of this.participants.values()) {
        if (p.participant.id !== participantId && hears(p.participant.role, role))
          p.send({ type: 'producerClosed', producerId: producer.id });
      }
    });
    for (const p of this.participants.values()) {
      if (p.participant.id !== participantId && hears(p.participant.role, role)) {
        p.send({ type: 'newProducer', producerId: producer.id, participantId, role, kind: producer.kind });
      }
    }
    this.emitter.emit('producerAdded', { call: this, participantId, role, producer });
  }

  private sendTo(participantId: string, message: ServerMessage): void {
    this.participants.get(participantId)?.send(message);
  }

  private transportOf(participant: Participant, transportId: string): WebRtcTransport {
    this.assertMember(participant);
    const transport = participant.transports.get(transportId);
    if (transport === undefined)
      throw evxError('EVX_ERR_WEBRTC_SIGNALLING', 'No such transport for this participant', { details: { transportId } });
    return transport;
  }

  private assertMember(participant: Participant): void {
    this.assertOpen();
    if (!this.participants.has(participant.id)) throw evxError('EVX_ERR_WEBRTC_CLOSED', 'The participant has left the call');
  }

  private assertOpen(): void {
    if (this.endedReason !== undefined)
      throw evxError('EVX_ERR_WEBRTC_CLOSED', 'The call has ended', { details: { callId: this.callId, reason: this.endedReason } });
  }
}

/** All WebRTC calls of the appliance, created on first join (or by the SIP side for bridged calls). */
export class WebRtcCallRegistry {
  readonly events: TypedEmitter<WebRtcCallsEvents>;
  private readonly calls = new Map<string, WebRtcCall>();
  private readonly pending = new Map<string, Promise<WebRtcCall>>();
  private closed = false;

  constructor(
    private readonly mediaPlane: MediaPlane,
    onListenerError: (event: string, err: unknown) => void = () => {},
  ) {
    this.events = new TypedEmitter<WebRtcCallsEvents>(onListenerError);
  }

  get(callId: string): WebRtcCall | undefined {
    return this.calls.get(callId);
  }

  get size(): number {
    return this.calls.size;
  }

  /** The call with this id, creating its router on first use (concurrent joins share one creation). */
  async getOrCreate(callId: string): Promise<WebRtcCall> {
    if (this.closed) throw evxError('EVX_ERR_SHUTTING_DOWN', 'WebRTC calls are shutting down');
    const existing = this.calls.get(callId);
    if (existing !== undefined) return existing;
    let creating = this.pending.get(callId);
    if (creating === undefined) {
      creating = this.mediaPlane.createCall(callId).then((media) => {
        const call = new WebRtcCall(media, this.events, () => this.calls.delete(callId));
        this.calls.set(callId, call);
        return call;
      });
      this.pending.set(callId, creating);
      void creating.finally(() => this.pending.delete(callId)).catch(() => {});
    }
    return creating;
  }

  /** The calls in progress. */
  list(): WebRtcCall[] {
    return [...this.calls.values()];
  }

  /** Ends every call. Idempotent. */
  close(reason = 'shutdown'): void {
    this.closed = true;
    for (const call of [...this.calls.values()]) call.end(reason);
  }
}
