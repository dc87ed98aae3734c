/** A leg's analysis stage hands each analyser the language of the final (absent for English finals). */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { UtteranceAnalyser, UtteranceContext } from '../../../appliance/calls/analysis.js';
import { LegAnalysis } from '../../../appliance/calls/legAnalysis.js';
import type { LegContext } from '../../../appliance/calls/legContext.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import type { Store } from '../../../appliance/store/database.js';

describe('LegAnalysis', () => {
  it('passes the final language to the analysers', async () => {
    const seen: UtteranceContext[] = [];
    const published: ApplianceEvent[] = [];
    const recorder: UtteranceAnalyser = {
      name: 'recorder',
      analyse(ctx) {
        seen.push(ctx);
        return Promise.resolve({ language: ctx.language ?? null });
      },
    };
    const leg: LegContext = {
      callId: 'c1',
      legId: 'l1',
      speaker: 'caller',
      sampleRateHz: 8000,
      store: null as unknown as Store, // utteranceId null: nothing is stored
      logger: pino({ level: 'silent' }),
      now: () => 5,
      publish: (e) => published.push(e),
      persist: (_op, write) => write(),
    };
    const stage = new LegAnalysis(leg, [recorder], 10_000);
    const final = { words: [], startMs: 0, endMs: 500, confidence: 0.9, latencyMs: 10 };
    stage.analyse({ ...final, text: '我要投诉', language: 'zh' }, null);
    stage.analyse({ ...final, text: 'i want to complain' }, null);
    await stage.drain(1000);
    expect(seen.map((c) => [c.text, c.language])).toEqual([
      ['我要投诉', 'zh'],
      ['i want to complain', undefined],
    ]);
    expect(published.map((e) => (e.type === 'analysis' ? e.result : null))).toEqual([{ language: 'zh' }, { language: null }]);
  });
});
