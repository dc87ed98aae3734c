/**
 * The ACD's call record and its contracts: what the ACD needs from the SIP server, agents, routing
 * and the callback store (AcdCallsDeps), the per-call state its parts share (AcdCall: acdCalls.ts
 * drives it, agentTransfers.ts and callbackOffer.ts act on it), and what it reports (AcdEvents).
 */
import type { Logger } from '../log/logger.js';
import type { TypedEmitter } from '../events/typedEmitter.js';
import type { EventBus } from '../events/appEvents.js';
import type { MediaBridge } from '../rtp/bridge.js';
import type { RoutingService } from '../routing/routingService.js';
import type { CodecName } from '../sdp/offer-answer.js';
import type { DelaySummary } from '../rtp/delayStats.js';
import type { MediaLeg } from '../telephony/leg.js';
import type { SipPeer } from '../sip/message.js';
import type { OutboundCall, PlaceCallOptions } from '../telephony/outbound.js';
import type { AcdSoftphones, AgentRing } from './agentRing.js';
import type { CallEndReason, LegAudioSinkFactory, TelephonyEvents } from '../telephony/types.js';
import type { QueueAudio } from './announcements.js';
import type { CallAudio } from './callAudio.js';
import type { AcdFactSink } from './kpis.js';
import type { TransferRefusal } from './agentTransfer.js';
import type { ConsultCalls } from './consultCalls.js';
import type { AcdQueues } from './queueView.js';

/** The parts of the SIP server the ACD drives. */
export interface AcdTelephony {
  readonly events: TypedEmitter<TelephonyEvents>;
  placeCall(opts: PlaceCallOptions): OutboundCall;
  bridge(callIdA: string, callIdB: string): MediaBridge;
  hangup(callId: string, reason?: CallEndReason): Promise<void>;
  transfer(callId: string, targetUri: string): Promise<number>;
  leg(callId: string, legId: string): MediaLeg;
}

/** The agent-state calls the ACD makes (agentPresence.ts). */
export interface AcdAgents {
  answered(agentId: string, callId: string): void;
  noAnswer(agentId: string, callId: string): void;
  offerFailed(agentId: string, callId: string): void;
  held(agentId: string, callId: string, held: boolean): void;
  /** The box offers the agent a call itself (a transfer to them); throws when they cannot take it. */
  offer(agentId: string, callId: string): void;
  /** The agent's leg of the call ended while the call goes on (they transferred it): wrap-up. */
  legEnded(agentId: string, callId: string): void;
}

/** Where agents may transfer callers: the box's own hosts, and the transfer-target policy for the rest. */
export interface AcdTransferPlaces {
  /** The box's host names and addresses as phones address it (lower case). */
  readonly boxHosts: readonly string[];
  /** Why callers may not be sent to `uri` (sip.transferTargets), null when they may. */
  readonly problem: (uri: string) => string | null;
}

export interface AcdOptions {
  /** How long an agent's phones ring before the offer is withdrawn. */
  readonly ringTimeoutMs: number;
  /** After the greeting, how long the caller's words may take to route the call before it goes to the default group. */
  readonly routeTimeoutMs: number;
  /** Language of the prompts. */
  readonly lang: string;
  /** After a callback offer's prompts, how long the caller has to press 1 (acd.callbackOfferS). */
  readonly callbackOfferMs: number;
}

/** Where a caller's callback request is kept (acd/callbacks.ts). */
export interface AcdCallbackStore {
  /** Keep the request (`queuedAt`: its place in the queue); throws when it cannot be kept (the caller is then told to call again). */
  request(callId: string, groupId: string, numberUri: string, queuedAt?: number): void;
  /** A callback was offered (KPIs); its id for `offerAnswered`, null when it was not kept. */
  offered(callId: string, groupId: string): number | null;
  offerAnswered(offerId: number | null, answer: 'accepted' | 'declined' | 'none' | 'hung-up'): void;
}

/** What the ACD asks of routing: its clock, its queue, the groups. */
export type AcdRouting = Pick<
  RoutingService,
  'now' | 'requeue' | 'removeFromQueue' | 'groupList' | 'route' | 'isRouted' | 'agentList' | 'reassign'
>;

export interface AcdCallsDeps {
  readonly sip: AcdTelephony;
  readonly routing: AcdRouting;
  readonly bus: Pick<EventBus, 'subscribe'>;
  readonly agents: AcdAgents;
  /** Agents' browser softphones, when WebRTC is on. */
  readonly softphones?: AcdSoftphones;
  /** The agent's live registered contacts (registrar `contactsOf`). */
  readonly contactsOf: (agentId: string) => readonly { readonly target: SipPeer; readonly contact: string }[];
  readonly facts: AcdFactSink | null;
  readonly queues: Pick<AcdQueues, 'state' | 'view'>;
  /** A prompt's PCM at `rateHz` (prompt store). */
  readonly prompt: (lang: string, name: string, rateHz: 8000 | 16000) => Promise<Int16Array>;
  /** Where the agent leg's audio goes, tied to the caller's call (transcribed as its `agent` leg). */
  readonly agentSink: (callerCallId: string) => LegAudioSinkFactory | undefined;
  /** Where callback requests go; without it no callback is offered (the message of the case plays). */
  readonly callbacks?: AcdCallbackStore;
  /** Where agents may transfer callers; without it every transfer an agent asks for is refused. */
  readonly transfers?: AcdTransferPlaces;
  /** The audit log (refused transfers); actor, action, target, details without numbers. */
  readonly audit?: (actor: string, action: string, target: string, details: Record<string, unknown>) => void;
  /** Agents' consult calls (consultCalls.ts); without it agents' INVITEs are callers and attended transfers are refused. */
  readonly consults?: Pick<ConsultCalls, 'claim' | 'take'>;
  readonly logger: Logger;
  readonly now: () => number;
  readonly options: AcdOptions;
}

/** A transfer a browser softphone's agent asks for (no Refer-To: the target named by id). */
export type AgentTransferRequest =
  { readonly kind: 'agent'; readonly agentId: string } | { readonly kind: 'group'; readonly groupId: string };

/** transferring: the transferring agent left while the transfer's target rings (no agent on the call). */
export type Phase =
  'greeting' | 'waiting-route' | 'queued' | 'offering' | 'callback-offer' | 'bridged' | 'transferring' | 'leaving' | 'ended';

export interface Offer {
  readonly agentId: string;
  readonly groupId: string;
  readonly rings: AgentRing[];
  settled: boolean;
}

/** A transfer to another agent asked by the agent on the call, their endpoints ringing. */
export interface PendingTransfer {
  readonly fromAgentId: string;
  /** The transferring agent's SIP leg; null for a browser softphone (it is in the caller's call). */
  readonly fromCallId: string | null;
  readonly toAgentId: string;
  readonly rings: AgentRing[];
  settled: boolean;
  /** The transferring agent's leg ended while the target rang. */
  fromGone: boolean;
  /** The REFER's final status (its last NOTIFY). */
  readonly done: (status: number) => void;
}

/** A callback offered to a caller, waiting for their key. */
export interface CallbackOffer {
  readonly groupId: string;
  /** The offer as kept for the KPIs (null when not kept). */
  readonly offerId: number | null;
  /** The offer's prompts have started: a key counts from now. */
  listening: boolean;
  timer: NodeJS.Timeout | null;
  settled: boolean;
}

export interface AcdCall {
  readonly callId: string;
  /** Where to call the caller back (their From URI), null without a usable number. PII: memory only, never logged. */
  readonly callbackUri: string | null;
  readonly codec: CodecName;
  readonly audio: CallAudio;
  phase: Phase;
  greetingDone: Promise<unknown>;
  /** The group it waits in or was last offered from. */
  groupId: string | null;
  priority: number;
  needsSenior: boolean;
  /** When it first entered a queue (its place when re-queued); null before. */
  queuedAt: number | null;
  /**
   * When it entered the group it waits in now, where that is not routing's queue time (which keeps
   * its first place): after an overflow or a transfer to a queue. The group's longest wait counts
   * from here. null: routing's queue time is the entry.
   */
  groupEnteredAt: number | null;
  /** Groups it has waited in (never sent back by the max-wait rule). */
  visited: string[];
  /** `offered` fact sent (the KPI engine knows the call). */
  offeredFact: boolean;
  offer: Offer | null;
  agentId: string | null;
  agentCallId: string | null;
  bridge: MediaBridge | null;
  talkEnded: boolean;
  routeTimer: NodeJS.Timeout | null;
  callback: CallbackOffer | null;
  transfer: PendingTransfer | null;
  /** The agent's phone holds the call (the caller hears hold music). */
  agentHeld: boolean;
  /** When the longest-wait rule last kept the call waiting (no group could take it); null: never. maxWaitAgain.ts. */
  maxWaitStayedAt: number | null;
}

/** What the ACD reports as it goes (metrics, tests); ids only, never numbers or names. */
export interface AcdEvents {
  /** An offer to an agent ended: answered by one endpoint, rang out / declined, or unreachable. */
  'offer.settled': { readonly callId: string; readonly agentId: string; readonly outcome: 'answered' | 'no-answer' | 'failed' };
  /** The box ended a call instead of queueing it further (closed, queue full, longest wait, no route). */
  'call.refused': { readonly callId: string; readonly reason: string };
  /** A caller-agent bridge ended; `delay` is what the box added to the relayed audio (socket in → socket out). */
  'bridge.ended': { readonly callId: string; readonly delay: DelaySummary; readonly transcoding: boolean };
  /** A callback was offered to a caller. */
  'callback.offered': { readonly callId: string; readonly groupId: string };
  /** A caller pressed 1 at a callback offer and the request was kept. */
  'callback.requested': { readonly callId: string; readonly groupId: string };
  /**
   * A transfer the agent asked for ended: completed (the new agent answered), requeued (in a queue),
   * returned (the target did not answer: back to the transferring agent), failed (the target could
   * not be offered it), refused (403/404, `reason`).
   */
  'call.transferred': {
    readonly callId: string;
    readonly fromAgentId: string;
    readonly kind: 'agent' | 'group' | 'attended' | 'other';
    readonly outcome: 'completed' | 'requeued' | 'returned' | 'failed' | 'refused';
    readonly reason: TransferRefusal | null;
  };
}

export interface AcdCounters {
  answered: number;
  offersNotAnswered: number;
  offersFailed: number;
  refused: number;
  /** Transfers by agents carried out (to an agent who answered, or to a queue). */
  transfers: number;
}

export const promptItems = (names: readonly string[]): QueueAudio[] => names.map((name) => ({ kind: 'prompt', name }) as const);
