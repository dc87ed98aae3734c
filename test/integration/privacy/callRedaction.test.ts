/**
 * The call path redacts transcripts before they are stored or published: the stored utterance, the
 * asr.final and asr.partial events, the calls API and /metrics carry placeholders, while the
 * analysers (intent, emotion) get the unredacted text in memory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import type { UtteranceAnalyser, UtteranceContext } from '../../../appliance/calls/analysis.js';
import type { TranscriberFactory, TranscriptFinal } from '../../../appliance/calls/transcriber.js';
import { Redactor } from '../../../appliance/privacy/redactor.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authedFetch } from '../../helpers/auth.js';
import { testCallManager } from '../../helpers/calls.js';

/** The API as a technician (every /api route needs a principal). */
const apiFetch = (app: Appliance, url: string, init?: RequestInit) => authedFetch(app)(url, init);

const RAW = 'MY NAME IS JOHN SMITH AND MY CARD IS FOUR ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE';
const PARTIAL = 'MY NAME IS JOHN SMITH AND MY CARD IS FOUR ONE ONE ONE';

/** A transcriber that emits a scripted partial and final when the leg closes (the ASR is tested elsewhere). */
function scripted(text: string, partial: string): TranscriberFactory {
  return (_opts, cb) => {
    let closed = false;
    return {
      write: () => {},
      lagMs: () => 0,
      stats: () => ({ droppedFrames: 0, decodedMs: 0, skippedMs: 0, chunkLatencyP95Ms: 0 }),
      close: async () => {
        if (closed) return;
        closed = true;
        cb.partial(partial);
        const words = text.split(' ').map((word, i) => ({ word, startMs: i * 200, endMs: i * 200 + 150 }));
        const final: TranscriptFinal = { text, words, startMs: 0, endMs: words.length * 200, confidence: 0.9, latencyMs: 120 };
        cb.final(final);
      },
    };
  };
}

describe('redaction on the call path (CallManager)', () => {
  it('stores and publishes only redacted text; analysers get the raw text', async () => {
    const seen: UtteranceContext[] = [];
    const analyser: UtteranceAnalyser = {
      name: 'probe',
      analyse: async (ctx) => {
        seen.push(ctx);
        return { ok: true };
      },
    };
    const redactor = new Redactor();
    const { calls, store, events } = testCallManager('redact', {
      transcribers: scripted(RAW, PARTIAL),
      analysers: [analyser],
      redactor,
    });
    const call = calls.startCall({ source: 'sip' });
    call.addLeg({ label: 'caller', codec: 'PCMU', sampleRateHz: 8000 });
    await call.end('bye');
    await new Promise((r) => setTimeout(r, 20));

    const stored = store.utterances.listByCall(call.id);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.text).toBe('MY NAME IS [NAME] AND MY CARD IS [CARD]');
    expect(stored[0]!.words.map((w) => w.word).join(' ')).toBe(stored[0]!.text);
    expect(stored[0]!.words.find((w) => w.word === '[CARD]')).toEqual({ word: '[CARD]', startMs: 9 * 200, endMs: 24 * 200 + 150 });

    const partial = events.find((e) => e.type === 'asr.partial');
    const final = events.find((e) => e.type === 'asr.final');
    expect(partial).toMatchObject({ text: 'MY NAME IS [NAME] AND MY CARD IS [CARD]' });
    expect(final).toMatchObject({ text: stored[0]!.text });
    const everything = JSON.stringify(events) + JSON.stringify(stored);
    expect(everything).not.toContain('JOHN');
    expect(everything).not.toContain('ONE ONE');

    expect(seen).toHaveLength(1);
    expect(seen[0]!.text).toBe(RAW);
    expect(redactor.totals).toMatchObject({ name: 2, card: 2, digits: 0 });
    await calls.close();
    store.close();
  });
});

/** A transcriber that emits scripted finals one after the other when the leg closes. */
function scriptedFinals(texts: readonly string[]): TranscriberFactory {
  return (_opts, cb) => ({
    write: () => {},
    lagMs: () => 0,
    stats: () => ({ droppedFrames: 0, decodedMs: 0, skippedMs: 0, chunkLatencyP95Ms: 0 }),
    close: async () => {
      let t = 0;
      for (const text of texts) {
        const words = text.split(' ').map((word, i) => ({ word, startMs: t + i * 300, endMs: t + i * 300 + 250 }));
        cb.final({ text, words, startMs: t, endMs: t + words.length * 300, confidence: 0.9, latencyMs: 100 });
        t += words.length * 300 + 1500;
      }
    },
  });
}

describe('a number split across utterances on the call path', () => {
  it('is held, redacted as one, stored and published in order; the hold is flushed when the leg ends', async () => {
    const seen: string[] = [];
    const pieces = ['MY CARD NUMBER IS FOUR ONE ONE ONE', 'ONE ONE ONE ONE', 'ONE ONE ONE ONE', 'ONE ONE ONE ONE'];
    const { calls, store, events } = testCallManager('redact-split', {
      transcribers: scriptedFinals(pieces),
      analysers: [{ name: 'probe', analyse: async (ctx) => (seen.push(ctx.text), null) }],
      redactor: new Redactor(),
    });
    const call = calls.startCall({ source: 'sip' });
    call.addLeg({ label: 'caller', codec: 'PCMU', sampleRateHz: 8000 });
    await call.end('bye');
    await new Promise((r) => setTimeout(r, 20));
    const stored = store.utterances.listByCall(call.id);
    expect(stored.map((u) => u.text)).toEqual(['MY CARD NUMBER IS [CARD]', '[CARD]', '[CARD]', '[CARD]']);
    expect(stored.map((u) => u.startMs)).toEqual([0, 3900, 6600, 9300]);
    const finals = events.filter((e) => e.type === 'asr.final');
    expect(finals.map((e) => e.text)).toEqual(stored.map((u) => u.text));
    expect(JSON.stringify(events) + JSON.stringify(stored)).not.toMatch(/\bONE\b/);
    // The leg ended before the hold ran out: the group was flushed, and the leg's record says so.
    const quality = events.find((e) => e.type === 'call.quality');
    expect(quality).toMatchObject({ quality: { redactionHeldFinals: 4 } });
    expect(seen).toEqual(pieces);
    await calls.close();
    store.close();
  });
});

describe('redaction in a running appliance', () => {
  let app: Appliance;
  beforeAll(async () => {
    ({ app } = await startTestAppliance(
      { sip: { enabled: false }, console: { enabled: false } },
      { transcribers: scripted(RAW, PARTIAL) },
    ));
  });
  afterAll(async () => {
    await app?.close();
  });

  it('serves redacted transcripts and counts redactions by category in /metrics', async () => {
    const call = app.calls.startCall({ source: 'sip' });
    call.addLeg({ label: 'caller', codec: 'PCMU', sampleRateHz: 8000 });
    await call.end('bye');
    const body = await (await apiFetch(app, `/api/v1/calls/${call.id}`)).text();
    expect(body).toContain('[CARD]');
    expect(body).not.toContain('JOHN');
    const metrics = await (await fetch(`${app.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^edgevox_redactions_total\{category="card"\} 2$/m);
    expect(metrics).toMatch(/^edgevox_redactions_total\{category="name"\} 2$/m);
  });

  it('can be switched off by configuration', async () => {
    const { app: plain } = await startTestAppliance(
      { sip: { enabled: false }, console: { enabled: false }, privacy: { redaction: { enabled: false } } },
      { transcribers: scripted(RAW, PARTIAL) },
    );
    try {
      const call = plain.calls.startCall({ source: 'sip' });
      call.addLeg({ label: 'caller', codec: 'PCMU', sampleRateHz: 8000 });
      await call.end('bye');
      expect(plain.store.utterances.listByCall(call.id)[0]!.text).toBe(RAW);
    } finally {
      await plain.close();
    }
  });
});
