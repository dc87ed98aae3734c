/**
 * The callback offer made to a caller in the queue (rules in acdCalls.ts's header): its prompts,
 * then 1 or a spoken yes keeps a callback request, anything else or nothing says goodbye, and the
 * box hangs up. The offer's answer is kept for the KPIs: accepted, declined, none (nothing in time)
 * or hung-up (the caller left before answering). The call record, playing and leaving are the
 * ACD's (CallbackOfferHost).
 */
import type { TypedEmitter } from '../events/typedEmitter.js';
import type { QueueAudio } from './announcements.js';
import { QUEUE_PROMPTS } from './queuePolicy.js';
import { spokenAnswer } from './spokenAnswer.js';
import { promptItems, type AcdCall, type AcdCallsDeps, type AcdEvents, type CallbackOffer } from './acdCall.js';

/** What the caller hears after answering a callback offer. */
const CALLBACK_PROMPTS = {
  confirmed: ['callback-confirmed'],
  goodbye: ['goodbye'],
} as const satisfies Record<string, readonly string[]>;

/** What the callback offer uses of the ACD. */
export interface CallbackOfferHost {
  readonly deps: AcdCallsDeps;
  readonly events: TypedEmitter<AcdEvents>;
  readonly calls: ReadonlyMap<string, AcdCall>;
  leave(call: AcdCall, prompts: readonly string[], why: string): void;
  leaveQueue(call: AcdCall): void;
  hangUpAfter(call: AcdCall, prompts: readonly string[]): void;
  play(callId: string, items: readonly QueueAudio[]): Promise<boolean>;
}

export class CallbackOffers {
  constructor(private readonly host: CallbackOfferHost) {}

  /**
   * Offer `groupId`'s callback: the call leaves the queue, `offer` plays, and a key decides (onDigit,
   * or nothing within callbackOfferMs). Without a number to call back, a group, or a callback store:
   * `message` and hang-up instead. `why` is the refusal's reason (metrics).
   */
  offerCallback(call: AcdCall, groupId: string | null, offer: readonly string[], message: readonly string[], why: string): void {
    if (call.phase === 'leaving' || call.phase === 'callback-offer' || call.phase === 'ended') return;
    if (this.host.deps.callbacks === undefined || call.callbackUri === null || groupId === null) {
      this.host.leave(call, message, why);
      return;
    }
    this.host.leaveQueue(call);
    call.phase = 'callback-offer';
    this.host.events.emit('call.refused', { callId: call.callId, reason: why });
    this.host.deps.logger.info({ callId: call.callId, groupId, why }, 'callback offered');
    const offerId = this.host.deps.callbacks.offered(call.callId, groupId);
    this.host.events.emit('callback.offered', { callId: call.callId, groupId });
    const pending: CallbackOffer = { groupId, offerId, listening: false, timer: null, settled: false };
    call.callback = pending;
    void call.greetingDone
      .then(async () => {
        if (pending.settled || !this.host.calls.has(call.callId)) return;
        pending.listening = true;
        const heard = await this.host.play(call.callId, promptItems(offer));
        if (pending.settled || !this.host.calls.has(call.callId)) return;
        if (!heard) {
          // the offer could not be played (a prompt missing): nobody can answer it
          pending.settled = true;
          this.host.hangUpAfter(call, message);
          return;
        }
        pending.timer = setTimeout(() => this.settleCallback(call, pending, null), this.host.deps.options.callbackOfferMs);
        pending.timer.unref();
      })
      .catch(() => undefined);
  }

  /** A key from the caller: it answers the callback offer (from the moment its prompts start); any other time it is ignored. */
  onDigit(callId: string, digit: string): void {
    const call = this.host.calls.get(callId);
    const offer = call?.callback;
    if (call === undefined || offer === null || offer === undefined || call.phase !== 'callback-offer' || !offer.listening) return;
    this.settleCallback(call, offer, digit);
  }

  /** The caller's words: at a callback offer, a spoken yes accepts it as 1 would and a no declines it; other times nothing. */
  onCallerWords(callId: string, text: string): void {
    const call = this.host.calls.get(callId);
    const offer = call?.callback;
    if (call === undefined || offer === null || offer === undefined || call.phase !== 'callback-offer' || !offer.listening) return;
    const answer = spokenAnswer(text);
    if (answer !== null) this.settleCallback(call, offer, answer === 'yes' ? '1' : 'no');
  }

  /** The caller pressed `digit` (null: nothing in time): 1 keeps the request and confirms it; else goodbye. Then hang-up. */
  private settleCallback(call: AcdCall, offer: CallbackOffer, digit: string | null): void {
    if (offer.settled || call.callback !== offer || !this.host.calls.has(call.callId)) return;
    offer.settled = true;
    if (offer.timer !== null) clearTimeout(offer.timer);
    offer.timer = null;
    const answer = digit === null ? 'none' : digit === '1' ? 'accepted' : 'declined';
    this.host.deps.callbacks?.offerAnswered(offer.offerId, answer);
    let prompts: readonly string[] = CALLBACK_PROMPTS.goodbye;
    if (digit === '1' && call.callbackUri !== null && this.host.deps.callbacks !== undefined) {
      try {
        this.host.deps.callbacks.request(call.callId, offer.groupId, call.callbackUri, call.queuedAt ?? undefined);
        prompts = CALLBACK_PROMPTS.confirmed;
        this.host.events.emit('callback.requested', { callId: call.callId, groupId: offer.groupId });
      } catch (err) {
        // not kept: promising a call would be a lie; the caller is asked to call again
        prompts = QUEUE_PROMPTS.callLater;
        this.host.deps.logger.error(
          { callId: call.callId, groupId: offer.groupId, code: (err as { code?: string }).code ?? 'error' },
          'callback request not kept',
        );
      }
    }
    this.host.deps.logger.info({ callId: call.callId, groupId: offer.groupId, answer }, 'callback offer answered');
    this.host.hangUpAfter(call, prompts);
  }

  /** The caller hung up: an offer not answered yet is kept as hung-up (not left open, nor taken for an answer). */
  callerHungUp(call: AcdCall): void {
    const offer = call.callback;
    if (offer === null || offer.settled) return this.endCallbackOffer(call);
    this.endCallbackOffer(call);
    this.host.deps.callbacks?.offerAnswered(offer.offerId, 'hung-up');
    this.host.deps.logger.info({ callId: call.callId, groupId: offer.groupId, answer: 'hung-up' }, 'callback offer answered');
  }

  endCallbackOffer(call: AcdCall): void {
    const offer = call.callback;
    if (offer === null) return;
    offer.settled = true;
    if (offer.timer !== null) clearTimeout(offer.timer);
    offer.timer = null;
  }
}
