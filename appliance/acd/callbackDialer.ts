/**
 * Placing callbacks: a request the caller left (acd/callbacks.ts) waits in its group's queue in the
 * place the caller had, an agent takes it like any queued call, and the box calls the agent first,
 * then the customer through the trunk (telephony/trunkDialer.ts: the allow-list, caps and audit
 * apply), and bridges the two.
 *
 *   due request → an attempt: a call record (the interaction, direction outbound) queued in routing
 *   with the request's place (`queuedAt`) → routing offers it to an agent (`route.decision`) → the
 *   agent's registered phones ring (agentRing.ts) → answered: the request is `dialing`, the agent
 *   hears `callback-connecting` then music, the customer's number is dialled → answered: `done`,
 *   agent and customer bridged; both legs transcribed as the interaction's `agent` and `caller`.
 *
 * Faults:
 * - The agent does not answer: the agent is reported (no-answer / offer-failed, as for callers) and
 *   the attempt waits again in its place; nothing is counted against the request.
 * - The customer does not answer (ring timeout, busy, failure): one attempt counted; retried after
 *   `retryMs`·2^(attempts-1) (at most `maxRetryMs`) until `maxAttempts`, then closed `failed` with
 *   the reason. The agent's leg ends (wrap-up follows the interaction's end).
 * - The trunk dialer refuses the number (not allowed, invalid, no trunk): closed `failed` at once
 *   with that reason; refused for a cap (per hour, concurrent): tried again after `retryMs`, no
 *   attempt counted.
 * - The agent hangs up before the customer answers: the customer's call is cancelled and the
 *   request is pending again (no attempt counted).
 * - A supervisor cancels a request while it waits for an agent: it leaves the queue at once.
 * - The store refuses a write (disk full): logged, never thrown from a call's event; an agent's answer
 *   whose request cannot be marked dialling ends the attempt (nothing dialled, still pending), a
 *   customer's answer is put through all the same.
 * - The box stops: requests being dialled go back to pending at the next start (Callbacks.recover)
 *   unless the customer had answered (then they are `done`): neither lost nor placed twice.
 *
 * At most `maxQueued` attempts of each group wait in the queue at once (each is a live interaction),
 * so waiting callbacks never crowd out inbound calls, and a group whose attempts nobody takes (no
 * agent staffed) never holds up another group's callbacks. A group no longer configured gets no
 * attempt (its requests stay pending in the store, placed if it comes back); attempts already
 * waiting for it are withdrawn. The customer's number is opened from the store only to
 * dial it: never logged, never in an event.
 */
import { randomUUID } from 'node:crypto';
import type { ApplianceEvent, EventBus } from '../events/appEvents.js';
import type { Logger } from '../log/logger.js';
import type { MediaBridge } from '../rtp/bridge.js';
import type { CodecName } from '../sdp/offer-answer.js';
import type { MediaLeg } from '../telephony/leg.js';
import type { OutboundCall } from '../telephony/outbound.js';
import type { CallEndReason, LegAudioSinkFactory, LegLabel, TelephonyEvents } from '../telephony/types.js';
import type { TypedEmitter } from '../events/typedEmitter.js';
import type { AcdAgents, AcdRouting } from './acdCalls.js';
import { ringPhones, type AgentRing, type PhoneRinger } from './agentRing.js';
import { HOLD_MUSIC } from './announcements.js';
import { CallAudio } from './callAudio.js';
import type { Callbacks } from './callbacks.js';
import type { StoredCallback } from './callbackRepo.js';

/** Where callbacks leave the box: the trunk dialer (telephony/trunkDialer.ts). */
export interface CallbackTrunk {
  /** Throws EVX_ERR_OUTBOUND_REFUSED (details.reason) before anything is sent. */
  place(req: {
    readonly number: string;
    readonly purpose: 'callback';
    readonly ringTimeoutMs: number;
    /** Trunk name; absent: the dialer's default (the first trunk with outbound calls). */
    readonly trunk?: string;
    readonly sinkFactory?: LegAudioSinkFactory;
    readonly label?: LegLabel;
    readonly codecs?: readonly CodecName[];
  }): OutboundCall;
}

/** The interaction (call record and live call) of one attempt. */
export interface CallbackInteractions {
  /** Start it (waiting in the queue); routing's decisions are stored against it. */
  open(callId: string, meta: { readonly callbackId: string; readonly groupId: string }): void;
  /** The agent answered: the interaction is answered. */
  answered(callId: string): void;
  /** Where a leg of it goes (transcribed with it). */
  legSink(callId: string, label: 'agent' | 'caller'): LegAudioSinkFactory | undefined;
  /** It is over (`reason` on the record); the agent's wrap-up follows its end. */
  end(callId: string, reason: string): void;
}

/** The parts of the SIP server the dialler drives. */
export interface CallbackTelephony {
  readonly events: TypedEmitter<TelephonyEvents>;
  bridge(callIdA: string, callIdB: string): MediaBridge;
  hangup(callId: string, reason?: CallEndReason): Promise<void>;
  leg(callId: string, legId: string): MediaLeg;
}

export interface CallbackDialerOptions {
  /** How long the agent's phones ring. */
  readonly ringTimeoutMs: number;
  /** How long the customer's phone rings. */
  readonly customerRingTimeoutMs: number;
  /** Calls to the customer before the request is closed unanswered. */
  readonly maxAttempts: number;
  /** Wait before the second attempt (doubled for each one after, up to maxRetryMs). */
  readonly retryMs: number;
  readonly maxRetryMs: number;
  /** Attempts of one group waiting in the queue at once. */
  readonly maxQueued: number;
  /** How often due requests are looked for (besides on each new request and each attempt's end). */
  readonly pollMs: number;
  readonly lang: string;
  /** The trunk to dial through ('' = the trunk dialer's default). */
  readonly trunk: string;
}

export interface CallbackDialerDeps {
  readonly callbacks: Pick<
    Callbacks,
    'dueByGroup' | 'stored' | 'open' | 'dialing' | 'completed' | 'attemptFailed' | 'undial' | 'close' | 'recover'
  >;
  readonly routing: Pick<AcdRouting, 'now' | 'requeue' | 'removeFromQueue'>;
  /** The configured skill groups' ids (read at each look for due requests); absent: every group is taken as configured. */
  readonly groupIds?: () => readonly string[];
  readonly bus: Pick<EventBus, 'subscribe'>;
  readonly agents: Pick<AcdAgents, 'answered' | 'noAnswer' | 'offerFailed'>;
  readonly ringer: PhoneRinger;
  /** null: no trunk has outbound calls enabled; requests are kept, and placed once one has (restart). */
  readonly trunk: CallbackTrunk | null;
  /** The dialable number of a caller's URI, or null (trunkDialer.ts `dialableNumber`). */
  readonly dialable: (uri: string) => string | null;
  readonly sip: CallbackTelephony;
  readonly interactions: CallbackInteractions;
  readonly prompt: (lang: string, name: string, rateHz: 8000 | 16000) => Promise<Int16Array>;
  readonly logger: Logger;
  readonly now: () => number;
  readonly options: CallbackDialerOptions;
}

type Phase = 'queued' | 'ringing-agent' | 'calling-customer' | 'bridged' | 'ended';

interface Attempt {
  /** The callback request. */
  readonly id: string;
  /** The interaction's call id (routing's queue entry, the call record). */
  readonly callId: string;
  readonly groupId: string;
  readonly queuedAt: number;
  phase: Phase;
  rings: AgentRing[];
  agentId: string | null;
  agentCallId: string | null;
  audio: CallAudio | null;
  customer: OutboundCall | null;
  customerCallId: string | null;
  bridge: MediaBridge | null;
}

/** Refusals by a cap: the number is fine, the trunk is busy now. */
const CAP_REFUSALS = new Set(['hourly-cap', 'concurrent-cap']);

export class CallbackDialer {
  private readonly byRequest = new Map<string, Attempt>();
  private readonly byCall = new Map<string, Attempt>();
  private readonly offs: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly deps: CallbackDialerDeps) {}

  /** Requests a stopped box left dialling go back to pending; the queue is filled; polling starts. */
  start(): void {
    const recovered = this.deps.callbacks.recover();
    if (recovered > 0) this.deps.logger.info({ recovered }, 'callbacks interrupted by a restart are pending again');
    const ev = this.deps.sip.events;
    this.offs.push(
      ev.on('call.ended', (e) => this.onSipCallEnded(e.callId)),
      this.deps.bus.subscribe((e) => this.onBusEvent(e)),
    );
    this.timer = setInterval(() => this.fill(), this.deps.options.pollMs);
    this.timer.unref();
    if (this.deps.trunk === null) this.deps.logger.warn({}, 'callbacks are kept but not placed: no trunk has outbound calls enabled');
    this.fill();
  }

  /** Attempts in progress (queued, ringing, dialling, bridged). */
  get size(): number {
    return this.byRequest.size;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    for (const off of this.offs) off();
    for (const a of [...this.byRequest.values()]) {
      for (const ring of a.rings) ring.cancel();
      void a.customer?.cancel();
      this.finish(a, 'shutdown');
    }
  }

  /** Queue due requests, oldest place first, up to maxQueued waiting in each configured group. */
  private fill(): void {
    if (this.closed || this.deps.trunk === null) return;
    const ids = this.deps.groupIds?.();
    const configured = ids === undefined ? null : new Set(ids);
    const waiting = new Map<string, number>();
    for (const a of [...this.byRequest.values()]) {
      if (a.phase !== 'queued') continue;
      if (configured !== null && !configured.has(a.groupId)) {
        // its group was deleted: nobody will ever be offered it; the request stays pending
        this.deps.routing.removeFromQueue(a.callId);
        this.finish(a, 'group-missing');
        continue;
      }
      waiting.set(a.groupId, (waiting.get(a.groupId) ?? 0) + 1);
    }
    let due: StoredCallback[];
    try {
      // each group's first ones: those already in progress are skipped below, maxQueued more at most
      due = this.deps.callbacks.dueByGroup(this.deps.options.maxQueued + this.byRequest.size);
    } catch (err) {
      this.deps.logger.error({ code: (err as { code?: string }).code ?? 'error' }, 'callback requests not read');
      return;
    }
    for (const r of due) {
      if (this.byRequest.has(r.id) || (configured !== null && !configured.has(r.groupId))) continue;
      const n = waiting.get(r.groupId) ?? 0;
      if (n >= this.deps.options.maxQueued) continue;
      waiting.set(r.groupId, n + 1);
      this.enqueue(r);
    }
  }

  private enqueue(r: StoredCallback): void {
    const a: Attempt = {
      id: r.id,
      callId: randomUUID(),
      groupId: r.groupId,
      queuedAt: r.queuedAt,
      phase: 'queued',
      rings: [],
      agentId: null,
      agentCallId: null,
      audio: null,
      customer: null,
      customerCallId: null,
      bridge: null,
    };
    try {
      this.deps.interactions.open(a.callId, { callbackId: r.id, groupId: r.groupId });
    } catch (err) {
      this.deps.logger.error({ callbackId: r.id, code: (err as { code?: string }).code ?? 'error' }, 'callback not queued');
      return;
    }
    this.byRequest.set(a.id, a);
    this.byCall.set(a.callId, a);
    this.deps.logger.info({ callbackId: a.id, callId: a.callId, groupId: a.groupId }, 'callback queued for an agent');
    // routing may offer it to an available agent at once (a route.decision inside this call)
    this.requeue(a);
  }

  private requeue(a: Attempt): void {
    a.phase = 'queued';
    this.deps.routing.requeue({ callId: a.callId, groupId: a.groupId, priority: 0, needsSenior: false }, a.queuedAt);
  }

  private onBusEvent(e: ApplianceEvent): void {
    if (this.closed) return;
    if (e.type === 'route.decision') {
      const a = this.byCall.get(e.callId);
      if (a !== undefined && a.phase === 'queued' && e.action === 'agent' && e.agentId !== null) this.offerTo(a, e.agentId);
      return;
    }
    if (e.type === 'callback.requested') {
      this.fill();
      return;
    }
    if (e.type === 'callback.cancelled') {
      const a = this.byRequest.get(e.id);
      if (a === undefined) return;
      this.deps.routing.removeFromQueue(a.callId);
      for (const ring of a.rings) ring.cancel();
      this.finish(a, 'cancelled');
    }
  }

  // --- the agent ---------------------------------------------------------------------------------

  private offerTo(a: Attempt, agentId: string): void {
    a.phase = 'ringing-agent';
    a.agentId = agentId;
    a.rings = ringPhones(this.deps.ringer, agentId, {
      ringTimeoutMs: this.deps.options.ringTimeoutMs,
      sinkFactory: this.deps.interactions.legSink(a.callId, 'agent'),
      callId: a.callId,
    });
    if (a.rings.length === 0) {
      this.agentMissed(a, agentId, 'failed');
      return;
    }
    const rings = a.rings;
    let pending = rings.length;
    let anyNoAnswer = false;
    let settled = false;
    for (const ring of rings) {
      void ring.result.then((outcome) => {
        if (outcome.type === 'answered' && outcome.agentCallId !== null && !settled && a.phase === 'ringing-agent') {
          settled = true;
          for (const other of rings) if (other !== ring) other.cancel();
          this.agentAnswered(a, agentId, outcome.agentCallId);
          return;
        }
        if (outcome.type === 'answered') {
          ring.hangUpAnswered();
          return;
        }
        anyNoAnswer ||= outcome.noAnswer;
        if (--pending === 0 && !settled) {
          settled = true;
          if (a.phase === 'ringing-agent') this.agentMissed(a, agentId, anyNoAnswer ? 'no-answer' : 'failed');
        }
      });
    }
  }

  /** The agent did not take it: reported like a missed caller, and the attempt waits again in its place. */
  private agentMissed(a: Attempt, agentId: string, why: 'no-answer' | 'failed'): void {
    a.rings = [];
    a.agentId = null;
    this.deps.logger.info({ callbackId: a.id, callId: a.callId, agentId, outcome: why }, 'agent did not take the callback');
    try {
      if (why === 'no-answer') this.deps.agents.noAnswer(agentId, a.callId);
      else this.deps.agents.offerFailed(agentId, a.callId);
    } catch (err) {
      this.deps.logger.warn({ agentId, code: (err as { code?: string }).code ?? 'error' }, 'agent state not moved');
    }
    if (!this.closed) this.requeue(a);
  }

  private agentAnswered(a: Attempt, agentId: string, agentCallId: string): void {
    a.rings = [];
    a.agentCallId = agentCallId;
    this.byCall.set(agentCallId, a);
    a.phase = 'calling-customer';
    this.deps.interactions.answered(a.callId);
    try {
      this.deps.agents.answered(agentId, a.callId);
    } catch (err) {
      // their state moved while the phone rang (the last registration went): they answered all the same
      this.deps.logger.warn({ agentId, code: (err as { code?: string }).code ?? 'error' }, 'agent state not moved');
    }
    let dialing = false;
    if (!this.stored(a, 'dialing', () => (dialing = this.deps.callbacks.dialing(a.id, a.callId)))) {
      // not marked dialling, so never dialled: the request stays pending for a later attempt
      this.finish(a, 'error');
      return;
    }
    if (!dialing) {
      // cancelled (or closed) while the agent's phone rang
      this.deps.logger.info({ callbackId: a.id, callId: a.callId }, 'callback no longer pending when the agent answered');
      this.finish(a, 'cancelled');
      return;
    }
    let leg: MediaLeg | undefined;
    try {
      leg = this.deps.sip.leg(agentCallId, 'leg0');
    } catch {
      leg = undefined;
    }
    if (leg !== undefined) {
      a.audio = new CallAudio({
        sink: leg.rtp,
        codec: leg.info.codec,
        load: (name, rateHz) => this.deps.prompt(this.deps.options.lang, name, rateHz),
        onError: (name, err) =>
          this.deps.logger.warn(
            { callId: a.callId, prompt: name, reason: err instanceof Error ? err.message : String(err) },
            'prompt not played',
          ),
      });
      void a.audio.play([{ kind: 'prompt', name: CONNECTING_PROMPT }, HOLD_MUSIC]);
    }
    this.dialCustomer(a, leg?.info.codec);
  }

  // --- the customer ------------------------------------------------------------------------------

  private dialCustomer(a: Attempt, codec: CodecName | undefined): void {
    let number: string | null = null;
    try {
      const uri = this.deps.callbacks.open(a.id);
      number = uri === undefined ? null : this.deps.dialable(uri);
    } catch {
      number = null; // sealed under a key that no longer opens
    }
    if (number === null) {
      this.stored(a, 'close', () => this.deps.callbacks.close(a.id, 'invalid-number'));
      this.finish(a, 'callback-invalid-number');
      return;
    }
    let call: OutboundCall;
    try {
      call = this.deps.trunk!.place({
        number,
        purpose: 'callback',
        ringTimeoutMs: this.deps.options.customerRingTimeoutMs,
        ...(this.deps.options.trunk === '' ? {} : { trunk: this.deps.options.trunk }),
        label: 'caller',
        ...(codec === undefined ? {} : { codecs: [codec] }),
        ...sinkOption(this.deps.interactions.legSink(a.callId, 'caller')),
      });
    } catch (err) {
      const reason = refusalReason(err);
      this.deps.logger.warn({ callbackId: a.id, callId: a.callId, reason }, 'callback not dialled');
      if (CAP_REFUSALS.has(reason))
        this.stored(a, 'undial', () => this.deps.callbacks.undial(a.id, reason, this.deps.now() + this.deps.options.retryMs));
      else this.stored(a, 'close', () => this.deps.callbacks.close(a.id, reason));
      this.finish(a, `callback-${reason}`);
      return;
    }
    a.customer = call;
    void call.result.then((o) => {
      if (a.phase !== 'calling-customer') {
        if (o.type === 'answered') void this.deps.sip.hangup(o.call.id).catch(() => undefined);
        return;
      }
      if (o.type === 'answered') this.customerAnswered(a, o.call.id);
      else this.customerMissed(a, customerReason(o.reason, o.status));
    });
  }

  private customerAnswered(a: Attempt, customerCallId: string): void {
    a.customerCallId = customerCallId;
    this.byCall.set(customerCallId, a);
    // the customer is on the line: they are put through even when `done` cannot be stored
    this.stored(a, 'completed', () => this.deps.callbacks.completed(a.id));
    a.audio?.close();
    a.audio = null;
    try {
      a.bridge = this.deps.sip.bridge(a.agentCallId!, customerCallId);
    } catch (err) {
      this.deps.logger.error(
        { callId: a.callId, reason: err instanceof Error ? err.message : String(err) },
        'agent and customer not bridged',
      );
      this.finish(a, 'error');
      return;
    }
    a.phase = 'bridged';
    this.deps.logger.info({ callbackId: a.id, callId: a.callId, agentId: a.agentId }, 'callback answered: agent and customer bridged');
  }

  private customerMissed(a: Attempt, reason: string): void {
    let attempts = 1;
    let became = 'error';
    this.stored(a, 'attemptFailed', () => {
      attempts = (this.deps.callbacks.stored(a.id)?.attempts ?? 0) + 1;
      const { maxAttempts, retryMs, maxRetryMs } = this.deps.options;
      const retryAt = attempts >= maxAttempts ? null : this.deps.now() + Math.min(maxRetryMs, retryMs * 2 ** (attempts - 1));
      became = this.deps.callbacks.attemptFailed(a.id, reason, retryAt);
    });
    this.deps.logger.info({ callbackId: a.id, callId: a.callId, reason, attempts, next: became }, 'callback not answered');
    this.finish(a, `callback-${reason}`);
  }

  /**
   * A change of the request in the store; one the store refuses (disk full: EVX_ERR_STORE_WRITE) is
   * logged and the attempt goes on or ends as the caller decides (false), never thrown from a call's event.
   */
  private stored(a: Attempt, operation: string, write: () => unknown): boolean {
    try {
      write();
      return true;
    } catch (err) {
      this.deps.logger.error(
        { callbackId: a.id, callId: a.callId, operation, code: (err as { code?: string }).code ?? 'error' },
        'callback request not updated',
      );
      return false;
    }
  }

  // --- ends --------------------------------------------------------------------------------------

  private onSipCallEnded(sipCallId: string): void {
    const a = this.byCall.get(sipCallId);
    if (a === undefined || a.phase === 'ended') return;
    if (sipCallId === a.agentCallId) {
      a.agentCallId = null;
      if (a.phase === 'calling-customer') {
        // the agent gave up before the customer answered: not the customer's miss
        void a.customer?.cancel();
        this.stored(a, 'undial', () => this.deps.callbacks.undial(a.id, 'agent-hung-up'));
      }
      this.finish(a, a.phase === 'bridged' ? 'hangup' : 'agent-hung-up');
      return;
    }
    if (sipCallId === a.customerCallId) {
      a.customerCallId = null;
      this.finish(a, 'bye');
    }
  }

  /** The attempt is over: every leg and the interaction end; the next due request may queue. */
  private finish(a: Attempt, reason: string): void {
    if (a.phase === 'ended') return;
    a.phase = 'ended';
    this.byRequest.delete(a.id);
    for (const id of [a.callId, a.agentCallId, a.customerCallId]) if (id !== null) this.byCall.delete(id);
    a.audio?.close();
    if (a.bridge !== null) a.bridge.close();
    for (const id of [a.agentCallId, a.customerCallId]) if (id !== null) void this.deps.sip.hangup(id).catch(() => undefined);
    try {
      this.deps.interactions.end(a.callId, reason);
    } catch (err) {
      this.deps.logger.warn({ callId: a.callId, code: (err as { code?: string }).code ?? 'error' }, 'callback interaction not ended');
    }
    if (!this.closed) setImmediate(() => this.fill());
  }
}

/** What the agent hears when they answer a callback, before music while the customer's phone rings. */
export const CONNECTING_PROMPT = 'callback-connecting';

const sinkOption = (f: LegAudioSinkFactory | undefined): { sinkFactory?: LegAudioSinkFactory } =>
  f === undefined ? {} : { sinkFactory: f };

/** The trunk dialer's refusal reason, or `failed` for any other error. */
function refusalReason(err: unknown): string {
  const e = err as { code?: string; details?: { reason?: unknown } };
  if (e.code === 'EVX_ERR_OUTBOUND_REFUSED' && typeof e.details?.reason === 'string') return e.details.reason;
  return 'failed';
}

/** Why the customer's call failed, in the request's words. */
function customerReason(reason: string, status: number | undefined): string {
  if (reason === 'ring_timeout') return 'no-answer';
  if (status === 486 || status === 600) return 'busy';
  if (status === 408 || status === 480 || status === 487 || status === 603) return 'no-answer';
  return 'failed';
}
