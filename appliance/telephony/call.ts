/**
 * One answered call: its dialog, media legs, session timer and in-dialog requests (re-INVITE
 * hold/resume, UPDATE, BYE, REFER both ways, NOTIFY, INFO). Close cascade: `end()` stops the
 * timer, closes every leg (sink flushed, sockets released), tells the server to forget the call,
 * then emits `call.ended`. It runs once whatever triggers it.
 */
import type { TypedEmitter } from '../events/typedEmitter.js';
import type { Dialog } from '../sip/dialog.js';
import { parseNameAddr } from '../sip/grammar.js';
import { REASON_PHRASES, type SipRequest, type SipResponse } from '../sip/message.js';
import { buildResponse } from '../sip/serialize.js';
import { sdpBodyOf } from '../sip/siprec.js';
import type { ServerTransaction } from '../sip/transaction.js';
import type { TransactionLayer } from '../sip/transaction-layer.js';
import { answerSends, isHoldOffer, selectStreams, buildAnswer, type MediaSecurity } from '../sdp/offer-answer.js';
import type { SrtpMasterKey } from './leg.js';
import { direction, mediaAddress, parseSdp, serializeSdp, type SdpSession } from '../sdp/sdp.js';
import type { MediaLeg } from './leg.js';
import { SessionTimer } from './session-timer.js';
import type { CallDirection, CallEndReason, CallMode, LegQuality, TelephonyEvents } from './types.js';
import { isEdgeVoxError } from '../errors.js';
import { secureInt } from '../randomness.js';

export const ALLOW = 'INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, REFER, NOTIFY, INFO, PRACK';

/** Our Supported header on answers (not `replaces`: INVITE with Replaces is not carried out, see invite.ts). */
export const SUPPORTED = 'timer, 100rel';

export interface CallInit {
  readonly id: string;
  readonly dialog: Dialog;
  readonly mode: CallMode;
  readonly legs: readonly MediaLeg[];
  readonly localSdp: SdpSession;
  readonly startedAtMs: number;
  readonly txl: TransactionLayer;
  readonly emitter: TypedEmitter<TelephonyEvents>;
  readonly onEnded: (call: Call) => void;
  /**
   * Decide a transfer the peer asked for (its REFER): resolves with the final status reported in
   * the last NOTIFY (2xx carried out; 403 target not allowed; 603 declined).
   */
  readonly onReferral: (call: Call, targetUri: string) => Promise<number>;
  /** The media-encryption policy re-offers are held to (the one the call started under). */
  readonly security: MediaSecurity;
  /** Who placed the call: the peer (`inbound`, the default) or we (`outbound`, SipServer.placeCall). */
  readonly direction?: CallDirection;
  /**
   * While our 2xx awaits its ACK, takes our BYE's `send` to call once the ACK came or the transaction
   * gave up on it (or never, when the peer's BYE ended the dialog meanwhile), and resolves when that
   * is settled. Undefined: no ACK awaited, the BYE goes now.
   */
  readonly byeAfterAck?: (call: Call, send: () => Promise<void>) => Promise<void> | undefined;
}

export class Call {
  readonly id: string;
  readonly dialog: Dialog;
  readonly mode: CallMode;
  readonly direction: CallDirection;
  readonly legs: readonly MediaLeg[];
  readonly startedAtMs: number;
  answeredAtMs = 0;
  state: 'answering' | 'active' | 'ended' = 'answering';
  held = false;
  sessionTimer: SessionTimer | undefined;
  private localSdp: SdpSession;
  private sdpVersion = 1;
  private ourInvitePending = false;
  private transferTarget: string | undefined;
  /** ACK of our last INVITE (re-INVITE, or the one that placed the call), re-sent when its 2xx is retransmitted (§13.2.2.4). */
  private lastAck: SipRequest | undefined;
  private readonly txl: TransactionLayer;
  private readonly emitter: TypedEmitter<TelephonyEvents>;
  private readonly onEnded: (call: Call) => void;
  private readonly onReferral: CallInit['onReferral'];
  private readonly security: MediaSecurity;
  private readonly byeAfterAck: CallInit['byeAfterAck'];
  /** A peer's REFER being decided: a second one meanwhile is refused (491-like, RFC 3515 §2.4.6). */
  private referralPending = false;
  /** Our 2xx to an offerless re-INVITE carried an offer: the answer comes in its ACK. */
  private offerInAck = false;
  /** Our session refresh met the peer's re-INVITE (491): it goes again after this timer (RFC 3261 §14.1). */
  private refreshRetry: NodeJS.Timeout | undefined;

  constructor(init: CallInit) {
    this.id = init.id;
    this.dialog = init.dialog;
    this.mode = init.mode;
    this.direction = init.direction ?? 'inbound';
    this.legs = init.legs;
    this.localSdp = init.localSdp;
    this.startedAtMs = init.startedAtMs;
    this.txl = init.txl;
    this.emitter = init.emitter;
    this.onEnded = init.onEnded;
    this.onReferral = init.onReferral;
    this.security = init.security;
    this.byeAfterAck = init.byeAfterAck;
  }

  get dialogKey(): string {
    return `${this.dialog.callId}|${this.dialog.localTag}`;
  }

  get localSdpText(): string {
    return serializeSdp(this.localSdp);
  }

  /** 2xx ACK arrived: the dialog is confirmed; after an offerless re-INVITE it carries the answer to our offer. */
  onAck(ack?: SipRequest): void {
    if (this.dialog.state === 'early') this.dialog.state = 'confirmed';
    if (!this.offerInAck || ack === undefined) return;
    this.offerInAck = false;
    // no usable answer: the media stays as it was (the offer/answer exchange failed, §13.2.1)
    if (ack.body.length === 0 || this.state === 'ended') return;
    try {
      const answer = parseSdp(sdpBodyOf(ack));
      const streams = selectStreams(answer, undefined, this.security);
      for (const leg of this.legs) {
        const index = this.localSdp.media.findIndex((m) => m.port === leg.info.localRtpPort);
        const s = streams.find((x) => x.mediaIndex === index);
        if (s === undefined) continue;
        leg.rtp.updateRemote({ address: s.remoteAddress, port: s.remotePort }, s.remoteRtcp);
        leg.rtp.setSending(this.mode === 'call' && answerSends(s.offerDirection));
        leg.applyCrypto(s.crypto);
      }
      this.setHeld(this.holds(answer));
    } catch {
      /* an answer we cannot use: keep the media as it was */
    }
  }

  /**
   * Whether the peer's SDP holds the call. A SIPREC recorder's streams are sendonly by nature
   * (RFC 7866): its refresh re-INVITE is no hold (taken as one, the call was reported held and
   * spared by the media timeout for good); a recording is held when every stream is inactive.
   */
  private holds(sdp: SdpSession): boolean {
    if (this.mode === 'call') return isHoldOffer(sdp);
    const audio = sdp.media.filter((m) => m.type === 'audio' && m.port !== 0);
    return audio.length > 0 && audio.every((m) => direction(sdp, m) === 'inactive' || mediaAddress(sdp, m) === '0.0.0.0');
  }

  private setHeld(hold: boolean): void {
    if (hold === this.held) return;
    this.held = hold;
    this.emitter.emit(hold ? 'call.held' : 'call.resumed', { callId: this.id });
  }

  /**
   * An offerless re-INVITE (a delayed-offer resume after hold, a refresh) gets a fresh offer in the
   * direction we want (RFC 6337 §5.3), not our last answer again: after a hold that was recvonly,
   * and repeating it kept the call held; the answer comes in the ACK.
   */
  private makeReOffer(): void {
    const isDirection = (a: { name: string }): boolean => /^(sendrecv|sendonly|recvonly|inactive)$/.test(a.name);
    const wanted = this.mode === 'call' ? 'sendrecv' : 'recvonly';
    this.localSdp = {
      ...this.localSdp,
      origin: { ...this.localSdp.origin, sessionVersion: String(++this.sdpVersion) },
      attributes: this.localSdp.attributes.filter((a) => !isDirection(a)),
      media: this.localSdp.media.map((m) =>
        m.port === 0 ? m : { ...m, attributes: [...m.attributes.filter((a) => !isDirection(a)), { name: wanted, value: undefined }] },
      ),
    };
    this.offerInAck = true;
  }

  private respond(
    tx: ServerTransaction | undefined,
    req: SipRequest,
    status: number,
    opts: Parameters<typeof buildResponse>[2] = {},
  ): void {
    tx?.respond(buildResponse(req, status, { toTag: this.dialog.localTag, ...opts }));
  }

  /** Dispatch an in-dialog request (not ACK / CANCEL). */
  handleRequest(req: SipRequest, tx: ServerTransaction | undefined): void {
    if (this.state === 'ended') return this.respond(tx, req, 481);
    if (!this.dialog.acceptRemoteCSeq(req)) return this.respond(tx, req, 500, { reason: 'CSeq Out Of Order' });
    switch (req.method) {
      case 'BYE':
        this.respond(tx, req, 200);
        this.end('remote_bye');
        return;
      case 'INVITE':
        return this.handleReInvite(req, tx);
      case 'UPDATE':
        return this.handleUpdate(req, tx);
      case 'REFER':
        return this.handleRefer(req, tx);
      case 'NOTIFY':
        return this.handleNotify(req, tx);
      case 'INFO':
        return this.handleInfo(req, tx);
      case 'OPTIONS':
        return this.respond(tx, req, 200, { headers: { allow: ALLOW } });
      case 'PRACK':
        // a PRACK retransmitted after the call was answered: it was already taken
        return this.respond(tx, req, 200);
      default:
        return this.respond(tx, req, 405, { headers: { allow: ALLOW } });
    }
  }

  private timerHeaders(): Record<string, string> {
    return this.sessionTimer === undefined ? {} : { 'session-expires': this.sessionTimer.headerValue };
  }

  private handleReInvite(req: SipRequest, tx: ServerTransaction | undefined): void {
    if (this.ourInvitePending) return this.respond(tx, req, 491);
    this.dialog.refreshTarget(req);
    if (req.body.length === 0) this.makeReOffer();
    else if (!this.takeOffer(req, tx)) return;
    this.sessionRefreshed();
    this.respond(tx, req, 200, {
      body: Buffer.from(this.localSdpText),
      headers: { contact: this.dialog.contactHeader, allow: ALLOW, supported: SUPPORTED, ...this.timerHeaders() },
    });
  }

  /**
   * UPDATE (RFC 3311): a session refresh, or with SDP an offer (hold, resume, new address) answered
   * in its 200 exactly as a re-INVITE's; an offer while our re-INVITE is pending gets 491 (§5.2).
   */
  private handleUpdate(req: SipRequest, tx: ServerTransaction | undefined): void {
    if (req.body.length === 0) {
      this.sessionRefreshed();
      return this.respond(tx, req, 200, { headers: this.timerHeaders() });
    }
    if (this.ourInvitePending) return this.respond(tx, req, 491);
    this.dialog.refreshTarget(req);
    if (!this.takeOffer(req, tx)) return;
    this.sessionRefreshed();
    this.respond(tx, req, 200, {
      body: Buffer.from(this.localSdpText),
      headers: { contact: this.dialog.contactHeader, ...this.timerHeaders() },
    });
  }

  /** Apply a peer's SDP re-offer to the legs and make our answer; false when it was refused (answered here). */
  private takeOffer(req: SipRequest, tx: ServerTransaction | undefined): boolean {
    let offer: SdpSession;
    try {
      offer = parseSdp(sdpBodyOf(req));
      const streams = selectStreams(offer, undefined, this.security);
      // each leg keeps its own m= line (a SIPREC session's streams share a codec, not a key):
      // the one our current SDP gives the leg's port
      const matched = this.legs.map((leg) => {
        const index = this.localSdp.media.findIndex((m) => m.port === leg.info.localRtpPort);
        return streams.find((x) => x.mediaIndex === index && x.codec === leg.info.codec);
      });
      if (matched.some((s) => s === undefined)) {
        this.respond(tx, req, 488);
        return false;
      }
      const localCrypto = new Map<number, SrtpMasterKey>();
      const ports = new Map<number, number>();
      this.legs.forEach((leg, i) => {
        const s = matched[i]!;
        leg.rtp.updateRemote({ address: s.remoteAddress, port: s.remotePort }, s.remoteRtcp);
        leg.rtp.setSending(this.mode === 'call' && answerSends(s.offerDirection));
        const key = leg.applyCrypto(s.crypto);
        if (key !== undefined) localCrypto.set(s.mediaIndex, key);
        ports.set(s.mediaIndex, leg.info.localRtpPort);
      });
      this.localSdp = buildAnswer(offer, streams, {
        localAddress: this.localSdp.origin.address,
        localPorts: ports,
        sessionId: this.localSdp.origin.sessionId,
        sessionVersion: ++this.sdpVersion,
        comfortNoise: this.legs.some((l) => l.rtp.sendsComfortNoise),
        localCrypto,
        ...(this.mode === 'siprec' ? { directionOverride: 'recvonly' as const } : {}),
      });
    } catch (err) {
      if (isEdgeVoxError(err, 'EVX_ERR_SDP_SRTP')) {
        this.respond(tx, req, 488, {
          headers: { warning: `399 ${this.dialog.local.host} "${err.message.replace(/["\\]/g, '')}"` },
        });
        return false;
      }
      const unacceptable = isEdgeVoxError(err, 'EVX_ERR_SDP_NO_COMMON_CODEC') || isEdgeVoxError(err, 'EVX_ERR_SDP_ADDRESS');
      this.respond(tx, req, unacceptable ? 488 : 400);
      return false;
    }
    this.setHeld(this.holds(offer));
    return true;
  }

  /** The peer refreshed the session (its re-INVITE or UPDATE): the clock restarts, a pending retry of ours is moot. */
  private sessionRefreshed(): void {
    clearTimeout(this.refreshRetry);
    this.refreshRetry = undefined;
    this.sessionTimer?.refreshed();
  }

  /**
   * Our refresh crossed the peer's re-INVITE and got 491: try again after a random wait (RFC 3261
   * §14.1: 2.1-4 s when we own the Call-ID, i.e. placed the call; 0-2 s otherwise). Without it the
   * session clock is never re-armed and a peer enforcing the timer ends the call at expiry.
   */
  private retryRefreshAfterGlare(): void {
    if (this.state !== 'active') return;
    const delayMs = this.direction === 'outbound' ? 2100 + 10 * secureInt(0, 191) : 10 * secureInt(0, 201);
    clearTimeout(this.refreshRetry);
    this.refreshRetry = setTimeout(() => {
      this.refreshRetry = undefined;
      void this.refreshSession();
    }, delayMs);
    this.refreshRetry.unref();
  }

  /** Refresh the session ourselves (refresher=uas): re-INVITE with the current SDP. */
  async refreshSession(): Promise<void> {
    if (this.state !== 'active') return;
    this.ourInvitePending = true;
    this.localSdp = { ...this.localSdp, origin: { ...this.localSdp.origin, sessionVersion: String(++this.sdpVersion) } };
    const req = this.dialog.createRequest('INVITE', {
      body: Buffer.from(this.localSdpText),
      headers: { 'session-expires': this.sessionTimer?.headerValue ?? '1800;refresher=uas', supported: 'timer', allow: ALLOW },
    });
    try {
      const res = await this.txl.request(req, this.dialog.peer, (r) => this.ackFor(req, r));
      if (res.status < 300) {
        this.lastAck = this.ackFor(req, res);
        this.txl.sendAck(this.lastAck, this.dialog.peer);
        this.sessionTimer?.refreshed();
      } else if (res.status === 491) this.retryRefreshAfterGlare();
      else if (res.status === 481 || res.status === 408) await this.hangup('session_timer_expired');
    } catch {
      await this.hangup('session_timer_expired');
    } finally {
      this.ourInvitePending = false;
    }
  }

  /** The ACK we sent for the 2xx of the INVITE that placed this call (repeated for retransmitted 2xx). */
  rememberAck(ack: SipRequest): void {
    this.lastAck = ack;
  }

  /** A retransmitted 2xx to our re-INVITE arrived: repeat the ACK. */
  resendAck(): void {
    if (this.lastAck !== undefined && this.state !== 'ended') this.txl.sendAck(this.lastAck, this.dialog.peer);
  }

  private ackFor(invite: SipRequest, _res: SipResponse): SipRequest {
    const seq = Number((invite.headers.get('cseq') ?? '0').split(' ')[0]);
    return this.dialog.createRequest('ACK', { cseq: seq });
  }

  private handleRefer(req: SipRequest, tx: ServerTransaction | undefined): void {
    const referTo = req.headers.get('refer-to');
    const target = referTo === undefined ? undefined : parseNameAddr(referTo);
    if (target === undefined) return this.respond(tx, req, 400, { reason: 'Bad Refer-To' });
    if (this.referralPending) return this.respond(tx, req, 491);
    this.respond(tx, req, 202);
    const uri = target.uri.raw;
    this.referralPending = true;
    this.emitter.emit('call.transfer', {
      callId: this.id,
      direction: 'inbound',
      state: 'requested',
      status: undefined,
      pii: { target: uri },
    });
    // implicit subscription (RFC 3515 §2.4.4): "being worked on", then exactly one final outcome
    void this.notifyReferProgress(100, false);
    void this.onReferral(this, uri)
      .catch(() => 500)
      .then(async (status) => {
        this.referralPending = false;
        const ok = status >= 200 && status < 300;
        this.emitter.emit('call.transfer', {
          callId: this.id,
          direction: 'inbound',
          state: ok ? 'completed' : 'failed',
          status,
          pii: { target: uri },
        });
        await this.notifyReferProgress(status, true);
      });
  }

  /** Report the outcome of a transfer the peer asked for (inbound REFER) with a sipfrag NOTIFY. */
  async notifyReferProgress(status: number, final = status >= 200): Promise<void> {
    if (this.state === 'ended') return;
    const reason = REASON_PHRASES[status] ?? (status < 300 ? 'OK' : 'Failed');
    const req = this.dialog.createRequest('NOTIFY', {
      body: Buffer.from(`SIP/2.0 ${status} ${reason}\r\n`),
      contentType: 'message/sipfrag;version=2.0',
      headers: { event: 'refer', 'subscription-state': final ? 'terminated;reason=noresource' : 'active;expires=60' },
    });
    try {
      await this.txl.request(req, this.dialog.peer);
    } catch {
      /* the peer may already be gone */
    }
  }

  /** Transfer the caller to `targetUri` (blind transfer, RFC 3515). Resolves with the REFER's final status. */
  async transfer(targetUri: string): Promise<number> {
    const req = this.dialog.createRequest('REFER', {
      headers: { 'refer-to': `<${targetUri}>`, 'referred-by': this.dialog.contactHeader },
    });
    this.transferTarget = targetUri;
    this.emitter.emit('call.transfer', {
      callId: this.id,
      direction: 'outbound',
      state: 'requested',
      status: undefined,
      pii: { target: targetUri },
    });
    let res;
    try {
      res = await this.txl.request(req, this.dialog.peer);
    } catch (err) {
      this.transferTarget = undefined;
      throw err;
    }
    const state = res.status < 300 ? 'accepted' : 'failed';
    // refused: no subscription, so no NOTIFY of it is taken
    if (res.status >= 300) this.transferTarget = undefined;
    this.emitter.emit('call.transfer', { callId: this.id, direction: 'outbound', state, status: res.status, pii: { target: targetUri } });
    return res.status;
  }

  /**
   * A refer NOTIFY reports the transfer we asked for; with no REFER of ours accepted and not yet
   * finished there is no such subscription (481, RFC 6665 §4.1.3), and it ends nothing: a peer's
   * stray or forged "200 OK" sipfrag must not hang up the call.
   */
  private handleNotify(req: SipRequest, tx: ServerTransaction | undefined): void {
    const event = (req.headers.get('event') ?? '').split(';')[0]!.trim().toLowerCase();
    if (event === 'refer' && this.transferTarget === undefined) return this.respond(tx, req, 481);
    this.respond(tx, req, 200);
    if (event !== 'refer') return;
    const m = /^SIP\/2\.0 ([0-9]{3})/.exec(req.body.toString('latin1'));
    if (m === null) return;
    const status = Number(m[1]);
    if (status < 200) return;
    const target = this.transferTarget ?? '';
    this.transferTarget = undefined;
    const ok = status < 300;
    this.emitter.emit('call.transfer', {
      callId: this.id,
      direction: 'outbound',
      state: ok ? 'completed' : 'failed',
      status,
      pii: { target },
    });
    if (ok) void this.hangup('transferred');
  }

  private handleInfo(req: SipRequest, tx: ServerTransaction | undefined): void {
    this.respond(tx, req, 200);
    const ct = (req.headers.get('content-type') ?? '').toLowerCase();
    if (!ct.startsWith('application/dtmf-relay') && !ct.startsWith('application/dtmf')) return;
    const text = req.body.toString('latin1');
    const signal = /Signal\s*=\s*([0-9A-D*#])/i.exec(text)?.[1] ?? /^\s*([0-9A-D*#])\s*$/i.exec(text)?.[1];
    if (signal === undefined) return;
    const duration = Number(/Duration\s*=\s*([0-9]+)/i.exec(text)?.[1] ?? '0');
    this.emitter.emit('dtmf', {
      callId: this.id,
      legId: this.legs[0]?.info.legId ?? '',
      digit: signal.toUpperCase(),
      durationMs: duration,
      source: 'info',
    });
  }

  /**
   * End the call now (legs, slot, `call.ended`) and send BYE (best effort, bounded by Timer F). While
   * our 2xx awaits its ACK the BYE waits for it, or for the transaction to give up (RFC 3261 §15: the
   * callee sends no BYE before), and goes unsent if the peer's own BYE ended the dialog meanwhile.
   */
  async hangup(reason: CallEndReason = 'local_hangup'): Promise<void> {
    if (this.state === 'ended') return;
    const bye = this.dialog.createRequest('BYE');
    const send = (): Promise<void> =>
      this.txl.request(bye, this.dialog.peer).then(
        () => undefined,
        () => undefined,
      );
    const deferred = this.byeAfterAck?.(this, send);
    const sent = deferred ?? send();
    this.end(reason);
    await sent;
  }

  quality(): LegQuality[] {
    return this.legs.map((l) => l.quality());
  }

  /** Local teardown; idempotent. */
  end(reason: CallEndReason): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.dialog.state = 'terminated';
    this.sessionTimer?.stop();
    clearTimeout(this.refreshRetry);
    this.refreshRetry = undefined;
    for (const leg of this.legs) leg.close(reason); // flushes the jitter buffers first
    const legs = this.quality();
    this.onEnded(this);
    this.emitter.emit('call.ended', {
      callId: this.id,
      direction: this.direction,
      reason,
      startedAtMs: this.startedAtMs,
      answeredAtMs: this.answeredAtMs,
      endedAtMs: Date.now(),
      legs,
    });
  }
}
