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
 * - To a queue (`sip:queue-<groupId>@<box>`): admitted as a caller entering it (queuePolicy.ts):
 *   NOTIFY 200, the transferring agent is released at once, the caller waits in that group (or the
 *   adjacent group its overflow picks) with its priority and its first queueing time; a closed
 *   group (480) or a full queue (486) refuses it and the agent keeps the caller, audited.
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
 * hears hold music until the phone resumes; hold facts go to the KPIs as before. The caller's own
 * hold (their leg's re-INVITE) is not the agent's: no music, no agent hold state, no hold time.
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
import type { ApplianceEvent } from '../events/appEvents.js';
import type { MediaBridge } from '../rtp/bridge.js';
import { TypedEmitter } from '../events/typedEmitter.js';
import type { MediaLeg } from '../telephony/leg.js';
import { ringPhones, type AgentRing, type PhoneRinger, phoneRinger } from './agentRing.js';
import { HOLD_MUSIC, QueueAnnouncer, type QueueAudio } from './announcements.js';
import { CallAudio } from './callAudio.js';
import { callbackUri } from './callbacks.js';
import { admit, onMaxWait, QUEUE_PROMPTS, type Admission } from './queuePolicy.js';
import { AgentTransfers } from './agentTransfers.js';
import { maxWaitDueAfterStay } from './maxWaitAgain.js';
import { CallbackOffers } from './callbackOffer.js';
import {
  promptItems,
  type AcdCall,
  type AcdCallsDeps,
  type AcdCounters,
  type AcdEvents,
  type AgentTransferRequest,
  type Offer,
  type Phase,
} from './acdCall.js';

export type {
  AcdAgents,
  AcdCallbackStore,
  AcdCallsDeps,
  AcdCounters,
  AcdEvents,
  AcdOptions,
  AcdRouting,
  AcdTelephony,
  AcdTransferPlaces,
  AgentTransferRequest,
} from './acdCall.js';

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
  private readonly transfers: AgentTransfers;
  private readonly callbackOffers: CallbackOffers;

  constructor(private readonly deps: AcdCallsDeps) {
    this.ringer = phoneRinger(deps.sip, deps.contactsOf, deps.logger);
    const parts = {
      deps,
      events: this.events,
      counters: this.counters,
      calls: this.calls,
      byAgentCall: this.byAgentCall,
      leave: (call: AcdCall, prompts: readonly string[], why: string) => this.leave(call, prompts, why),
      play: (callId: string, items: readonly QueueAudio[]) => this.play(callId, items),
    };
    this.transfers = new AgentTransfers({
      ...parts,
      ringAgent: (call, agentId) => this.ringAgent(call, agentId),
      watchRings: (rings, answered, none) => this.watchRings(rings, answered, none),
      tellAgent: (agentId, callId, why) => this.tellAgent(agentId, callId, why),
      bridgeAgent: (call, agentCallId) => this.bridgeAgent(call, agentCallId),
      closeBridge: (call) => this.closeBridge(call),
      holdMusic: (call, held) => this.holdMusic(call, held),
      queueAgain: (call, groupId) => this.queueAgain(call, groupId),
    });
    this.callbackOffers = new CallbackOffers({
      ...parts,
      leaveQueue: (call) => this.leaveQueue(call),
      hangUpAfter: (call, prompts) => this.hangUpAfter(call, prompts),
    });
    this.announcer = new QueueAnnouncer({
      now: () => deps.routing.now(),
      view: (callId) => {
        const c = this.calls.get(callId);
        return c === undefined || c.phase !== 'queued' ? null : this.queueView(c);
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
      ev.on('dtmf', (e) => this.callbackOffers.onDigit(e.callId, e.digit)),
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
      this.callbackOffers.endCallbackOffer(c);
      this.transfers.cancelTransfer(c);
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
      groupEnteredAt: null,
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
      maxWaitStayedAt: null,
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
      if (e.speaker === 'caller') this.callbackOffers.onCallerWords(e.callId, e.text);
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
        this.callbackOffers.offerCallback(
          call,
          e.groupId ?? call.groupId,
          QUEUE_PROMPTS.callbackOffer,
          QUEUE_PROMPTS.callLater,
          'callback',
        );
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
    if (admission.action === 'callback')
      this.callbackOffers.offerCallback(call, admission.groupId, admission.prompts, message, admission.outcome);
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

  /** Overflow: the call waits in `groupId` now (a new queue entry, its old place kept; that group's longest wait from now). */
  private moveTo(call: AcdCall, groupId: string): void {
    this.deps.facts?.overflowed(call.callId, groupId, this.deps.now());
    call.groupId = groupId;
    call.groupEnteredAt = this.deps.routing.now();
    if (!call.visited.includes(groupId)) call.visited.push(groupId);
    this.announcer.remove(call.callId);
    this.deps.routing.requeue(
      { callId: call.callId, groupId, priority: call.priority, needsSenior: call.needsSenior },
      call.queuedAt ?? this.deps.routing.now(),
    );
    if (call.phase === 'queued') this.announcer.add(call.callId);
  }

  /**
   * The queued call's place (queueView.ts), its group's wait counted from when it entered that group:
   * routing's queue time keeps the call's first place, which is not the entry after an overflow or a transfer.
   */
  private queueView(call: AcdCall): ReturnType<AcdCallsDeps['queues']['view']> {
    let view = this.deps.queues.view(call.callId, call.visited);
    const entered = call.groupEnteredAt;
    if (view !== null && entered !== null && entered > view.groupEnqueuedAt) {
      const maxWaitDueAt = view.maxWaitDueAt === null ? null : view.maxWaitDueAt - view.groupEnqueuedAt + entered;
      view = { ...view, groupEnqueuedAt: entered, maxWaitDueAt };
    }
    return view === null ? null : { ...view, maxWaitDueAt: maxWaitDueAfterStay(view, call.maxWaitStayedAt) };
  }

  private onMaxWait(callId: string): void {
    const call = this.calls.get(callId);
    if (call === undefined || call.phase !== 'queued') return;
    const view = this.queueView(call);
    if (view === null) return;
    const decision = onMaxWait(view, this.deps.queues.state());
    this.deps.logger.info({ callId, groupId: view.groupId, action: decision.action }, 'longest wait reached');
    switch (decision.action) {
      case 'stay':
        // not for good: the rule applies again one longest wait from now (maxWaitAgain.ts)
        call.maxWaitStayedAt = this.deps.routing.now();
        return;
      case 'overflow':
        this.moveTo(call, decision.groupId);
        return;
      case 'callback':
        this.deps.routing.removeFromQueue(callId);
        this.callbackOffers.offerCallback(call, decision.groupId, decision.prompts, QUEUE_PROMPTS.callLater, 'max-wait');
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
    try {
      this.deps.agents.answered(offer.agentId, call.callId);
    } catch (err) {
      // their state moved while the phone rang (the last registration went): the call is theirs all the same
      this.deps.logger.warn({ agentId: offer.agentId, code: (err as { code?: string }).code ?? 'error' }, 'agent state not moved');
    }
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

  // --- transfers by the agent (agentTransfers.ts) ---------------------------------------------------

  /** The agent's phone asked to transfer its caller (REFER on `agentCallId`): resolves with the status of the final NOTIFY. */
  referral(agentCallId: string, targetUri: string): Promise<number> {
    return this.transfers.referral(agentCallId, targetUri);
  }

  /** A browser softphone's agent transfers `callId` to another agent or a queue (agentTransfers.ts). */
  transferByAgent(callId: string, agentId: string, target: AgentTransferRequest): Promise<number> {
    return this.transfers.transferByAgent(callId, agentId, target);
  }

  /** Whether the ACD decides the REFERs of `callId`: an agent's leg of one of its calls. */
  ownsReferral(callId: string): boolean {
    return this.byAgentCall.has(callId);
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

  /** Back in routing's queue in its old place after a transfer (routing may offer it at once, moving the call on); the group's longest wait from now. */
  private queueAgain(call: AcdCall, groupId: string): void {
    call.phase = 'queued';
    call.groupEnteredAt = this.deps.routing.now();
    this.deps.routing.requeue(
      { callId: call.callId, groupId, priority: call.priority, needsSenior: call.needsSenior },
      call.queuedAt ?? this.deps.routing.now(),
    );
    if (call.phase === 'queued') this.announcer.add(call.callId);
  }

  // --- hold, hang-up, leaving ----------------------------------------------------------------------

  private onHold(callId: string, held: boolean): void {
    const byAgent = this.byAgentCall.get(callId);
    const callerId = byAgent ?? (this.calls.has(callId) ? callId : undefined);
    const call = callerId === undefined ? undefined : this.calls.get(callerId);
    if (call === undefined || call.phase !== 'bridged' || call.agentId === null) return;
    this.held(call, call.agentId, held, byAgent !== undefined && call.agentCallId === callId);
  }

  /**
   * The call is held or resumed: by the agent (`byAgent`: music to the caller, the agent's hold state,
   * hold facts) or by the caller (nothing: the agent is not holding anyone, and the KPIs' hold time is
   * the agent's hold, so a caller's hold and resume inside it neither start nor end it).
   */
  private held(call: AcdCall, agentId: string, held: boolean, byAgent: boolean): void {
    if (!byAgent) return;
    call.agentHeld = held;
    // during a transfer the caller hears music already, and the bridge comes back with its outcome
    if (call.transfer === null) this.holdMusic(call, held);
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
        this.transfers.transferringAgentLeft(call, call.transfer);
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
    this.callbackOffers.callerHungUp(call);
    this.transfers.cancelTransfer(call);
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
