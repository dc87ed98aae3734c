/**
 * The leg's analysis stage on its own, with analysers that are not guarded (analysis/guard.ts): one
 * that throws synchronously inside `analyse()` does not unwind into the final-transcript callback;
 * every failure (thrown, rejected, or in the result's event) is logged once with an error code and
 * no words of the utterance, and the other analysers still store and publish their results.
 */
import { describe, expect, it } from 'vitest';
import type { UtteranceAnalyser } from '../../../appliance/calls/analysis.js';
import { LegAnalysis } from '../../../appliance/calls/legAnalysis.js';
import type { LegContext } from '../../../appliance/calls/legContext.js';
import { evxError } from '../../../appliance/errors.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import type { Store } from '../../../appliance/store/database.js';
import { captureLogger } from '../../helpers/appliance.js';

const final = { words: [], startMs: 0, endMs: 900, confidence: 0.9, latencyMs: 10, text: 'my card 4111 1111 1111 1111 was stolen' };

const throwsNow: UtteranceAnalyser = {
  name: 'throws',
  analyse: (ctx) => {
    throw new RangeError(`cannot analyse "${ctx.text}"`);
  },
};
const rejects: UtteranceAnalyser = { name: 'rejects', analyse: (ctx) => Promise.reject(new TypeError(`bad text: ${ctx.text}`)) };
const ownCode: UtteranceAnalyser = {
  name: 'model',
  analyse: () => {
    throw evxError('EVX_ERR_MODEL_NOT_ACTIVE', 'intent model is not active');
  },
};
const badEvent: UtteranceAnalyser = {
  name: 'event',
  analyse: () => Promise.resolve({ ok: true }),
  eventOf: (ctx) => {
    throw new Error(`no event for ${ctx.text}`);
  },
};
const works: UtteranceAnalyser = { name: 'works', analyse: () => Promise.resolve({ ok: true }) };

describe('the leg analysis stage with an unguarded failing analyser', () => {
  it('a synchronous throw stays in the stage: logged with a code and no words, the others still run', async () => {
    const { logger, log } = captureLogger();
    const published: ApplianceEvent[] = [];
    const stored: string[] = [];
    const leg: LegContext = {
      callId: 'c1',
      legId: 'l1',
      speaker: 'caller',
      sampleRateHz: 8000,
      store: {} as Store,
      logger,
      now: () => 5,
      publish: (e) => published.push(e),
      persist: (op) => {
        stored.push(op);
        return undefined;
      },
    };
    const stage = new LegAnalysis(leg, [throwsNow, rejects, ownCode, badEvent, works], 10_000);

    expect(() => stage.analyse(final, 7)).not.toThrow();
    await stage.drain(1000);

    const failed = log.lines.filter((l) => l['msg'] === 'utterance analysis failed');
    expect(failed.map((l) => [l['analyser'], l['code'], l['reason'], l['level']]).sort()).toEqual([
      ['event', 'EVX_ERR_INFERENCE_FAILED', 'Error', 40],
      ['model', 'EVX_ERR_MODEL_NOT_ACTIVE', 'intent model is not active', 40],
      ['rejects', 'EVX_ERR_INFERENCE_FAILED', 'TypeError', 40],
      ['throws', 'EVX_ERR_INFERENCE_FAILED', 'RangeError', 40],
    ]);
    expect(JSON.stringify(log.lines)).not.toMatch(/4111|stolen/);
    expect(published).toEqual([expect.objectContaining({ type: 'analysis', name: 'works', utteranceId: 7, result: { ok: true } })]);
    expect(stored).toEqual(['utterances.analysis', 'utterances.analysis']);
  });
});
