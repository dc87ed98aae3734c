/**
 * The QA service when the embedding model is unavailable: semantic rules are still scored, on their
 * phrases' exact words (a negated utterance still does not count), and the fallback is counted.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { TranscriberFactory } from '../../../appliance/calls/transcriber.js';
import { createLogger } from '../../../appliance/log/logger.js';
import { QaService } from '../../../appliance/qa/qaService.js';
import { SentenceEmbedder } from '../../../appliance/qa/sentenceEmbedder.js';
import { testCallManager } from '../../helpers/calls.js';

let agentLines: string[] = [];
const scripted: TranscriberFactory = (opts, cb) => ({
  write: () => {},
  lagMs: () => 0,
  stats: () => ({ droppedFrames: 0, decodedMs: 0, skippedMs: 0, chunkLatencyP95Ms: 0 }),
  close: async () => {
    if (opts.speaker !== 'agent') return;
    agentLines.forEach((text, i) => {
      const words = text.split(' ').map((word, k) => ({ word, startMs: i * 3000 + k * 100, endMs: i * 3000 + k * 100 + 80 }));
      cb.final({ text, words, startMs: i * 3000, endMs: i * 3000 + 2500, confidence: 0.9, latencyMs: 100 });
    });
  },
});

const { calls, store, bus } = testCallManager('qa-semantic-fallback', { transcribers: scripted });
const embedder = new SentenceEmbedder();
const qa = new QaService({ store, bus, logger: createLogger({ level: 'silent', includePii: false }), passScore: 80, embedder });
afterAll(async () => {
  await qa.close();
  store.close();
});

async function score(lines: string[]): Promise<{ outcome: string; matched: string[] }> {
  agentLines = lines;
  const call = calls.startCall({ source: 'sip', meta: {} });
  call.answer();
  call.addLeg({ label: 'agent', codec: 'PCMU', sampleRateHz: 8000 });
  await call.end('bye');
  await qa.idle();
  return qa.repo.scorecard(call.id)!.results[0]!;
}

describe('semantic QA rules without the embedding model', () => {
  it('match exact phrases only, count the fallback, and still refuse a negated utterance', async () => {
    await embedder.close(); // the model is unavailable from here on
    qa.setRules(
      { rules: [{ id: 'resolve', kind: 'semantic', weight: 1, phrases: ['I will resolve this'], threshold: 0.6, expect: 'present' }] },
      'test',
    );
    expect(await score(['OK I WILL RESOLVE THIS TODAY'])).toMatchObject({ outcome: 'pass', matched: ['I will resolve this'] });
    expect(await score(["I'LL MAKE SURE THIS GETS FIXED"])).toMatchObject({ outcome: 'fail' });
    expect(await score(['NO I WILL RESOLVE THIS NEVER'])).toMatchObject({ outcome: 'fail' });
    expect(qa.counters.semanticFallbacks).toBe(3);
  });
});
