/**
 * The WebRTC signalling protocol: JSON text frames over one WebSocket per participant.
 *
 *   client -> server requests carry an `id`; the server answers each with
 *     { type: 'response', id, ok: true, data } | { type: 'response', id, ok: false, error: { code, message } }
 *   join (token [+ callId for agents]) -> { callId, participantId, role, routerRtpCapabilities, producers }
 *   createTransport (direction)        -> { transportId, iceParameters, iceCandidates, dtlsParameters }
 *   connectTransport (DTLS params)     -> {}
 *   produce (audio RTP parameters)     -> { producerId }
 *   consume (producerId, capabilities) -> { consumerId, producerId, kind, rtpParameters }
 *   hangup                             -> {}   (then the server closes the socket)
 *   server -> client notifications: newProducer, producerClosed, consumerClosed, callEnded, callEvent.
 *
 * An agent's softphone also keeps one "presence" socket open while it takes calls (softphones.ts):
 *   ready (agent token, first message)  -> { protocolVersion, agentId }   the agent's softphone is connected
 *   decline (callId)                    -> {}   refuse the call being offered (counts as not answered)
 *   customer (callId)                   -> { customer }   the caller's customer (a call ringing or answered here)
 *   server -> client: offer { callId, ringTimeoutMs, source, agentCodec }, offer-cancelled { callId, reason },
 *                     customer { callId, customer } (right after an offer: the caller's open chats first).
 * The softphone answers an offer by joining its `callId` on a socket of its own (the `join` above).
 */
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { DtlsParameters, IceCandidate, IceParameters, MediaKind, RtpCapabilities, RtpParameters } from 'mediasoup/types';
import { evxError } from '../errors.js';
import type { ApplianceEvent } from '../events/appEvents.js';
import type { SoftphoneCustomer } from '../customers/softphoneCustomer.js';
import type { ParticipantRole } from './tokens.js';

export const PROTOCOL_VERSION = 1;
/** Largest signalling frame accepted (an SDP-sized JSON message is a few KiB). */
export const MAX_MESSAGE_BYTES = 64 * 1024;

const Id = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const ObjectId = Type.String({ minLength: 1, maxLength: 64 });
// mediasoup validates the inner structure of these itself (and its errors are mapped).
const Opaque = Type.Object({}, { additionalProperties: true });

const ClientMessageSchema = Type.Union([
  Type.Object(
    {
      type: Type.Literal('join'),
      id: Id,
      token: Type.String({ minLength: 1, maxLength: 4096 }),
      callId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { type: Type.Literal('createTransport'), id: Id, direction: Type.Union([Type.Literal('send'), Type.Literal('recv')]) },
    { additionalProperties: false },
  ),
  Type.Object(
    { type: Type.Literal('connectTransport'), id: Id, transportId: ObjectId, dtlsParameters: Opaque },
    { additionalProperties: false },
  ),
  Type.Object(
    { type: Type.Literal('produce'), id: Id, transportId: ObjectId, kind: Type.Literal('audio'), rtpParameters: Opaque },
    { additionalProperties: false },
  ),
  Type.Object(
    { type: Type.Literal('consume'), id: Id, transportId: ObjectId, producerId: ObjectId, rtpCapabilities: Opaque },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal('hangup'), id: Id }, { additionalProperties: false }),
  Type.Object(
    { type: Type.Literal('ready'), id: Id, token: Type.String({ minLength: 1, maxLength: 4096 }) },
    { additionalProperties: false },
  ),
  Type.Object(
    { type: Type.Literal('decline'), id: Id, callId: Type.String({ minLength: 1, maxLength: 128 }) },
    { additionalProperties: false },
  ),
  // presence sockets: the caller's customer of a call ringing this agent or answered by them
  Type.Object(
    { type: Type.Literal('customer'), id: Id, callId: Type.String({ minLength: 1, maxLength: 128 }) },
    { additionalProperties: false },
  ),
  // joined agents: the agent marks a card pushed on this call useful or not (assist/cardService.ts)
  Type.Object(
    { type: Type.Literal('cardFeedback'), id: Id, cardId: Type.String({ minLength: 1, maxLength: 200 }), useful: Type.Boolean() },
    { additionalProperties: false },
  ),
  // presence sockets: the agent's softphone holds or transfers the call it is on (softphoneControl.ts)
  Type.Object(
    { type: Type.Literal('hold'), id: Id, callId: Type.String({ minLength: 1, maxLength: 128 }), held: Type.Boolean() },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('transfer'),
      id: Id,
      callId: Type.String({ minLength: 1, maxLength: 128 }),
      target: Type.Union([
        Type.Object(
          { kind: Type.Literal('agent'), agentId: Type.String({ minLength: 1, maxLength: 128 }) },
          { additionalProperties: false },
        ),
        Type.Object(
          { kind: Type.Literal('group'), groupId: Type.String({ minLength: 1, maxLength: 128 }) },
          { additionalProperties: false },
        ),
      ]),
    },
    { additionalProperties: false },
  ),
]);
const checker = TypeCompiler.Compile(ClientMessageSchema);

type RawClientMessage = Static<typeof ClientMessageSchema>;
/** Client requests with the opaque parts given their mediasoup types. */
export type ClientMessage =
  | Extract<
      RawClientMessage,
      { type: 'join' | 'createTransport' | 'hangup' | 'ready' | 'decline' | 'customer' | 'hold' | 'transfer' | 'cardFeedback' }
    >
  | (Omit<Extract<RawClientMessage, { type: 'connectTransport' }>, 'dtlsParameters'> & { dtlsParameters: DtlsParameters })
  | (Omit<Extract<RawClientMessage, { type: 'produce' }>, 'rtpParameters'> & { rtpParameters: RtpParameters })
  | (Omit<Extract<RawClientMessage, { type: 'consume' }>, 'rtpCapabilities'> & { rtpCapabilities: RtpCapabilities });

export type ClientRequestType = ClientMessage['type'];

export interface ProducerInfo {
  readonly producerId: string;
  readonly participantId: string;
  readonly role: ParticipantRole | 'sip';
  readonly kind: MediaKind;
}

/** The `data` of a successful response, per request type. */
export interface ResponseData {
  join: {
    protocolVersion: number;
    callId: string;
    participantId: string;
    role: ParticipantRole;
    routerRtpCapabilities: RtpCapabilities;
    producers: ProducerInfo[];
  };
  createTransport: { transportId: string; iceParameters: IceParameters; iceCandidates: IceCandidate[]; dtlsParameters: DtlsParameters };
  connectTransport: Record<string, never>;
  produce: { producerId: string };
  consume: { consumerId: string; producerId: string; kind: MediaKind; rtpParameters: RtpParameters };
  hangup: Record<string, never>;
  ready: { protocolVersion: number; agentId: string };
  decline: Record<string, never>;
  /** null: an anonymous caller (or no customer model on this box). */
  customer: { customer: SoftphoneCustomer | null };
  hold: { held: boolean };
  /** The transfer is over: 200 (answered or queued: the softphone leaves the call). Refusals are errors. */
  transfer: { status: number };
  /** The feedback as stored. */
  cardFeedback: { cardId: string; feedback: 'useful' | 'not_useful' };
}

/** Why an offer stopped ringing. */
export type OfferEndReason =
  /** this agent's softphone joined the call (on this or another of the agent's softphones) */
  | 'answered'
  /** the agent declined it (on one of their softphones) */
  | 'declined'
  /** nobody answered within `ringTimeoutMs` */
  | 'timeout'
  /** the box withdrew it: another of the agent's phones answered, or the caller hung up */
  | 'cancelled';

/** A call offered to the agent's softphone: answer by joining `callId`, or `decline`. */
export interface CallOffer {
  readonly callId: string;
  readonly ringTimeoutMs: number;
  /** A phone call bridged by the box (`sip`) or a web caller (`web`). */
  readonly source: 'sip' | 'web';
  /** What the softphone must send on this call (mediasoup never transcodes: G.711 on phone calls). */
  readonly agentCodec: 'opus' | 'pcmu' | 'pcma';
}

export type ServerMessage =
  | { type: 'response'; id: number; ok: true; data: ResponseData[ClientRequestType] }
  | { type: 'response'; id: number | null; ok: false; error: { code: string; message: string } }
  | ({ type: 'newProducer' } & ProducerInfo)
  | { type: 'producerClosed'; producerId: string }
  | { type: 'consumerClosed'; consumerId: string; producerId: string }
  | { type: 'callEnded'; callId: string; reason: string }
  /** Presence sockets (`ready`) only: a call rings this agent. */
  | ({ type: 'offer' } & CallOffer)
  /** Presence sockets only: the offer of `callId` stopped ringing. */
  | { type: 'offer-cancelled'; callId: string; reason: OfferEndReason }
  /** Presence sockets only: the caller's customer of a call offered to this agent (softphoneCustomer.ts). */
  | { type: 'customer'; callId: string; customer: SoftphoneCustomer | null }
  /**
   * Agents and supervisors only: the call's live events from the appliance bus (transcripts, already
   * redacted by the call layer; intent, emotion, routing decision for the screen-pop; alerts;
   * agent assist's cards and the feedback on them).
   */
  | { type: 'callEvent'; event: CallEventForAgent };

/** The bus events forwarded to a call's agents (see webrtc/callBridge.ts). */
export type CallEventForAgent = Extract<
  ApplianceEvent,
  { type: 'asr.partial' | 'asr.final' | 'intent' | 'emotion' | 'route.decision' | 'call.answered' | 'assist.cards' | 'assist.feedback' }
>;

/** Parses one text frame; throws EVX_ERR_WEBRTC_SIGNALLING with the request id when it has one. */
export function parseClientMessage(text: string): ClientMessage {
  if (text.length > MAX_MESSAGE_BYTES)
    throw evxError('EVX_ERR_WEBRTC_SIGNALLING', 'Signalling message too large', { details: { limitBytes: MAX_MESSAGE_BYTES } });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw evxError('EVX_ERR_WEBRTC_SIGNALLING', 'Signalling message is not JSON');
  }
  if (!checker.Check(value)) {
    const first = checker.Errors(value).First();
    const id =
      typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'number'
        ? (value as { id: number }).id
        : null;
    throw evxError('EVX_ERR_WEBRTC_SIGNALLING', `Invalid signalling message${first ? ` at ${first.path || '/'}: ${first.message}` : ''}`, {
      details: { id },
    });
  }
  return value as ClientMessage;
}
