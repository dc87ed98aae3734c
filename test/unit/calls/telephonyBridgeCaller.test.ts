/**
 * Whose number a SIP call's caller hash is: a plain call's From; a SIPREC session's caller
 * participant (its AOR in the recording metadata), never the From of the recorder (the SRC: the
 * same PBX for every recorded call, which would make every recorded call one repeat "caller").
 */
import { describe, expect, it } from 'vitest';
import { TelephonyBridge } from '../../../appliance/calls/telephonyBridge.js';
import { TypedEmitter } from '../../../appliance/events/typedEmitter.js';
import { createLogger } from '../../../appliance/log/logger.js';
import type { SipServer } from '../../../appliance/telephony/sip-server.js';
import type { CallStartedEvent, LegInfo, TelephonyEvents } from '../../../appliance/telephony/types.js';
import { testCallManager } from '../../helpers/calls.js';

const leg = (callId: string, legId: string, label: LegInfo['label'], participantId: string | undefined): LegInfo => ({
  legId,
  callId,
  label,
  codec: 'PCMU',
  sampleRateHz: 8000,
  frameMs: 20,
  localRtpPort: 20000,
  participantId,
});

function started(callId: string, mode: 'call' | 'siprec', pii: CallStartedEvent['pii'], legs: LegInfo[]): CallStartedEvent {
  return { callId, sipCallId: `${callId}@pbx`, mode, transport: 'udp', startedAtMs: 0, answeredAtMs: 0, legs, pii };
}

describe('caller hash of SIP calls', () => {
  it('is the SIPREC caller participant, not the recorder that sent the INVITE', () => {
    const { calls, store } = testCallManager('bridge-caller-hash', { transcribers: null });
    const hasher = calls.deps.hasher;
    const events = new TypedEmitter<TelephonyEvents>();
    const bridge = new TelephonyBridge(calls, createLogger({ level: 'silent', includePii: false }));
    bridge.attach({ events } as unknown as SipServer);

    events.emit(
      'call.started',
      started(
        'rec-1',
        'siprec',
        {
          from: '<sip:src@pbx.example.com>;tag=s1',
          to: '<sip:edgevox@box>',
          remoteAddress: '192.0.2.10',
          participants: [
            { participantId: 'P1', aor: 'sip:+15550100@example.com' },
            { participantId: 'P2', aor: 'sip:agent7@pbx.example.com' },
          ],
        },
        [leg('rec-1', 'leg0', 'caller', 'P1'), leg('rec-1', 'leg1', 'agent', 'P2')],
      ),
    );
    expect(store.calls.get('rec-1')?.callerHash).toBe(hasher.hash('sip:+15550100@example.com'));

    // no caller participant (roles unknown): no caller, rather than the recorder
    events.emit(
      'call.started',
      started(
        'rec-2',
        'siprec',
        { from: '<sip:src@pbx.example.com>;tag=s2', to: '<sip:edgevox@box>', remoteAddress: '192.0.2.10', participants: [] },
        [leg('rec-2', 'leg0', 'unknown', undefined)],
      ),
    );
    expect(store.calls.get('rec-2')?.callerHash).toBeNull();

    // a plain call: its From
    events.emit(
      'call.started',
      started(
        'call-1',
        'call',
        { from: '"Alice" <sip:+15550100@192.0.2.20>;tag=u1', to: '<sip:edgevox@box>', remoteAddress: '192.0.2.20' },
        [leg('call-1', 'leg0', 'caller', undefined)],
      ),
    );
    expect(store.calls.get('call-1')?.callerHash).toBe(hasher.hash('sip:+15550100@example.com'));
    store.close();
  });
});
