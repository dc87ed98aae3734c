/**
 * One call the box places (RFC 3261 UAC INVITE): our SDP offer, ringing, and one outcome.
 *
 * - 1xx: 180/183 report `ringing` once (100 only allows a CANCEL). No PRACK: we do not offer 100rel.
 * - 2xx: ACK (repeated for retransmitted 2xx by the Call), then a normal Call (callFactory.ts) with
 *   one leg: BYE either way, re-INVITE hold/resume, session timer and REFER work as for inbound calls.
 * - 401/407 (RFC 3261 §22.2): the transaction ACKs it; with `auth` the INVITE goes again once with
 *   Authorization / Proxy-Authorization (same Call-ID, From tag, SDP and RTP ports; CSeq + 1, a new
 *   branch); CANCEL, ring timeout and late answers then follow the new transaction. A second
 *   challenge, one that cannot be answered, or none without credentials is `rejected` with its status.
 *   The ACK of the 2xx carries the INVITE's credentials (§13.2.2.4); the password goes nowhere else.
 * - 3xx-6xx: the transaction ACKs it; the outcome is `failed` with the status.
 * - Ring timeout or `cancel()` once a provisional came: CANCEL, the RTP ports go at once; the
 *   outcome waits for the INVITE's final answer (487, at most 64·T1 after the CANCEL). A 2xx that
 *   crosses the CANCEL is ACKed and ended with BYE.
 * - Ring timeout or `cancel()` before any provisional: no CANCEL may go yet (§9.1), but nothing
 *   the caller waits on does: the call fails at once (ports and admission slot released), and the
 *   INVITE is left to its transaction, CANCELled when a provisional comes, its 2xx ACKed and ended
 *   with BYE, or timed out at Timer B. (Sofia-SIP, under drachtio/jambonz, likewise holds such a
 *   CANCEL until a 1xx while the application has already moved on.) Before, the slot and the
 *   outcome waited up to Timer B (32 s) for a peer that never answered.
 * - Responses after the INVITE transaction is gone (it ends on its first 2xx; a ringing INVITE
 *   waits for its final answer up to Timer C, a silent one times out at Timer B) come through `onStray`.
 *
 * Resources: the admission slot (counted like an INVITE being answered) and the RTP port pair are
 * released on every path to `failed`; on `answered` they belong to the Call.
 * Not done: forked 2xx from several phones.
 */
import { randomUUID } from 'node:crypto';
import { evxError, isEdgeVoxError, type EdgeVoxError } from '../errors.js';
import { TypedEmitter } from '../events/typedEmitter.js';
import type { RtpPortPair } from '../rtp/ports.js';
import type { CodecName } from '../sdp/offer-answer.js';
import { serializeSdp } from '../sdp/sdp.js';
import type { Dialog } from '../sip/dialog.js';
import { answerDigestChallenge, chooseChallenge, type SipAccount } from '../sip/auth.js';
import { parseSessionExpires } from '../sip/grammar.js';
import type { SipPeer, SipRequest, SipResponse } from '../sip/message.js';
import { randomToken } from '../sip/serialize.js';
import type { Call } from './call.js';
import { createCall, type SessionTimerSetup } from './callFactory.js';
import type { InviteContext } from './invite.js';
import { createLocalOffer, readAnswer, type AcceptedAnswer, type LocalOffer } from './localOffer.js';
import type { LegAudioSinkFactory, LegLabel, OutboundFailureReason } from './types.js';
import {
  ackForFailure,
  buildInvite,
  cancelFor,
  credentialsOf,
  cseqOf,
  inviteWithCredentials,
  uacDialog,
  type UacInvite,
} from './uacRequests.js';

/** Where to ring: a registered contact (`Registrar.contactsOf()` entries fit as they are) or a SIP URI. */
export type OutboundTarget =
  /** Requests go to the binding's `target` flow; the Request-URI is its Contact URI. */
  | { readonly target: SipPeer; readonly contact: string }
  /** An IPv4 host (no DNS) inside `transferTargets`/`allowList`; transport from `;transport=` or `sips:`. */
  | { readonly uri: string };

export interface PlaceCallOptions {
  readonly target: OutboundTarget;
  /** User part of our From URI (default `edgevox`). */
  readonly fromUser?: string;
  /** Display name of our From, shown by the phone (PII when it is the caller's number). */
  readonly fromDisplayName?: string;
  /** User part of the To URI (default: the Request-URI's user). */
  readonly toUser?: string;
  /** CANCEL when not answered within this long. */
  readonly ringTimeoutMs: number;
  /** Sink of the answered leg's decoded audio (the server's own `sinkFactory` is not used here). */
  readonly sinkFactory?: LegAudioSinkFactory;
  /** Label of the answered leg (default `agent`). */
  readonly label?: LegLabel;
  /** Codecs offered, best first (default: the server's); e.g. the caller's codec first, to avoid transcoding. */
  readonly codecs?: readonly CodecName[];
  /** Digest credentials for a 401/407 to the INVITE (a trunk's); answered once. Secret: never logged. */
  readonly auth?: SipAccount;
  /** P-Asserted-Identity of the INVITE (RFC 3325), for a trunk that trusts our caller id. */
  readonly assertedIdentity?: string;
}

export type OutboundOutcome =
  | { readonly type: 'answered'; readonly call: Call }
  | {
      readonly type: 'failed';
      readonly reason: OutboundFailureReason;
      /** The final status that ended it (486, 487, 200 answered after a CANCEL...); undefined without one. */
      readonly status: number | undefined;
      readonly error: EdgeVoxError;
    };

export interface OutboundCallEvents {
  ringing: { readonly status: number };
  answered: { readonly call: Call };
  failed: Extract<OutboundOutcome, { type: 'failed' }>;
}

export type OutboundState = 'calling' | 'ringing' | 'answered' | 'failed';

/** What the registry (outboundCalls.ts) resolved and provides. */
export interface OutboundPlan {
  readonly peer: SipPeer;
  readonly requestUri: string;
  /** The outcome is known: the registry keeps the call a while for late responses, then forgets it. */
  readonly onSettled: (call: OutboundCall) => void;
}

export class OutboundCall {
  /** The id the Call gets when answered. */
  readonly id = randomUUID();
  readonly events = new TypedEmitter<OutboundCallEvents>();
  /** Resolves once, with the answered Call or why not. Never rejects. */
  readonly result: Promise<OutboundOutcome>;
  private resolveResult: (o: OutboundOutcome) => void = () => {};
  private current: OutboundState = 'calling';
  private answeredCall: Call | undefined;
  private outcome: OutboundOutcome | undefined;
  private reserved = false;
  private pair: RtpPortPair | undefined;
  private offer: LocalOffer | undefined;
  private invite: UacInvite | undefined;
  /** Every INVITE sent (the first, and the one with credentials): late answers are matched by CSeq. */
  private readonly sent: SipRequest[] = [];
  private challenged = false;
  private provisional = false;
  private cancelReason: 'ring_timeout' | 'cancelled' | 'shutdown' | undefined;
  private cancelSent = false;
  private byeSent = false;
  private ringTimer: NodeJS.Timeout | undefined;
  private cancelTimer: NodeJS.Timeout | undefined;
  private readonly startedAtMs = Date.now();

  constructor(
    private readonly ctx: InviteContext,
    private readonly opts: Omit<PlaceCallOptions, 'target'>,
    private readonly plan: OutboundPlan,
  ) {
    this.result = new Promise((resolve) => (this.resolveResult = resolve));
  }

  get state(): OutboundState {
    return this.current;
  }

  /** The answered Call (undefined before, or when it failed). */
  get call(): Call | undefined {
    return this.answeredCall;
  }

  /** Dialog key of the INVITE (Call-ID and our tag): how late responses find this call. */
  get dialogKey(): string | undefined {
    return this.invite === undefined ? undefined : `${this.invite.request.headers.get('call-id')}|${this.invite.localTag}`;
  }

  /** Give up before the answer (CANCEL). Resolves with the outcome; an answered call is not ended by this. */
  cancel(): Promise<OutboundOutcome> {
    this.stop('cancelled');
    return this.result;
  }

  /** Start: admission, ports, INVITE. */
  start(): void {
    this.run().catch((err: unknown) => this.fail('error', undefined, asEvx(err)));
  }

  private async run(): Promise<void> {
    const refused = this.admission();
    if (refused !== undefined) return this.fail('capacity', undefined, refused);
    this.ctx.reserve(1);
    this.reserved = true;
    let pair: RtpPortPair;
    try {
      pair = await this.ctx.ports.allocate();
    } catch (err) {
      return this.fail('capacity', undefined, asEvx(err));
    }
    // given up while the ports were being bound (cancel, ring timeout, the server closing, which
    // also settles the outcome): the pair came too late to be released by settle(), so here
    if (this.cancelReason !== undefined || this.outcome !== undefined) {
      pair.release();
      return this.fail(this.cancelReason ?? 'shutdown', undefined);
    }
    this.pair = pair;
    const { peer } = this.plan;
    const security = this.ctx.mediaSecurity(peer);
    this.offer = createLocalOffer({
      localAddress: this.ctx.rtpAddress,
      localPort: this.pair.rtpPort,
      codecs: this.opts.codecs ?? this.ctx.codecs,
      security,
    });
    this.invite = buildInvite({
      requestUri: this.plan.requestUri,
      local: this.ctx.local(peer),
      fromUser: this.opts.fromUser ?? 'edgevox',
      ...(this.opts.fromDisplayName === undefined ? {} : { fromDisplayName: this.opts.fromDisplayName }),
      ...(this.opts.toUser === undefined ? {} : { toUser: this.opts.toUser }),
      ...(this.opts.assertedIdentity === undefined ? {} : { assertedIdentity: this.opts.assertedIdentity }),
      sdp: serializeSdp(this.offer.sdp),
    });
    this.ringTimer = setTimeout(() => this.stop('ring_timeout'), this.opts.ringTimeoutMs);
    this.ringTimer.unref();
    this.send(this.invite.request);
  }

  /** `invite` in a client transaction of its own (the first INVITE, or the one with credentials). */
  private send(invite: SipRequest): void {
    this.sent.push(invite);
    this.provisional = false; // a CANCEL waits for a provisional of this transaction (§9.1)
    this.ctx.txl
      .request(
        invite,
        this.plan.peer,
        (res) => ackForFailure(invite, res),
        (res) => this.onProvisional(res),
      )
      .then(
        (res) => this.onFinal(res),
        (err: unknown) => this.onTransactionError(asEvx(err)),
      )
      .catch((err: unknown) => this.fail('error', undefined, asEvx(err)));
  }

  /**
   * A 401/407 to our INVITE: the same INVITE again with credentials, once. False when the
   * challenge ends the call (no credentials, already answered one, given up, or not answerable).
   */
  private answerChallenge(res: SipResponse): boolean {
    const auth = this.opts.auth;
    const invite = this.invite;
    if (auth === undefined || invite === undefined || this.challenged) return false;
    if (this.outcome !== undefined || this.cancelReason !== undefined) return false;
    this.challenged = true;
    const proxy = res.status === 407;
    const challenge = chooseChallenge(res.headers.getAll(proxy ? 'proxy-authenticate' : 'www-authenticate'));
    if (challenge === undefined) return false;
    const value = answerDigestChallenge(challenge, {
      method: 'INVITE',
      uri: invite.request.uri,
      username: auth.username,
      password: auth.password,
      nc: 1,
      cnonce: randomToken(8),
    });
    this.invite = inviteWithCredentials(invite, proxy ? 'proxy-authorization' : 'authorization', value);
    this.send(this.invite.request);
    return true;
  }

  /** Max calls (placed calls count like answered ones), then the app's admission control. */
  private admission(): EdgeVoxError | undefined {
    if (this.ctx.callLoad() >= this.ctx.maxCalls) {
      return evxError('EVX_ERR_NOT_READY', 'at the maximum number of calls', { details: { maxCalls: this.ctx.maxCalls } });
    }
    const decision = this.ctx.admit?.();
    if (decision !== undefined && !decision.ok) {
      return evxError('EVX_ERR_NOT_READY', 'admission control refused the call', { details: { reason: decision.reason } });
    }
    return undefined;
  }

  /** A response that reached no transaction (see the header): the registry routes it here. */
  onStray(res: SipResponse): void {
    const sent = this.sent.find((r) => cseqOf(r) === cseqOf(res));
    if (sent === undefined) return;
    // the transaction that would have ACKed a failure is gone
    if (res.status >= 300) this.ctx.txl.sendAck(ackForFailure(sent, res), this.plan.peer);
    // a late answer to the INVITE that was challenged: the one sent with credentials decides
    if (sent !== this.invite?.request) return;
    if (res.status < 200) return this.onProvisional(res);
    this.onFinal(res);
  }

  private onProvisional(res: SipResponse): void {
    this.provisional = true;
    // also after the outcome: a call given up before any provisional has its CANCEL still to send
    if (this.cancelReason !== undefined) return this.sendCancel();
    if (this.outcome !== undefined) return;
    if (res.status === 100 || this.current !== 'calling') return;
    this.current = 'ringing';
    this.events.emit('ringing', { status: res.status });
    this.ctx.emitter.emit('call.outbound', { callId: this.id, state: 'ringing', status: res.status, reason: undefined, pii: this.pii });
  }

  private onFinal(res: SipResponse): void {
    if (this.answeredCall !== undefined) {
      if (res.status < 300) this.answeredCall.resendAck();
      return;
    }
    if ((res.status === 401 || res.status === 407) && this.answerChallenge(res)) return;
    if (res.status >= 300) return this.fail(this.cancelReason ?? 'rejected', res.status);
    if (this.outcome !== undefined || this.cancelReason !== undefined) {
      // a 2xx crossing our CANCEL, or arriving after we gave up: take it and end it
      this.endUnwanted(res);
      return this.fail(this.cancelReason ?? 'cancelled', res.status);
    }
    let answer: AcceptedAnswer;
    try {
      answer = readAnswer(this.offer!, res.headers.get('content-type'), res.body);
    } catch (err) {
      this.endUnwanted(res);
      return this.fail('bad_answer', res.status, asEvx(err));
    }
    const dialog = uacDialog(this.invite!, res, this.plan.peer, this.ctx.local(this.plan.peer));
    if (dialog === undefined) return this.fail('bad_answer', res.status, evxError('EVX_ERR_SIP_PARSE', 'the 2xx has no usable To'));
    this.answer(res, dialog, answer);
  }

  private answer(res: SipResponse, dialog: Dialog, answer: AcceptedAnswer): void {
    const ack = this.ackOf2xx(dialog);
    this.ctx.txl.sendAck(ack, this.plan.peer);
    const label = this.opts.label ?? 'agent';
    const call = createCall(this.ctx, {
      callId: this.id,
      direction: 'outbound',
      mode: 'call',
      dialog,
      streams: [answer.stream],
      pairs: [this.pair!],
      legLabel: () => ({ label, participantId: undefined }),
      localSdp: this.offer!.sdp,
      startedAtMs: this.startedAtMs,
      localCrypto: answer.localCrypto,
      security: this.offer!.security,
      sessionTimer: sessionTimerOf(res),
    });
    this.pair = undefined; // the leg owns it now
    call.rememberAck(ack);
    this.ctx.register(call, undefined);
    call.state = 'active';
    call.answeredAtMs = Date.now();
    this.answeredCall = call;
    this.current = 'answered';
    this.settle({ type: 'answered', call });
    this.events.emit('answered', { call });
    this.ctx.emitter.emit('call.outbound', { callId: this.id, state: 'answered', status: res.status, reason: undefined, pii: this.pii });
    for (const leg of call.legs) leg.attachSink(this.opts.sinkFactory);
  }

  /** The ACK of a 2xx (§13.2.2.4): the INVITE's CSeq number and credentials. */
  private ackOf2xx(dialog: Dialog): SipRequest {
    const invite = this.invite!.request;
    return dialog.createRequest('ACK', { cseq: cseqOf(invite) ?? 1, headers: credentialsOf(invite) });
  }

  /** ACK a 2xx we do not want and end its dialog with BYE (best effort). */
  private endUnwanted(res: SipResponse): void {
    if (this.invite === undefined) return;
    const dialog = uacDialog(this.invite, res, this.plan.peer, this.ctx.local(this.plan.peer));
    if (dialog === undefined) return;
    this.ctx.txl.sendAck(this.ackOf2xx(dialog), this.plan.peer);
    if (this.byeSent) return; // a retransmitted 2xx: the ACK again, the BYE once
    this.byeSent = true;
    this.ctx.txl.request(dialog.createRequest('BYE'), this.plan.peer).catch(() => undefined);
  }

  private onTransactionError(err: EdgeVoxError): void {
    if (this.outcome !== undefined) return;
    const reason = isEdgeVoxError(err, 'EVX_ERR_SIP_CLOSED')
      ? 'shutdown'
      : (this.cancelReason ?? (isEdgeVoxError(err, 'EVX_ERR_SIP_TRANSACTION_TIMEOUT') ? 'no_response' : 'unreachable'));
    this.fail(reason, undefined, err);
  }

  /**
   * Give up (ring timeout, cancel, server closing): the RTP ports go now; the CANCEL now if a
   * provisional came (the outcome then waits for the 487), else when one comes, and the call fails
   * at once. Nothing once the call is answered or failed.
   */
  stop(reason: 'ring_timeout' | 'cancelled' | 'shutdown'): void {
    if (this.outcome !== undefined || this.cancelReason !== undefined) return;
    this.cancelReason = reason;
    clearTimeout(this.ringTimer);
    this.pair?.release();
    this.pair = undefined;
    if (this.invite !== undefined && this.provisional) this.sendCancel();
    else this.fail(reason, undefined);
  }

  private sendCancel(): void {
    if (this.cancelSent || this.invite === undefined) return;
    this.cancelSent = true;
    this.ctx.txl.request(cancelFor(this.invite.request), this.plan.peer).catch(() => undefined);
    if (this.outcome !== undefined) return;
    // the INVITE's final answer (487) should follow at once; never wait for it longer than 64·T1
    this.cancelTimer = setTimeout(() => this.fail(this.cancelReason ?? 'cancelled', undefined), 64 * this.ctx.t1Ms);
    this.cancelTimer.unref();
  }

  /** End without an answer: release everything, report once. */
  fail(reason: OutboundFailureReason, status: number | undefined, error?: EdgeVoxError): void {
    if (this.outcome !== undefined) return;
    this.current = 'failed';
    const err = error ?? failureError(reason, status);
    const outcome = { type: 'failed', reason, status, error: err } as const;
    this.settle(outcome);
    this.events.emit('failed', outcome);
    this.ctx.emitter.emit('call.outbound', { callId: this.id, state: 'failed', status, reason, pii: this.pii });
  }

  private settle(outcome: OutboundOutcome): void {
    this.outcome = outcome;
    clearTimeout(this.ringTimer);
    clearTimeout(this.cancelTimer);
    this.pair?.release();
    this.pair = undefined;
    if (this.reserved) this.ctx.reserve(-1);
    this.reserved = false;
    this.resolveResult(outcome);
    this.plan.onSettled(this);
  }

  private get pii(): { readonly target: string } {
    return { target: this.plan.requestUri };
  }
}

/** The session timer a 2xx set (RFC 4028 §7.2): the refresher is `uac` (us) unless it names the phone. */
function sessionTimerOf(res: SipResponse): SessionTimerSetup | undefined {
  const se = parseSessionExpires(res.headers.get('session-expires') ?? '');
  if (se === undefined || se.seconds <= 0) return undefined;
  return { intervalSec: se.seconds, refresher: se.refresher ?? 'uac', ourRole: 'uac' };
}

function failureError(reason: OutboundFailureReason, status: number | undefined): EdgeVoxError {
  if (reason === 'shutdown') return evxError('EVX_ERR_SIP_CLOSED', 'the SIP server is closing');
  if (reason === 'no_response') return evxError('EVX_ERR_SIP_TRANSACTION_TIMEOUT', 'the INVITE got no response');
  if (reason === 'unreachable') return evxError('EVX_ERR_SIP_TRANSPORT', 'the INVITE could not reach the target');
  return evxError('EVX_ERR_SIP_REQUEST_FAILED', `the outbound call was not answered (${reason})`, { details: { reason, status } });
}

function asEvx(err: unknown): EdgeVoxError {
  return isEdgeVoxError(err) ? err : evxError('EVX_ERR_INTERNAL', 'outbound call failed', { cause: err });
}
