/**
 * The ACD: in `acd` mode the box answers each inbound SIP call and stays in it to the end.
 *
 *   answered → greeting → (the call router decides from the caller's words: routing's
 *   `route.decision`) → queue admission (business hours, size: queuePolicy.ts) → queued with hold
 *   music and position / expected-wait announcements (announcements.ts), the max-wait rule → the
 *   chosen agent's registered phones ring (all of them; the first to answer takes the call, the
 *   others are cancelled) → caller and agent bridged through the box's media path (rtp/bridge.ts)
 *   → hang-up from either side ends both legs → the agent's wrap-up (agentPresence.ts).
 *
 * Not answered within the ring timeout (or refused busy): the agent is reported `no-answer` (set
 * away after `agents.noAnswerAwayAfter` in a row) and the caller goes back to the queue in its old
 * place; an agent with no phone registered or unreachable is reported `offer-failed`, same re-queue.
 * The agent leg's audio is transcribed as the caller's call's `agent` leg (`agentSink`). KPI facts
 * (offered, answered, abandoned, overflowed, hold, talk end) go to `facts` (docs/kpis.md).
 *
 * Transfers by the agent (blind, RFC 3515: a REFER on the agent's leg; addressing in
 * agentTransfer.ts): the box decides every REFER of an agent leg itself (SipServer referral
 * handler; the transfer-target policy applies to what would leave the box).
 * - To an agent (`sip:<agentId>@<box>`): the agent is offered the call (they must be available:
 *   else 486) and their endpoints ring while the caller hears hold music and the transferring agent
 *   waits unbridged. Answered: caller and new agent bridged, final NOTIFY 200, the transferring
 *   agent's leg released (their phone's BYE, else the box's after the NOTIFY) and their wrap-up
 *   starts. Not answered: NOTIFY 480 and the caller goes back to the transferring agent, or — when
 *   that agent hung up meanwhile — waits again in its group's queue in its old place.
 * - To a queue (`sip:queue-<groupId>@<box>`): NOTIFY 200, the transferring agent is released at
 *   once, the caller waits in that group with its priority and its first queueing time.
 * - Attended (`?Replaces=` naming the agent's consult call with another agent: consultCalls.ts
 *   claims such INVITEs before they become callers and hands the consulted agent's leg over): the
 *   caller is bridged with that leg, NOTIFY 200, the transferring agent's leg released as above.
 *   A Replaces naming no consult dialog: 481, audited.
 * - Refused (external targets, a target outside sip.transferTargets, attended transfer without
 *   consult calls, unknown agent or group): 403/404 and an audit entry (the agent as actor, reason
 *   only, no number).
 * It stays one interaction: the caller's call id, the new agent's leg transcribed as its `agent`
 * leg, routing's assignment moved to the new agent, a `transferred` KPI fact, `call.transferred`.
 *
 * Hold by the agent's phone (re-INVITE sendonly/inactive): the bridge is detached and the caller
 * hears hold music until the phone resumes; hold facts go to the KPIs as before.
 *
 * SIPREC sessions are never handled here: they are observed, never answered with media or routed.
 *
 * Callback offer: where routing or the queue policy offers a callback (a `callback` decision, a
 * closed group with `whenClosed: callback`, a full queue whose overflow is `callback`, the longest
 * wait with `maxWaitAction: callback`) the call leaves the queue (dequeued, not abandoned), the
 * policy's prompts play (`callback-offer`, after `closed` for a closed group) and the caller has
 * `callbackOfferMs` after them to press a key or answer aloud (while they play counts too): 1 or a
 * spoken yes (spokenAnswer.ts, from the caller's final transcripts) keeps a callback request
 * (`callbacks`) and plays `callback-confirmed`; any other key, a spoken no, or nothing plays
 * `goodbye`; then the box hangs up. A caller with no dialable number to call back (anonymous,
 * withheld, a name), or a box without a callback store, is not offered one: the message of the same
 * case plays instead (`closed`, `queue-full`, `all-busy`). The caller's URI stays in this call's
 * memory: never logged, never in an event. The callback is placed by callbackDialer.ts.
 *
 * One slow call never holds the others: everything is event-driven per call; prompt loading and
 * playing are per call and their failures end only that call's audio.
 */
import type { Logger } from '../log/logger.js';
import type { EventBus, ApplianceEvent } from '../events/appEvents.js';
import type { MediaBridge } from '../rtp/bridge.js';
import type { RoutingService } from '../routing/routingService.js';
import type { CodecName } from '../sdp/offer-answer.js';
import { TypedEmitter } from '../events/typedEmitter.js';
import type { DelaySummary } from '../rtp/delayStats.js';
import type { MediaLeg } from '../telephony/leg.js';
import type { SipPeer } from '../sip/message.js';
import type { OutboundCall, PlaceCallOptions } from '../telephony/outbound.js';
import { ringPhones, type AcdSoftphones, type AgentRing, type PhoneRinger, phoneRinger } from './agentRing.js';
import type { CallEndReason, LegAudioSinkFactory, TelephonyEvents } from '../telephony/types.js';
import { HOLD_MUSIC, QueueAnnouncer, type QueueAudio } from './announcements.js';
import { CallAudio } from './callAudio.js';
import type { AcdFactSink } from './kpis.js';
import { callbackUri } from './callbacks.js';
import { spokenAnswer } from './spokenAnswer.js';
import { transferTarget, type TransferRefusal } from './agentTransfer.js';
import { replacesOf, type ConsultCalls, type ReplacesTarget } from './consultCalls.js';
import { admit, onMaxWait, QUEUE_PROMPTS, type Admission } from './queuePolicy.js';
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
  offerAnswered(offerId: number | null, answer: 'accepted' | 'declined' | 'none'): void;
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
type Phase = 'greeting' | 'waiting-route' | 'queued' | 'offering' | 'callback-offer' | 'bridged' | 'transferring' | 'leaving' | 'ended';

interface Offer {
  readonly agentId: string;
  readonly groupId: string;
  readonly rings: AgentRing[];
  settled: boolean;
}

/** A transfer to another agent asked by the agent on the call, their endpoints ringing. */
interface PendingTransfer {
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
interface CallbackOffer {
  readonly groupId: string;
  /** The offer as kept for the KPIs (null when not kept). */
  readonly offerId: number | null;
  /** The offer's prompts have started: a key counts from now. */
  listening: boolean;
  timer: NodeJS.Timeout | null;
  settled: boolean;
}

interface AcdCall {
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

/** After the final NOTIFY of a transfer, how long the transferring phone has to hang up before the box does. */
const RELEASE_AFTER_NOTIFY_MS = 500;

export class AcdCalls {
  private readonly calls = new Map<string, AcdCall>();
  /** Agent call id → caller call id, for the agent leg's hang-up and hold. */
  private readonly byAgentCall = new Map<string, string>();
  private readonly announcer: QueueAnnouncer;
  private readonly offs: (() => void)[] = [];
  readonly counters: AcdCounters = { answered: 0, offersNotAnswered: 0, offersFailed: 0, refused: 0, transfers: 0 };
  readonly events = new TypedEmitter<AcdEvents>();
  private closed = false;
  private readonly ringer: PhoneRinger;

  constructor(private readonly deps: AcdCallsDeps) {
    this.ringer = phoneRinger(deps.sip, deps.contactsOf, deps.logger);
    this.announcer = new QueueAnnouncer({
      now: () => deps.routing.now(),
      view: (callId) => {
        const c = this.calls.get(callId);
        return c === undefined || c.phase !== 'queued' ? null : deps.queues.view(callId, c.visited);
      },
      play: (callId, items) => void this.play(callId, items),
      maxWait: (callId) => this.onMaxWait(callId),
      onError: (err) => deps.logger.error({ reason: err instanceof Error ? err.message : String(err) }, 'queue announcement failed'),
    });
    const ev = deps.sip.events;
    this.offs.push(
      ev.on('call.started', (e) => {
        if (e.mode === 'call' && this.deps.consults?.claim(e) !== true) this.onCallStarted(e.callId, e.pii.from);
      }),
      ev.on('call.ended', (e) => this.onCallEnded(e.callId)),
      ev.on('call.held', (e) => this.onHold(e.callId, true)),
      ev.on('call.resumed', (e) => this.onHold(e.callId, false)),
      ev.on('dtmf', (e) => this.onDigit(e.callId, e.digit)),
      deps.bus.subscribe((e) => this.onBusEvent(e)),
    );
  }

  /** Calls the ACD holds now, by phase (for the console and tests). */
  phases(): Record<string, Phase> {
    const out: Record<string, Phase> = {};
    for (const [id, c] of this.calls) out[id] = c.phase;
    return out;
  }

  get size(): number {
    return this.calls.size;
  }

  /** A caller's call while it is bridged to an agent's SIP phone: the agent, their call and the bridge (supervision). */
  bridged(callId: string): { readonly agentId: string; readonly agentCallId: string; readonly bridge: MediaBridge } | undefined {
    const c = this.calls.get(callId);
    if (c === undefined || c.phase !== 'bridged' || c.agentId === null || c.agentCallId === null || c.bridge === null) return undefined;
    return { agentId: c.agentId, agentCallId: c.agentCallId, bridge: c.bridge };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.offs) off();
    this.announcer.close();
    for (const c of this.calls.values()) {
      this.clearRouteTimer(c);
      this.endCallbackOffer(c);
      this.cancelTransfer(c);
      c.audio.close();
      for (const ring of c.offer?.rings ?? []) ring.cancel();
    }
  }

  // --- a caller arrives ----------------------------------------------------------------------------

  private onCallStarted(callId: string, from: string): void {
    if (this.closed) return;
    let leg: MediaLeg;
    try {
      leg = this.deps.sip.leg(callId, 'leg0');
    } catch {
      return;
    }
    const audio = new CallAudio({
      sink: leg.rtp,
      codec: leg.info.codec,
      load: (name, rateHz) => this.deps.prompt(this.deps.options.lang, name, rateHz),
      onError: (name, err) =>
        this.deps.logger.error({ callId, prompt: name, reason: err instanceof Error ? err.message : String(err) }, 'prompt not played'),
    });
    const call: AcdCall = {
      callId,
      callbackUri: callbackUri(from),
      codec: leg.info.codec,
      audio,
      phase: 'greeting',
      greetingDone: Promise.resolve(),
      groupId: null,
      priority: 0,
      needsSenior: false,
      queuedAt: null,
      visited: [],
      offeredFact: false,
      offer: null,
      agentId: null,
      agentCallId: null,
      bridge: null,
      talkEnded: false,
      routeTimer: null,
      callback: null,
      transfer: null,
      agentHeld: false,
    };
    this.calls.set(callId, call);
    call.greetingDone = audio.play([{ kind: 'prompt', name: 'greeting' }]).then(() => {
      if (call.phase !== 'greeting') return;
      call.phase = 'waiting-route';
      call.routeTimer = setTimeout(() => this.routeByDefault(call), this.deps.options.routeTimeoutMs);
      call.routeTimer.unref();
    });
  }

  /** The caller said nothing routable in time (or no intent model runs): the default group takes the call. */
  private routeByDefault(call: AcdCall): void {
    call.routeTimer = null;
    if (call.phase !== 'waiting-route' || !this.calls.has(call.callId) || this.deps.routing.isRouted(call.callId)) return;
    this.deps.logger.info({ callId: call.callId }, 'no route from the caller’s words in time: default group');
    try {
      this.deps.routing.route({ callId: call.callId, intent: null, emotion: null, profile: null });
    } catch (err) {
      this.deps.logger.warn({ callId: call.callId, code: (err as { code?: string }).code ?? 'error' }, 'default route failed');
      this.leave(call, QUEUE_PROMPTS.callLater, 'no-route');
    }
  }

  // --- routing's decisions -------------------------------------------------------------------------

  private onBusEvent(e: ApplianceEvent): void {
    if (e.type === 'asr.final') {
      if (e.speaker === 'caller') this.onCallerWords(e.callId, e.text);
      return;
    }
    if (e.type !== 'route.decision') return;
    const call = this.calls.get(e.callId);
    if (call === undefined || this.closed) return;
    this.clearRouteTimer(call);
    if (e.groupId !== null) call.groupId = e.groupId;
    call.priority = e.priority;
    call.needsSenior = e.needsSenior;
    switch (e.action) {
      case 'agent':
        if (e.agentId !== null && e.groupId !== null) this.offerTo(call, e.agentId, e.groupId);
        return;
      case 'queue':
        if (e.groupId !== null) this.enterQueue(call, e.groupId);
        return;
      case 'self-service':
        this.toSelfService(call, e.groupId);
        return;
      case 'callback':
        this.deps.routing.removeFromQueue(call.callId);
        this.offerCallback(call, e.groupId ?? call.groupId, QUEUE_PROMPTS.callbackOffer, QUEUE_PROMPTS.callLater, 'callback');
        return;
      default:
        // nothing to route to
        this.deps.routing.removeFromQueue(call.callId);
        this.leave(call, QUEUE_PROMPTS.callLater, e.action);
    }
  }

  /** Routing queued the call in `groupId`: the queue policy decides whether it stays. */
  private enterQueue(call: AcdCall, groupId: string): void {
    const state = this.deps.queues.state();
    // routing has already counted this call in its group: admission is about the calls before it
    const waiting = new Map(state.waiting);
    waiting.set(groupId, Math.max(0, (waiting.get(groupId) ?? 0) - 1));
    const admission = admit(groupId, { ...state, waiting });
    switch (admission.outcome) {
      case 'accept':
        this.queueIn(call, groupId);
        return;
      case 'overflow':
        this.queueIn(call, admission.from); // counted as offered where the caller asked, then moved
        this.moveTo(call, admission.groupId);
        return;
      case 'closed':
      case 'full':
        this.counters.refused++;
        this.deps.routing.removeFromQueue(call.callId);
        this.deps.logger.info({ callId: call.callId, groupId, outcome: admission.outcome }, 'call not queued');
        this.refuse(call, admission);
        return;
    }
  }

  /** A closed group or a full queue: the callback offer where the policy says so, else its message and hang-up. */
  private refuse(call: AcdCall, admission: Extract<Admission, { outcome: 'closed' | 'full' }>): void {
    const message =
      admission.outcome === 'closed'
        ? QUEUE_PROMPTS.closed
        : admission.action === 'message'
          ? admission.prompts
          : admission.action === 'callback'
            ? QUEUE_PROMPTS.queueFull
            : QUEUE_PROMPTS.callLater;
    if (admission.action === 'callback') this.offerCallback(call, admission.groupId, admission.prompts, message, admission.outcome);
    else this.leave(call, message, admission.outcome);
  }

  /** The group's admission when it is outside its business hours (or a holiday) now; null while open. */
  private closedNow(groupId: string): Extract<Admission, { outcome: 'closed' }> | null {
    const state = this.deps.queues.state();
    const admission = admit(groupId, { ...state, waiting: new Map() });
    return admission.outcome === 'closed' ? admission : null;
  }

  private queueIn(call: AcdCall, groupId: string): void {
    const at = this.deps.now();
    call.groupId = groupId;
    call.phase = 'queued';
    call.queuedAt ??= this.deps.routing.now();
    if (!call.visited.includes(groupId)) call.visited.push(groupId);
    if (!call.offeredFact) {
      call.offeredFact = true;
      this.deps.facts?.offered(call.callId, groupId, at);
    }
    void call.greetingDone.then(() => {
      if (call.phase === 'queued' && this.calls.has(call.callId)) this.announcer.add(call.callId);
    });
  }

  /** Overflow: the call waits in `groupId` now (a new queue entry, its old place kept). */
  private moveTo(call: AcdCall, groupId: string): void {
    this.deps.facts?.overflowed(call.callId, groupId, this.deps.now());
    call.groupId = groupId;
    if (!call.visited.includes(groupId)) call.visited.push(groupId);
    this.announcer.remove(call.callId);
    this.deps.routing.requeue(
      { callId: call.callId, groupId, priority: call.priority, needsSenior: call.needsSenior },
      call.queuedAt ?? this.deps.routing.now(),
    );
    if (call.phase === 'queued') this.announcer.add(call.callId);
  }

  private onMaxWait(callId: string): void {
    const call = this.calls.get(callId);
    if (call === undefined || call.phase !== 'queued') return;
    const view = this.deps.queues.view(callId, call.visited);
    if (view === null) return;
    const decision = onMaxWait(view, this.deps.queues.state());
    this.deps.logger.info({ callId, groupId: view.groupId, action: decision.action }, 'longest wait reached');
    switch (decision.action) {
      case 'stay':
        return;
      case 'overflow':
        this.moveTo(call, decision.groupId);
        return;
      case 'callback':
        this.deps.routing.removeFromQueue(callId);
        this.offerCallback(call, decision.groupId, decision.prompts, QUEUE_PROMPTS.callLater, 'max-wait');
        return;
      default:
        this.deps.routing.removeFromQueue(callId);
        this.leave(call, decision.prompts, 'max-wait');
    }
  }

  // --- ringing the agent ---------------------------------------------------------------------------

  private offerTo(call: AcdCall, agentId: string, groupId: string): void {
    if (call.phase === 'bridged' || call.phase === 'leaving' || call.phase === 'offering' || call.phase === 'callback-offer') return;
    const closed = call.offeredFact ? null : this.closedNow(groupId);
    if (closed !== null) {
      // routing picks a free agent without looking at opening hours: a closed group takes no call
      this.tellAgent(agentId, call.callId, 'failed');
      this.counters.refused++;
      this.deps.routing.removeFromQueue(call.callId);
      this.deps.logger.info({ callId: call.callId, groupId, outcome: 'closed' }, 'call not queued');
      this.refuse(call, closed);
      return;
    }
    this.announcer.remove(call.callId);
    call.groupId = groupId;
    call.queuedAt ??= this.deps.routing.now();
    if (!call.offeredFact) {
      call.offeredFact = true;
      this.deps.facts?.offered(call.callId, groupId, this.deps.now());
    }
    call.phase = 'offering';
    const rings = this.ringAgent(call, agentId);
    const offer: Offer = { agentId, groupId, rings, settled: false };
    call.offer = offer;
    if (rings.length === 0) {
      this.offerFailed(call, offer, 'failed');
      return;
    }
    // hold music while the agent's phones ring
    void call.greetingDone.then(() => call.phase === 'offering' && call.offer === offer && void this.play(call.callId, [HOLD_MUSIC]));
    this.watchRings(
      rings,
      (ring, agentCallId) => this.onAgentAnswered(call, offer, ring, agentCallId),
      (why) => !offer.settled && this.offerFailed(call, offer, why),
    );
  }

  /** Every endpoint of the agent rung for the call (its agent leg transcribed with the caller's call). */
  private ringAgent(call: AcdCall, agentId: string): AgentRing[] {
    const rings = ringPhones(this.ringer, agentId, {
      ringTimeoutMs: this.deps.options.ringTimeoutMs,
      codec: call.codec,
      sinkFactory: this.deps.agentSink(call.callId),
      callId: call.callId,
    });
    const softphone = this.deps.softphones?.ring(agentId, call.callId, this.deps.options.ringTimeoutMs);
    if (softphone) rings.push(softphone);
    return rings;
  }

  /** `answered` for each endpoint that answers; `none` once, when every one failed (no-answer if any rang out or declined). */
  private watchRings(
    rings: readonly AgentRing[],
    answered: (ring: AgentRing, agentCallId: string | null) => void,
    none: (why: 'no-answer' | 'failed') => void,
  ): void {
    let pending = rings.length;
    let anyNoAnswer = false;
    for (const ring of rings) {
      void ring.result.then((outcome) => {
        if (outcome.type === 'answered') {
          answered(ring, outcome.agentCallId);
          return;
        }
        anyNoAnswer ||= outcome.noAnswer;
        if (--pending === 0) none(anyNoAnswer ? 'no-answer' : 'failed');
      });
    }
  }

  /** Bridge the caller with the agent's SIP call; false (both hung up) when that fails. */
  private bridgeAgent(call: AcdCall, agentCallId: string): boolean {
    this.byAgentCall.set(agentCallId, call.callId);
    try {
      call.bridge = this.deps.sip.bridge(call.callId, agentCallId);
      return true;
    } catch (err) {
      this.deps.logger.error(
        { callId: call.callId, reason: err instanceof Error ? err.message : String(err) },
        'caller and agent not bridged',
      );
      void this.deps.sip.hangup(agentCallId).catch(() => undefined);
      void this.deps.sip.hangup(call.callId).catch(() => undefined);
      return false;
    }
  }

  private onAgentAnswered(call: AcdCall, offer: Offer, ring: AgentRing, agentCallId: string | null): void {
    if (offer.settled || call.offer !== offer || call.phase !== 'offering' || !this.calls.has(call.callId)) {
      // a second phone answered, or the caller left meanwhile: that leg goes
      ring.hangUpAnswered();
      return;
    }
    offer.settled = true;
    for (const other of offer.rings) if (other !== ring) other.cancel();
    call.audio.stop();
    call.phase = 'bridged';
    call.agentId = offer.agentId;
    call.agentCallId = agentCallId;
    call.agentHeld = false;
    if (agentCallId !== null && !this.bridgeAgent(call, agentCallId)) return;
    this.counters.answered++;
    this.events.emit('offer.settled', { callId: call.callId, agentId: offer.agentId, outcome: 'answered' });
    this.deps.facts?.answered(call.callId, offer.agentId, this.deps.now());
    this.deps.agents.answered(offer.agentId, call.callId);
    this.deps.logger.info({ callId: call.callId, agentId: offer.agentId, groupId: offer.groupId }, 'call answered by agent');
  }

  /** Nobody answered (or no phone could be reached): the agent is told, the caller waits again in its old place. */
  private offerFailed(call: AcdCall, offer: Offer, why: 'no-answer' | 'failed'): void {
    offer.settled = true;
    if (call.offer === offer) call.offer = null;
    if (why === 'no-answer') this.counters.offersNotAnswered++;
    else this.counters.offersFailed++;
    this.events.emit('offer.settled', { callId: call.callId, agentId: offer.agentId, outcome: why });
    this.deps.logger.info({ callId: call.callId, agentId: offer.agentId, outcome: why }, 'agent did not take the call');
    if (!this.calls.has(call.callId) || call.phase !== 'offering') return;
    call.phase = 'queued';
    this.tellAgent(offer.agentId, call.callId, why);
    // back in routing's queue first: the announcer reads the call's place there (and routing may
    // offer it to another available agent at once, which moves the call on again)
    this.deps.routing.requeue(
      { callId: call.callId, groupId: offer.groupId, priority: call.priority, needsSenior: call.needsSenior },
      call.queuedAt ?? this.deps.routing.now(),
    );
    if (call.phase === 'queued') this.announcer.add(call.callId);
  }

  private tellAgent(agentId: string, callId: string, why: 'no-answer' | 'failed'): void {
    try {
      if (why === 'no-answer') this.deps.agents.noAnswer(agentId, callId);
      else this.deps.agents.offerFailed(agentId, callId);
    } catch (err) {
      this.deps.logger.warn({ agentId, code: (err as { code?: string }).code ?? 'error' }, 'agent state not moved');
    }
  }

  // --- transfers by the agent ----------------------------------------------------------------------

  /** Whether the ACD decides the REFERs of `callId`: an agent's leg of one of its calls. */
  ownsReferral(callId: string): boolean {
    return this.byAgentCall.has(callId);
  }

  /** The agent's phone asked to transfer its caller (REFER on `agentCallId`): resolves with the status of the final NOTIFY. */
  referral(agentCallId: string, targetUri: string): Promise<number> {
    const callerId = this.byAgentCall.get(agentCallId);
    const call = callerId === undefined ? undefined : this.calls.get(callerId);
    if (call === undefined || call.phase !== 'bridged' || call.agentId === null || call.agentCallId !== agentCallId) {
      return Promise.resolve(481);
    }
    if (call.transfer !== null) return Promise.resolve(491);
    const places = this.deps.transfers;
    const fromAgentId = call.agentId;
    const replaces = this.deps.consults === undefined ? undefined : replacesOf(targetUri);
    if (replaces === null) return Promise.resolve(this.refuseTransfer(call, fromAgentId, 'malformed', 403));
    if (replaces !== undefined) return Promise.resolve(this.attendedTransfer(call, fromAgentId, agentCallId, replaces));
    const target = transferTarget(targetUri, {
      boxHosts: new Set(places?.boxHosts ?? []),
      agents: this.deps.routing.agentList(),
      groupIds: this.deps.routing.groupList().map((g) => g.id),
      problem: places?.problem ?? (() => 'no transfer targets configured'),
    });
    if (target.kind === 'refused') return Promise.resolve(this.refuseTransfer(call, fromAgentId, target.reason, target.status));
    if (target.kind === 'group') return Promise.resolve(this.transferToQueue(call, fromAgentId, agentCallId, target.groupId));
    if (target.agentId === fromAgentId) return Promise.resolve(this.refuseTransfer(call, fromAgentId, 'same-agent', 403));
    return this.transferToAgent(call, fromAgentId, agentCallId, target.agentId);
  }

  /**
   * A browser softphone's agent holds (`held`) or resumes `callId` (softphoneControl.ts): the same
   * as their phone's re-INVITE. 200 done; 481 (nothing done) unless their softphone is on that call,
   * bridged; 409 when it is held (resumed) already.
   */
  holdByAgent(callId: string, agentId: string, held: boolean): 200 | 409 | 481 {
    const call = this.calls.get(callId);
    if (call === undefined || call.phase !== 'bridged' || call.agentId !== agentId || call.agentCallId !== null) return 481;
    if (call.agentHeld === held) return 409;
    this.held(call, agentId, held, true);
    return 200;
  }

  /**
   * A browser softphone's agent transfers `callId` to another agent or a queue (softphoneControl.ts):
   * the REFER's path without a SIP leg; resolves with the status a REFER's final NOTIFY would carry
   * (200 done: the softphone leaves the call; 480 not answered: the call is back with the agent;
   * 404/403 refused and audited; 481 not the agent's call, audited; 491 a transfer already rings).
   */
  transferByAgent(callId: string, agentId: string, target: AgentTransferRequest): Promise<number> {
    const call = this.calls.get(callId);
    if (call === undefined || call.phase !== 'bridged' || call.agentId !== agentId || call.agentCallId !== null) {
      this.audit(agentId, callId, 'not-on-call', 481);
      return Promise.resolve(481);
    }
    if (call.transfer !== null) return Promise.resolve(491);
    if (target.kind === 'group') {
      if (!this.deps.routing.groupList().some((g) => g.id === target.groupId))
        return Promise.resolve(this.refuseTransfer(call, agentId, 'unknown-agent', 404));
      return Promise.resolve(this.transferToQueue(call, agentId, null, target.groupId));
    }
    if (!this.deps.routing.agentList().some((a) => a.id === target.agentId))
      return Promise.resolve(this.refuseTransfer(call, agentId, 'unknown-agent', 404));
    if (target.agentId === agentId) return Promise.resolve(this.refuseTransfer(call, agentId, 'same-agent', 403));
    return this.transferToAgent(call, agentId, null, target.agentId);
  }

  private audit(fromAgentId: string, callId: string, reason: TransferRefusal, status: number): void {
    try {
      this.deps.audit?.('agent:' + fromAgentId, 'acd.transfer.refused', `call:${callId}`, { reason, status });
    } catch (err) {
      this.deps.logger.warn({ callId, code: (err as { code?: string }).code ?? 'error' }, 'transfer refusal not audited');
    }
  }

  private refuseTransfer(call: AcdCall, fromAgentId: string, reason: TransferRefusal, status: number): number {
    this.audit(fromAgentId, call.callId, reason, status);
    this.deps.logger.info({ callId: call.callId, agentId: fromAgentId, reason, status }, 'transfer refused');
    this.events.emit('call.transferred', { callId: call.callId, fromAgentId, kind: 'other', outcome: 'refused', reason });
    return status;
  }

  /** To a queue: the transferring agent is released at once, the caller waits in `groupId` (its priority, its first queueing). */
  private transferToQueue(call: AcdCall, fromAgentId: string, fromCallId: string | null, groupId: string): number {
    this.deps.facts?.transferred(call.callId, this.deps.now());
    this.releaseAgentLeg(call, fromAgentId, fromCallId);
    call.agentId = null;
    call.groupId = groupId;
    if (!call.visited.includes(groupId)) call.visited.push(groupId);
    this.counters.transfers++;
    this.events.emit('call.transferred', { callId: call.callId, fromAgentId, kind: 'group', outcome: 'requeued', reason: null });
    this.deps.logger.info({ callId: call.callId, agentId: fromAgentId, groupId }, 'call transferred to a queue');
    this.queueAgain(call, groupId);
    return 200;
  }

  /** Back in routing's queue in its old place (routing may offer it at once, moving the call on). */
  private queueAgain(call: AcdCall, groupId: string): void {
    call.phase = 'queued';
    this.deps.routing.requeue(
      { callId: call.callId, groupId, priority: call.priority, needsSenior: call.needsSenior },
      call.queuedAt ?? this.deps.routing.now(),
    );
    if (call.phase === 'queued') this.announcer.add(call.callId);
  }

  /** To an agent: their endpoints ring, the caller hears music, the transferring agent waits unbridged. */
  private transferToAgent(call: AcdCall, fromAgentId: string, fromCallId: string | null, toAgentId: string): Promise<number> {
    const failed = (status: number): Promise<number> => {
      this.events.emit('call.transferred', { callId: call.callId, fromAgentId, kind: 'agent', outcome: 'failed', reason: null });
      return Promise.resolve(status);
    };
    try {
      this.deps.agents.offer(toAgentId, call.callId);
    } catch (err) {
      this.deps.logger.info(
        { callId: call.callId, agentId: toAgentId, code: (err as { code?: string }).code ?? 'error' },
        'transfer target busy',
      );
      return failed(486);
    }
    const rings = this.ringAgent(call, toAgentId);
    if (rings.length === 0) {
      this.tellAgent(toAgentId, call.callId, 'failed');
      return failed(480);
    }
    call.bridge?.unbridge();
    void this.play(call.callId, [HOLD_MUSIC]);
    this.deps.logger.info({ callId: call.callId, agentId: fromAgentId, toAgentId }, 'transfer to an agent ringing');
    return new Promise<number>((done) => {
      const t: PendingTransfer = { fromAgentId, fromCallId, toAgentId, rings, settled: false, fromGone: false, done };
      call.transfer = t;
      this.watchRings(
        rings,
        (ring, agentCallId) => this.onTransferAnswered(call, t, ring, agentCallId),
        (why) => !t.settled && this.onTransferNotAnswered(call, t, why),
      );
    });
  }

  private onTransferAnswered(call: AcdCall, t: PendingTransfer, ring: AgentRing, agentCallId: string | null): void {
    if (t.settled || call.transfer !== t || !this.calls.has(call.callId)) {
      ring.hangUpAnswered();
      return;
    }
    t.settled = true;
    call.transfer = null;
    for (const other of t.rings) if (other !== ring) other.cancel();
    const at = this.deps.now();
    if (!t.fromGone) {
      this.deps.facts?.transferred(call.callId, at);
      this.releaseAgentLeg(call, t.fromAgentId, t.fromCallId);
    }
    call.audio.stop();
    call.phase = 'bridged';
    call.agentId = t.toAgentId;
    call.agentCallId = agentCallId;
    call.agentHeld = false;
    if (agentCallId !== null && !this.bridgeAgent(call, agentCallId)) {
      t.done(500);
      return;
    }
    this.counters.transfers++;
    this.deps.facts?.answered(call.callId, t.toAgentId, at);
    try {
      this.deps.agents.answered(t.toAgentId, call.callId);
    } catch (err) {
      this.deps.logger.warn({ agentId: t.toAgentId, code: (err as { code?: string }).code ?? 'error' }, 'agent state not moved');
    }
    this.deps.routing.reassign(call.callId, t.toAgentId);
    this.events.emit('call.transferred', {
      callId: call.callId,
      fromAgentId: t.fromAgentId,
      kind: 'agent',
      outcome: 'completed',
      reason: null,
    });
    this.deps.logger.info({ callId: call.callId, agentId: t.fromAgentId, toAgentId: t.toAgentId }, 'call transferred to an agent');
    t.done(200);
  }

  /**
   * Attended (REFER with Replaces naming the agent's consult call): the consulted agent's leg is
   * bridged with the caller, the transferring agent's leg released; 481 when no consult matches.
   */
  private attendedTransfer(call: AcdCall, fromAgentId: string, fromCallId: string, replaces: ReplacesTarget): number {
    const taken = this.deps.consults?.take(replaces, fromAgentId, call.callId) ?? null;
    if (taken === null) return this.refuseTransfer(call, fromAgentId, 'unknown-replaces', 481);
    const at = this.deps.now();
    this.deps.facts?.transferred(call.callId, at);
    this.releaseAgentLeg(call, fromAgentId, fromCallId);
    call.audio.stop();
    call.agentId = taken.agentId;
    call.agentCallId = taken.agentCallId;
    call.agentHeld = false;
    if (!this.bridgeAgent(call, taken.agentCallId)) return 500;
    this.counters.transfers++;
    this.deps.facts?.answered(call.callId, taken.agentId, at);
    this.deps.routing.reassign(call.callId, taken.agentId);
    this.events.emit('call.transferred', { callId: call.callId, fromAgentId, kind: 'attended', outcome: 'completed', reason: null });
    this.deps.logger.info(
      { callId: call.callId, agentId: fromAgentId, toAgentId: taken.agentId },
      'call transferred to the consulted agent',
    );
    return 200;
  }

  /** The target did not answer: back to the transferring agent, or — they left — to the call's queue. */
  private onTransferNotAnswered(call: AcdCall, t: PendingTransfer, why: 'no-answer' | 'failed'): void {
    t.settled = true;
    if (call.transfer === t) call.transfer = null;
    this.tellAgent(t.toAgentId, call.callId, why);
    t.done(480);
    if (!this.calls.has(call.callId)) return;
    const back = !t.fromGone;
    this.events.emit('call.transferred', {
      callId: call.callId,
      fromAgentId: t.fromAgentId,
      kind: 'agent',
      outcome: back ? 'returned' : 'failed',
      reason: null,
    });
    this.deps.logger.info({ callId: call.callId, agentId: t.toAgentId, outcome: why, back }, 'transfer target did not answer');
    if (back) {
      if (!call.agentHeld) this.holdMusic(call, false);
      return;
    }
    if (call.groupId === null) this.leave(call, QUEUE_PROMPTS.callLater, 'transfer-failed');
    else this.queueAgain(call, call.groupId);
  }

  /** The transferring agent hung up while the target rings (a blind transfer): the caller stays, music on. */
  private transferringAgentLeft(call: AcdCall, t: PendingTransfer): void {
    t.fromGone = true;
    call.agentCallId = null;
    call.agentId = null;
    this.deps.facts?.transferred(call.callId, this.deps.now());
    this.closeBridge(call);
    call.phase = 'transferring';
    this.legEnded(t.fromAgentId, call.callId);
  }

  /** The transfer is over unfinished (the caller left, the ACD closes): rings cancelled, the target's offer withdrawn. */
  private cancelTransfer(call: AcdCall): void {
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
    this.closeBridge(call);
    this.legEnded(agentId, call.callId);
    // a softphone (no SIP leg) is taken out of the call by whoever asked (softphoneControl.ts)
    if (agentCallId === null) return;
    this.byAgentCall.delete(agentCallId);
    if (call.agentCallId === agentCallId) call.agentCallId = null;
    const timer = setTimeout(() => void this.deps.sip.hangup(agentCallId, 'transferred').catch(() => undefined), RELEASE_AFTER_NOTIFY_MS);
    timer.unref();
  }

  private legEnded(agentId: string, callId: string): void {
    try {
      this.deps.agents.legEnded(agentId, callId);
    } catch (err) {
      this.deps.logger.warn({ agentId, code: (err as { code?: string }).code ?? 'error' }, 'agent state not moved');
    }
  }

  // --- hold, hang-up, leaving ----------------------------------------------------------------------

  private onHold(callId: string, held: boolean): void {
    const byAgent = this.byAgentCall.get(callId);
    const callerId = byAgent ?? (this.calls.has(callId) ? callId : undefined);
    const call = callerId === undefined ? undefined : this.calls.get(callerId);
    if (call === undefined || call.phase !== 'bridged' || call.agentId === null) return;
    this.held(call, call.agentId, held, byAgent !== undefined && call.agentCallId === callId);
  }

  /** The call is held or resumed: by the agent (`byAgent`: music to the caller) or by the caller (facts only). */
  private held(call: AcdCall, agentId: string, held: boolean, byAgent: boolean): void {
    if (byAgent) {
      call.agentHeld = held;
      // during a transfer the caller hears music already, and the bridge comes back with its outcome
      if (call.transfer === null) this.holdMusic(call, held);
    }
    const at = this.deps.now();
    if (held) this.deps.facts?.held(call.callId, at);
    else this.deps.facts?.resumed(call.callId, at);
    try {
      this.deps.agents.held(agentId, call.callId, held);
    } catch {
      // the agent's state machine refuses a hold it cannot place: the facts above still count it
    }
  }

  /** The agent's phone holds (the caller hears music, the bridge detached) or resumes (bridged again). */
  private holdMusic(call: AcdCall, held: boolean): void {
    if (held) {
      call.bridge?.unbridge();
      void this.play(call.callId, [HOLD_MUSIC]);
      return;
    }
    call.audio.stop();
    try {
      call.bridge?.bridge();
    } catch (err) {
      this.deps.logger.warn({ callId: call.callId, code: (err as { code?: string }).code ?? 'error' }, 'bridge not resumed');
    }
  }

  private onCallEnded(callId: string): void {
    const callerId = this.byAgentCall.get(callId);
    if (callerId !== undefined) {
      this.byAgentCall.delete(callId);
      const call = this.calls.get(callerId);
      if (call?.transfer?.fromCallId === callId) {
        this.transferringAgentLeft(call, call.transfer);
        return;
      }
      // the agent hung up (or their phone vanished): the conversation is over, the caller's leg goes too
      if (call !== undefined) {
        call.agentCallId = null;
        this.endTalk(call);
        void this.deps.sip.hangup(callerId).catch(() => undefined);
      }
      return;
    }
    const call = this.calls.get(callId);
    if (call === undefined) return;
    this.calls.delete(callId);
    this.announcer.remove(callId);
    this.clearRouteTimer(call);
    this.endCallbackOffer(call);
    this.cancelTransfer(call);
    call.audio.close();
    const at = this.deps.now();
    if (call.phase === 'bridged') {
      this.endTalk(call);
      if (call.agentCallId !== null) {
        this.byAgentCall.delete(call.agentCallId);
        void this.deps.sip.hangup(call.agentCallId).catch(() => undefined);
      }
    } else {
      for (const ring of call.offer?.rings ?? []) ring.cancel();
      // a call the box took out of the queue (leaving, or at the callback offer) is dequeued, not abandoned
      if (call.offeredFact && call.phase !== 'leaving' && call.phase !== 'callback-offer') this.deps.facts?.abandoned(callId, at);
    }
    call.phase = 'ended';
  }

  private clearRouteTimer(call: AcdCall): void {
    if (call.routeTimer !== null) clearTimeout(call.routeTimer);
    call.routeTimer = null;
  }

  private endTalk(call: AcdCall): void {
    if (call.talkEnded || call.phase !== 'bridged') return;
    call.talkEnded = true;
    this.closeBridge(call);
    this.deps.facts?.talkEnded(call.callId, this.deps.now());
  }

  private closeBridge(call: AcdCall): void {
    if (call.bridge === null) return;
    const stats = call.bridge.stats();
    call.bridge.close();
    call.bridge = null;
    this.events.emit('bridge.ended', { callId: call.callId, delay: stats.delay, transcoding: stats.transcoding });
  }

  /** The box ends the call: prompts, then hang-up (or a REFER to self-service). */
  private leave(call: AcdCall, prompts: readonly string[], why: string): void {
    if (call.phase === 'leaving' || call.phase === 'callback-offer' || call.phase === 'ended') return;
    this.leaveQueue(call);
    this.events.emit('call.refused', { callId: call.callId, reason: why });
    this.deps.logger.info({ callId: call.callId, why }, 'call leaving the queue');
    this.hangUpAfter(call, prompts);
  }

  /** Once the greeting is over: `prompts`, then hang-up. */
  private hangUpAfter(call: AcdCall, prompts: readonly string[]): void {
    void call.greetingDone
      .then(() => (prompts.length === 0 ? true : this.play(call.callId, promptItems(prompts))))
      .then(() => (this.calls.has(call.callId) ? this.deps.sip.hangup(call.callId) : undefined))
      .catch(() => undefined);
  }

  // --- the callback offer --------------------------------------------------------------------------

  /**
   * Offer `groupId`'s callback: the call leaves the queue, `offer` plays, and a key decides (onDigit,
   * or nothing within callbackOfferMs). Without a number to call back, a group, or a callback store:
   * `message` and hang-up instead. `why` is the refusal's reason (metrics).
   */
  private offerCallback(call: AcdCall, groupId: string | null, offer: readonly string[], message: readonly string[], why: string): void {
    if (call.phase === 'leaving' || call.phase === 'callback-offer' || call.phase === 'ended') return;
    if (this.deps.callbacks === undefined || call.callbackUri === null || groupId === null) {
      this.leave(call, message, why);
      return;
    }
    this.leaveQueue(call);
    call.phase = 'callback-offer';
    this.events.emit('call.refused', { callId: call.callId, reason: why });
    this.deps.logger.info({ callId: call.callId, groupId, why }, 'callback offered');
    const offerId = this.deps.callbacks.offered(call.callId, groupId);
    this.events.emit('callback.offered', { callId: call.callId, groupId });
    const pending: CallbackOffer = { groupId, offerId, listening: false, timer: null, settled: false };
    call.callback = pending;
    void call.greetingDone
      .then(async () => {
        if (pending.settled || !this.calls.has(call.callId)) return;
        pending.listening = true;
        const heard = await this.play(call.callId, promptItems(offer));
        if (pending.settled || !this.calls.has(call.callId)) return;
        if (!heard) {
          // the offer could not be played (a prompt missing): nobody can answer it
          pending.settled = true;
          this.hangUpAfter(call, message);
          return;
        }
        pending.timer = setTimeout(() => this.settleCallback(call, pending, null), this.deps.options.callbackOfferMs);
        pending.timer.unref();
      })
      .catch(() => undefined);
  }

  /** A key from the caller: it answers the callback offer (from the moment its prompts start); any other time it is ignored. */
  private onDigit(callId: string, digit: string): void {
    const call = this.calls.get(callId);
    const offer = call?.callback;
    if (call === undefined || offer === null || offer === undefined || call.phase !== 'callback-offer' || !offer.listening) return;
    this.settleCallback(call, offer, digit);
  }

  /** The caller's words: at a callback offer, a spoken yes accepts it as 1 would and a no declines it; other times nothing. */
  private onCallerWords(callId: string, text: string): void {
    const call = this.calls.get(callId);
    const offer = call?.callback;
    if (call === undefined || offer === null || offer === undefined || call.phase !== 'callback-offer' || !offer.listening) return;
    const answer = spokenAnswer(text);
    if (answer !== null) this.settleCallback(call, offer, answer === 'yes' ? '1' : 'no');
  }

  /** The caller pressed `digit` (null: nothing in time): 1 keeps the request and confirms it; else goodbye. Then hang-up. */
  private settleCallback(call: AcdCall, offer: CallbackOffer, digit: string | null): void {
    if (offer.settled || call.callback !== offer || !this.calls.has(call.callId)) return;
    offer.settled = true;
    if (offer.timer !== null) clearTimeout(offer.timer);
    offer.timer = null;
    const answer = digit === null ? 'none' : digit === '1' ? 'accepted' : 'declined';
    this.deps.callbacks?.offerAnswered(offer.offerId, answer);
    let prompts: readonly string[] = CALLBACK_PROMPTS.goodbye;
    if (digit === '1' && call.callbackUri !== null && this.deps.callbacks !== undefined) {
      try {
        this.deps.callbacks.request(call.callId, offer.groupId, call.callbackUri, call.queuedAt ?? undefined);
        prompts = CALLBACK_PROMPTS.confirmed;
        this.events.emit('callback.requested', { callId: call.callId, groupId: offer.groupId });
      } catch (err) {
        // not kept: promising a call would be a lie; the caller is asked to call again
        prompts = QUEUE_PROMPTS.callLater;
        this.deps.logger.error(
          { callId: call.callId, groupId: offer.groupId, code: (err as { code?: string }).code ?? 'error' },
          'callback request not kept',
        );
      }
    }
    this.deps.logger.info({ callId: call.callId, groupId: offer.groupId, answer }, 'callback offer answered');
    this.hangUpAfter(call, prompts);
  }

  private endCallbackOffer(call: AcdCall): void {
    const offer = call.callback;
    if (offer === null) return;
    offer.settled = true;
    if (offer.timer !== null) clearTimeout(offer.timer);
    offer.timer = null;
  }

  /** The box takes the call out of queueing for good; an offered call leaves the KPI queue (not an abandon). */
  private leaveQueue(call: AcdCall): void {
    call.phase = 'leaving';
    this.announcer.remove(call.callId);
    if (call.offeredFact) this.deps.facts?.dequeued(call.callId, this.deps.now());
  }

  /** Routing sent the caller to the group's self-service number: a blind transfer (REFER) there. */
  private toSelfService(call: AcdCall, groupId: string | null): void {
    const uri = this.deps.routing.groupList().find((g) => g.id === groupId)?.overflow.selfServiceUri;
    if (uri === undefined) {
      this.leave(call, QUEUE_PROMPTS.callLater, 'self-service');
      return;
    }
    this.leaveQueue(call);
    void call.greetingDone
      .then(() => this.deps.sip.transfer(call.callId, uri))
      .then((status) => {
        if (status >= 300 && this.calls.has(call.callId)) void this.deps.sip.hangup(call.callId);
      })
      .catch(() => (this.calls.has(call.callId) ? this.deps.sip.hangup(call.callId) : undefined))
      .catch(() => undefined);
  }

  private play(callId: string, items: readonly QueueAudio[]): Promise<boolean> {
    const call = this.calls.get(callId);
    return call === undefined ? Promise.resolve(false) : call.audio.play(items);
  }
}

/** What the caller hears after answering a callback offer. */
const CALLBACK_PROMPTS = {
  confirmed: ['callback-confirmed'],
  goodbye: ['goodbye'],
} as const satisfies Record<string, readonly string[]>;

const promptItems = (names: readonly string[]): QueueAudio[] => names.map((name) => ({ kind: 'prompt', name }) as const);
