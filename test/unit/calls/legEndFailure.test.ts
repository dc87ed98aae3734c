/**
 * A leg whose recognition cannot be flushed at hang-up (its worker restarting, its stream already
 * torn down) still ends cleanly: no rejection escapes the media layer's `close` (an unhandled one
 * would take the whole process, every call on it, down), the leg record is closed, and the last
 * utterance's analyses are still awaited.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TelephonyBridge } from '../../../appliance/calls/telephonyBridge.js';
import type { TranscriberFactory } from '../../../appliance/calls/transcriber.js';
import type { UtteranceAnalyser } from '../../../appliance/calls/analysis.js';
import { createLogger } from '../../../appliance/log/logger.js';
import { evxError } from '../../../appliance/errors.js';
import { testCallManager } from '../../helpers/calls.js';

/** Emits one final, then fails to flush, as a stream whose worker is restarting does. */
const flushFails: TranscriberFactory = (_opts, cb) => ({
  write: () => {},
  lagMs: () => 0,
  stats: () => ({ droppedFrames: 0, decodedMs: 0, skippedMs: 0, chunkLatencyP95Ms: 0 }),
  close: () => {
    cb.final({ text: 'I WANT TO CLOSE MY ACCOUNT', words: [], startMs: 0, endMs: 1500, confidence: 0.9, latencyMs: 80 });
    return Promise.reject(evxError('EVX_ERR_ASR_WORKER_EXITED', 'recognition worker 0 is restarting'));
  },
});

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
  unhandled.length = 0;
});

describe('a leg whose transcriber fails to flush at hang-up', () => {
  it('ends without an unhandled rejection when the agent leg the box placed hangs up first', async () => {
    process.on('unhandledRejection', onUnhandled);
    const { calls, store } = testCallManager('leg-end-failure', { transcribers: flushFails });
    const bridge = new TelephonyBridge(calls, createLogger({ level: 'silent', includePii: false }));
    const call = calls.startCall({ source: 'sip' });
    const sink = bridge.placedLegSinkFactory(call.id)!({
      legId: 'leg0',
      callId: 'agent-call',
      label: 'agent',
      codec: 'PCMU',
      sampleRateHz: 8000,
      frameMs: 20,
      localRtpPort: 20000,
      participantId: undefined,
    })!;
    const [leg] = call.legs();
    // the agent hangs up; the caller stays on the line
    sink.close('remote_bye');
    // rejections are reported once the microtask queue is drained: let it drain (nothing else
    // awaits this leg until the caller's call ends, maybe minutes later)
    await new Promise((r) => setImmediate(r));
    expect(unhandled).toEqual([]);
    await expect(leg!.end()).resolves.toBeUndefined();
    expect(call.legs()).toHaveLength(0);
    expect(store.calls.get(call.id)?.legs.find((l) => l.id === leg!.id)?.endedAt).not.toBeNull();
    await call.end('bye');
    await calls.close();
    store.close();
  });

  it('still awaits the analyses of the last utterance before the call is announced ended', async () => {
    const slow: UtteranceAnalyser = {
      name: 'slow',
      analyse: () => new Promise((r) => setImmediate(() => r({ done: true }))),
    };
    const { calls, store, events } = testCallManager('leg-end-failure-analysis', { transcribers: flushFails, analysers: [slow] });
    const call = calls.startCall({ source: 'sip' });
    call.addLeg({ label: 'caller', codec: 'PCMU', sampleRateHz: 8000 });
    await call.end('bye');
    expect(events.filter((e) => e.type === 'analysis' || e.type === 'call.ended').map((e) => e.type)).toEqual(['analysis', 'call.ended']);
    await calls.close();
    store.close();
  });
});
