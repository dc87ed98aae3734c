/**
 * Creating a Call once its media is agreed, whichever side made the offer: one MediaLeg per
 * negotiated stream (RTP session on its port pair, SRTP keys, idle media, DTMF reporting), the
 * Call over them, and its session timer. Answered INVITEs (invite.ts) and calls the box placed
 * (outbound.ts) both come through here, so in-dialog behaviour is one code path.
 */
import type { TypedEmitter } from '../events/typedEmitter.js';
import type { IdleMediaMode } from '../rtp/idleMedia.js';
import type { RtpPortPair } from '../rtp/ports.js';
import { answerSends, type MediaSecurity, type NegotiatedStream } from '../sdp/offer-answer.js';
import type { SdpSession } from '../sdp/sdp.js';
import type { Dialog } from '../sip/dialog.js';
import type { TransactionLayer } from '../sip/transaction-layer.js';
import { Call } from './call.js';
import { MediaLeg, type SrtpMasterKey } from './leg.js';
import { SessionTimer } from './session-timer.js';
import type { CallDirection, CallMode, LegLabel, TelephonyEvents } from './types.js';

/** What every call needs from the server. */
export interface CallContext {
  readonly txl: TransactionLayer;
  readonly emitter: TypedEmitter<TelephonyEvents>;
  readonly latching: boolean;
  readonly rtcpIntervalMs: number;
  readonly idleMedia: IdleMediaMode;
  /** The call ended: the server forgets it. */
  forget(call: Call): void;
  /** Decide a REFER the peer sent (see Call's `onReferral`). */
  referral(call: Call, targetUri: string): Promise<number>;
  /** See Call's `byeAfterAck`: our hang-up's BYE waits for the ACK of our 2xx (RFC 3261 §15). */
  byeAfterAck?(call: Call, send: () => Promise<void>): Promise<void> | undefined;
}

/** A session timer the negotiation settled on, and our role in the INVITE that set it. */
export interface SessionTimerSetup {
  readonly intervalSec: number;
  readonly refresher: 'uac' | 'uas';
  readonly ourRole: 'uac' | 'uas';
}

export interface CallSetup {
  readonly callId: string;
  readonly direction: CallDirection;
  readonly mode: CallMode;
  readonly dialog: Dialog;
  readonly streams: readonly NegotiatedStream[];
  readonly pairs: readonly RtpPortPair[];
  /** The label (and SIPREC participant) of each stream's leg. */
  readonly legLabel: (stream: NegotiatedStream) => { readonly label: LegLabel; readonly participantId: string | undefined };
  /** Our side of the SDP exchange (answer or offer): re-offers are answered from it. */
  readonly localSdp: SdpSession;
  readonly startedAtMs: number;
  /** Our SRTP master key per encrypted stream, by media index. */
  readonly localCrypto: ReadonlyMap<number, SrtpMasterKey>;
  readonly security: MediaSecurity;
  readonly sessionTimer: SessionTimerSetup | undefined;
}

/** Create the legs and the Call (not yet registered with the server, sinks not yet attached). */
export function createCall(ctx: CallContext, setup: CallSetup): Call {
  const { callId, mode } = setup;
  const legs = setup.streams.map((s, i) => {
    const { label, participantId } = setup.legLabel(s);
    return new MediaLeg({
      callId,
      legId: `leg${i}`,
      label,
      participantId,
      stream: s,
      pair: setup.pairs[i]!,
      latching: ctx.latching,
      rtcpIntervalMs: ctx.rtcpIntervalMs,
      sinkFactory: undefined,
      onDtmf: (legId, e) => ctx.emitter.emit('dtmf', { callId, legId, digit: e.digit, durationMs: e.durationMs, source: 'rfc4733' }),
      idleMedia: ctx.idleMedia,
      // `offerDirection` is the peer's direction (its offer, or its answer to ours): we send unless it only sends
      sending: mode === 'call' && answerSends(s.offerDirection),
      localKey: setup.localCrypto.get(s.mediaIndex),
    });
  });
  const c = new Call({
    id: callId,
    dialog: setup.dialog,
    mode,
    direction: setup.direction,
    legs,
    localSdp: setup.localSdp,
    startedAtMs: setup.startedAtMs,
    txl: ctx.txl,
    emitter: ctx.emitter,
    onEnded: (call) => ctx.forget(call),
    onReferral: (call, uri) => ctx.referral(call, uri),
    security: setup.security,
    byeAfterAck: (call, send) => ctx.byeAfterAck?.(call, send),
  });
  const t = setup.sessionTimer;
  if (t !== undefined) {
    c.sessionTimer = new SessionTimer(
      t.intervalSec,
      t.refresher,
      () => void c.refreshSession(),
      () => void c.hangup('session_timer_expired'),
      t.ourRole,
    );
  }
  return c;
}
