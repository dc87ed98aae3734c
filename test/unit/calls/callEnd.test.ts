/**
 * Ending a call waits for the analyses of its last utterance (the final flushed at hang-up), so
 * `call.ended` comes after their `analysis` events: QA scoring and the per-call emotion trend
 * registry (which forgets a call on `call.ended`) see every utterance.
 */
import { describe, expect, it } from 'vitest';
import type { UtteranceAnalyser } from '../../../appliance/calls/analysis.js';
import type { TranscriberFactory } from '../../../appliance/calls/transcriber.js';
import { IntentUtteranceAnalyser } from '../../../appliance/analysis/intentAnalyser.js';
import { testCallManager } from '../../helpers/calls.js';

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
    const slow: UtteranceAnalyser = {
      name: 'slow',
      analyse: () => new Promise((r) => setTimeout(() => r({ done: true }), 50)),
    };
    const { calls, store, events } = testCallManager('call-end', { transcribers: finalOnClose, analysers: [slow] });
    const call = calls.startCall({ source: 'sip' });
    call.addLeg({ label: 'caller', codec: 'PCMU', sampleRateHz: 8000 });
    await call.end('bye');
    expect(events.filter((e) => e.type === 'analysis' || e.type === 'call.ended').map((e) => e.type)).toEqual(['analysis', 'call.ended']);
    const [utterance] = store.utterances.listByCall(call.id);
    expect(utterance?.analysis).toEqual({ slow: { done: true } });
    await calls.close();
    store.close();
  });
});

describe('analysis results', () => {
  it('are published once each: as the typed event of the analyser, else as a generic analysis event', async () => {
    const intent = new IntentUtteranceAnalyser(
      {
        classify: async () => ({
          intent: 'close_account',
          confidence: 0.9,
          outOfScope: false,
          top: [{ intent: 'close_account', confidence: 0.9 }],
        }),
      },
      { speakers: ['caller'] },
    );
    const plain: UtteranceAnalyser = { name: 'length', analyse: async (ctx) => ({ words: ctx.text.split(' ').length }) };
    const { calls, store, events } = testCallManager('analysis-once', { transcribers: finalOnClose, analysers: [intent, plain] });
    const call = calls.startCall({ source: 'sip' });
    call.addLeg({ label: 'caller', codec: 'PCMU', sampleRateHz: 8000 });
    await call.end('bye');
    const announced = events.filter((e) => e.type === 'intent' || e.type === 'analysis');
    expect(announced.map((e) => (e.type === 'analysis' ? `analysis:${e.name}` : e.type)).sort()).toEqual(['analysis:length', 'intent']);
    expect(announced.find((e) => e.type === 'intent')).toMatchObject({ intent: 'close_account', speaker: 'caller', utteranceId: 1 });
    expect(store.utterances.listByCall(call.id)[0]?.analysis).toMatchObject({ intent: { intent: 'close_account' }, length: { words: 6 } });
    await calls.close();
    store.close();
  });
});
