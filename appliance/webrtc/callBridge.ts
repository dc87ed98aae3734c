/**
 * Makes WebRTC calls ordinary calls of the call manager: a web call is a CallSession (source
 * `webrtc`), each participant's audio producer a CallLeg (label caller / agent / supervisor) fed by
 * an ASR tap, so web calls get the same transcripts, storage and analysis as SIP calls. Also forwards
 * a call's live events (transcripts, intent, emotion, routing) to its agents and supervisors.
 *
 * Ownership: the bridge only reacts to registry events; the WebRtcCall owns its media (taps close
 * with it, which closes the legs: CallLeg is the tap's PcmSink), and `callEnded` ends the
 * session. Bridged calls whose session was started elsewhere (a SIP call an agent joins) keep their
 * source and are not ended by the bridge unless the bridge started them.
 */
import type { CallManager, CallSession } from '../calls/callManager.js';
import type { ApplianceEvent, EventBus } from '../events/appEvents.js';
import type { Logger } from '../log/logger.js';
import type { CallEventForAgent } from './protocol.js';
import type { WebRtcCallRegistry } from './webrtcCalls.js';

const FORWARDED: ReadonlySet<ApplianceEvent['type']> = new Set([
  'asr.partial',
  'asr.final',
  'intent',
  'emotion',
  'route.decision',
  'call.answered',
  'assist.cards',
  'assist.feedback',
]);

function isForwarded(e: ApplianceEvent): e is CallEventForAgent {
  return FORWARDED.has(e.type);
}

/** Leg codec name and decode rate of a producer's first codec (the tap decodes Opus to 48 kHz). */
function legFormat(mimeType: string | undefined): { codec: string; sampleRateHz: number } {
  const name = (mimeType ?? '').split('/')[1]?.toLowerCase();
  if (name === 'pcmu') return { codec: 'PCMU', sampleRateHz: 8000 };
  if (name === 'pcma') return { codec: 'PCMA', sampleRateHz: 8000 };
  return { codec: 'opus', sampleRateHz: 48000 };
}

export class WebRtcCallBridge {
  /** Sessions this bridge started (and therefore ends). */
  private readonly owned = new Set<string>();
  private readonly offs: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly registry: WebRtcCallRegistry,
    private readonly calls: CallManager,
    bus: EventBus,
    private readonly logger: Logger,
  ) {
    this.offs.push(
      registry.events.on('participantJoined', ({ callId, role }) => {
        const session = this.sessionFor(callId);
        if (session !== undefined && role === 'agent') session.answer();
      }),
      registry.events.on('producerAdded', ({ call, role, producer }) => {
        // A bridged SIP caller is transcribed by the telephony side already (its own 'caller' leg).
        if (role === 'sip') return;
        const session = this.sessionFor(call.callId);
        if (session === undefined || session.ended) return;
        const { codec, sampleRateHz } = legFormat(producer.rtpParameters.codecs[0]?.mimeType);
        const leg = session.addLeg({ label: role, codec, sampleRateHz });
        call.media.tapProducer(producer.id, leg).catch((err: unknown) => {
          this.logger.warn(
            { callId: call.callId, role, reason: err instanceof Error ? err.message : String(err) },
            'webrtc asr tap failed',
          );
          void leg.end();
        });
      }),
      registry.events.on('callEnded', ({ callId, reason }) => {
        if (!this.owned.delete(callId)) return;
        void this.calls.get(callId)?.end(reason);
      }),
    );
    this.offs.push(
      bus.subscribe((event) => {
        if (!isForwarded(event)) return;
        registry.get(event.callId)?.notify({ type: 'callEvent', event }, ['agent', 'supervisor']);
      }),
    );
  }

  /** The call session of a WebRTC call id; started here (source webrtc) on first use. */
  private sessionFor(callId: string): CallSession | undefined {
    const existing = this.calls.get(callId);
    if (existing !== undefined) return existing;
    if (this.closed) return undefined;
    const session = this.calls.startCall({ source: 'webrtc', callId, meta: { channel: 'web' } });
    this.owned.add(callId);
    return session;
  }

  /** Stops listening. The registry and call manager close their own calls. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.offs.splice(0)) off();
  }
}
