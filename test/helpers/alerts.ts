/** Raising supervisor alerts in tests the way the box does: through the detectors' inputs on the bus. */
import type { Appliance } from '../../appliance/app/app.js';

/**
 * Start a call and publish an angry, escalating caller emotion for it, as the emotion analyser does;
 * the alert detector raises a critical `caller_angry` alert. Returns the call id.
 */
export function angryCaller(app: Appliance, callerNumber = '+15550123'): string {
  const call = app.calls.startCall({ source: 'sip', callerNumber });
  angryEmotion(app, call.id);
  return call.id;
}

/** An angry, escalating caller emotion on an existing call's leg, published as the emotion analyser does. */
export function angryEmotion(app: Appliance, callId: string, legId = 'leg'): void {
  app.bus.publish({
    type: 'emotion',
    at: Date.now(),
    callId,
    legId,
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
}
