/** Raising supervisor alerts in tests the way the box does: through the detectors' inputs on the bus. */
import type { Appliance } from '../../appliance/app/app.js';

/**
 * Start a call and publish an angry, escalating caller emotion for it, as the emotion analyser does;
 * the alert detector raises a critical `caller_angry` alert. Returns the call id.
 */
export function angryCaller(app: Appliance, callerNumber = '+15550123'): string {
  const call = app.calls.startCall({ source: 'sip', callerNumber });
  app.bus.publish({
    type: 'emotion',
    at: Date.now(),
    callId: call.id,
    legId: 'leg',
    speaker: 'caller',
    utteranceId: null,
    category: 'angry',
    confidence: 0.9,
    arousal: 0.8,
    valence: -0.7,
    scores: { angry: 0.9 },
    agitation: 1.1,
    trend: 'escalating',
    audioMs: 2000,
    latencyMs: 3,
  });
  return call.id;
}
