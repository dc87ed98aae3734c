/**
 * Connects the SIP/RTP telephony layer to the call manager: each SIP call becomes a CallSession,
 * each RTP leg (or SIPREC participant stream) a CallLeg whose decoded audio feeds its transcriber.
 * Telephony events (DTMF, quality, end) are mapped onto the call; caller numbers are hashed here and
 * go no further.
 */
import type { Logger } from '../log/logger.js';
import type { SipServer } from '../telephony/sip-server.js';
import type { CallEndReason, CallStartedEvent, LegAudioSink, LegAudioSinkFactory, LegInfo, LegQuality } from '../telephony/types.js';
import type { CallLeg, CallManager, CallSession } from './callManager.js';
import { dialledNumber, resolveCallLanguage, type LanguageSources } from './callLanguage.js';

/** Reasons as stored on the call record and used as the metric label. */
const END_REASON: Record<CallEndReason, string> = {
  remote_bye: 'bye',
  local_hangup: 'hangup',
  cancelled: 'cancel',
  session_timer_expired: 'timeout',
  ack_timeout: 'timeout',
  media_timeout: 'rtp-timeout',
  transferred: 'transfer',
  shutdown: 'shutdown',
  error: 'error',
};

export class TelephonyBridge {
  private readonly legs = new Map<string, CallLeg>();

  constructor(
    private readonly calls: CallManager,
    private readonly logger: Logger,
    /** Where a SIP call's speech language comes from (its dialled number, queue, trunk); absent = the site's default. */
    private readonly languages?: LanguageSources,
  ) {}

  /** The sink factory to pass to the SipServer: called for each leg after `call.started`. */
  readonly sinkFactory: LegAudioSinkFactory = (info: LegInfo): LegAudioSink | undefined => {
    const call = this.calls.get(info.callId);
    if (call === undefined || call.ended) return undefined;
    // Telephony leg ids are unique within their call only; ours are unique in the store.
    const leg = call.addLeg({
      label: info.label === 'unknown' ? 'caller' : info.label,
      codec: info.codec,
      sampleRateHz: info.sampleRateHz,
      legId: `${info.callId}:${info.legId}`,
    });
    this.legs.set(legKey(info.callId, info.legId), leg);
    const rate = info.sampleRateHz;
    return {
      onFrame: (pcm) => leg.write(pcm, rate),
      // The leg's final quality arrives with `call.ended`, after this close; the leg stays known
      // until then so the figures reach its record.
      close: () => void leg.end(),
    };
  };

  /**
   * The sink factory of a leg the box placed for the call `callId` (ACD: to an agent for a caller;
   * callbacks: to the agent and to the customer): its audio becomes that call's `label` leg,
   * transcribed and stored with it. Undefined once the call ended.
   */
  placedLegSinkFactory(callId: string, label: 'agent' | 'caller' = 'agent'): LegAudioSinkFactory | undefined {
    const call = this.calls.get(callId);
    if (call === undefined || call.ended) return undefined;
    return (info: LegInfo): LegAudioSink | undefined => {
      const session = this.calls.get(callId);
      if (session === undefined || session.ended) return undefined;
      const leg = session.addLeg({
        label,
        codec: info.codec,
        sampleRateHz: info.sampleRateHz,
        legId: `${callId}:${label}:${info.callId}:${info.legId}`,
      });
      const rate = info.sampleRateHz;
      return { onFrame: (pcm) => leg.write(pcm, rate), close: () => void leg.end() };
    };
  }

  /** Subscribe to the SIP server's events; returns the unsubscribe function. */
  attach(sip: SipServer): () => void {
    const offs = [
      sip.events.on('call.started', (e) => {
        const session = this.calls.startCall({
          callId: e.callId,
          source: e.mode === 'siprec' ? 'siprec' : 'sip',
          callerNumber: callerOf(e),
          meta: { transport: e.transport, mode: e.mode, legs: e.legs.length },
          ...(this.languages === undefined
            ? {}
            : {
                language: resolveCallLanguage(this.languages, {
                  remoteAddress: e.pii.remoteAddress,
                  dialled: dialledNumber(e.pii.to),
                }),
              }),
        });
        session.answer();
      }),
      sip.events.on('call.held', (e) => this.calls.get(e.callId)?.setHeld(true)),
      sip.events.on('call.resumed', (e) => this.calls.get(e.callId)?.setHeld(false)),
      sip.events.on('dtmf', (e) => this.legs.get(legKey(e.callId, e.legId))?.dtmf(e.digit, e.durationMs)),
      sip.events.on('call.quality', (e) => this.applyQuality(e.callId, e.legs)),
      sip.events.on('call.ended', (e) => {
        this.applyQuality(e.callId, e.legs);
        for (const q of e.legs) this.legs.delete(legKey(e.callId, q.legId));
        const session: CallSession | undefined = this.calls.get(e.callId);
        if (session === undefined) return;
        session.end(END_REASON[e.reason]).catch((err: unknown) => {
          this.logger.error({ callId: e.callId, reason: err instanceof Error ? err.message : String(err) }, 'call end failed');
        });
      }),
    ];
    return () => offs.forEach((off) => off());
  }

  private applyQuality(callId: string, legs: readonly LegQuality[]): void {
    for (const q of legs) {
      const leg = this.legs.get(legKey(callId, q.legId));
      if (leg === undefined) continue;
      const numeric: Record<string, number> = {};
      for (const [k, v] of Object.entries(q)) if (typeof v === 'number' && Number.isFinite(v)) numeric[k] = v;
      leg.setQuality(numeric);
    }
  }
}

/**
 * Who the caller is: a plain call's From; a SIPREC session's caller participant (its AOR in the
 * recording metadata). The From of a SIPREC INVITE is the recorder (the PBX), the same for every
 * recorded call: hashed as the caller, it made all of them one repeat caller.
 */
function callerOf(e: CallStartedEvent): string | undefined {
  if (e.mode !== 'siprec') return e.pii.from;
  const id = e.legs.find((l) => l.label === 'caller')?.participantId;
  return id === undefined ? undefined : e.pii.participants?.find((p) => p.participantId === id)?.aor;
}

function legKey(callId: string, legId: string): string {
  return `${callId}\u0000${legId}`;
}
