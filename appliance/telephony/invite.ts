/**
 * Answering a new INVITE: authentication, admission (max calls), option tags, session timer,
 * SDP or SIPREC offer, RTP port allocation, answer, and creation of the Call with its legs.
 * Every refusal is a proper final response and is reported through `reject` for counting.
 */
import { randomUUID } from 'node:crypto';
import type { TypedEmitter } from '../events/typedEmitter.js';
import { isEdgeVoxError } from '../errors.js';
import type { DigestAuthenticator } from '../sip/auth.js';
import { Dialog, type LocalEndpoint } from '../sip/dialog.js';
import { optionTags } from '../sip/grammar.js';
import type { SipPeer, SipRequest } from '../sip/message.js';
import { buildResponse, randomToken } from '../sip/serialize.js';
import { isSiprecRequest, parseSiprecOffer, type LabelledStream } from '../sip/siprec.js';
import type { ServerTransaction } from '../sip/transaction.js';
import type { TransactionLayer } from '../sip/transaction-layer.js';
import { answerSends, buildAnswer, selectStreams, type CodecName, type NegotiatedStream } from '../sdp/offer-answer.js';
import type { IdleMediaMode } from '../rtp/idleMedia.js';
import { parseSdp, type SdpSession } from '../sdp/sdp.js';
import type { RtpPortAllocator, RtpPortPair } from '../rtp/ports.js';
import { ALLOW, Call } from './call.js';
import { MediaLeg } from './leg.js';
import { negotiateSessionTimer, SessionTimer } from './session-timer.js';
import type { AdmissionDecision, LegAudioSinkFactory, LegLabel, RejectReason, TelephonyEvents } from './types.js';

const SUPPORTED_TAGS = new Set(['timer', 'siprec', 'replaces', '100rel-not']);

export interface InviteContext {
  readonly auth: DigestAuthenticator;
  readonly ports: RtpPortAllocator;
  readonly txl: TransactionLayer;
  readonly emitter: TypedEmitter<TelephonyEvents>;
  readonly rtpAddress: string;
  readonly codecs: readonly CodecName[];
  readonly maxCalls: number;
  readonly admit: (() => AdmissionDecision) | undefined;
  readonly atCapacityStatus: 486 | 503;
  readonly retryAfterSec: number;
  readonly sessionExpiresSec: number;
  readonly minSessionExpiresSec: number;
  readonly latching: boolean;
  readonly rtcpIntervalMs: number;
  readonly agentAor: RegExp | undefined;
  readonly sinkFactory: LegAudioSinkFactory | undefined;
  readonly answerDelayMs: number;
  readonly idleMedia: IdleMediaMode;
  /** Calls answered + being answered. */
  callLoad(): number;
  reserve(delta: 1 | -1): void;
  register(call: Call, inviteTx: ServerTransaction): void;
  forget(call: Call): void;
  reject(reason: RejectReason, req: SipRequest, status: number, peer: SipPeer): void;
  /** Decide a REFER the peer sent (see Call's `onReferral`). */
  referral(call: Call, targetUri: string): Promise<number>;
  local(peer: SipPeer): LocalEndpoint;
}

interface Offer {
  readonly sdp: SdpSession;
  readonly streams: NegotiatedStream[];
  readonly labels: ReadonlyMap<number, LabelledStream>;
  readonly mode: 'call' | 'siprec';
}

function readOffer(req: SipRequest, ctx: InviteContext): Offer | { status: number; reason: RejectReason } {
  try {
    if (isSiprecRequest(req)) {
      const s = parseSiprecOffer(req, ctx.agentAor === undefined ? {} : { agentAor: ctx.agentAor });
      const streams = selectStreams(s.sdp, ctx.codecs);
      return { sdp: s.sdp, streams, labels: new Map(s.streams.map((x) => [x.mediaIndex, x])), mode: 'siprec' };
    }
    const ct = (req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (req.body.length === 0) return { status: 488, reason: 'unsupported' }; // late offer not supported
    if (ct !== 'application/sdp') return { status: 415, reason: 'unsupported' };
    const sdp = parseSdp(req.body);
    return { sdp, streams: selectStreams(sdp, ctx.codecs), labels: new Map(), mode: 'call' };
  } catch (err) {
    if (isEdgeVoxError(err, 'EVX_ERR_SDP_NO_COMMON_CODEC')) return { status: 488, reason: 'no_codec' };
    return { status: 400, reason: 'bad_body' };
  }
}

/** Handle an out-of-dialog INVITE. */
export async function answerInvite(ctx: InviteContext, req: SipRequest, tx: ServerTransaction, peer: SipPeer): Promise<void> {
  const startedAtMs = Date.now();
  const refuse = (status: number, reason: RejectReason, headers: Record<string, string | readonly string[]> = {}): void => {
    tx.respond(buildResponse(req, status, { toTag: randomToken(), headers }));
    ctx.reject(reason, req, status, peer);
  };
  tx.respond(buildResponse(req, 100));

  if (ctx.auth.enabled) {
    const outcome = ctx.auth.verify(req.headers.get('authorization'), 'INVITE');
    if (outcome !== 'ok') return refuse(401, 'auth', { 'www-authenticate': ctx.auth.challenges(outcome === 'stale') });
  }
  if (ctx.callLoad() >= ctx.maxCalls) {
    return refuse(ctx.atCapacityStatus, 'capacity', { 'retry-after': String(ctx.retryAfterSec) });
  }
  const admission = ctx.admit?.();
  if (admission !== undefined && !admission.ok) {
    return refuse(503, admission.reason === 'capacity' ? 'capacity' : 'overload', { 'retry-after': String(admission.retryAfterS) });
  }
  const unsupported = [...optionTags(req.headers.getAll('require'))].filter((t) => !SUPPORTED_TAGS.has(t));
  if (unsupported.length > 0) return refuse(420, 'unsupported', { unsupported: unsupported.join(', ') });
  const timer = negotiateSessionTimer(req, ctx.sessionExpiresSec, ctx.minSessionExpiresSec);
  if (timer.type === 'too_small') return refuse(422, 'unsupported', { 'min-se': String(timer.minSe) });
  if (timer.type === 'bad_header') return refuse(400, 'bad_body');
  const offer = readOffer(req, ctx);
  if ('status' in offer) return refuse(offer.status, offer.reason);

  ctx.reserve(1);
  const pairs: RtpPortPair[] = [];
  try {
    try {
      for (let i = 0; i < offer.streams.length; i++) pairs.push(await ctx.ports.allocate());
    } catch {
      for (const p of pairs) p.release();
      return refuse(503, 'capacity', { 'retry-after': String(ctx.retryAfterSec) });
    }
    if (ctx.answerDelayMs > 0 && tx.state === 'proceeding') {
      // ring first (a PBX-like answer delay); a CANCEL during it gets the INVITE a 487
      tx.respond(buildResponse(req, 180, { toTag: randomToken() }));
      await new Promise((r) => setTimeout(r, ctx.answerDelayMs));
    }
    if (tx.state !== 'proceeding') {
      // CANCELled (487 already sent) while we were allocating or ringing
      for (const p of pairs) p.release();
      return;
    }
    const localTag = randomToken();
    const dialog = new Dialog(req, localTag, peer, ctx.local(peer));
    const answer = buildAnswer(offer.sdp, offer.streams, {
      localAddress: ctx.rtpAddress,
      localPorts: new Map(offer.streams.map((s, i) => [s.mediaIndex, pairs[i]!.rtpPort])),
      sessionId: String(Date.now()),
      sessionVersion: 1,
      comfortNoise: ctx.idleMedia === 'comfort-noise',
      ...(offer.mode === 'siprec' ? { directionOverride: 'recvonly' as const } : {}),
    });
    const callId = randomUUID();
    const legs = offer.streams.map((s, i) => {
      const lab = offer.labels.get(s.mediaIndex);
      const label: LegLabel = offer.mode === 'call' ? 'caller' : (lab?.role ?? 'unknown');
      return new MediaLeg({
        callId,
        legId: `leg${i}`,
        label,
        participantId: lab?.participantId,
        stream: s,
        pair: pairs[i]!,
        latching: ctx.latching,
        rtcpIntervalMs: ctx.rtcpIntervalMs,
        sinkFactory: ctx.sinkFactory,
        onDtmf: (legId, e) => ctx.emitter.emit('dtmf', { callId, legId, digit: e.digit, durationMs: e.durationMs, source: 'rfc4733' }),
        idleMedia: ctx.idleMedia,
        sending: offer.mode === 'call' && answerSends(s.offerDirection),
      });
    });
    const c = new Call({
      id: callId,
      dialog,
      mode: offer.mode,
      legs,
      localSdp: answer,
      startedAtMs,
      txl: ctx.txl,
      emitter: ctx.emitter,
      onEnded: (c) => ctx.forget(c),
      onReferral: (c, uri) => ctx.referral(c, uri),
    });
    if (timer.type === 'active') {
      c.sessionTimer = new SessionTimer(
        timer.intervalSec,
        timer.refresher,
        () => void c.refreshSession(),
        () => void c.hangup('session_timer_expired'),
      );
    }
    ctx.register(c, tx);
    const headers: Record<string, string> = { contact: dialog.contactHeader, allow: ALLOW, supported: 'timer, replaces' };
    if (c.sessionTimer !== undefined) headers['session-expires'] = c.sessionTimer.headerValue;
    if (timer.type === 'active' && timer.requireTimer) headers['require'] = 'timer';
    tx.respond(buildResponse(req, 200, { toTag: localTag, body: Buffer.from(c.localSdpText), headers }));
    c.state = 'active';
    c.answeredAtMs = Date.now();
    ctx.emitter.emit('call.started', {
      callId: c.id,
      sipCallId: dialog.callId,
      mode: offer.mode,
      transport: peer.transport,
      startedAtMs,
      answeredAtMs: c.answeredAtMs,
      legs: legs.map((l) => l.info),
      pii: {
        from: req.headers.get('from') ?? '',
        to: req.headers.get('to') ?? '',
        remoteAddress: peer.address,
        ...(offer.mode === 'siprec'
          ? { participants: [...offer.labels.values()].map((l) => ({ participantId: l.participantId ?? '', aor: l.aor })) }
          : {}),
      },
    });
    for (const leg of legs) leg.attachSink(ctx.sinkFactory);
  } finally {
    ctx.reserve(-1);
  }
}
