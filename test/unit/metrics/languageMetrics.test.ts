/** Per-call counters carry the speech language as a bounded label (en, zh, auto); no id, number or text ever is one. */
import { describe, expect, it } from 'vitest';
import { ApplianceMetrics } from '../../../appliance/metrics/metrics.js';
import { testCallManager } from '../../helpers/calls.js';
import type { TranscriberFactory } from '../../../appliance/calls/transcriber.js';

/** On close: decides zh when the leg is auto, then one final in the leg's language. */
const scripted: TranscriberFactory = (opts, cb) => ({
  write: () => {},
  lagMs: () => 0,
  stats: () => ({ droppedFrames: 0, decodedMs: 0, skippedMs: 0, chunkLatencyP95Ms: 0 }),
  close: async () => {
    if (opts.language === 'auto') cb.language?.({ language: 'zh', confidence: 0.8, decidedAtMs: 1500 });
    const zh = opts.language === 'zh' || opts.language === 'auto';
    cb.final({
      text: zh ? '你好' : 'HELLO',
      words: [],
      startMs: 0,
      endMs: 500,
      confidence: 0.9,
      latencyMs: 30,
      ...(zh ? { language: 'zh' as const } : {}),
    });
  },
});

describe('language labels', () => {
  it('count calls by the language asked for, finals by language, and auto decisions', async () => {
    const { calls, store, bus } = testCallManager('metrics-lang', { transcribers: scripted });
    const m = new ApplianceMetrics({ version: 't', nodeVersion: 'v20', commit: 'c' });
    m.bindCalls(calls, bus);
    for (const choice of ['en', 'zh', 'auto', 'zh'] as const) {
      const call = calls.startCall({ source: 'sip', callId: `secret-call-${choice}-${Math.random()}`, language: { choice, from: 'site' } });
      call.addLeg({ label: 'caller', codec: 'PCMU', sampleRateHz: 8000 });
      await call.end('bye');
    }
    const body = (await m.exposition()).body;
    expect(body).toMatch(/^edgevox_calls_started_total\{source="sip",language="en"\} 1$/m);
    expect(body).toMatch(/^edgevox_calls_started_total\{source="sip",language="zh"\} 2$/m);
    expect(body).toMatch(/^edgevox_calls_started_total\{source="sip",language="auto"\} 1$/m);
    expect(body).toMatch(/^edgevox_asr_finals_total\{speaker="caller",language="zh"\} 3$/m);
    expect(body).toMatch(/^edgevox_asr_finals_total\{speaker="caller",language="en"\} 1$/m);
    expect(body).toMatch(/^edgevox_call_language_decisions_total\{language="zh"\} 1$/m);
    expect(body).not.toContain('secret-call');
    expect(body).not.toContain('你好');
    await calls.close();
    store.close();
  });
});
