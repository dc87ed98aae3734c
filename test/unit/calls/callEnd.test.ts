/**
 * Ending a call waits for the analyses of its last utterance (the final flushed at hang-up), so
 * `call.ended` comes after their `analysis` events: QA scoring and the per-call emotion trend
 * registry (which forgets a call on `call.ended`) see every utterance.
 */
import { describe, expect, it } from 'vitest';
import type { UtteranceAnalyser } from '../../../appliance/calls/analysis.js';
import { CallManager } from '../../../appliance/calls/callManager.js';
import { CallerHasher } from '../../../appliance/calls/callerHash.js';
import type { TranscriberFactory } from '../../../appliance/calls/transcriber.js';
import { EventBus, type ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { createLogger } from '../../../appliance/log/logger.js';
import { Store } from '../../../appliance/store/database.js';
import { scratchDir } from '../../helpers/paths.js';

/** Emits one final when the leg is closed, as the recognizer's flush does at hang-up. */
const finalOnClose: TranscriberFactory = (_opts, cb) => ({
  write: () => {},
  lagMs: () => 0,
  stats: () => ({ droppedFrames: 0, decodedMs: 0, skippedMs: 0, chunkLatencyP95Ms: 0 }),
  close: async () => {
    cb.final({ text: 'I WANT TO CLOSE MY ACCOUNT', words: [], startMs: 0, endMs: 1500, confidence: 0.9, latencyMs: 80 });
  },
});

describe('call end and the last utterance', () => {
  it('announces call.ended only after the last utterance was analysed', async () => {
    const dir = scratchDir('call-end');
    const store = Store.open(dir);
    const bus = new EventBus();
    const order: string[] = [];
    bus.subscribe((e: ApplianceEvent) => {
      if (e.type === 'analysis' || e.type === 'call.ended') order.push(e.type);
    });
    const slow: UtteranceAnalyser = {
      name: 'slow',
      analyse: () => new Promise((r) => setTimeout(() => r({ done: true }), 50)),
    };
    const calls = new CallManager({
      store,
      bus,
      hasher: CallerHasher.fromDataDir(dir),
      logger: createLogger({ level: 'silent', includePii: false }),
      limits: { maxConcurrentCalls: 5, maxLagMs: 1000, retryAfterS: 5 },
      transcribers: finalOnClose,
      analysers: [slow],
    });
    const call = calls.startCall({ source: 'sip' });
    call.addLeg({ label: 'caller', codec: 'PCMU', sampleRateHz: 8000 });
    await call.end('bye');
    expect(order).toEqual(['analysis', 'call.ended']);
    const [utterance] = store.utterances.listByCall(call.id);
    expect(utterance?.analysis).toEqual({ slow: { done: true } });
    await calls.close();
    store.close();
  });
});
