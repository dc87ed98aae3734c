/**
 * Answering a new INVITE: authentication, admission (max calls), option tags, session timer,
 * SDP or SIPREC offer, RTP port allocation, answer, and creation of the Call with its legs.
 * Ringing is sent reliably (RFC 3262 100rel/PRACK) when the caller supports it. An INVITE without
 * SDP (late offer) gets our offer in the 200 and the call starts with the answer in the ACK.
 * Every refusal is a proper final response and is reported through `reject` for counting.
 */
import { randomUUID } from 'node:crypto';
import { isEdgeVoxError } from '../errors.js';
import type { DigestAuthenticator } from '../sip/auth.js';
import { Dialog, type LocalEndpoint } from '../sip/dialog.js';
import { optionTags } from '../sip/grammar.js';
import type { SipPeer, SipRequest } from '../sip/message.js';
import { buildResponse, randomToken } from '../sip/serialize.js';
import { isSiprecRequest, parseSiprecOffer, type LabelledStream } from '../sip/siprec.js';
import type { ServerTransaction } from '../sip/transaction.js';
import { buildAnswer, selectStreams, type CodecName, type MediaSecurity, type NegotiatedStream } from '../sdp/offer-answer.js';
import { generateMasterKey } from '../rtp/srtp.js';
import type { SrtpMasterKey } from './leg.js';
import { parseSdp, serializeSdp, type SdpSession } from '../sdp/sdp.js';
import type { RtpPortAllocator, RtpPortPair } from '../rtp/ports.js';
import { ALLOW, SUPPORTED, type Call } from './call.js';
import { createCall, type CallContext } from './callFactory.js';
import { createLocalOffer, readAnswer, type AcceptedAnswer } from './localOffer.js';
import { negotiateSessionTimer } from './session-timer.js';
import type { AdmissionDecision, LegAudioSinkFactory, RejectReason } from './types.js';

/**
 * Option tags a caller may require. Not `replaces` (RFC 3891): an INVITE that asks to take over
 * another dialog is not carried out, so it gets 420 rather than a new call that pretends it did.
 */
const SUPPORTED_TAGS = new Set(['timer', 'siprec', '100rel']);

/** The server's context for calls: answering INVITEs here, placing them in outbound.ts. */
export interface InviteContext extends CallContext {
  readonly auth: DigestAuthenticator;
  readonly ports: RtpPortAllocator;
  readonly rtpAddress: string;
  readonly codecs: readonly CodecName[];
  readonly maxCalls: number;
  readonly admit: (() => AdmissionDecision) | undefined;
  readonly atCapacityStatus: 486 | 503;
  readonly retryAfterSec: number;
  readonly sessionExpiresSec: number;
  readonly minSessionExpiresSec: number;
  readonly agentAor: RegExp | undefined;
  readonly sinkFactory: LegAudioSinkFactory | undefined;
  readonly answerDelayMs: number;
  /** Calls answered + being answered. */
  callLoad(): number;
  reserve(delta: 1 | -1): void;
  /** A call is answered; `inviteTx` awaits the ACK of its 2xx (none when the ACK already came). */
  register(call: Call, inviteTx: ServerTransaction | undefined): void;
  reject(reason: RejectReason, req: SipRequest, status: number, peer: SipPeer): void;
  local(peer: SipPeer): LocalEndpoint;
  readonly t1Ms: number;
  /** Call `then` once when a CANCEL ends the INVITE of `tx` (487 sent). */
  whenCancelled(tx: ServerTransaction, then: () => void): void;
  /** A provisional with our To tag went out for `tx`: its final answer (487 to a CANCEL) must carry the same tag. */
  earlyDialog(tx: ServerTransaction, localTag: string): void;
  /** Resolves true when the PRACK for reliable provisional `rseq` of the dialog arrives (answered 200 by the server). */
  expectPrack(dialogKey: string, rseq: number): { readonly arrived: Promise<boolean>; cancel(): void };
  /** The media-encryption policy for calls from this peer (its trunk's, or the default). */
  mediaSecurity(peer: SipPeer): MediaSecurity;
  /**
   * Late offer: hand the dialog's ACK (with the answer) to `onAck`; `onGone` when none will come:
   * `byeNeeded` after 64·T1 without it (§13.3.1.4), not when the caller's BYE or closing ended it.
   */
  expectAck(dialogKey: string, tx: ServerTransaction, onAck: (ack: SipRequest) => void, onGone: (byeNeeded: boolean) => void): void;
}

interface Offer {
  readonly sdp: SdpSession;
  readonly streams: NegotiatedStream[];
  readonly labels: ReadonlyMap<number, LabelledStream>;
  readonly mode: 'call' | 'siprec';
}

/** A refusal of the offer; `warning` is the text of a Warning header (RFC 3261 §20.43) saying why. */
interface OfferRefusal {
  readonly status: number;
  readonly reason: RejectReason;
  readonly warning?: string;
}

function readOffer(req: SipRequest, ctx: InviteContext, security: MediaSecurity): Offer | OfferRefusal {
  try {
    if (isSiprecRequest(req)) {
      const s = parseSiprecOffer(req, ctx.agentAor === undefined ? {} : { agentAor: ctx.agentAor });
      const streams = selectStreams(s.sdp, ctx.codecs, security);
      return { sdp: s.sdp, streams, labels: new Map(s.streams.map((x) => [x.mediaIndex, x])), mode: 'siprec' };
    }
    const ct = (req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (ct !== 'application/sdp') return { status: 415, reason: 'unsupported' };
    const sdp = parseSdp(req.body);
    return { sdp, streams: selectStreams(sdp, ctx.codecs, security), labels: new Map(), mode: 'call' };
  } catch (err) {
    if (isEdgeVoxError(err, 'EVX_ERR_SDP_NO_COMMON_CODEC')) {
      const why = err.details['reason'];
      return { status: 488, reason: 'no_codec', warning: typeof why === 'string' ? why : 'no common audio codec' };
    }
    if (isEdgeVoxError(err, 'EVX_ERR_SDP_ADDRESS')) return { status: 488, reason: 'media_address', warning: err.message };
    if (isEdgeVoxError(err, 'EVX_ERR_SDP_SRTP')) return { status: 488, reason: 'srtp', warning: err.message };
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
  const lateOffer = req.body.length === 0;
  const security = ctx.mediaSecurity(peer);
  const offer = lateOffer ? undefined : readOffer(req, ctx, security);
  if (offer !== undefined && 'status' in offer) {
    return refuse(offer.status, offer.reason, offer.warning === undefined ? {} : { warning: warningHeader(ctx, peer, offer.warning) });
  }

  ctx.reserve(1);
  const pairs: RtpPortPair[] = [];
  try {
    try {
      for (let i = 0; i < (offer?.streams.length ?? 1); i++) pairs.push(await ctx.ports.allocate());
    } catch {
      for (const p of pairs) p.release();
      return refuse(503, 'capacity', { 'retry-after': String(ctx.retryAfterSec) });
    }
    const localTag = randomToken();
    const dialog = new Dialog(req, localTag, peer, ctx.local(peer));
    if (ctx.answerDelayMs > 0 && tx.state === 'proceeding') {
      // ring first (a PBX-like answer delay); a CANCEL during it gets the INVITE a 487 and ends the
      // wait at once: the caller's place under maxCalls and its ports go with it, not seconds later
      const cancelled = new Promise<void>((r) => ctx.whenCancelled(tx, r));
      const ringing = ring(ctx, req, tx, dialog, cancelled);
      let delay: NodeJS.Timeout | undefined;
      await Promise.race([cancelled, new Promise((r) => (delay = setTimeout(r, ctx.answerDelayMs)))]);
      clearTimeout(delay);
      if (!(await ringing)) {
        for (const p of pairs) p.release();
        // RFC 3262 §3: no PRACK within 64·T1 for a reliable provisional ends the INVITE with a 5xx
        if (tx.state === 'proceeding') {
          tx.respond(buildResponse(req, 504, { toTag: dialog.localTag }));
          ctx.reject('unsupported', req, 504, peer);
        }
        return;
      }
    }
    if (tx.state !== 'proceeding') {
      // CANCELled (487 already sent) while we were allocating or ringing
      for (const p of pairs) p.release();
      return;
    }
    if (offer === undefined) return offerInAnswer(ctx, req, tx, peer, dialog, pairs[0]!, timer, startedAtMs);
    const localCrypto = localKeysFor(offer.streams);
    const answer = buildAnswer(offer.sdp, offer.streams, {
      localCrypto,
      localAddress: ctx.rtpAddress,
      localPorts: new Map(offer.streams.map((s, i) => [s.mediaIndex, pairs[i]!.rtpPort])),
      sessionId: String(Date.now()),
      sessionVersion: 1,
      comfortNoise: ctx.idleMedia === 'comfort-noise',
      ...(offer.mode === 'siprec' ? { directionOverride: 'recvonly' as const } : {}),
    });
    const c = startCall(ctx, {
      req,
      peer,
      dialog,
      streams: offer.streams,
      pairs,
      labels: offer.labels,
      mode: offer.mode,
      localSdp: answer,
      timer,
      startedAtMs,
      localCrypto,
      security,
    });
    const headers: Record<string, string> = { contact: dialog.contactHeader, allow: ALLOW, supported: SUPPORTED };
    if (c.sessionTimer !== undefined) headers['session-expires'] = c.sessionTimer.headerValue;
    if (timer.type === 'active' && timer.requireTimer) headers['require'] = 'timer';
    ctx.register(c, tx);
    tx.respond(buildResponse(req, 200, { toTag: dialog.localTag, body: Buffer.from(c.localSdpText), headers }));
    announce(ctx, c, req, peer, offer.labels);
  } finally {
    ctx.reserve(-1);
  }
}

/**
 * Send 180 Ringing: reliably (RFC 3262: Require 100rel, RSeq, resent at T1 doubling until the
 * PRACK) when the caller supports or requires it. Resolves false when a reliable one got no PRACK.
 */
async function ring(
  ctx: InviteContext,
  req: SipRequest,
  tx: ServerTransaction,
  dialog: Dialog,
  cancelled: Promise<void>,
): Promise<boolean> {
  const tags = optionTags([...req.headers.getAll('supported'), ...req.headers.getAll('require')]);
  ctx.earlyDialog(tx, dialog.localTag);
  if (!tags.has('100rel')) {
    tx.respond(buildResponse(req, 180, { toTag: dialog.localTag, headers: { contact: dialog.contactHeader } }));
    return true;
  }
  const rseq = 1;
  const res = buildResponse(req, 180, {
    toTag: dialog.localTag,
    headers: { contact: dialog.contactHeader, require: '100rel', rseq: String(rseq) },
  });
  const key = `${dialog.callId}|${dialog.localTag}`;
  const prack = ctx.expectPrack(key, rseq);
  let interval = ctx.t1Ms;
  let waited = 0;
  let timer: NodeJS.Timeout | undefined;
  try {
    while (waited < 64 * ctx.t1Ms && tx.state === 'proceeding') {
      tx.respond(res);
      const wait = interval;
      const acked = await Promise.race([
        prack.arrived,
        cancelled.then(() => false),
        new Promise<false>((r) => (timer = setTimeout(() => r(false), wait))),
      ]);
      clearTimeout(timer);
      if (acked) return true;
      waited += wait;
      interval *= 2;
    }
    return tx.state !== 'proceeding';
  } finally {
    prack.cancel();
  }
}

interface CallSetup {
  readonly req: SipRequest;
  readonly peer: SipPeer;
  readonly dialog: Dialog;
  readonly streams: readonly NegotiatedStream[];
  readonly pairs: readonly RtpPortPair[];
  readonly labels: ReadonlyMap<number, LabelledStream>;
  readonly mode: 'call' | 'siprec';
  readonly localSdp: SdpSession;
  readonly timer: ReturnType<typeof negotiateSessionTimer>;
  readonly startedAtMs: number;
  readonly localCrypto: ReadonlyMap<number, SrtpMasterKey>;
  readonly security: MediaSecurity;
}

/** Our own SRTP master key for each encrypted stream (a fresh one per call). */
export function localKeysFor(streams: readonly NegotiatedStream[]): Map<number, SrtpMasterKey> {
  const keys = new Map<number, SrtpMasterKey>();
  for (const s of streams) if (s.crypto !== undefined) keys.set(s.mediaIndex, generateMasterKey(s.crypto.suite));
  return keys;
}

/** Warning header value (RFC 3261 §20.43, code 399: miscellaneous) naming us as the agent. */
function warningHeader(ctx: InviteContext, peer: SipPeer, text: string): string {
  const local = ctx.local(peer);
  return `399 ${local.host}:${local.port} "${text.replace(/["\\]/g, '')}"`;
}

/** Create the Call and its legs once the media is agreed. */
function startCall(ctx: InviteContext, setup: CallSetup): Call {
  const { labels, mode, timer } = setup;
  return createCall(ctx, {
    callId: randomUUID(),
    direction: 'inbound',
    mode,
    dialog: setup.dialog,
    streams: setup.streams,
    pairs: setup.pairs,
    legLabel: (s) => {
      const lab = labels.get(s.mediaIndex);
      return { label: mode === 'call' ? 'caller' : (lab?.role ?? 'unknown'), participantId: lab?.participantId };
    },
    localSdp: setup.localSdp,
    startedAtMs: setup.startedAtMs,
    localCrypto: setup.localCrypto,
    security: setup.security,
    sessionTimer: timer.type === 'active' ? { intervalSec: timer.intervalSec, refresher: timer.refresher, ourRole: 'uas' } : undefined,
  });
}

/** The call is up: tell the app, then let audio flow to the sinks. */
function announce(
  ctx: InviteContext,
  c: Call,
  req: SipRequest,
  peer: SipPeer,
  labels: ReadonlyMap<number, LabelledStream> = new Map(),
): void {
  c.state = 'active';
  c.answeredAtMs = Date.now();
  ctx.emitter.emit('call.started', {
    callId: c.id,
    sipCallId: c.dialog.callId,
    mode: c.mode,
    transport: peer.transport,
    startedAtMs: c.startedAtMs,
    answeredAtMs: c.answeredAtMs,
    legs: c.legs.map((l) => l.info),
    pii: {
      from: req.headers.get('from') ?? '',
      to: req.headers.get('to') ?? '',
      remoteAddress: peer.address,
      ...(c.mode === 'siprec'
        ? { participants: [...labels.values()].map((l) => ({ participantId: l.participantId ?? '', aor: l.aor })) }
        : {}),
    },
  });
  for (const leg of c.legs) leg.attachSink(ctx.sinkFactory);
}

/**
 * Late offer (RFC 3261 §13.2.1): the INVITE had no SDP, so the 200 carries our offer and the ACK
 * the answer. The call starts when an acceptable answer arrives; a missing or unusable answer ends
 * the dialog with a BYE (§13.3.1.4).
 */
function offerInAnswer(
  ctx: InviteContext,
  req: SipRequest,
  tx: ServerTransaction,
  peer: SipPeer,
  dialog: Dialog,
  pair: RtpPortPair,
  timer: ReturnType<typeof negotiateSessionTimer>,
  startedAtMs: number,
): void {
  const security = ctx.mediaSecurity(peer);
  const offer = createLocalOffer({ localAddress: ctx.rtpAddress, localPort: pair.rtpPort, codecs: ctx.codecs, security });
  const key = `${dialog.callId}|${dialog.localTag}`;
  // Answered, awaiting the ACK: a call under maxCalls until the ACK starts it (registered) or
  // fails or never comes. The INVITE's own reservation ends when answerInvite returns.
  ctx.reserve(1);
  let reserved = true;
  const unreserve = (): void => {
    if (reserved) ctx.reserve(-1);
    reserved = false;
  };
  ctx.expectAck(
    key,
    tx,
    (ack) => {
      // registered below in the same turn, or ended: either way no longer a pending one
      unreserve();
      let answer: AcceptedAnswer;
      try {
        answer = readAnswer(offer, ack.headers.get('content-type'), ack.body);
      } catch {
        pair.release();
        dialog.state = 'confirmed';
        ctx.txl.request(dialog.createRequest('BYE'), peer).catch(() => undefined);
        ctx.reject('bad_body', ack, 0, peer);
        return;
      }
      dialog.state = 'confirmed';
      const c = startCall(ctx, {
        req,
        peer,
        dialog,
        streams: [answer.stream],
        pairs: [pair],
        labels: new Map(),
        mode: 'call',
        localSdp: offer.sdp,
        timer,
        startedAtMs,
        localCrypto: answer.localCrypto,
        security,
      });
      ctx.register(c, undefined);
      announce(ctx, c, req, peer);
    },
    (byeNeeded) => {
      unreserve();
      pair.release();
      if (!byeNeeded) return;
      // answered and never acknowledged: the session ends with a BYE, as for any answered call
      dialog.state = 'confirmed';
      ctx.txl.request(dialog.createRequest('BYE'), peer).catch(() => undefined);
    },
  );
  const headers: Record<string, string> = { contact: dialog.contactHeader, allow: ALLOW, supported: SUPPORTED };
  if (timer.type === 'active') {
    headers['session-expires'] = `${timer.intervalSec};refresher=${timer.refresher}`;
    if (timer.requireTimer) headers['require'] = 'timer';
  }
  tx.respond(buildResponse(req, 200, { toTag: dialog.localTag, body: Buffer.from(serializeSdp(offer.sdp)), headers }));
}
