/**
 * An utterance analyser's failure at the analysis boundary: a synchronous throw is handled exactly
 * like a rejected promise (logged once with an error code, no result), so it never unwinds into the
 * final-transcript callback that hands the final to the leg's analysis stage.
 */
import { describe, expect, it } from 'vitest';
import { guardAnalyser } from '../../../appliance/analysis/guard.js';
import { startAnalysis } from '../../../appliance/analysis/loader.js';
import type { UtteranceAnalyser, UtteranceContext } from '../../../appliance/calls/analysis.js';
import { LegAnalysis } from '../../../appliance/calls/legAnalysis.js';
import type { LegContext } from '../../../appliance/calls/legContext.js';
import { evxError } from '../../../appliance/errors.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import type { ModelStore } from '../../../appliance/modelstore/modelStore.js';
import type { Store } from '../../../appliance/store/database.js';
import { captureLogger, testConfig } from '../../helpers/appliance.js';
import { plantedIn } from '../../helpers/planted.js';

const final = { words: [], startMs: 0, endMs: 900, confidence: 0.9, latencyMs: 10, text: 'my card was stolen' };

function legWith(logger: LegContext['logger']): { leg: LegContext; published: ApplianceEvent[] } {
  const published: ApplianceEvent[] = [];
  const leg: LegContext = {
    callId: 'c1',
    legId: 'l1',
    speaker: 'caller',
    sampleRateHz: 8000,
    store: {} as Store,
    logger,
    now: () => 5,
    publish: (e) => published.push(e),
    persist: () => undefined,
  };
  return { leg, published };
}

const throwsNow: UtteranceAnalyser = {
  name: 'throws',
  analyse: () => {
    throw new TypeError('cannot read the card number 4111 1111 1111 1111');
  },
};
const rejects: UtteranceAnalyser = { name: 'rejects', analyse: () => Promise.reject(new TypeError('boom')) };
const modelFails: UtteranceAnalyser = {
  name: 'model',
  analyse: () => {
    throw evxError('EVX_ERR_INFERENCE_FAILED', 'intent model inference failed');
  },
};
const works: UtteranceAnalyser = { name: 'works', analyse: () => Promise.resolve({ ok: true }) };

const failures = (lines: Record<string, unknown>[]) => lines.filter((l) => l['msg'] === 'utterance analysis failed');

describe('a failing utterance analyser', () => {
  it('a synchronous throw is logged with a code like a rejection, and the other analysers still run', async () => {
    const { logger, log } = captureLogger();
    const { leg, published } = legWith(logger);
    const stage = new LegAnalysis(
      leg,
      [throwsNow, rejects, modelFails, works].map((a) => guardAnalyser(a, logger)),
      10_000,
    );
    expect(() => stage.analyse(final, null)).not.toThrow();
    await stage.drain(1000);
    const logged = failures(log.lines).map((l) => [l['analyser'], l['code'], l['reason'], l['level']]);
    expect(logged.sort()).toEqual([
      ['model', 'EVX_ERR_INFERENCE_FAILED', 'intent model inference failed', 40],
      ['rejects', 'EVX_ERR_INFERENCE_FAILED', 'TypeError', 40],
      ['throws', 'EVX_ERR_INFERENCE_FAILED', 'TypeError', 40],
    ]);
    expect(plantedIn(JSON.stringify(log.lines), ['4111'])).toEqual([]);
    expect(published).toEqual([expect.objectContaining({ type: 'analysis', name: 'works', result: { ok: true } })]);
  });
  it('keeps the analyser name and its own event', () => {
    const eventOf = (ctx: UtteranceContext): ApplianceEvent => ({
      type: 'analysis',
      at: 1,
      callId: ctx.callId,
      legId: ctx.legId,
      speaker: ctx.speaker,
      utteranceId: null,
      name: 'x',
      result: {},
    });
    const { logger } = captureLogger();
    const g = guardAnalyser({ ...works, eventOf }, logger);
    expect(g.name).toBe('works');
    const ctx: UtteranceContext = {
      ...final,
      callId: 'c1',
      legId: 'l1',
      speaker: 'caller',
      utteranceId: null,
      audio: new Int16Array(0),
      sampleRateHz: 8000,
    };
    expect(g.eventOf?.(ctx, {}, 1)).toMatchObject({ type: 'analysis', name: 'x', callId: 'c1' });
    expect('eventOf' in guardAnalyser(works, logger)).toBe(false);
  });
  it('the analysers the runtime hands to calls never throw synchronously', async () => {
    const { logger, log } = captureLogger();
    const models = {
      activeDir: (name: string) => {
        throw evxError('EVX_ERR_MODEL_NOT_ACTIVE', `${name} is not active`);
      },
    } as unknown as ModelStore;
    const runtime = await startAnalysis({ models, config: testConfig(), logger });
    try {
      expect(runtime.analysers.map((a) => a.name)).toEqual(['sentiment']);
      // An utterance whose text cannot be read: the text-sentiment analyser fails before any promise.
      const ctx = {
        callId: 'c1',
        legId: 'l1',
        speaker: 'caller',
        utteranceId: null,
        get text(): string {
          throw new RangeError('text unavailable');
        },
        startMs: 0,
        endMs: 900,
        audio: new Int16Array(0),
        sampleRateHz: 8000,
      } satisfies UtteranceContext;
      let result: Promise<unknown> | undefined;
      expect(() => (result = runtime.analysers[0]!.analyse(ctx))).not.toThrow();
      await expect(result).resolves.toBeNull();
      expect(failures(log.lines)).toEqual([expect.objectContaining({ analyser: 'sentiment', code: 'EVX_ERR_INFERENCE_FAILED' })]);
    } finally {
      await runtime.close();
    }
  });
});
